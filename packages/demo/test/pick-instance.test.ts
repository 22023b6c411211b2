import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ChaosInstance } from '../src/chaos-stacks.js';
import { pickInstance, UsageError } from '../src/chaos.js';

const instance = (hostname: string, port: number): ChaosInstance => ({
  hostname,
  alias: `alias-${hostname}`,
  where: `port ${port}`,
  names: [String(port)],
  handle: String(port),
});
const instances = [instance('a', 3000), instance('b', 3001), instance('c', 3002)];

describe('chaos picks the instance it acts on', () => {
  test('unnamed, only among the instances the edge is sending to', () => {
    // One answering instance: every pick is that one (a random pick among all would miss it 2 times in 3).
    for (let i = 0; i < 50; i += 1) assert.equal(pickInstance(instances, undefined, new Set(['b'])).hostname, 'b');
  });

  test('unnamed, with nobody answering, among all of them', () => {
    const picked = new Set(Array.from({ length: 200 }, () => pickInstance(instances, undefined, new Set()).hostname));
    assert.deepEqual([...picked].sort(), ['a', 'b', 'c']);
  });

  test('named, that instance, in the rotation or not', () => {
    assert.equal(pickInstance(instances, 'c', new Set(['a'])).hostname, 'c');
    assert.equal(pickInstance(instances, '3001').hostname, 'b');
    assert.equal(pickInstance(instances, '1').hostname, 'a');
    assert.throws(() => pickInstance(instances, 'zed'), UsageError);
  });
});
