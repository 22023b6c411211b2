/**
 * The hop, part by part: one api at LOG_LEVEL warn (no request logs of its own) behind a ladder of
 * nginx configs, each adding a part of ours to the one before: a bare nginx, ours without its
 * access log and response headers, ours without its access log, ours whole; and ours with a client
 * Idempotency-Key on every request, for the keyed count. Differences between rungs price the parts.
 */
import { join } from 'node:path';
import type { RedisServer } from '@three-tier/processes';
import type { RoleProcesses } from './cpu.js';
import { hopIds } from './ids.js';
import { bareConfig, ourConfig, type OurPart } from './nginx-configs.js';
import type { Case } from './rounds.js';
import type { Running } from './running.js';
import { startApiVariant, startNginx, startRedis, type BaseEnv, type BenchNginx, type NodeServer } from './targets.js';

interface Rung {
  readonly id: string;
  readonly label: string;
  readonly off: readonly OurPart[] | 'bare';
}

const rungs: readonly Rung[] = [
  { id: hopIds.bare, label: 'behind a bare nginx', off: 'bare' },
  { id: hopIds.plain, label: 'behind ours, no access log or response headers', off: ['accessLog', 'responseHeaders'] },
  { id: hopIds.headers, label: 'behind ours, no access log', off: ['accessLog'] },
  { id: hopIds.whole, label: 'behind ours (its log drained)', off: [] },
];

interface Hop {
  readonly api: NodeServer;
  readonly redis: RedisServer;
  readonly nginx: ReadonlyMap<string, BenchNginx>;
}

/** The api at warn against a Redis of its own, and an nginx per rung in front of it. */
export async function startHop(bin: { redisServer: string; nginx: string }, env: BaseEnv, dir: string, running: Running): Promise<Hop> {
  const redis = await startRedis(bin.redisServer, join(dir, 'redis-hop'));
  running.redises.push(redis);
  const api = await startApiVariant('api (hop, warn)', { off: [], redisPort: redis.port, env, logLevel: 'warn' });
  running.children.push(api.proc);
  const nginx = new Map<string, BenchNginx>();
  for (const { id, off } of rungs) {
    const started = await startNginx(bin.nginx, {
      name: `nginx (${id})`,
      dir,
      upstreamPort: Number(new URL(api.url).port),
      config: off === 'bare' ? bareConfig : (place, log) => ourConfig(place, log, off),
    });
    running.children.push(started.proc);
    running.quitGracefully.add(started.proc);
    running.closers.push(started.close);
    nginx.set(id, started);
  }
  return { api, redis, nginx };
}

/** The rungs' cases, each against the one before; the keyed one against ours without a log. */
export function hopCases(hop: Hop, keyScript: string): Case[] {
  const roles = (edge?: BenchNginx): RoleProcesses => ({
    api: { pid: hop.api.proc.pid, tree: true },
    redis: { pid: hop.redis.pid ?? 0, tree: true },
    ...(edge ? { edge: { pid: edge.proc.pid, tree: true } } : {}),
  });
  const cases: Case[] = [{ id: hopIds.direct, label: '/redis api direct, warn', group: 'hop', url: `${hop.api.url}/redis`, roles: roles() }];
  let before: string = hopIds.direct;
  for (const { id, label } of rungs) {
    const nginx = hop.nginx.get(id);
    if (!nginx) throw new Error(`no nginx for ${id}`);
    cases.push({ id, label: `  ${label}`, group: 'hop', url: `${nginx.url}/redis`, roles: roles(nginx), against: before });
    before = id;
  }
  const unlogged = hop.nginx.get(hopIds.headers);
  if (!unlogged) throw new Error(`no nginx for ${hopIds.headers}`);
  cases.push({
    id: hopIds.keyed,
    label: '  behind ours, no access log, a client Idempotency-Key each',
    group: 'hop',
    url: `${unlogged.url}/redis`,
    script: keyScript,
    roles: roles(unlogged),
    against: hopIds.headers,
  });
  return cases;
}
