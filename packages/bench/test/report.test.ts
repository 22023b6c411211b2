import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chart } from '../src/chart.js';
import { helloId } from '../src/ids.js';
import { formatReport, type Report } from '../src/report.js';
import type { Result } from '../src/rounds.js';

function result(id: string, group: Result['group'], rps: number, cpuUs: Result['cpuUs'], extra: Partial<Result> = {}): Result {
  const cpuUsTotal = Object.values(cpuUs).reduce((sum, us) => sum + us, 0);
  return { id, label: id, group, rps, cpuUsTotal, cpuUs, p50Ms: 1.5, p99Ms: 9.25, errors: 0, requests: rps * 10, wrkShare: 0.2, load: 1.25, runs: [], ...extra };
}

const results: Result[] = [
  result(helloId, 'reference', 10_000, { api: 100 }, { label: 'Express 5 hello world (GET /)' }),
  result('direct-info:/redis', 'project', 5_000, { api: 150, redis: 50 }),
  result('nginx-info:/redis', 'project', 4_000, { api: 150, edge: 45, runner: 5, redis: 50 }, { against: 'direct-info:/redis', errors: 3 }),
  result('feature:all-on', 'feature', 6_000, { api: 150, redis: 50 }),
  result('feature:-metrics', 'feature', 6_500, { api: 130, redis: 50 }, { against: 'feature:all-on' }),
  result('feature:all-on+key', 'feature', 5_500, { api: 180, redis: 50 }, { against: 'feature:all-on' }),
  result('feature:replicated', 'feature', 4_000, { api: 190, redis: 110 }, { against: 'feature:all-on' }),
];

function report(overrides: Partial<Report> = {}): Report {
  return {
    date: '2026-12-07 10:00',
    versions: { node: 'v20.20.2', express: '5.3.0', ioredis: '6.0.0', wrk: 'wrk 4.1.0' },
    settings: { seconds: 5, rounds: 3, connections: 32, warmUpSeconds: 1, cores: 2 },
    results: results.map((r, i) => ({ ...r, runs: [{ requests: 1, seconds: 1, rps: 1, p50Ms: 1, p99Ms: 1, errors: 0, cpuSeconds: 0, cpuUs: {}, cpuUsTotal: 0, wrkShare: [0.1, 0.3, 0.2][i % 3] ?? 0, load: 1.25 }] })),
    lifecycle: {
      apiStartMs: [300, 100, 200],
      runnerReadyMs: [{ stack: 'nginx, info', ms: 812.4 }],
      stopUnderLoad: { ms: 1_234, code: 0, signal: null },
      rss: { idleBytes: 80 * 1024 * 1024, afterBytes: 120 * 1024 * 1024, requests: 100_000 },
    },
    profile: { error: 'the profiled api exited with 1' },
    containers: { measured: false, reason: 'no Docker engine answers' },
    elapsedSeconds: 61.4,
    ...overrides,
  };
}

/** The line that starts (after its indent) with `start`, without its trailing padding. */
const line = (text: string, start: string): string =>
  text.split('\n').find((l) => l.trimStart().startsWith(start))?.trimEnd() ?? assert.fail(`no line starting ${start}:\n${text}`);

describe('formatReport', () => {
  const text = formatReport(report());

  test('a row gives req/s, CPU per request by role, latency and errors, and its ratios to hello and to its comparison', () => {
    const row = line(text, 'nginx-info:/redis');
    // req/s, CPU total, api edge runner redis, p50, p99, errors, wrk share.
    assert.match(row, /^ {2}nginx-info:\/redis\s+4000\s+250\.0\s+150\.0\s+45\.0\s+5\.0\s+50\.0\s+1\.50\s+9\.25\s+3\s+20%/);
    // 4000/10000 req/s and 250/100 CPU against hello; 4000/5000 and 250/200 against the api direct.
    assert.match(row, /0\.40x\s+2\.50x\s+0\.80x\s+1\.25x$/);
  });

  test('a role a case does not use is a dash, and a case without a comparison has no ratio to one', () => {
    const row = line(text, 'direct-info:/redis');
    assert.match(row, /200\.0\s+150\.0\s+-\s+-\s+50\.0/);
    assert.match(row, /0\.50x\s+2\.00x$/);
  });

  test('cases are grouped under their titles, in order', () => {
    const titles = ['References (started by the bench)', 'The project (runner stacks, as npm start)', 'Feature costs: GET /redis'].map((title) => text.indexOf(title));
    assert.ok(titles.every((at, i) => at >= 0 && (i === 0 || at > (titles[i - 1] ?? 0))), text);
  });

  test('feature costs: all on minus the variant without it; the key variant costs what it adds', () => {
    assert.match(line(text, 'metrics '), /^ {2}metrics\s+20\.0 µs CPU\/req {2}\(10% of all on\)$/);
    assert.match(line(text, 'counting once per key'), /30\.0 µs CPU\/req {2}\(15% of all on\)$/);
  });

  test('a replicated Redis costs what it adds to all on: the api waiting for a replica, and every member of the set', () => {
    assert.match(line(text, 'a replicated Redis'), /^ {2}a replicated Redis \(WAIT for a replica\)\s+100\.0 µs CPU\/req {2}\(50% of all on\)$/);
  });

  test("the runner's log relay as a share of a core: its µs a request times the rate", () => {
    assert.match(text, /full load: 2\.0% of a core \(5\.0 µs a request at 4000 req\/s\)/);
  });

  test("wrk's share of the machine: the median over every run, and its range", () => {
    assert.match(text, /wrk used 20% of the machine's CPU \(median over runs; 10% to 30%\)/);
  });

  test('start, stop and memory: the median api start, each runner, the stop under load, RSS in MB', () => {
    assert.match(text, /api start \(spawn to first 200 on \/healthz\)\s+median 200 ms \(100, 200, 300\)/);
    assert.match(text, /runner CLI to "ready:", nginx, info\s+812 ms/);
    assert.match(text, /runner SIGTERM to exit, under wrk load\s+1234 ms \(exit code 0\)/);
    assert.match(text, /api RSS idle\s+80 MB/);
    assert.match(text, /api RSS after 100k requests to \/redis\s+120 MB/);
  });

  test('what was not measured says why', () => {
    assert.match(text, /CPU profile of the api\n {2}not taken: the profiled api exited with 1/);
    assert.match(text, /Containers\n {2}left out: no Docker engine answers/);
  });

  test('a profile: its top frames, the named packages always, the small rest folded into one line', () => {
    const profiled = formatReport(
      report({
        profile: {
          samples: 1_000,
          top: [{ functionName: 'parseHeaders', location: 'node_modules/express/lib/x.js:10', percent: 12.5 }],
          packages: [
            { name: 'node internals', percent: 60 },
            { name: 'express', percent: 0.5 },
            { name: 'big-dep', percent: 30 },
            { name: 'tiny-a', percent: 0.4 },
            { name: 'tiny-b', percent: 0.3 },
          ],
        },
      }),
    );
    assert.match(profiled, /\(1000 samples\): top 1 frames by self time\n {3}12\.5% {2}parseHeaders\s+node_modules\/express\/lib\/x\.js:10/);
    assert.match(profiled, / 60\.0% {2}node internals\n {4}0\.5% {2}express\n {3}30\.0% {2}big-dep\n {4}0\.7% {2}2 other packages \(tiny-a, tiny-b, \.\.\.\)/);
  });

  test('measured containers: each image against its base, and compose up to ready', () => {
    const withContainers = formatReport(
      report({
        containers: {
          measured: true,
          compose: 'docker compose',
          composeUpMs: [4_321, 2_900, 3_100],
          images: [
            { image: 'three-tier-api', bytes: 250 * 1024 * 1024, base: 'node:24', baseBytes: 200 * 1024 * 1024 },
            { image: 'three-tier-nginx', bytes: 50 * 1024 * 1024, base: 'nginx:1', baseBytes: undefined },
          ],
        },
      }),
    );
    assert.match(withContainers, /three-tier-api\s+250 MB {3}base node:24: 200 MB \(\+50 MB\)/);
    assert.match(withContainers, /three-tier-nginx\s+50 MB {3}base nginx:1: not on this machine/);
    assert.match(withContainers, /docker compose up -d --no-build to the first 200 from \/readyz through nginx: median 3100 ms \(2900, 3100, 4321\)/);
  });
});

describe('chart', () => {
  test('without the hello world there is nothing to compare with: no chart', () => {
    assert.equal(chart(report({ results: results.filter((r) => r.id !== helloId) })), undefined);
  });

  test('bars for the headline cases only, each with its value and its ratio to hello', () => {
    const svg = chart(report()) ?? assert.fail('no chart');
    assert.match(svg, /^<svg /);
    assert.match(svg, />10000 req\/s \(baseline\)</);
    assert.match(svg, />4000 req\/s \(0\.40x hello\)</);
    assert.match(svg, />250 µs \(2\.50x hello\)</);
    // Feature variants are not headline cases.
    assert.doesNotMatch(svg, /feature:-metrics/);
  });

  test('labels are escaped', () => {
    const svg = chart(report({ results: [result(helloId, 'reference', 1, { api: 1 }, { label: 'a <b> & c' })] })) ?? assert.fail('no chart');
    assert.match(svg, />a &lt;b&gt; &amp; c</);
  });
});
