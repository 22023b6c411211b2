/**
 * The live page's Redis line (src/page/redis-line.ts, drawn by the browser script): what it says
 * of a single Redis, of a replicated one, and of a failover as the polls see it happen.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { liveSettings } from '../src/page/live-settings.js';
import { MasterWatch, redisLine, type RedisView } from '../src/page/redis-line.js';

const master0 = '127.0.0.1:6390';
const master1 = '127.0.0.1:6391';
const up = (master: string): RedisView => ({ state: 'up', latencyMs: 0.8, master, replicasInSync: 2 });
const down: RedisView = { state: 'down', detail: 'Redis is not reachable (not connected (reconnecting)); the api keeps trying.' };

describe('the Redis line of the live page', () => {
  test('a single Redis reads as it always did: state, latency, detail', () => {
    assert.deepEqual(redisLine({ state: 'up', latencyMs: 0.5 }, undefined, 0), { level: 'ok', text: 'up · 0.5 ms' });
    assert.deepEqual(redisLine(down, undefined, 0), { level: 'bad', text: `down · ${down.detail ?? ''}` });
  });

  test('a replicated Redis: the master and how many replicas are in sync; none in sync is a warning', () => {
    assert.deepEqual(redisLine(up(master0), undefined, 0), { level: 'ok', text: `up · master ${master0} · 2 replicas in sync · 0.8 ms` });
    const alone = { state: 'up', master: master0, replicasInSync: 0, detail: 'master has 0 of 1 replicas in sync' } as const;
    assert.deepEqual(redisLine(alone, undefined, 0), { level: 'warn', text: `up · master ${master0} · 0 replicas in sync · master has 0 of 1 replicas in sync` });
    assert.match(redisLine({ ...up(master0), replicasInSync: 1 }, undefined, 0).text, / 1 replica in sync /);
  });

  test('a failover as the polls see it: which node took over, after how long, shown for a while', () => {
    const watch = new MasterWatch();
    assert.equal(watch.onAnswer(up(master0), 1_000), undefined);
    assert.equal(watch.onAnswer(up(master0), 1_250), undefined);
    // The master is killed: the answers name none while the Sentinels replace it.
    for (let at = 1_500; at < 4_750; at += 250) assert.equal(watch.onAnswer(down, at), undefined);
    const failover = watch.onAnswer(up(master1), 4_750);
    assert.deepEqual(failover, { from: master0, to: master1, tookMs: 3_500, at: 4_750 });
    const line = redisLine(up(master1), watch.recent(6_000), 6_000);
    assert.equal(line.text, `up · master ${master1} · 2 replicas in sync · 0.8 ms · failover 1.3 s ago: ${master1} took over from ${master0} after 3.5 s`);
    assert.equal(watch.recent(4_750 + liveSettings.failoverShownMs), undefined, 'an old failover is no longer shown');
  });

  test('an instance still naming the old master just after a failover is behind, not a failover back; a later one is real', () => {
    const watch = new MasterWatch();
    watch.onAnswer(up(master0), 0);
    assert.ok(watch.onAnswer(up(master1), 3_000));
    assert.equal(watch.onAnswer(up(master0), 3_250), undefined);
    assert.equal(watch.onAnswer(up(master1), 3_500), undefined);
    const back = watch.onAnswer(up(master0), 3_000 + liveSettings.staleMasterMs + 1_000);
    assert.equal(back?.to, master0);
    assert.equal(back?.from, master1);
  });
});
