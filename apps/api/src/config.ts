import { readFileSync } from 'node:fs';
import { apiEnvSchema, ConfigError, parseEnv, type LogLevel } from '@three-tier/shared';

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
    readonly timeoutMs: number;
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
  /** The name answers carry; undefined: the machine's hostname. */
  readonly instanceId: string | undefined;
  /** Whether /faults is mounted. */
  readonly faults: boolean;
  readonly log: {
    readonly level: LogLevel;
    readonly pretty: boolean;
  };
}

/** The password from REDIS_PASSWORD or the file REDIS_PASSWORD_FILE names (not both). */
function redisPassword(password: string | undefined, file: string | undefined): string | undefined {
  if (password !== undefined && file !== undefined) {
    throw new ConfigError(['REDIS_PASSWORD and REDIS_PASSWORD_FILE are both set: set one']);
  }
  if (file === undefined) return password;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([`REDIS_PASSWORD_FILE cannot be read (${code}: ${JSON.stringify(file)})`]);
  }
  // A trailing newline is how most tools write a secret file; it is not part of the password.
  const trimmed = text.replace(/\r?\n$/, '');
  if (trimmed === '') throw new ConfigError([`REDIS_PASSWORD_FILE is empty (${JSON.stringify(file)})`]);
  return trimmed;
}

/** Throws ConfigError naming each bad variable. */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>, stdoutIsTty: boolean): ApiConfig {
  const parsed = parseEnv(apiEnvSchema, env);
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    redis: {
      url: parsed.REDIS_URL,
      password: redisPassword(parsed.REDIS_PASSWORD, parsed.REDIS_PASSWORD_FILE),
      timeoutMs: parsed.REDIS_TIMEOUT_MS,
    },
    counter: { key: parsed.COUNTER_KEY, idempotencyTtlSeconds: parsed.IDEMPOTENCY_TTL_SECONDS, timeoutMs: parsed.REDIS_TIMEOUT_MS },
    load: { workers: parsed.LOAD_WORKERS, queue: parsed.LOAD_QUEUE },
    shutdown: { delayMs: parsed.SHUTDOWN_DELAY_MS, timeoutMs: parsed.SHUTDOWN_TIMEOUT_MS },
    trustProxy: parsed.TRUST_PROXY === 'false' ? false : parsed.TRUST_PROXY,
    instanceId: parsed.INSTANCE_ID,
    faults: parsed.FAULTS === 'on',
    log: { level: parsed.LOG_LEVEL, pretty: (parsed.LOG_FORMAT ?? (stdoutIsTty ? 'pretty' : 'json')) === 'pretty' },
  };
}
