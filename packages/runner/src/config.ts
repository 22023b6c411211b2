import { resolve } from 'node:path';
import { envLogFormat, envLogLevel, envPort, nativeDefaults, repoRoot } from '@three-tier/shared';
import { z } from 'zod';

/** Environment of `npm start` (the stack runner). */
export const runnerEnvSchema = z
  .object({
    EDGE_PORT: envPort.default(nativeDefaults.edgePort),
    API_PORT: envPort.default(nativeDefaults.apiPort),
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
    }
  });

export type RunnerEnv = z.output<typeof runnerEnvSchema>;
