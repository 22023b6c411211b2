/** The report: everything one run measured, as a JSON-able object, and its tables as text. */
import type { ContainerFigures } from './containers.js';
import { roles } from './cpu.js';
import { hopLines } from './hop-report.js';
import type { ProfileSummary } from './profile.js';
import { helloId } from './ids.js';
import type { Result } from './rounds.js';

export interface Lifecycle {
  /** Spawn to the first 200 on /healthz, for each api started with startApi. */
  readonly apiStartMs: readonly number[];
  /** The runner CLI's spawn to its `ready:` line, per stack. */
  readonly runnerReadyMs: readonly { readonly stack: string; readonly ms: number }[];
  /** SIGTERM to the runner's exit while wrk drives /redis through nginx. */
  readonly stopUnderLoad: { readonly ms: number; readonly code: number | null; readonly signal: string | null };
  readonly rss: { readonly idleBytes: number; readonly afterBytes: number; readonly requests: number };
}

export interface Report {
  readonly date: string;
  readonly versions: { readonly node: string; readonly express: string; readonly ioredis: string; readonly wrk: string };
  readonly settings: { readonly seconds: number; readonly rounds: number; readonly connections: number; readonly warmUpSeconds: number; readonly cores: number };
  readonly results: readonly Result[];
  readonly lifecycle: Lifecycle;
  readonly profile: ProfileSummary | { readonly error: string };
  readonly containers: ContainerFigures;
  readonly elapsedSeconds: number;
}


const fixed = (value: number | undefined, digits = 0): string => (value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits));
const ratio = (value: number, base: number | undefined): string => (base ? `${(value / base).toFixed(2)}x` : '');
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

function resultsTable(results: readonly Result[]): string[] {
  const byId = new Map(results.map((result) => [result.id, result]));
  const hello = byId.get(helloId);
  const width = Math.max(...results.map((result) => result.label.length)) + 2;
  const head =
    `${''.padEnd(width)}${'req/s'.padStart(7)}${'CPU µs/req'.padStart(11)}${roles.map((role) => role.padStart(7)).join('')}` +
    `${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'errors'.padStart(7)}${'wrk'.padStart(5)}${'load'.padStart(6)}` +
    `${'vs hello: req/s'.padStart(16)}${'CPU'.padStart(7)}${'vs direct/all on: req/s'.padStart(24)}${'CPU'.padStart(7)}`;
  const titles = {
    reference: 'References (started by the bench)',
    hop: 'The hop, part by part: one api at warn behind nginx configs that each add a part of ours',
    project: 'The project (runner stacks, as npm start)', feature: 'Feature costs: GET /redis on the api direct, one feature off at a time' };
  const lines = [head];
  let group = '';
  for (const result of results) {
    if (result.group !== group) {
      group = result.group;
      lines.push(titles[result.group]);
    }
    const base = result.against ? byId.get(result.against) : undefined;
    lines.push(
      `  ${result.label.padEnd(width - 2)}${fixed(result.rps).padStart(7)}${fixed(result.cpuUsTotal, 1).padStart(11)}` +
        roles.map((role) => fixed(result.cpuUs[role], 1).padStart(7)).join('') +
        `${fixed(result.p50Ms, 2).padStart(8)}${fixed(result.p99Ms, 2).padStart(8)}${String(result.errors).padStart(7)}` +
        `${fixed(result.wrkShare * 100)}%`.padStart(5) +
        fixed(result.load, 1).padStart(6) +
        `${ratio(result.rps, hello?.rps).padStart(16)}${ratio(result.cpuUsTotal, hello?.cpuUsTotal).padStart(7)}` +
        `${(base ? ratio(result.rps, base.rps) : '').padStart(24)}${(base ? ratio(result.cpuUsTotal, base.cpuUsTotal) : '').padStart(7)}`,
    );
  }
  return lines;
}

function featureCosts(results: readonly Result[]): string[] {
  const allOn = results.find((result) => result.id === 'feature:all-on');
  if (!allOn) return [];
  const lines = ['What each costs on GET /redis, in CPU per request (all on minus the variant without it; the noise is several µs)'];
  for (const result of results) {
    if (result.group !== 'feature' || result === allOn) continue;
    // Added on top of "all on" (a key, a replicated Redis), or taken away from it (a feature off).
    const added = result.id.endsWith('+key') || result.id === 'feature:replicated';
    const cost = added ? result.cpuUsTotal - allOn.cpuUsTotal : allOn.cpuUsTotal - result.cpuUsTotal;
    const what = result.id.endsWith('+key')
      ? 'counting once per key instead of plainly'
      : result.id === 'feature:replicated'
        ? 'a replicated Redis (WAIT for a replica)'
        : result.id.replace('feature:-', '');
    lines.push(`  ${what.padEnd(44)}${fixed(cost, 1).padStart(7)} µs CPU/req  (${fixed((cost / allOn.cpuUsTotal) * 100)}% of all on)`);
  }
  return lines;
}

/** The middle value (the upper one of an even count), as the api's start time has always been reported. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function lifecycleLines(lifecycle: Lifecycle): string[] {
  const sorted = [...lifecycle.apiStartMs].sort((a, b) => a - b);
  const mid = median(sorted);
  return [
    'Start, stop, memory',
    `  api start (spawn to first 200 on /healthz)   median ${fixed(mid)} ms (${sorted.map((ms) => fixed(ms)).join(', ')})`,
    ...lifecycle.runnerReadyMs.map(({ stack, ms }) => `  runner CLI to "ready:", ${stack.padEnd(16)} ${fixed(ms)} ms`),
    `  runner SIGTERM to exit, under wrk load       ${fixed(lifecycle.stopUnderLoad.ms)} ms (exit code ${String(lifecycle.stopUnderLoad.code)}${lifecycle.stopUnderLoad.signal ? `, ${lifecycle.stopUnderLoad.signal}` : ''})`,
    `  api RSS idle                                 ${mb(lifecycle.rss.idleBytes)}`,
    `  api RSS after ${`${Math.round(lifecycle.rss.requests / 1000)}k`.padEnd(5)}requests to /redis      ${mb(lifecycle.rss.afterBytes)}`,
  ];
}

/** The packages the api is built on always, the rest above 1 %, and the remainder folded into one line. */
function packageLines(profile: ProfileSummary): string[] {
  const named = new Set(['express', 'router', 'ioredis', 'pino', 'prom-client', '@three-tier/*', 'node internals']);
  const shown = profile.packages.filter((share) => named.has(share.name) || share.percent >= 1);
  const rest = profile.packages.filter((share) => !shown.includes(share));
  const lines = shown.map((share) => `  ${fixed(share.percent, 1).padStart(5)}%  ${share.name}`);
  const restPercent = rest.reduce((sum, share) => sum + share.percent, 0);
  if (rest.length > 0) lines.push(`  ${fixed(restPercent, 1).padStart(5)}%  ${rest.length} other packages (${rest.slice(0, 4).map((share) => share.name).join(', ')}, ...)`);
  return lines;
}

function profileLines(profile: Report['profile']): string[] {
  if ('error' in profile) return ['CPU profile of the api', `  not taken: ${profile.error}`];
  return [
    `CPU profile of the api under wrk on /redis (${profile.samples} samples): top ${profile.top.length} frames by self time`,
    ...profile.top.map((frame) => `  ${fixed(frame.percent, 1).padStart(5)}%  ${frame.functionName.slice(0, 40).padEnd(40)} ${frame.location || '(native)'}`),
    'By package (self time)',
    ...packageLines(profile),
  ];
}

function containerLines(containers: ContainerFigures): string[] {
  if (!containers.measured) return ['Containers', `  left out: ${containers.reason}`];
  return [
    'Containers',
    ...containers.images.map(
      (image) =>
        `  ${image.image.padEnd(26)}${mb(image.bytes).padStart(8)}   base ${image.base}: ` +
        (image.baseBytes === undefined ? 'not on this machine' : `${mb(image.baseBytes)} (+${mb(image.bytes - image.baseBytes)})`),
    ),
    `  ${containers.compose} up -d --no-build to the first 200 from /readyz through nginx: median ${fixed(median(containers.composeUpMs))} ms (${[...containers.composeUpMs].sort((a, b) => a - b).map((ms) => fixed(ms)).join(', ')})`,
  ];
}

/** What relaying the logs (the api's, nginx's access log) costs the runner at full load: its share of one core. */
function relayLine(results: readonly Result[]): string[] {
  const through = results.find((result) => result.id === 'nginx-info:/redis');
  const runnerUs = through?.cpuUs.runner;
  if (!through || runnerUs === undefined) return [];
  const share = (runnerUs * through.rps) / 1e6;
  return [
    `The runner relaying every log line (the api's and nginx's access log), /redis through nginx at info, full load: ${fixed(share * 100, 1)}% of a core ` +
      `(${fixed(runnerUs, 1)} µs a request at ${fixed(through.rps)} req/s)`,
  ];
}

/** The whole report as text, for stdout. */
export function formatReport(report: Report): string {
  const { settings, versions } = report;
  const shares = report.results.flatMap((result) => result.runs.map((run) => run.wrkShare * 100)).sort((a, b) => a - b);
  return [
    `npm run bench, ${report.date}: node ${versions.node}, express ${versions.express}, ioredis ${versions.ioredis}, ${versions.wrk}`,
    `${settings.seconds} s per run, ${settings.rounds} interleaved rounds, medians; ${settings.warmUpSeconds} s warm-up per case; ` +
      `wrk -t1 -c${settings.connections} on the same ${settings.cores}-core machine. Compare ratios, not absolutes.`,
    'CPU µs/req: CPU time of the serving processes over requests served (api, edge = nginx master+workers or the',
    'node edge, runner = the runner process relaying logs, redis). wrk: the load generator\'s share of the machine;',
    'load: the one-minute load average as its runs ended (median), how busy the shared machine was.',
    '',
    ...resultsTable(report.results),
    '',
    ...hopLines(report.results),
    '',
    ...featureCosts(report.results),
    '',
    ...relayLine(report.results),
    `Load generator: wrk used ${fixed(shares[Math.floor(shares.length / 2)])}% of the machine's CPU (median over runs; ${fixed(shares[0])}% to ${fixed(shares.at(-1))}%)`,
    '',
    ...lifecycleLines(report.lifecycle),
    '',
    ...profileLines(report.profile),
    '',
    ...containerLines(report.containers),
    '',
    `Took ${fixed(report.elapsedSeconds)} s.`,
  ].join('\n');
}
