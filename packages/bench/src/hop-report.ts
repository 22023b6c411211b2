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

type Role = 'api' | 'edge' | 'runner' | 'redis';

/** The results by id; a role's CPU, a case's total, and differences between two cases. */
function lookup(results: readonly Result[]): {
  get: (id: string) => Result | undefined;
  role: (id: string, role: Role) => number | undefined;
  diff: (id: string, base: string, role?: Role) => number | undefined;
  hop: (id: string, base: string) => number | undefined;
} {
  const byId = new Map(results.map((result) => [result.id, result]));
  const role = (id: string, name: Role): number | undefined => {
    const result = byId.get(id);
    return result === undefined ? undefined : (result.cpuUs[name] ?? 0);
  };
  const value = (id: string, name?: Role): number | undefined => (name === undefined ? byId.get(id)?.cpuUsTotal : role(id, name));
  const diff = (id: string, base: string, name?: Role): number | undefined => {
    const [a, b] = [value(id, name), value(base, name)];
    return a === undefined || b === undefined ? undefined : a - b;
  };
  // What the hop's own processes spend (the edge, the runner's relay) and what it adds to Redis's
  // work; the api's share moves by tens of µs with the machine's load, so it is left out here.
  const hop = (id: string, base: string): number | undefined => {
    const [edge, runner, redis] = [role(id, 'edge'), role(id, 'runner'), diff(id, base, 'redis')];
    return edge === undefined || runner === undefined || redis === undefined ? undefined : edge + runner - (role(base, 'runner') ?? 0) + redis;
  };
  return { get: (id) => byId.get(id), role, diff, hop };
}

/** The parts, each a difference of two rungs in the role that pays it, or the runner's own time. */
function partLines(results: readonly Result[]): string[] {
  const { diff, hop } = lookup(results);
  const parts: [string, number | undefined][] = [
    ['a bare nginx hop, in front of the raw server (nginx, Redis)', hop(referenceIds.rawBareNginx, referenceIds.raw)],
    ['a bare nginx hop, in front of the api (nginx, Redis)', hop(hopIds.bare, hopIds.direct)],
    ["ours over a bare one: maps, forwarded headers, guard (nginx)", diff(hopIds.plain, hopIds.bare, 'edge')],
    ["the response headers nginx adds, the api's hidden (nginx)", diff(hopIds.headers, hopIds.plain, 'edge')],
    ["the JSON access log, nginx's side (nginx)", diff(hopIds.whole, hopIds.headers, 'edge')],
    // The runner relays the api's own lines too (at info): only what it spends beyond the api direct is nginx's.
    ["the runner's relay of that log, npm start at info (runner)", diff(stackIds.nginxInfo, stackIds.directInfo, 'runner')],
    ["the runner's relay of that log, npm start at warn (runner)", diff(stackIds.nginxWarn, stackIds.directWarn, 'runner')],
    ['a count once per Idempotency-Key instead of a plain one (Redis)', diff(hopIds.keyed, hopIds.headers, 'redis')],
    ['the same, in the api (api)', diff(hopIds.keyed, hopIds.headers, 'api')],
  ];
  return [
    'The hop, part by part: CPU µs a request, differences of medians in the processes that pay (noise: several µs)',
    ...parts.map(([what, value]) => `  ${what.padEnd(66)}${us(value)}`),
  ];
}

/** The whole hop as `npm start` runs it, against the bare hops. */
function wholeHopLines(results: readonly Result[]): string[] {
  const { diff, hop } = lookup(results);
  const bareNginx = hop(referenceIds.rawBareNginx, referenceIds.raw);
  const bareProxy = hop(referenceIds.rawBareProxy, referenceIds.raw);
  const line = (what: string, id: string, base: string): string => {
    const value = hop(id, base);
    return (
      `  ${what.padEnd(58)}${us(value)}  ${times(value, bareNginx).padStart(6)} a bare nginx hop, ${times(value, bareProxy).padStart(6)} a bare http-proxy;` +
      ` all processes${us(diff(id, base))}`
    );
  };
  return [
    "The whole hop: the edge's and the runner's CPU and Redis's extra, a request (all processes, the api's share included, beside)",
    line('nginx as npm start runs it, LOG_LEVEL=warn', stackIds.nginxWarn, stackIds.directWarn),
    line('nginx as npm start runs it, LOG_LEVEL=info', stackIds.nginxInfo, stackIds.directInfo),
    line('our nginx in front of the raw server', referenceIds.rawOurNginx, referenceIds.raw),
    line('a bare nginx in front of the raw server', referenceIds.rawBareNginx, referenceIds.raw),
    line('a bare http-proxy in front of the raw server', referenceIds.rawBareProxy, referenceIds.raw),
    line('our http-proxy edge in front of the raw server, warn', referenceIds.rawOurEdge, referenceIds.raw),
    line('our http-proxy edge as npm start runs it, LOG_LEVEL=info', stackIds.proxyInfo, stackIds.directInfo),
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
