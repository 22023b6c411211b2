import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { blank, block, comment, directive, render, renderArg, separated } from '../src/index.js';

describe('renderArg', () => {
  test('leaves plain tokens and variables bare', () => {
    for (const arg of ['on', '127.0.0.1:8080', '$request_id', 'zone=expensive', '~^/api', 16]) {
      assert.equal(renderArg(arg), String(arg));
    }
  });

  test('single-quotes what would split or end a token, escaping quotes and backslashes', () => {
    assert.equal(renderArg(''), "''");
    assert.equal(renderArg('camera=(), usb=()'), "'camera=(), usb=()'");
    assert.equal(renderArg('{"status":"ok"}'), '\'{"status":"ok"}\'');
    assert.equal(renderArg("it's"), "'it\\'s'");
    assert.equal(renderArg('a\\b'), "'a\\\\b'");
    assert.equal(renderArg('x;y'), "'x;y'");
    assert.equal(renderArg('^[a-z]{1,3}$'), "'^[a-z]{1,3}$'");
  });
});

describe('render', () => {
  test('indents blocks, ends directives with semicolons and prefixes comments', () => {
    const text = render([
      comment('generated\ntwo lines'),
      directive('worker_processes', 'auto'),
      blank,
      block('http', [], [block('server', [], [directive('listen', 8080)]), comment('')]),
    ]);
    assert.equal(
      text,
      ['# generated', '# two lines', 'worker_processes auto;', '', 'http {', '    server {', '        listen 8080;', '    }', '    #', '}', ''].join('\n'),
    );
  });

  test('quotes a directive name that is really a value (map entries)', () => {
    assert.equal(render([block('map', ['$a', '$b'], [directive('~^x{2}$', 1)])]), "map $a $b {\n    '~^x{2}$' 1;\n}\n");
  });
});

describe('separated', () => {
  test('puts one blank line between sections, none around them, and none for an empty section', () => {
    const text = render(separated([[directive('a'), directive('b')], [], directive('c'), block('d', [], [])]));
    assert.equal(text, ['a;', 'b;', '', 'c;', '', 'd {', '}', ''].join('\n'));
  });
});
