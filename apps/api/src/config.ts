import { apiEnvSchema, parseEnv, type LogLevel } from '@three-tier/shared';

/** The api's configuration, parsed once from the environment by the entry point. */
export interface ApiConfig {
  readonly port: number;
  readonly host: string;
  readonly redis: {
    readonly url: string;
    readonly password: string | undefined;
    readonly timeoutMs: number;
  };
  readonly counter: {
    readonly key: string;
    readonly idempotencyTtlSeconds: number;
  };
  readonly load: {
    readonly workers: number | undefined;
    readonly queue: number | undefined;
  };
  readonly shutdown: {
    readonly delayMs: number;
    readonly timeoutMs: number;
  };
  readonly trustProxy: string | false;
  readonly log: {
    readonly level: LogLevel;
    readonly pretty: boolean;
  };
}

/** Throws ConfigError naming each bad variable. */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>, stdoutIsTty: boolean): ApiConfig {
  const parsed = parseEnv(apiEnvSchema, env);
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    redis: { url: parsed.REDIS_URL, password: parsed.REDIS_PASSWORD, timeoutMs: parsed.REDIS_TIMEOUT_MS },
    counter: { key: parsed.COUNTER_KEY, idempotencyTtlSeconds: parsed.IDEMPOTENCY_TTL_SECONDS },
    load: { workers: parsed.LOAD_WORKERS, queue: parsed.LOAD_QUEUE },
    shutdown: { delayMs: parsed.SHUTDOWN_DELAY_MS, timeoutMs: parsed.SHUTDOWN_TIMEOUT_MS },
    trustProxy: parsed.TRUST_PROXY === 'false' ? false : parsed.TRUST_PROXY,
    log: { level: parsed.LOG_LEVEL, pretty: (parsed.LOG_FORMAT ?? (stdoutIsTty ? 'pretty' : 'json')) === 'pretty' },
  };
}
