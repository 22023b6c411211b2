import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { describeFaults, instanceAlias, instanceHue, instanceName, noFaults } from '../src/index.js';

/**
 * Hostnames as Docker makes them: 12 hex digits. Fixed, not random: with random ids the collision
 * count below varies from run to run, and about one run in a hundred would fail by chance.
 */
const containerIds = Array.from({ length: 200 }, (_, i) => createHash('sha256').update(`container-${i}`).digest('hex').slice(0, 12));

describe('instance aliases and colours', () => {
  test('are stable: the same hostname always gets the same alias and hue', () => {
    assert.equal(instanceAlias('3f2c9a1e7b1d'), instanceAlias('3f2c9a1e7b1d'));
    assert.equal(instanceHue('3f2c9a1e7b1d'), instanceHue('3f2c9a1e7b1d'));
    // Pinned: the page, `npm run chaos` and `npm run load` name instances alike only if this holds.
    assert.equal(instanceAlias('box-3499'), 'spicy-goose');
    assert.equal(instanceHue('box-3499'), 299);
  });

  test('read as two words, and hues stay in 0..359', () => {
    for (const id of containerIds) {
      assert.match(instanceAlias(id), /^[a-z]+-[a-z]+$/);
      const hue = instanceHue(id);
      assert.ok(Number.isInteger(hue) && hue >= 0 && hue < 360, `${id}: ${hue}`);
    }
  });

  test('a name gives the alias to read and the hostname to find the instance by', () => {
    assert.equal(instanceName('box-3499'), 'spicy-goose (box-3499)');
  });

  test('tell instances apart: hostnames that differ by one character get different aliases', () => {
    const neighbours = ['host-3000', 'host-3001', 'host-3002', 'host-3003', 'host-3004'];
    assert.equal(new Set(neighbours.map(instanceAlias)).size, neighbours.length);
    // 4096 names: among 200 random container ids, few collide.
    assert.ok(new Set(containerIds.map(instanceAlias)).size >= 190);
  });
});

describe('describeFaults', () => {
  test('says each active fault in words, and nothing when none is on', () => {
    assert.deepEqual(describeFaults(noFaults), []);
    assert.deepEqual(describeFaults({ unready: true, latencyMs: 300, errorRate: 0.125 }), [
      'unready',
      'latency +300 ms',
      'errors 12.5%',
    ]);
  });
});
