/**
 * REDIS_REPLICAS=2 npm start: a master, two replicas and three Sentinels, supervised like every
 * other service, and the api in Sentinel mode. A SIGKILLed master is replaced by a replica while
 * the runner brings the killed one back as a replica; no acknowledged visit is lost, and the set,
 * stopped and started again on its folder, keeps both its count and its master.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freeReplicatedRedisPorts, waitFor } from '@three-tier/processes';
import { redisReplication, routes, type InstanceBody } from '@three-tier/shared';
import { assertNothingLeft, cli, freshTmp, loopClients, recordedServices, runnerSetting, startRunner, visit, type Runner, type RunnerSetting } from './helpers.js';

const clientCount = 4;
/** The set's six members, the api and the edge. */
const serviceCount = redisReplication.replicas + 1 + redisReplication.sentinels + 2;

async function instance(url: string): Promise<InstanceBody | undefined> {
  try {
    const response = await fetch(`${url}${routes.instance.path}`, { signal: AbortSignal.timeout(2_000) });
    return response.status === 200 ? ((await response.json()) as InstanceBody) : undefined;
  } catch {
    return undefined;
  }
}

/** /instance once it names a master other than `besides` with every replica in sync. */
function wholeSet(url: string, besides?: string): Promise<InstanceBody> {
  return waitFor(
    async () => {
      const body = await instance(url);
      const master = body?.redis.master;
      return master && master !== besides && body.redis.replicasInSync === redisReplication.replicas ? body : undefined;
    },
    { what: `a master${besides ? ` other than ${besides}` : ''} with ${redisReplication.replicas} replicas in sync`, timeoutMs: 30_000 },
  );
}

describe('REDIS_REPLICAS (npm start with a replicated Redis)', () => {
  let setting: RunnerSetting;
  let env: Record<string, string>;
  let ports: number[];

  before(async () => {
    setting = await runnerSetting('replicated-test');
    const set = await freeReplicatedRedisPorts();
    const [edge = 0, api = 0] = setting.ports;
    ports = [edge, api, ...set.nodes, ...set.sentinels];
    env = { ...setting.env, REDIS_REPLICAS: String(redisReplication.replicas), REDIS_PORT: String(set.nodes[0]), STACK_DATA_DIR: join(setting.root, 'data') };
  });
  after(async () => {
    await setting.cleanup();
  });

  test('a value other than 0 or 2, or a set that would take another port, is refused before anything starts', () => {
    const run = (extra: Record<string, string>) =>
      spawnSync(process.execPath, [cli, 'up'], { env: { PATH: process.env.PATH, ...env, ...extra }, encoding: 'utf8' });
    for (const value of ['1', 'two', '3']) {
      const result = run({ REDIS_REPLICAS: value });
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, /REDIS_REPLICAS must be 0 \(one Redis\) or 2 \(a master, 2 replicas and 3 Sentinels\)/);
    }
    const clash = run({ REDIS_PORT: '7000', EDGE_PORT: '7004' });
    assert.equal(clash.status, 1, clash.stderr);
    assert.match(clash.stderr, /REDIS_REPLICAS=2 puts Redis and its Sentinels on ports 7000 to 7005, which takes EDGE_PORT \(7004\)/);
    const missing = run({ REDIS_SENTINEL_BIN: '/nonexistent/redis-sentinel' });
    assert.equal(missing.status, 1, missing.stderr);
    assert.match(missing.stderr, /needs redis-sentinel, which is not installed.*apt-get install -y redis-sentinel/);
  });

  /** Stops the runner and checks it left nothing, its set's six members included. */
  async function stopRunner(runner: Runner, tmp: string): Promise<void> {
    const services = await recordedServices(tmp, serviceCount);
    runner.child.kill('SIGTERM');
    assert.equal(await runner.exited, 0, runner.output.join('\n'));
    assert.ok(runner.output.includes('stack | stopping: edge, then api, then the Sentinels, then redis'), runner.output.join('\n'));
    await assertNothingLeft(services, ports, tmp);
  }

  const runners: Runner[] = [];
  /** A runner of this file; one a failed test left running is stopped after the file. */
  const start = (tmp: string): Runner => {
    const runner = startRunner({ ...env, TMPDIR: tmp });
    runners.push(runner);
    return runner;
  };
  after(async () => {
    for (const runner of runners) {
      if (runner.child.exitCode !== null || runner.child.signalCode !== null) continue;
      runner.child.kill('SIGTERM');
      await runner.exited;
    }
  });

  let masterAfterFailover = '';
  let countAfterFailover = 0;

  test('the master SIGKILLed under load: a replica takes over, the runner brings the old one back as a replica, no acknowledged visit lost', async () => {
    const tmp = await freshTmp(setting.root);
    const runner = start(tmp);
    const url = await runner.ready;
    await runner.line(/^stack \| redis: redis-0 on \d+ is master, redis-1 on \d+ and redis-2 on \d+ replicate it/);
    const first = await wholeSet(url);
    assert.equal(first.redis.master, `127.0.0.1:${env.REDIS_PORT}`);
    const services = await recordedServices(tmp, serviceCount);
    const master = services['redis-0'];
    assert.ok(master, `the run folder records each member: ${Object.keys(services).join(', ')}`);
    assert.equal(services.redis, undefined, 'no single redis beside the set');
    const before = (await visit(url)).hits ?? 0;

    const clients = loopClients(url, clientCount);
    await waitFor(() => (clients.acknowledged.length > 100 ? true : undefined), { what: 'visits under load', timeoutMs: 20_000 });
    process.kill(master.pid, 'SIGKILL');
    await runner.line(/^stack \| redis-0 exited on its own \(killed by SIGKILL\); restarting it/);
    await runner.line(/^stack \| redis-0 is back \(pid \d+\)/, 30_000);
    const after = await wholeSet(url, first.redis.master);
    const atWhole = clients.acknowledged.length;
    await waitFor(() => (clients.acknowledged.length > atWhole + 50 ? true : undefined), { what: 'visits counted by the new master', timeoutMs: 20_000 });
    await clients.stop();

    // While no master could confirm a visit, the api said so: 503 problems naming Redis, nothing else.
    const statuses = [...clients.statuses.keys()].sort();
    assert.ok(statuses.every((status) => status === '200' || status === '503'), `${statuses.join(', ')}\n${clients.details.join('\n')}`);
    // A count the new master lost would be handed out again: every acknowledged count is unique,
    // and the final count has them all (a 503 may have been counted without being confirmed).
    const acknowledged = clients.acknowledged.length;
    assert.equal(new Set(clients.acknowledged).size, acknowledged);
    const final = (await visit(url)).hits ?? 0;
    const counted = final - 1 - before;
    const unconfirmed = clients.statuses.get('503') ?? 0;
    assert.ok(counted >= acknowledged && counted <= acknowledged + unconfirmed, `counted ${counted}, acknowledged ${acknowledged}, 503s ${unconfirmed}`);
    masterAfterFailover = after.redis.master ?? '';
    countAfterFailover = final;
    await stopRunner(runner, tmp);
  });

  test('stopped and started again on its folder: the same master, every replica in sync, the count kept', async () => {
    assert.ok(masterAfterFailover, 'the failover test ran first');
    const tmp = await freshTmp(setting.root);
    const runner = start(tmp);
    const url = await runner.ready;
    const body = await wholeSet(url);
    assert.equal(body.redis.master, masterAfterFailover);
    assert.equal((await visit(url)).hits, countAfterFailover + 1);
    await stopRunner(runner, tmp);
  });
});
