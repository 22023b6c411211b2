import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const entry = fileURLToPath(new URL('../src/index.js', import.meta.url));

describe('the edge process', () => {
  test('bad variables exit 1 naming each, without a stack trace', () => {
    const result = spawnSync(process.execPath, [entry], {
      env: { PATH: process.env.PATH, EDGE_PORT: '0', API_UPSTREAM: 'redis://api:3000' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^edge: invalid configuration:/);
    assert.match(result.stderr, /EDGE_PORT must be an integer from 1 to 65535/);
    assert.match(result.stderr, /API_UPSTREAM must be http:\/\/ URLs/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });
});
