import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findBinary } from '@three-tier/processes';
import { stringify } from 'yaml';
import { alertRules, dashboard, everyQuery, recorded, recordingRules, ruleGroups } from '../src/index.js';

/** promtool's answer, exit code and all: a failing check is a result, not a crash. */
function promtool(args: string[]): Promise<{ code: number; out: string }> {
  const binary = findBinary('promtool', process.env);
  if (!binary) throw new Error('promtool is missing: npm test installs it as root, or: sudo apt-get install -y prometheus');
  return new Promise((resolve) => {
    execFile(binary, args, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}` }));
  });
}

const a = 'api-1:3000';
const b = 'api-2:3000';
const series = (name: string, labels: Record<string, string>, values: string) => ({
  series: `${name}{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`,
  values,
});
const requests = (instance: string, route: string, status: string, values: string) =>
  series('http_request_duration_seconds_count', { job: 'api', instance, method: 'GET', route, status_code: status }, values);
const bucket = (route: string, le: string, values: string) =>
  series('http_request_duration_seconds_bucket', { job: 'api', instance: a, method: 'GET', route, status_code: '200', le }, values);

/**
 * One promtool test group per alert: the series that make it fire on one instance or route, and
 * beside them series that must leave it quiet. Expectations are written out: a rule that fires
 * for the wrong label set, too early or never fails the test.
 */
const unitTests = [
  {
    name: 'ApiInstanceDown: one replica stops answering scrapes for a minute',
    interval: '15s',
    input_series: [series('up', { job: 'api', instance: a }, '1 1 0x20'), series('up', { job: 'api', instance: b }, '1x22')],
    alert_rule_test: [
      { eval_time: '1m', alertname: 'ApiInstanceDown', exp_alerts: [] },
      {
        eval_time: '3m',
        alertname: 'ApiInstanceDown',
        exp_alerts: [
          {
            exp_labels: { severity: 'critical', job: 'api', instance: a },
            exp_annotations: {
              summary: 'An api instance does not answer scrapes',
              description: `${a} has not answered /metrics for a minute.`,
            },
          },
        ],
      },
    ],
  },
  {
    name: 'ExporterDown: the nginx exporter is down, the Redis exporter is up',
    interval: '15s',
    input_series: [
      series('up', { job: 'nginx', instance: 'nginx-exporter:9113' }, '0x20'),
      series('up', { job: 'redis', instance: 'redis-exporter:9121' }, '1x20'),
      series('up', { job: 'api', instance: a }, '0x20'),
    ],
    alert_rule_test: [
      {
        eval_time: '2m',
        alertname: 'ExporterDown',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning', job: 'nginx', instance: 'nginx-exporter:9113' },
            exp_annotations: {
              summary: 'An exporter does not answer scrapes',
              description: 'The nginx exporter at nginx-exporter:9113 has not answered for a minute.',
            },
          },
        ],
      },
    ],
  },
  {
    name: 'RedisDown and ApiRedisDisconnected: Redis goes away; one api instance notices',
    interval: '15s',
    input_series: [
      series('redis_up', { job: 'redis', instance: 'redis-exporter:9121' }, '1 1 0x20'),
      series('redis_connected', { job: 'api', instance: a }, '1 1 0x20'),
      series('redis_connected', { job: 'api', instance: b }, '1x22'),
    ],
    alert_rule_test: [
      { eval_time: '30s', alertname: 'RedisDown', exp_alerts: [] },
      {
        eval_time: '2m',
        alertname: 'RedisDown',
        exp_alerts: [
          {
            exp_labels: { severity: 'critical' },
            exp_annotations: {
              summary: 'Redis does not answer its exporter',
              description: 'The Redis exporter cannot reach Redis: /redis and /html answer 503.',
            },
          },
        ],
      },
      {
        eval_time: '2m',
        alertname: 'ApiRedisDisconnected',
        exp_alerts: [
          {
            exp_labels: { severity: 'critical', instance: a },
            exp_annotations: {
              summary: 'An api instance has lost Redis',
              description: `${a} is not connected to Redis: it reports not ready.`,
            },
          },
        ],
      },
    ],
  },
  {
    name: 'RouteErrorRatioHigh: a tenth of /redis answers are 503, / has none',
    interval: '15s',
    input_series: [
      requests(a, '/redis', '200', '0+9x40'),
      requests(b, '/redis', '503', '0+1x40'),
      requests(a, '/', '200', '0+10x40'),
    ],
    alert_rule_test: [
      {
        eval_time: '5m',
        alertname: 'RouteErrorRatioHigh',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning', route: '/redis' },
            exp_annotations: {
              summary: "More than 5% of a route's answers are 5xx",
              description: '/redis: 10% of answers are server errors.',
            },
          },
        ],
      },
    ],
    promql_expr_test: [
      {
        expr: recorded.routeErrorRatio,
        eval_time: '5m',
        exp_samples: [
          { labels: `${recorded.routeErrorRatio}{route="/"}`, value: 0 },
          { labels: `${recorded.routeErrorRatio}{route="/redis"}`, value: 0.1 },
        ],
      },
    ],
  },
  {
    name: 'RouteLatencyHigh: / answers in 1 to 2.5 s (over half its 2 s timeout); /load too, well within its 15 s',
    interval: '15s',
    input_series: ['/', '/load'].flatMap((route) => [
      bucket(route, '0.5', '0x60'),
      bucket(route, '1', '0x60'),
      bucket(route, '2.5', '0+10x60'),
      bucket(route, '+Inf', '0+10x60'),
    ]),
    alert_rule_test: [
      { eval_time: '4m', alertname: 'RouteLatencyHigh', exp_alerts: [] },
      {
        eval_time: '10m',
        alertname: 'RouteLatencyHigh',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning', route: '/' },
            exp_annotations: { summary: "A route's p95 latency is above half its timeout", description: '/: p95 2.425s.' },
          },
        ],
      },
    ],
  },
  {
    name: 'LoadSaturated: jobs are rejected for a minute and more',
    interval: '15s',
    input_series: [
      series('load_jobs_total', { job: 'api', instance: a, outcome: 'rejected' }, '0+15x20'),
      series('load_jobs_total', { job: 'api', instance: a, outcome: 'completed' }, '0+30x20'),
    ],
    alert_rule_test: [
      {
        eval_time: '3m',
        alertname: 'LoadSaturated',
        exp_alerts: [
          {
            exp_labels: { severity: 'warning' },
            exp_annotations: {
              summary: '/load is saturated: the api rejects jobs with 503',
              description: '1 /load jobs a second are rejected: every worker is busy and the queue is full. Scale the api out.',
            },
          },
        ],
      },
    ],
  },
  {
    name: 'RedisMasterWithoutReplicas: one instance writes to a master that lost its replicas; a single Redis stays quiet',
    interval: '15s',
    input_series: [
      series('redis_replicas_required', { job: 'api', instance: a }, '1x20'),
      series('redis_replicas_in_sync', { job: 'api', instance: a }, '2 2 0x18'),
      series('redis_replicas_required', { job: 'api', instance: b }, '1x20'),
      series('redis_replicas_in_sync', { job: 'api', instance: b }, '2x20'),
      series('redis_replicas_required', { job: 'api', instance: 'single:3000' }, '0x20'),
      series('redis_replicas_in_sync', { job: 'api', instance: 'single:3000' }, '0x20'),
    ],
    alert_rule_test: [
      { eval_time: '30s', alertname: 'RedisMasterWithoutReplicas', exp_alerts: [] },
      {
        eval_time: '2m',
        alertname: 'RedisMasterWithoutReplicas',
        exp_alerts: [
          {
            exp_labels: { severity: 'critical', instance: a },
            exp_annotations: {
              summary: 'The Redis master has fewer replicas in sync than a visit needs',
              description: `${a} writes to a master 1 replica(s) short: it refuses writes (NOREPLICAS) and every visit answers 503 until a replica catches up.`,
            },
          },
        ],
      },
    ],
  },
  {
    name: 'LoadSaturated stays quiet when jobs complete and none is rejected',
    interval: '15s',
    input_series: [
      series('load_jobs_total', { job: 'api', instance: a, outcome: 'rejected' }, '3x20'),
      series('load_jobs_total', { job: 'api', instance: a, outcome: 'completed' }, '0+30x20'),
    ],
    alert_rule_test: [{ eval_time: '3m', alertname: 'LoadSaturated', exp_alerts: [] }],
  },
  {
    name: 'FaultActive: the latency fault is on, errors off',
    interval: '15s',
    input_series: [
      series('fault_active', { job: 'api', instance: a, fault: 'latency' }, '1x5'),
      series('fault_active', { job: 'api', instance: a, fault: 'errors' }, '0x5'),
    ],
    alert_rule_test: [
      {
        eval_time: '30s',
        alertname: 'FaultActive',
        exp_alerts: [
          {
            exp_labels: { severity: 'info', instance: a, fault: 'latency' },
            exp_annotations: {
              summary: 'A fault is switched on',
              description: `${a} injects the latency fault (switched on through /faults).`,
            },
          },
        ],
      },
    ],
  },
];

describe('rules (promtool)', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rules-test-'));
    await writeFile(join(dir, 'rules.yml'), stringify(ruleGroups()));
    await writeFile(join(dir, 'tests.yml'), stringify({ rule_files: ['rules.yml'], evaluation_interval: '15s', tests: unitTests }));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('promtool check rules accepts every rule', async () => {
    const { code, out } = await promtool(['check', 'rules', join(dir, 'rules.yml')]);
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`SUCCESS: ${String(recordingRules().length + alertRules().length)} rules found`));
  });

  test('promtool test rules: each alert fires when it should, for whom it should, and only then', async () => {
    const { code, out } = await promtool(['test', 'rules', join(dir, 'tests.yml')]);
    assert.equal(code, 0, out);
  });

  test('every alert has a unit test that makes it fire', () => {
    const firing = new Set(
      unitTests.flatMap((group) => group.alert_rule_test.filter((t) => t.exp_alerts.length > 0).map((t) => t.alertname)),
    );
    assert.deepEqual(alertRules().map((rule) => rule.alert).filter((alert) => !firing.has(alert)), []);
  });
});

describe('scoped to a namespace (Kubernetes, a Prometheus shared with other apps)', () => {
  const scope = { namespace: 'three-tier' };
  const expressions = [...everyQuery(scope).map((query) => query.expr), ...alertRules(scope).map((rule) => rule.expr)];

  test('every selector matches the namespace, and every aggregation keeps it', () => {
    for (const expr of expressions) {
      for (const [matchers] of expr.matchAll(/\{[^}]*\}/g)) assert.match(matchers, /namespace="three-tier"/, expr);
      for (const [by] of expr.matchAll(/by \([^)]*\)/g)) assert.match(by, /namespace/, expr);
      assert.doesNotMatch(expr, /\b(sum|min|max)\(/, `an aggregation without by drops the namespace: ${expr}`);
    }
  });

  test('unscoped, nothing names a namespace (compose has its own Prometheus)', () => {
    for (const query of everyQuery()) assert.doesNotMatch(query.expr, /namespace/, query.source);
  });
});

describe('the dashboard', () => {
  test('every panel query is PromQL that promtool parses (as a recording rule of its own)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dashboard-test-'));
    try {
      const queries = [...everyQuery(), ...everyQuery({ namespace: 'three-tier' })];
      const rules = { groups: [{ name: 'parse', rules: queries.map((query, index) => ({ record: `parse:query_${String(index)}`, expr: query.expr })) }] };
      await writeFile(join(dir, 'queries.yml'), stringify(rules));
      const { code, out } = await promtool(['check', 'rules', join(dir, 'queries.yml')]);
      assert.equal(code, 0, out);
      // And a typo does fail it.
      await writeFile(join(dir, 'broken.yml'), stringify({ groups: [{ name: 'parse', rules: [{ record: 'parse:broken', expr: 'sum by (route (up)' }] }] }));
      assert.notEqual((await promtool(['check', 'rules', join(dir, 'broken.yml')])).code, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('has the panels the stack needs: traffic per instance, latency percentiles, errors, Redis latency and replication, /load work and saturation, faults', () => {
    const titles = dashboard().panels.map((panel) => panel.title);
    for (const wanted of [/per api instance/, /Latency percentiles/, /error ratio/, /Redis command latency/, /Redis replication/, /^\/load work$/, /^\/load saturation$/, /Faults active/]) {
      assert.ok(titles.some((title) => wanted.test(title)), String(wanted));
    }
  });

  test('panels do not overlap and every query has a data source the import can set', () => {
    const cells = new Set<string>();
    for (const panel of dashboard().panels) {
      const { x, y, w, h } = panel.gridPos;
      for (let row = y; row < y + h; row += 1) {
        for (let column = x; column < x + w; column += 1) {
          const cell = `${String(row)}:${String(column)}`;
          assert.ok(!cells.has(cell), `${panel.title} overlaps at ${cell}`);
          cells.add(cell);
        }
      }
      for (const target of panel.targets) assert.equal(target.datasource.uid, '${datasource}');
    }
  });
});
