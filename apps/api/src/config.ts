import { readFileSync } from 'node:fs';
import {
  apiEnvSchema,
  ConfigError,
  parseEnv,
  redisReplication,
  replicaWaitMs,
  type HostPort,
  type LogLevel,
} from '@three-tier/shared';

/** Sentinel mode: where to ask for the master. */
export interface SentinelTarget {
  readonly sentinels: readonly HostPort[];
  readonly masterName: string;
}

/** Sentinel mode: a visit is acknowledged once this many replicas have it. */
export interface CounterReplication {
  /** WAIT's numreplicas; also the replicas in sync readiness requires. */
  readonly replicas: number;
  /** WAIT's timeout (replicaWaitMs of REDIS_TIMEOUT_MS). */
  readonly waitMs: number;
}

/** The api's configuration, parsed once from the environment by the entry point. */
export interface ApiConfig {
  readonly port: number;
  readonly host: string;
  readonly redis: {
    readonly url: string;
    readonly password: string | undefined;
    readonly timeoutMs: number;
    /** Set in Sentinel mode (REDIS_SENTINELS); `url` is then unused. */
    readonly sentinel?: SentinelTarget | undefined;
  };
  readonly counter: {
    readonly key: string;
    readonly idempotencyTtlSeconds: number;
    readonly timeoutMs: number;
    /** Set in Sentinel mode: every count waits for replicas. */
    readonly replication?: CounterReplication | undefined;
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

/**
 * Sentinel mode, when REDIS_SENTINELS is set. REDIS_URL names a single Redis and cannot go with it;
 * REDIS_MASTER_NAME means nothing without it. The password (REDIS_PASSWORD or its file) serves
 * the master and the Sentinels alike.
 */
function sentinelTarget(
  env: Readonly<Record<string, string | undefined>>,
  sentinels: readonly HostPort[] | undefined,
  masterName: string | undefined,
): SentinelTarget | undefined {
  const set = (name: string): boolean => (env[name] ?? '') !== '';
  if (sentinels && set('REDIS_URL')) {
    throw new ConfigError(['REDIS_URL and REDIS_SENTINELS are both set: with Sentinels the api asks them where the master is; set one']);
  }
  if (!sentinels && masterName !== undefined) {
    throw new ConfigError(['REDIS_MASTER_NAME is set without REDIS_SENTINELS: it names the master the Sentinels watch; set both or neither']);
  }
  return sentinels ? { sentinels, masterName: masterName ?? redisReplication.masterName } : undefined;
}

/** Throws ConfigError naming each bad variable. */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>, stdoutIsTty: boolean): ApiConfig {
  const parsed = parseEnv(apiEnvSchema, env);
  const sentinel = sentinelTarget(env, parsed.REDIS_SENTINELS, parsed.REDIS_MASTER_NAME);
  const replication = sentinel ? { replicas: redisReplication.replicasPerVisit, waitMs: replicaWaitMs(parsed.REDIS_TIMEOUT_MS) } : undefined;
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    redis: {
      url: parsed.REDIS_URL,
      password: redisPassword(parsed.REDIS_PASSWORD, parsed.REDIS_PASSWORD_FILE),
      timeoutMs: parsed.REDIS_TIMEOUT_MS,
      ...(sentinel ? { sentinel } : {}),
    },
    counter: {
      key: parsed.COUNTER_KEY,
      idempotencyTtlSeconds: parsed.IDEMPOTENCY_TTL_SECONDS,
      timeoutMs: parsed.REDIS_TIMEOUT_MS,
      ...(replication ? { replication } : {}),
    },
    load: { workers: parsed.LOAD_WORKERS, queue: parsed.LOAD_QUEUE },
    shutdown: { delayMs: parsed.SHUTDOWN_DELAY_MS, timeoutMs: parsed.SHUTDOWN_TIMEOUT_MS },
    trustProxy: parsed.TRUST_PROXY === 'false' ? false : parsed.TRUST_PROXY,
    instanceId: parsed.INSTANCE_ID,
    faults: parsed.FAULTS === 'on',
    log: { level: parsed.LOG_LEVEL, pretty: (parsed.LOG_FORMAT ?? (stdoutIsTty ? 'pretty' : 'json')) === 'pretty' },
  };
}
