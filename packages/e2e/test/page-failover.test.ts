/**
 * The live page in Chromium over a native stack with a replicated Redis: its Redis line names the
 * master and the replicas in sync, and shows a failover as it happens (which node took over, after
 * how long), announced once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freeReplicatedRedisPorts, type ReplicatedRedis } from '@three-tier/processes';
import type { Browser } from 'playwright-core';
import { launchChromium, LivePage } from '@three-tier/demo';
import { binaries, requiredBinaries, startStack, type TestStack } from './helpers.js';

describe('the live page in Chromium, over a replicated Redis', () => {
  let running: TestStack;
  let set: ReplicatedRedis;
  let browser: Browser;
  let live: LivePage;

  before(async () => {
    assert.ok(binaries.redisSentinel, 'redis-sentinel must be installed: npm test installs it as root, or: sudo apt-get install -y redis-sentinel');
    running = await startStack('nginx', {
      replicatedRedis: await freeReplicatedRedisPorts(),
      bin: { ...requiredBinaries(), redisSentinel: binaries.redisSentinel },
    });
    assert.ok(running.stack.replicatedRedis);
    set = running.stack.replicatedRedis;
    browser = await launchChromium(process.env);
    live = await LivePage.open(browser, running.stack.url);
  });
  after(async () => {
    await browser.close();
    await running.cleanup();
  });

  test('names the master and its two replicas in sync', async () => {
    const master = await set.master();
    await live.waitText('#redis-line', new RegExp(`^up · master 127\\.0\\.0\\.1:${master.port} · 2 replicas in sync · `), 'the Redis line to name the master');
  });

  test('SIGKILL of the master: the line shows which node took over and after how long; the status line announces it once', async () => {
    await live.recordStatus();
    const killed = await set.killMaster();
    const successor = await set.waitForFailover(killed);
    const took = await live.waitText(
      '#redis-line',
      new RegExp(`^up · master 127\\.0\\.0\\.1:${successor.port} · [12] replicas? in sync · .*failover \\d+\\.\\d s ago: 127\\.0\\.0\\.1:${successor.port} took over from 127\\.0\\.0\\.1:${killed.port} after (\\d+\\.\\d) s`),
      'the Redis line to show the failover',
      30_000,
    );
    // The Sentinels wait their down-after time before they act: the page cannot have seen it sooner.
    const seconds = Number(/after (\d+\.\d) s/.exec(took)?.[1]);
    assert.ok(seconds >= 1, took);
    // The old master, back, follows the new one: both replicas in sync again.
    await killed.start();
    await live.waitText('#redis-line', new RegExp(`^up · master 127\\.0\\.0\\.1:${successor.port} · 2 replicas in sync`), 'both replicas in sync again', 30_000);
    const said = (await live.statusLog()).filter((text) => /Redis failover: /.test(text));
    assert.equal(said.length, 1, said.join('\n'));
    assert.match(said[0] ?? '', new RegExp(`Redis failover: 127\\.0\\.0\\.1:${successor.port} took over from 127\\.0\\.0\\.1:${killed.port} after \\d+\\.\\d s\\.`));
  });
});
