import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ms, size } from '../src/units.js';

describe('numbers as nginx.conf writes them', () => {
  test('times: whole seconds in s, anything finer in ms', () => {
    assert.equal(ms(30_000), '30s');
    assert.equal(ms(0), '0s');
    assert.equal(ms(1_500), '1500ms');
    assert.equal(ms(250), '250ms');
  });

  test('sizes: whole kibibytes in k, anything else in bytes', () => {
    assert.equal(size(16_384), '16k');
    assert.equal(size(1_024), '1k');
    assert.equal(size(1_000), '1000');
    assert.equal(size(1_536), '1536');
  });
});
