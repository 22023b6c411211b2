/**
 * The references, started by the bench beside the project: Express 5's hello world (the baseline
 * of every ratio), the raw limit (node http + one ioredis INCR) alone and behind each kind of hop
 * (a bare nginx, our nginx, a bare http-proxy, our http-proxy edge), and the course's app alone and
 * behind a plain nginx.
 */
import { join } from 'node:path';
import type { RedisServer } from '@three-tier/processes';
import type { RoleProcess } from './cpu.js';
import { helloId, referenceIds } from './ids.js';
import { bareConfig, courseConfig, ourConfig } from './nginx-configs.js';
import type { Case } from './rounds.js';
import type { Running } from './running.js';
import { startEdge, startNginx, startNodeServer, startRedis, type BaseEnv, type BenchNginx, type NodeServer } from './targets.js';

interface References {
  readonly hello: NodeServer;
  readonly helloBorn: NodeServer;
  readonly raw: NodeServer;
  readonly course: NodeServer;
  readonly hops: Readonly<Record<'bareNginx' | 'ourNginx' | 'courseNginx', BenchNginx>>;
  readonly proxies: Readonly<Record<'bareProxy' | 'ourEdge', NodeServer>>;
  readonly redis: RedisServer;
}

const portOf = (server: NodeServer): number => Number(new URL(server.url).port);

/** Starts every reference against a Redis of their own. */
export async function startReferences(bin: { redisServer: string; nginx: string }, env: BaseEnv, dir: string, running: Running): Promise<References> {
  const redis = await startRedis(bin.redisServer, join(dir, 'redis-references'));
  running.redises.push(redis);
  const redisUrl = `redis://127.0.0.1:${redis.port}`;
  const hello = await startNodeServer('express-hello', { name: 'express hello world', env, probePath: '/' });
  const helloBorn = await startNodeServer('express-hello-born', { name: 'express hello world, born', env, probePath: '/' });
  const raw = await startNodeServer('raw-incr', { name: 'raw http + ioredis', env, settings: { redisUrl }, probePath: '/' });
  const course = await startNodeServer('course-app', { name: "the course's app", env, settings: { redisUrl }, probePath: '/redis' });
  running.children.push(hello.proc, helloBorn.proc, raw.proc, course.proc);
  const nginx = async (name: string, upstream: NodeServer, config: Parameters<typeof startNginx>[1]['config']): Promise<BenchNginx> => {
    const started = await startNginx(bin.nginx, { name, dir, upstreamPort: portOf(upstream), config });
    running.children.push(started.proc);
    running.quitGracefully.add(started.proc);
    running.closers.push(started.close);
    return started;
  };
  const hops = {
    bareNginx: await nginx('bare nginx', raw, bareConfig),
    ourNginx: await nginx('our nginx (reference)', raw, (place, log) => ourConfig(place, log)),
    courseNginx: await nginx("the course's nginx", course, courseConfig),
  };
  const proxies = {
    bareProxy: await startNodeServer('bare-proxy', { name: 'bare http-proxy', env, settings: { upstreamUrl: raw.url }, probePath: '/redis' }),
    // At warn: no access log, as the bare references have none.
    ourEdge: await startEdge({ upstreamUrl: raw.url, logLevel: 'warn', env }),
  };
  running.children.push(proxies.bareProxy.proc, proxies.ourEdge.proc);
  return { hello, helloBorn, raw, course, hops, proxies, redis };
}

/** The references' cases: each server's whole tree, its hop's, and its Redis where it has one. */
export function referenceCases(references: References): Case[] {
  const { hello, helloBorn, raw, course, hops, proxies, redis } = references;
  const tree = (pid: number | undefined): RoleProcess => ({ pid: pid ?? 0, tree: true });
  const behind = (id: string, label: string, hop: { readonly proc: { readonly pid: number }; readonly url: string }, upstream: NodeServer, against: string): Case => ({
    id,
    label,
    group: 'reference',
    url: `${hop.url}/redis`,
    roles: { api: tree(upstream.proc.pid), edge: tree(hop.proc.pid), redis: tree(redis.pid) },
    against,
  });
  const { raw: rawId, course: courseId } = referenceIds;
  return [
    { id: helloId, label: 'Express 5 hello world (GET /)', group: 'reference', url: `${hello.url}/`, roles: { api: tree(hello.proc.pid) } },
    { id: 'hello-born', label: 'the same, objects born with its prototypes', group: 'reference', url: `${helloBorn.url}/`, roles: { api: tree(helloBorn.proc.pid) } },
    { id: rawId, label: 'raw node http + ioredis INCR', group: 'reference', url: `${raw.url}/redis`, roles: { api: tree(raw.proc.pid), redis: tree(redis.pid) } },
    behind(referenceIds.rawBareNginx, 'raw INCR behind a bare nginx', hops.bareNginx, raw, rawId),
    behind(referenceIds.rawOurNginx, 'raw INCR behind our nginx', hops.ourNginx, raw, rawId),
    behind(referenceIds.rawBareProxy, 'raw INCR behind a bare http-proxy', proxies.bareProxy, raw, rawId),
    behind(referenceIds.rawOurEdge, 'raw INCR behind our http-proxy edge, warn', proxies.ourEdge, raw, rawId),
    { id: courseId, label: "the course's app (Express 4 + INCR)", group: 'reference', url: `${course.url}/redis`, roles: { api: tree(course.proc.pid), redis: tree(redis.pid) } },
    behind(referenceIds.courseNginx, "the course's app behind a plain nginx", hops.courseNginx, course, courseId),
  ];
}
