import { resolve } from 'node:path';
import { repoRoot } from '@three-tier/cli-kit';
import { envLogFormat, envLogLevel, envPort, nativeDefaults } from '@three-tier/shared';
import { z } from 'zod';

/** More would be a load test of this machine, not a demo of balancing. */
export const maxApiInstances = 16;
const instancesError = `must be a whole number from 1 to ${maxApiInstances}`;

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
    if (env.API_INSTANCES === 1) return;
    const last = env.API_PORT + env.API_INSTANCES - 1;
    const range = `API_INSTANCES=${env.API_INSTANCES} puts the api on ports ${env.API_PORT} to ${last}`;
    if (last > 65_535) {
      context.addIssue({ code: 'custom', message: `${range}, past 65535: choose a lower API_PORT` });
      return;
    }
    for (const [name, port] of [['EDGE_PORT', env.EDGE_PORT], ['REDIS_PORT', env.REDIS_PORT]] as const) {
      if (port > env.API_PORT && port <= last) {
        context.addIssue({ code: 'custom', message: `${range}, which takes ${name} (${port}): move ${name}, API_PORT or use fewer instances` });
      }
    }
  });

/** The ports of the api instances, API_PORT first. */
export function apiPortsOf(env: Pick<RunnerEnv, 'API_PORT' | 'API_INSTANCES'>): number[] {
  return Array.from({ length: env.API_INSTANCES }, (_, index) => env.API_PORT + index);
}

export type RunnerEnv = z.output<typeof runnerEnvSchema>;
