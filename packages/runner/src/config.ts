import { resolve } from 'node:path';
import { repoRoot } from '@three-tier/cli-kit';
import { envLogFormat, envLogLevel, envPort, nativeDefaults, redisReplication } from '@three-tier/shared';
import { z } from 'zod';

/** More would be a load test of this machine, not a demo of balancing. */
export const maxApiInstances = 16;
const instancesError = `must be a whole number from 1 to ${maxApiInstances}`;
const { replicas, sentinels } = redisReplication;
const replicasError = `must be 0 (one Redis) or ${String(replicas)} (a master, ${String(replicas)} replicas and ${String(sentinels)} Sentinels)`;

/** Ports a replicated set takes from REDIS_PORT on: its data nodes, then its Sentinels. */
export const replicatedRedisPortCount = replicas + 1 + sentinels;

/** Environment of `npm start` (the stack runner). */
export const runnerEnvSchema = z
  .object({
    EDGE_PORT: envPort.default(nativeDefaults.edgePort),
    API_PORT: envPort.default(nativeDefaults.apiPort),
    /** How many api instances: they listen on API_PORT, API_PORT+1, ... and the edge balances them. */
    API_INSTANCES: z.coerce
      .number({ error: instancesError })
      .int({ error: instancesError })
      .min(1, { error: instancesError })
      .max(maxApiInstances, { error: instancesError })
      .default(1),
    REDIS_PORT: envPort.default(nativeDefaults.redisPort),
    /**
     * 0: one redis-server, as always. The contract's count: a master, its replicas and the Sentinels
     * on REDIS_PORT, REDIS_PORT+1, ..., and the api in Sentinel mode.
     */
    REDIS_REPLICAS: z.coerce
      .number({ error: replicasError })
      .refine((count) => count === 0 || count === replicas, { error: replicasError })
      .default(0),
    /** 127.0.0.1 keeps the stack to this machine; 0.0.0.0 opens the edge (only the edge) to others. */
    EDGE_HOST: z.string().min(1).default('127.0.0.1'),
    /** auto: nginx when installed, else the http-proxy edge (said out loud). */
    STACK_EDGE: z.enum(['auto', 'nginx', 'http-proxy'], { error: 'must be auto, nginx or http-proxy' }).default('auto'),
    /** Redis's data directory, kept between runs. */
    STACK_DATA_DIR: z
      .string()
      .min(1)
      .default(resolve(repoRoot, '.data/redis'))
      .transform((dir) => resolve(dir)),
    REDIS_PASSWORD: z.string().min(1).optional(),
    LOG_LEVEL: envLogLevel,
    LOG_FORMAT: envLogFormat,
    /** Which binaries to run; by default found on PATH and in the sbin directories. */
    NGINX_BIN: z.string().min(1).optional(),
    REDIS_SERVER_BIN: z.string().min(1).optional(),
    REDIS_SENTINEL_BIN: z.string().min(1).optional(),
    /** Passed on to the children (and searched for the binaries); nothing else of ours leaks into them. */
    PATH: z.string().optional(),
    HOME: z.string().optional(),
  })
  .superRefine((env, context) => {
    const ports = [env.EDGE_PORT, env.API_PORT, env.REDIS_PORT];
    if (new Set(ports).size !== ports.length) {
      context.addIssue({
        code: 'custom',
        message: `EDGE_PORT, API_PORT and REDIS_PORT must differ (got ${ports.join(', ')})`,
      });
      return;
    }
    for (const message of rangeClashes(env)) context.addIssue({ code: 'custom', message });
  });

/** A run of ports a setting takes, and the single ports it must leave alone. */
interface PortRange {
  readonly setting: string;
  readonly first: number;
  readonly last: number;
  readonly fix: string;
}

/** What is wrong with the api's and Redis's ranges of ports: past 65535, or over another port. */
function rangeClashes(env: Pick<RunnerEnv, 'EDGE_PORT' | 'API_PORT' | 'REDIS_PORT' | 'API_INSTANCES' | 'REDIS_REPLICAS'>): string[] {
  const ranges: PortRange[] = [];
  if (env.API_INSTANCES > 1) {
    const last = env.API_PORT + env.API_INSTANCES - 1;
    ranges.push({
      setting: `API_INSTANCES=${env.API_INSTANCES} puts the api on ports ${env.API_PORT} to ${last}`,
      first: env.API_PORT,
      last,
      fix: 'API_PORT or use fewer instances',
    });
  }
  if (env.REDIS_REPLICAS > 0) {
    const last = env.REDIS_PORT + replicatedRedisPortCount - 1;
    ranges.push({
      setting: `REDIS_REPLICAS=${env.REDIS_REPLICAS} puts Redis and its Sentinels on ports ${env.REDIS_PORT} to ${last}`,
      first: env.REDIS_PORT,
      last,
      fix: 'REDIS_PORT',
    });
  }
  const messages: string[] = [];
  for (const range of ranges) {
    if (range.last > 65_535) {
      messages.push(`${range.setting}, past 65535: choose a lower ${range.fix.split(' ')[0] ?? ''}`);
      continue;
    }
    const singles = [['EDGE_PORT', env.EDGE_PORT], ['API_PORT', env.API_PORT], ['REDIS_PORT', env.REDIS_PORT]] as const;
    for (const [name, port] of singles) {
      if (port > range.first && port <= range.last) messages.push(`${range.setting}, which takes ${name} (${port}): move ${name}, ${range.fix}`);
    }
  }
  const [api, redis] = ranges.length === 2 ? ranges : [];
  if (messages.length === 0 && api && redis && api.first <= redis.last && redis.first <= api.last) {
    messages.push(`${api.setting} and ${redis.setting}: they overlap; move API_PORT or REDIS_PORT`);
  }
  return messages;
}

/** The ports of the api instances, API_PORT first. */
export function apiPortsOf(env: Pick<RunnerEnv, 'API_PORT' | 'API_INSTANCES'>): number[] {
  return Array.from({ length: env.API_INSTANCES }, (_, index) => env.API_PORT + index);
}

export type RunnerEnv = z.output<typeof runnerEnvSchema>;

/** The ports of a replicated set from REDIS_PORT on: its data nodes (the first is the first master), then its Sentinels. */
export function replicatedRedisPortsOf(env: Pick<RunnerEnv, 'REDIS_PORT'>): { nodes: number[]; sentinels: number[] } {
  const run = (from: number, count: number): number[] => Array.from({ length: count }, (_, index) => from + index);
  return { nodes: run(env.REDIS_PORT, replicas + 1), sentinels: run(env.REDIS_PORT + replicas + 1, sentinels) };
}
