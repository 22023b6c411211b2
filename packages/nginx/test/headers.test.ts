import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { headerNames, securityHeaders } from '@three-tier/shared';
import { hiddenUpstreamHeaders, locationHeaders, responseHeaders, responseHeaderSet } from '../src/blocks/headers.js';
import { generate, type Node } from '../src/index.js';
import { targets } from './targets.js';
import { blocks, directives, directivesIn } from './tree.js';

const argsOf = (nodes: readonly Node[], name: string): unknown[][] => directivesIn(nodes, name).map((d) => [...d.args]);
const theSet = argsOf(responseHeaders(), 'add_header');

describe('the header set every answer carries', () => {
  test('is the request id and every security header, each sent always', () => {
    assert.deepEqual(responseHeaderSet.map(([name]) => name), [headerNames.requestId, ...Object.keys(securityHeaders)]);
    for (const args of theSet) assert.equal(args.at(-1), 'always');
  });

  test('a location without headers of its own adds none, so it inherits the server set', () => {
    assert.deepEqual(locationHeaders([]), []);
  });

  test('a location with a header of its own repeats the whole set first (add_header does not merge)', () => {
    assert.deepEqual(argsOf(locationHeaders([['Retry-After', 1]]), 'add_header'), [...theSet, ['Retry-After', 1, 'always']]);
  });

  for (const target of targets) {
    test(`in the ${target.name} target, every server and location that adds a header carries the whole set`, () => {
      const tree = generate(target);
      const adding = [...blocks(tree, 'server'), ...blocks(tree, 'location')].filter((b) => directives(b, 'add_header').length > 0);
      assert.ok(adding.length > 1, 'the server and at least one location add headers');
      for (const context of adding) {
        const added = directives(context, 'add_header').map((d) => [...d.args]);
        assert.deepEqual(added.slice(0, theSet.length), theSet, `${context.name} ${context.args.join(' ')}`);
      }
    });
  }

  test("hides the api's copies of exactly the headers the edge adds", () => {
    assert.deepEqual(
      argsOf(hiddenUpstreamHeaders(), 'proxy_hide_header').map(([name]) => name),
      theSet.map(([name]) => name),
    );
  });
});
