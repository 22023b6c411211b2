import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { composeRedisTargets, observabilityProfile, replicatedRedisComposePath } from '@three-tier/deploy';
import { jobs } from '@three-tier/observability';
import { repoRoot } from '@three-tier/cli-kit';
import { composeFlavours, freePort, runCommand, waitFor, type ComposeFlavour } from '@three-tier/processes';
import { docker, dockerAnswers, resolveBaseImages, shareBuildCa } from '@three-tier/release';
import { budgets, ports, redisReplication, redisReplicationNames, services } from '@three-tier/shared';
import { ComposeStack } from '../src/index.js';
import { composeStackLock } from './docker-lock.js';
import { unexplainedFailures } from './failover-verdict.js';
import {
  apiFailures,
  assertCountedOnce,
  killProcess,
  killProcesses,
  masterCount,
  medianAndWorst,
  nodeRole,
  redisCli,
  sentinelField,
  VisitLoad,
  waitNewMaster,
  waitWhole,
} from './replicated-redis.js';

const log = (line: string): void => {
  if (process.env.STACK_TEST_LOGS) console.log(line);
};

const { dataNodes, sentinels } = redisReplicationNames;
const chaosCli = fileURLToPath(new URL('cli.js', import.meta.resolve('@three-tier/demo')));
const apiReplicas = 2;
const flavours = await composeFlavours(process.env);
assert.ok(flavours.length > 0, 'Docker Compose must be installed: docker-compose, or the Compose v2 plugin');
const names: Record<ComposeFlavour, string> = { plugin: 'docker compose (v2 plugin)', standalone: 'docker-compose (standalone)' };
// One compose runs every scenario (with the profile observability beside it); any other, one
// failover and a restart of the whole set: the file is the same, what differs is how each compose
// drives it.
const [fullSet] = flavours;

/** A PromQL query's series: their labels and value. */
async function query(prometheus: string, expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${prometheus}/api/v1/query?${new URLSearchParams({ query: expr }).toString()}`, { signal: AbortSignal.timeout(5_000) });
  return ((await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
}

/** Prometheus (the profile observability) sees each data node's role as `master` says, through the one exporter. */
async function prometheusSeesRoles(prometheus: string, master: string): Promise<void> {
  const expected = Object.fromEntries(composeRedisTargets.map((target, index) => [target, dataNodes[index] === master ? 'master' : 'slave']));
  const sorted = (record: Record<string, string>) => JSON.stringify(Object.entries(record).sort());
  await waitFor(
    async () => {
      const roles = Object.fromEntries((await query(prometheus, `redis_instance_info{job="${jobs.redis}"}`)).map((series) => [series.metric.instance ?? '', series.metric.role ?? '']));
      return sorted(roles) === sorted(expected) ? true : undefined;
    },
    { what: `Prometheus seeing the roles ${JSON.stringify(expected)}`, timeoutMs: 60_000, intervalMs: 500 },
  );
  assert.equal((await query(prometheus, `redis_up{job="${jobs.redis}"} == 1`)).length, dataNodes.length, 'every node up, as the exporter sees it');
}

/** `npm run chaos -- <args>` against a compose project, as an operator would run it. */
async function chaos(stack: ComposeStack, args: readonly string[]): Promise<{ code: number | null; out: string }> {
  const { env, project, httpPort } = stack.options;
  const { code, output } = await runCommand(process.execPath, [chaosCli, 'chaos', ...args], {
    cwd: repoRoot,
    env: { ...env, CHAOS_STACK: 'compose', COMPOSE_PROJECT_NAME: project, HTTP_PORT: String(httpPort), CHAOS_WATCH_SECONDS: '0' },
  });
  log(output);
  return { code, out: output };
}

/**
 * The replicated compose of one flavour, shared by the tests of its describe: a failover leaves a
 * whole set with another master, which the next test starts from. Its load is six clients through
 * nginx, each visit with its own Idempotency-Key, retried with it on a 503 or a network error,
 * each try timed; members are broken as a crash would break them: SIGKILL of the process.
 */
function replicatedCompose(flavour: ComposeFlavour, options: { observability: boolean }) {
  let stack: ComposeStack | undefined;
  let unlock: () => Promise<void> = () => Promise.resolve();
  let run = 0;
  let prometheus = '';
  /** Every window with no 200 (SIGKILL of a master to the first 200 after it), for the summary. */
  const windows: { what: string; ms: number }[] = [];

  before(async () => {
    assert.ok(await dockerAnswers(), 'a Docker engine must answer (CI starts dockerd; locally: sudo systemctl start docker)');
    unlock = await composeStackLock(`replicated Redis, ${flavour}`);
    const prometheusPort = await freePort();
    const env = { ...process.env, PROMETHEUS_PORT: String(prometheusPort) };
    Object.assign(env, await resolveBaseImages(env, log, { monitoring: options.observability }));
    await shareBuildCa(env);
    stack = await ComposeStack.create({
      project: `threetierha${flavour}${String(process.pid)}`,
      httpPort: await freePort(),
      env,
      onOutput: log,
      flavour,
      file: replicatedRedisComposePath,
      singletons: [services.edge, ...dataNodes, ...sentinels],
      ...(options.observability ? { profiles: [observabilityProfile] } : {}),
    });
    prometheus = `http://127.0.0.1:${String(prometheusPort)}`;
    await stack.down(true);
    await stack.build();
    await stack.up(apiReplicas);
    await waitWhole(stack, 'at the start');
  });
  after(async () => {
    if (!stack) return await unlock();
    await stack.down(true);
    await stack.removeImages();
    await unlock();
    assert.deepEqual(await stack.leftovers(), [], 'compose down and the image cleanup leave nothing of this project');
    if (windows.length > 0) console.log(`${names[flavour]}: windows with no 200 after a SIGKILL of the master: ${windows.map(({ what, ms }) => `${what} ${ms.toFixed(0)} ms`).join('; ')} (${String(windows.length)} failovers: ${medianAndWorst(windows.map(({ ms }) => ms))})`);
  });

  const current = (): ComposeStack => {
    assert.ok(stack, 'the stack is up');
    return stack;
  };

  /** A load of six clients, flowing, and the count before it. */
  async function startLoad(): Promise<{ load: VisitLoad; before: number }> {
    run += 1;
    const master = await waitWhole(current(), 'before the load');
    const before = await masterCount(current(), master);
    const load = new VisitLoad(current().url, `${flavour}-${String(process.pid)}-${String(run)}`);
    await load.flowing(30, 'before the fault');
    return { load, before };
  }

  /**
   * SIGKILLs the master's redis-server (by default once the set is whole); resolves with the new
   * master and the window with no 200.
   */
  async function killMaster(load: VisitLoad, what: string, master?: string): Promise<{ killed: string; master: string; windowMs: number }> {
    const killed = master ?? (await waitWhole(current(), `before ${what}`));
    const killedAt = await killProcess(current(), killed, 'redis-server');
    const successor = await waitNewMaster(current(), killed);
    const first = await waitFor(() => load.firstAcknowledgedAfter(killedAt), { what: `a 200 after ${what}`, timeoutMs: 30_000, intervalMs: 20 });
    const windowMs = first.startedAt + first.ms - killedAt;
    windows.push({ what, ms: windowMs });
    return { killed, master: successor, windowMs };
  }

  return {
    current,
    startLoad,
    killMaster,
    prometheusSees: (master: string) => prometheusSeesRoles(prometheus, master),
    chaos: (args: readonly string[]) => chaos(current(), args),
  };
}

type Compose = ReturnType<typeof replicatedCompose>;

/** One failover under load; with the profile, Prometheus sees the roles change. */
function killTheMaster(compose: Compose, observability: boolean): void {
  test(`SIGKILL of the master: another node becomes master; every 200 is counted exactly once${observability ? '; Prometheus sees the roles change' : ''}`, async (t) => {
    const stack = compose.current();
    if (observability) await compose.prometheusSees(await waitWhole(stack, 'with the profile'));
    const { load, before } = await compose.startLoad();
    try {
      const { killed, master, windowMs } = await compose.killMaster(load, 'one failover');
      assert.notEqual(master, killed);
      await load.flowing(50, 'after the failover');
      t.diagnostic(`${killed} -> ${master}: no 200 for ${windowMs.toFixed(0)} ms (failovers may take ${String(budgets.failoverWithinMs)} ms)`);
    } finally {
      await load.stop();
    }
    await assertCountedOnce(stack, load, before);
    if (observability) await compose.prometheusSees(await waitWhole(stack, 'after the failover'));
  });
}

/** The whole set stopped and started again. */
function restartTheSet(compose: Compose): void {
  test('the whole set stopped and started again (compose down without --volumes, then up): the count is kept', async () => {
    const stack = compose.current();
    // Visits of its own first: a count of 0 would be kept by a set that keeps nothing.
    const { load, before } = await compose.startLoad();
    await load.stop();
    await assertCountedOnce(stack, load, before);
    const master = await waitWhole(stack, 'before down');
    const count = await masterCount(stack, master);
    assert.ok(count >= before + load.acknowledged.length && count > 0);
    await stack.down(false);
    await stack.up(apiReplicas);
    const after = await waitWhole(stack, 'after up');
    assert.equal(await masterCount(stack, after), count);
    const res = await fetch(`${stack.url}/redis`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { hits: number }).hits, count + 1);
    // Each member still answers to an operator's redis-cli, and names its role.
    assert.match(await redisCli(stack, after, ['ROLE']), /^master/);
    assert.match(await redisCli(stack, sentinels[1] ?? '', ['-p', String(ports.sentinel), 'SENTINEL', 'get-master-addr-by-name', redisReplication.masterName]), new RegExp(`^${after}\\n`));
    // Each Sentinel still deems the master down at its own time (its rewritten file keeps it staggered).
    const downAfter = await Promise.all(sentinels.map(async (name) => sentinelField(await redisCli(stack, name, ['-p', String(ports.sentinel), 'SENTINEL', 'MASTER', redisReplication.masterName]), 'down-after-milliseconds')));
    assert.deepEqual(downAfter, sentinels.map((_, place) => String(redisReplication.downAfterMs + place * redisReplication.downAfterStaggerMs)));
  });
}
/** The no-fault window first, on the fresh set: the same load, the same set. */
function replicaThenSentinel(compose: Compose): void {
  test('SIGKILL of a replica, then of a Sentinel: no request fails that the same load with no fault would not', async (t) => {
    const stack = compose.current();
    const { load, before } = await compose.startLoad();
    const events: { what: string; at: number }[] = [];
    try {
      await load.flowing(200, 'with no fault');
      const master = await waitWhole(stack, 'before the replica is killed');
      const replica = dataNodes.find((node) => node !== master) ?? '';
      events.push({ what: `${replica} killed`, at: await killProcess(stack, replica, 'redis-server') });
      await load.flowing(50, 'with a replica down');
      await waitWhole(stack, `${replica} back`);
      events.push({ what: `${replica} back`, at: performance.now() });
      events.push({ what: `${sentinels[0] ?? ''} killed`, at: await killProcess(stack, sentinels[0] ?? '', 'redis-sentinel') });
      await load.flowing(50, 'with a Sentinel down');
      await waitWhole(stack, `${sentinels[0] ?? ''} back`);
    } finally {
      await load.stop();
    }
    const since = events[0]?.at ?? 0;
    const verdict = unexplainedFailures(load.attempts, since, events, await apiFailures(stack));
    t.diagnostic(verdict.summary);
    assert.deepEqual(verdict.unexplained, [], verdict.summary);
    await assertCountedOnce(stack, load, before);
  });
}

/** Three failovers in a row, each old master back as a replica before the next. */
function threeFailovers(compose: Compose): void {
  test('three failovers in a row, the old masters back as replicas and caught up: every 200 counted once', async (t) => {
    const stack = compose.current();
    const { load, before } = await compose.startLoad();
    const seen: string[] = [];
    try {
      for (let failover = 1; failover <= 3; failover += 1) {
        const { killed, master, windowMs } = await compose.killMaster(load, `failover ${String(failover)} of 3`);
        seen.push(`${killed} -> ${master} (${windowMs.toFixed(0)} ms)`);
        await load.flowing(30, `after failover ${String(failover)}`);
        // The old master is back as a replica of the new one, in sync, before the next kill.
        await waitWhole(stack, `${killed} back as a replica`);
        const back = await nodeRole(stack, killed);
        assert.deepEqual([back?.role, back?.masterHost, back?.linkUp], ['slave', master, true], `${killed} follows ${master}`);
      }
    } finally {
      await load.stop();
    }
    t.diagnostic(seen.join('; '));
    await assertCountedOnce(stack, load, before);
    // Caught up: every replica holds the master's count.
    const master = await waitWhole(stack, 'after three failovers');
    const count = await masterCount(stack, master);
    await waitFor(
      async () => {
        const counts = await Promise.all(dataNodes.map((node) => redisCli(stack, node, ['GET', 'hits'])));
        return counts.every((value) => Number(value.trim()) === count) ? true : undefined;
      },
      { what: `every node holding the count ${String(count)}`, timeoutMs: 10_000, intervalMs: 100 },
    );
  });
}

/** The chaos CLI's redis verbs on this compose project. */
function chaosVerbs(compose: Compose): void {
  test('npm run chaos -- redis kill-master, then kill-sentinel, on compose: each SIGKILLs one member and says what the set did', async () => {
    const stack = compose.current();
    const master = await waitWhole(stack, 'before chaos');
    const killed = await compose.chaos(['redis', 'kill-master']);
    assert.equal(killed.code, 0, killed.out);
    assert.match(killed.out, new RegExp(`redis: master ${master} with 2 of 2 replicas in sync, 3 of 3 Sentinels agreeing; sent SIGKILL to ${master}'s redis-server`));
    const promoted = new RegExp(`redis: the Sentinels named (redis-[012]) master \\(was ${master}\\)`).exec(killed.out);
    assert.ok(promoted, killed.out);
    assert.match(killed.out, new RegExp(`redis: ${master} answers again, as replica of ${promoted[1] ?? ''}`));
    assert.match(killed.out, new RegExp(`redis: the set is whole again, [\\d.]+ s after the kill: master ${promoted[1] ?? ''} with 2 of 2`));
    const sentinel = await compose.chaos(['redis', 'kill-sentinel']);
    assert.equal(sentinel.code, 0, sentinel.out);
    assert.match(sentinel.out, /sent SIGKILL to sentinel-[012]'s redis-sentinel/);
    assert.match(sentinel.out, /redis: the set is whole again, .* 3 of 3 Sentinels agreeing/);
    assert.doesNotMatch(sentinel.out, /the Sentinels named/);
    await waitWhole(stack, 'after chaos');
  });
}

/** The master and both replicas SIGKILLed at once. */
function wholeSetKilled(compose: Compose): void {
  test('SIGKILL of the master and both replicas: only 503s naming Redis; nothing acknowledged is lost when they return', async () => {
    const stack = compose.current();
    const { load, before } = await compose.startLoad();
    const since = performance.now();
    try {
      await waitWhole(stack, 'before the three are killed');
      await killProcesses(stack, dataNodes, 'redis-server');
      await waitFor(() => (load.failures(since).length > 0 ? true : undefined), { what: 'visits refused while Redis is down', timeoutMs: 10_000, intervalMs: 20 });
      await waitWhole(stack, 'the three back');
      await load.flowing(50, 'after the three are back');
    } finally {
      await load.stop();
    }
    const failures = load.failures(since);
    assert.ok(failures.length > 0, 'Redis was really down for a while');
    assert.deepEqual(failures.filter((failure) => !/^503 .*Redis/.test(failure)), [], 'every failed request was a 503 naming Redis');
    await assertCountedOnce(stack, load, before);
  });
}

/** A replica whose name stops resolving, then a failover: the set finds it again at its new address. */
function replicaStoppedThenMaster(compose: Compose): void {
  test('a replica stopped (its name no longer resolves), then the master killed: the other replica takes over, and the stopped one, started at a new address, is found again', async () => {
    const stack = compose.current();
    const { load, before } = await compose.startLoad();
    const master = await waitWhole(stack, 'before a replica is stopped');
    const stopped = dataNodes.find((node) => node !== master) ?? '';
    const [container] = await stack.containers(stopped);
    assert.ok(container);
    try {
      await stack.stop(container.id);
      const newMaster = (await compose.killMaster(load, `failover with ${stopped} stopped`, master)).master;
      assert.ok(newMaster !== stopped && newMaster !== master, `${newMaster} took over`);
      await load.flowing(30, 'after the failover');
    } finally {
      // Started again, it gets an address of Docker's choosing: the set must find it there.
      await docker(['start', container.id], stack.options.env);
      await waitWhole(stack, `${stopped} started again`).finally(() => load.stop());
    }
    await assertCountedOnce(stack, load, before);
  });
}

for (const flavour of flavours) {
  const full = flavour === fullSet;
  const title = `${names[flavour]} -f ${replicatedRedisComposePath}${full ? ` --profile ${observabilityProfile}` : ''}`;
  describe(title, { timeout: (full ? 12 : 5) * 60_000 }, () => {
    const compose = replicatedCompose(flavour, { observability: full });
    if (full) replicaThenSentinel(compose);
    killTheMaster(compose, full);
    if (full) {
      threeFailovers(compose);
      chaosVerbs(compose);
      wholeSetKilled(compose);
      replicaStoppedThenMaster(compose);
    }
    restartTheSet(compose);
  });
}
