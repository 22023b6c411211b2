import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { monitoringUser } from '@three-tier/deploy';
import { everyQuery, exporters, jobs, nginxStatus, prometheusServer } from '@three-tier/observability';
import { freePort, waitFor } from '@three-tier/processes';
import { dockerAnswers, resolveBaseImages, shareBuildCa } from '@three-tier/release';
import { routes, services } from '@three-tier/shared';
import { ComposeStack } from '../src/index.js';
import { composeStackLock } from './docker-lock.js';

const log = (line: string): void => {
  if (process.env.STACK_TEST_LOGS) console.log(line);
};

const apiReplicas = 3;

interface Target {
  readonly labels: Record<string, string>;
  readonly health: string;
  readonly lastError: string;
}

interface Sample {
  readonly metric: Record<string, string>;
}

/**
 * `docker compose --profile observability up` with three api replicas: Prometheus finds each of
 * them, nginx's and Redis's exporters answer, and after real traffic every rule and every panel
 * query of the dashboard returns series from this real Prometheus. Waits on state, never on time:
 * the generated scrape and evaluation interval is 5 s.
 */
describe('compose profile observability, three api replicas', () => {
  let stack: ComposeStack;
  let prometheus: string;
  let unlock: () => Promise<void> = () => Promise.resolve();
  const started = Date.now();

  const api = async <T>(path: string, params: Record<string, string> = {}): Promise<T> => {
    const res = await fetch(`${prometheus}/api/v1/${path}?${new URLSearchParams(params).toString()}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    assert.equal(body.status, 'success', `${path} ${JSON.stringify(params)}: ${body.error ?? ''}`);
    return body.data;
  };
  const query = async (expr: string): Promise<Sample[]> => (await api<{ result: Sample[] }>('query', { query: expr })).result;
  const statuses = new Map<number, number>();
  const get = async (path: string): Promise<void> => {
    const res = await fetch(`${stack.url}${path}`, { signal: AbortSignal.timeout(30_000) });
    await res.arrayBuffer();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  };
  // More /load jobs at once than nginx's burst lets through (the rest get 429), and more than the
  // three replicas' workers and queues hold (the api rejects the rest with 503). Saturation is about
  // jobs at once, not their length: short jobs keep the CPU for the suites running beside this one.
  const saturateLoad = () => Promise.all(Array.from({ length: 40 }, () => get(`${routes.load.path}?ms=300`)));

  before(async () => {
    assert.ok(await dockerAnswers(), 'a Docker engine must answer (CI starts dockerd; locally: sudo systemctl start docker)');
    unlock = await composeStackLock('observability profile');
    const prometheusPort = await freePort();
    // Images of this run's own (compose names them for the project), removed afterwards.
    const env: NodeJS.ProcessEnv = { ...process.env, PROMETHEUS_PORT: String(prometheusPort) };
    Object.assign(env, await resolveBaseImages(env, log, { monitoring: true }));
    await shareBuildCa(env);
    stack = await ComposeStack.create({ project: `threetierobs${process.pid}`, httpPort: await freePort(), env, onOutput: log, profiles: ['observability'] });
    prometheus = `http://127.0.0.1:${String(prometheusPort)}`;
    await stack.down(true);
    await stack.build();
    await stack.up(apiReplicas);
  });
  after(async () => {
    await stack.down(true);
    await stack.removeImages();
    await unlock();
    assert.deepEqual(await stack.leftovers(), [], 'compose down and the image cleanup leave nothing of this project');
    log(`observability suite: ${String(Math.round((Date.now() - started) / 1_000))} s`);
  });

  test('Prometheus, the exporters: nobody, read-only, no capabilities; only Prometheus published, on 127.0.0.1', async () => {
    const monitoring: string[] = [prometheusServer.service, exporters.nginx.service, exporters.redis.service];
    const containers = (await stack.containers()).filter((container) => monitoring.includes(container.service));
    assert.deepEqual(containers.map((container) => container.service).sort(), [...monitoring].sort());
    for (const container of containers) {
      assert.equal(container.user, `${String(monitoringUser.uid)}:${String(monitoringUser.gid)}`, container.service);
      assert.equal(container.readOnlyRoot, true, container.service);
      assert.deepEqual(container.capDrop, ['ALL'], container.service);
      const expected = container.service === prometheusServer.service ? [`127.0.0.1:${new URL(prometheus).port}`] : [];
      assert.deepEqual(container.publishedPorts, expected, container.service);
    }
  });

  test('stub_status is unreachable through the public port, and nginx publishes nothing else', async () => {
    const res = await fetch(`${stack.url}${nginxStatus.path}`);
    assert.equal(res.status, 404);
    assert.doesNotMatch(await res.text(), /Active connections/);
    const [nginx] = await stack.containers(services.edge);
    assert.deepEqual(nginx?.publishedPorts, [`127.0.0.1:${String(stack.options.httpPort)}`]);
  });

  /** Each api replica's address on the metrics network, where Prometheus reaches it. */
  const apiInstances = async (): Promise<string[]> =>
    (await stack.containers(services.api)).map((container) => {
      const address = Object.entries(container.addresses).find(([network]) => network.endsWith('_metrics'))?.[1];
      assert.ok(address, `${container.name} on the metrics network`);
      return `${address}:3000`;
    });

  /** Waits until Prometheus's active targets are exactly these, all up. */
  const targetsUp = async (expected: string[]): Promise<void> => {
    const sorted = [...expected].sort();
    await waitFor(
      async () => {
        const { activeTargets } = await api<{ activeTargets: Target[] }>('targets', { state: 'active' });
        const up = activeTargets.filter((target) => target.health === 'up').map((target) => `${target.labels.job ?? ''} ${target.labels.instance ?? ''}`).sort();
        return JSON.stringify(up) === JSON.stringify(sorted) && activeTargets.length === sorted.length ? true : undefined;
      },
      { what: `Prometheus's targets up: ${sorted.join(', ')}`, timeoutMs: 60_000, intervalMs: 500 },
    );
  };
  const exporterTargets = [`${jobs.nginx} ${exporters.nginx.service}:9113`, `${jobs.redis} ${exporters.redis.service}:9121`];

  test('every scrape target is up: each api replica (found through Docker DNS), the nginx exporter, the Redis exporter', async () => {
    const instances = await apiInstances();
    assert.equal(instances.length, apiReplicas);
    await targetsUp([...instances.map((instance) => `${jobs.api} ${instance}`), ...exporterTargets]);
    // up is what the scrape says; nginx_up and redis_up are what the exporters say of what they watch.
    for (const expr of ['nginx_up == 1', 'redis_up == 1']) {
      await waitFor(async () => ((await query(expr)).length === 1 ? true : undefined), { what: expr, timeoutMs: 30_000, intervalMs: 500 });
    }
  });

  test('after real traffic (visits, 404s, /load to saturation: 503s from the api, 429s from nginx), every rule and panel query returns series', async () => {
    const rounds = 30;
    for (let i = 0; i < rounds; i += 1) await Promise.all([get(routes.redis.path), get(routes.html.path), get(routes.info.path), get('/no-such-page')]);
    await saturateLoad();
    // `statuses` counts what get() was answered, and only /no-such-page (once a round) has no route:
    // the visits answer 200 (or 503), /load 200, 429 or 503.
    assert.equal(statuses.get(404), rounds, `404s: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(429) ?? 0) > 0, `429s from nginx's rate limit: ${JSON.stringify([...statuses])}`);
    assert.ok((statuses.get(503) ?? 0) > 0, `503s from the api's full /load queue: ${JSON.stringify([...statuses])}`);

    const pending = new Map(everyQuery().map((named) => [named.source, named.expr]));
    try {
      await waitFor(
        async () => {
          for (const [source, expr] of pending) {
            if ((await query(expr)).length > 0) pending.delete(source);
          }
          return pending.size === 0 ? true : undefined;
        },
        { what: 'every rule and panel query returning series', timeoutMs: 60_000, intervalMs: 1_000 },
      );
    } catch (error) {
      assert.fail(`no series from:\n${[...pending].map(([source, expr]) => `  ${source}: ${expr}`).join('\n')}\n${String(error)}`);
    }
  });

  test('the alerts that must fire do: /load saturated again, and none of the down alerts', async () => {
    const rules = await api<{ groups: Array<{ rules: Array<{ name: string; health: string; type: string }> }> }>('rules');
    const all = rules.groups.flatMap((group) => group.rules);
    assert.deepEqual(all.filter((rule) => rule.health !== 'ok').map((rule) => rule.name), [], 'every rule evaluates without error');
    const firing = await query('ALERTS');
    const names = firing.map((sample) => sample.metric.alertname);
    for (const quiet of ['ApiInstanceDown', 'ExporterDown', 'RedisDown', 'ApiRedisDisconnected']) assert.ok(!names.includes(quiet), `${quiet} is quiet`);
    // The api creates load_jobs_total{outcome="rejected"} at its first rejection, and rate() sees no
    // increase in a series' first sample: a second saturation, once Prometheus holds the series, is
    // what an alert can see (the api could start its outcomes at 0 to catch the first one too).
    await saturateLoad();
    await waitFor(async () => ((await query('ALERTS{alertname="LoadSaturated"}')).length > 0 ? true : undefined), {
      what: 'LoadSaturated pending or firing',
      timeoutMs: 30_000,
      intervalMs: 500,
    });
  });

  test("--scale is followed: at two replicas, the third one's target and its up series end (it is gone, not down)", async () => {
    await stack.up(2);
    const instances = await apiInstances();
    assert.equal(instances.length, 2);
    await targetsUp([...instances.map((instance) => `${jobs.api} ${instance}`), ...exporterTargets]);
    // The stopping replica may fail a scrape or two before Docker's DNS drops it (up 0 for seconds,
    // far under ApiInstanceDown's minute); then Prometheus ends its series instead of keeping it down.
    await waitFor(
      async () => {
        const up = (await api<{ result: Array<Sample & { value: [number, string] }> }>('query', { query: 'up{job="api"}' })).result;
        return up.length === 2 && up.every((sample) => sample.value[1] === '1') ? true : undefined;
      },
      { what: 'up{job="api"}: two series, both 1', timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.deepEqual(await query('ALERTS{alertname="ApiInstanceDown",alertstate="firing"}'), []);
  });
});
