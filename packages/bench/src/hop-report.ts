/**
 * The hop's account: what each part of it costs, in CPU per request of all serving processes,
 * from the differences between cases measured in the same run; the whole hop against a bare nginx
 * hop and a bare http-proxy; the whole path against the course's app and the raw limit.
 */
import { hopIds, referenceIds, stackIds } from './ids.js';
import type { Result } from './rounds.js';

const us = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(1)).padStart(7);
const times = (value: number | undefined, base: number | undefined): string =>
  value === undefined || !base ? '' : `${(value / base).toFixed(2)}x`;

/** The results by id, and differences between two of them. */
function lookup(results: readonly Result[]): {
  cpu: (id: string) => number | undefined;
  diff: (id: string, base: string) => number | undefined;
  get: (id: string) => Result | undefined;
} {
  const byId = new Map(results.map((result) => [result.id, result]));
  const cpu = (id: string): number | undefined => byId.get(id)?.cpuUsTotal;
  const diff = (id: string, base: string): number | undefined => {
    const [a, b] = [cpu(id), cpu(base)];
    return a === undefined || b === undefined ? undefined : a - b;
  };
  return { cpu, diff, get: (id) => byId.get(id) };
}

/** The parts, each a difference of two rungs (or the runner's own time), and the bare hops. */
function partLines(results: readonly Result[]): string[] {
  const { diff, get } = lookup(results);
  const relay = get(stackIds.nginxInfo)?.cpuUs.runner;
  const parts: [string, number | undefined][] = [
    ['a bare nginx hop, in front of the raw server', diff(referenceIds.rawBareNginx, referenceIds.raw)],
    ['a bare nginx hop, in front of the api', diff(hopIds.bare, hopIds.direct)],
    ["our proxying: maps, forwarded headers, guard (ours plain - bare)", diff(hopIds.plain, hopIds.bare)],
    ['the response headers nginx adds, the api\'s hidden', diff(hopIds.headers, hopIds.plain)],
    ["the JSON access log, nginx's side (drained by the bench)", diff(hopIds.whole, hopIds.headers)],
    ["the runner's relay of that log (its CPU, nginx at info)", relay],
    ['a keyed count, once per Idempotency-Key, instead of a plain one', diff(hopIds.keyed, hopIds.headers)],
  ];
  return [
    'The hop, part by part: CPU µs a request of all serving processes, differences of medians (noise: several µs)',
    ...parts.map(([what, value]) => `  ${what.padEnd(66)}${us(value)}`),
  ];
}

/** The whole hop as `npm start` runs it, against the bare hops. */
function wholeHopLines(results: readonly Result[]): string[] {
  const { diff } = lookup(results);
  const bareNginx = diff(referenceIds.rawBareNginx, referenceIds.raw);
  const bareProxy = diff(referenceIds.rawBareProxy, referenceIds.raw);
  const line = (what: string, value: number | undefined): string =>
    `  ${what.padEnd(66)}${us(value)}  ${times(value, bareNginx).padStart(6)} a bare nginx hop${bareProxy ? `, ${times(value, bareProxy)} a bare http-proxy` : ''}`;
  return [
    'The whole hop (through the edge minus direct), against the bare hops in front of the raw server',
    line('nginx as npm start runs it, LOG_LEVEL=warn', diff(stackIds.nginxWarn, stackIds.directWarn)),
    line('nginx as npm start runs it, LOG_LEVEL=info', diff(stackIds.nginxInfo, stackIds.directInfo)),
    line('our nginx in front of the raw server', diff(referenceIds.rawOurNginx, referenceIds.raw)),
    line('a bare http-proxy in front of the raw server', bareProxy),
    line('our http-proxy edge in front of the raw server, warn', diff(referenceIds.rawOurEdge, referenceIds.raw)),
    line('our http-proxy edge as npm start runs it, LOG_LEVEL=info', diff(stackIds.proxyInfo, stackIds.directInfo)),
  ];
}

/** The whole path of a GET /redis, against the course's app behind nginx and the raw limit. */
function wholePathLines(results: readonly Result[]): string[] {
  const { get } = lookup(results);
  const course = get(referenceIds.courseNginx);
  const raw = get(referenceIds.raw);
  const rows: [string, Result | undefined][] = [
    ['npm start through nginx, LOG_LEVEL=warn', get(stackIds.nginxWarn)],
    ['npm start through nginx, LOG_LEVEL=info', get(stackIds.nginxInfo)],
    ["the course's app behind a plain nginx", course],
    ['the raw limit behind a bare nginx', get(referenceIds.rawBareNginx)],
    ['the raw limit, direct', raw],
  ];
  return [
    "The whole path, GET /redis: CPU µs a request and req/s, against the course's app behind nginx and the raw limit",
    ...rows.map(
      ([what, result]) =>
        `  ${what.padEnd(44)}${us(result?.cpuUsTotal)} µs ${times(result?.cpuUsTotal, course?.cpuUsTotal).padStart(6)} the course's` +
        ` ${times(result?.cpuUsTotal, raw?.cpuUsTotal).padStart(6)} the raw limit   ${(result ? result.rps.toFixed(0) : '-').padStart(6)} req/s`,
    ),
  ];
}

/** The hop's account, for the text report; nothing when the hop was not measured. */
export function hopLines(results: readonly Result[]): string[] {
  if (!results.some((result) => result.group === 'hop')) return [];
  return [...partLines(results), '', ...wholeHopLines(results), '', ...wholePathLines(results)];
}
