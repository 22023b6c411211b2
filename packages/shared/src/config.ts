/**
 * Environment schemas with their defaults. Each program parses its environment once, at boot, and a
 * bad value stops it with a message naming the variable. The deployment generators read the names
 * from here too.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { budgets } from './budgets.js';
import { ports } from './topology.js';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** An integer variable within bounds; the message names the range. */
export function envInteger(min: number, max: number) {
  const message = `must be an integer from ${min} to ${max}`;
  return z.coerce.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, {
    error: message,
  });
}

/** A TCP port variable. */
export const envPort = envInteger(1, 65_535);

/** LOG_LEVEL: pino's levels, info by default. */
export const envLogLevel = z.enum(logLevels, { error: `must be one of ${logLevels.join(', ')}` }).default('info');

/** json everywhere but a terminal, where it is pretty unless told otherwise. */
export const envLogFormat = z.enum(['json', 'pretty'], { error: 'must be json or pretty' }).optional();

const trustPresets = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Express's `trust proxy`: presets, addresses or CIDR blocks, comma-separated; `false` trusts no one. */
const trustProxy = z
  .string()
  .default('loopback, linklocal, uniquelocal')
  .refine(
    (value) =>
      value === 'false' ||
      value.split(',').every((item) => {
        const entry = item.trim();
        if (trustPresets.has(entry)) return true;
        const [address = '', bits, ...rest] = entry.split('/');
        const family = isIP(address);
        if (family === 0 || rest.length > 0) return false;
        if (bits === undefined) return true;
        const n = Number(bits);
        return Number.isInteger(n) && n >= 0 && n <= (family === 4 ? 32 : 128);
      }),
    { error: 'must be false or a comma-separated list of loopback, linklocal, uniquelocal, addresses or CIDRs' },
  );

const redisUrl = z.url({
  protocol: /^rediss?$/,
  error: 'must be a redis:// or rediss:// URL, e.g. redis://redis:6379',
});

/** Where a Sentinel listens, as REDIS_SENTINELS lists it. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const hostName = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * One entry of a host list: `host:port`, `[IPv6]:port`, or a host alone (then `defaultPort`).
 * Undefined when it is none of these.
 */
export function parseHostPort(entry: string, defaultPort: number): HostPort | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry);
  const match = bracketed ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(entry);
  if (!match) return undefined;
  const [, host = '', portText] = match;
  const validHost = bracketed ? isIP(host) === 6 : isIP(host) === 4 || hostName.test(host);
  const port = portText === undefined ? defaultPort : Number(portText);
  if (!validHost || port < 1 || port > 65_535) return undefined;
  return { host, port };
}

/** A host list as REDIS_SENTINELS takes it: `host:port,host:port` (IPv6 in brackets). */
export function formatHostPorts(list: readonly HostPort[]): string {
  return list.map(({ host, port }) => `${isIP(host) === 6 ? `[${host}]` : host}:${String(port)}`).join(',');
}

const sentinelsMessage = `must be a comma-separated list of host:port (the port defaults to ${String(ports.sentinel)}), e.g. sentinel-0:${String(ports.sentinel)},sentinel-1:${String(ports.sentinel)}`;

/** REDIS_SENTINELS: at least one Sentinel, none twice. */
const redisSentinels = z.string().transform((value, ctx) => {
  const addresses = value.split(',').map((entry) => parseHostPort(entry.trim(), ports.sentinel));
  const valid = addresses.filter((address) => address !== undefined);
  if (valid.length < addresses.length) {
    ctx.issues.push({ code: 'custom', message: sentinelsMessage, input: value });
    return z.NEVER;
  }
  if (new Set(valid.map(({ host, port }) => `${host}:${String(port)}`)).size < valid.length) {
    ctx.issues.push({ code: 'custom', message: 'must not list the same Sentinel twice', input: value });
    return z.NEVER;
  }
  return valid;
});

/** Environment of the api (apps/api). */
export const apiEnvSchema = z.object({
  PORT: envPort.default(ports.api),
  HOST: z.string().min(1).default('0.0.0.0'),
  REDIS_URL: redisUrl.default(`redis://127.0.0.1:${ports.redis}`),
  /**
   * Sentinel mode when set: the Sentinels that watch a replicated Redis, asked where its master is;
   * a visit is acknowledged only once a replica has it. Not with REDIS_URL (checked by the api).
   */
  REDIS_SENTINELS: redisSentinels.optional(),
  /** The master the Sentinels monitor; only with REDIS_SENTINELS (`redisReplication.masterName` by default). */
  REDIS_MASTER_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1 to 64 letters, digits or . _ -' })
    .optional(),
  /**
   * Overrides a password in REDIS_URL; easier to inject from a secret. In Sentinel mode the same
   * password is sent to the master and to the Sentinels.
   */
  REDIS_PASSWORD: z.string().min(1).optional(),
  /** A file holding the password (a mounted secret); read once at boot. */
  REDIS_PASSWORD_FILE: z.string().min(1).optional(),
  /** A command that takes longer fails; keeps /redis under a second when Redis hangs. */
  REDIS_TIMEOUT_MS: envInteger(10, 10_000).default(500),
  COUNTER_KEY: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,64}$/, { error: 'must be 1 to 64 letters, digits or : . _ -' })
    .default('hits'),
  /** How long a counted idempotency key is remembered; longer than any edge retry. */
  IDEMPOTENCY_TTL_SECONDS: envInteger(1, 3_600).default(30),
  /** Worker threads for /load; by default the CPUs this process may use (cgroup quota included). */
  LOAD_WORKERS: envInteger(1, 256).optional(),
  /** /load requests that may wait for a worker; by default twice the workers. */
  LOAD_QUEUE: envInteger(0, 10_000).optional(),
  /** After SIGTERM, keep serving this long with /readyz at 503 so load balancers stop sending. */
  SHUTDOWN_DELAY_MS: envInteger(0, 120_000).default(0),
  /** In-flight requests get this long to finish once the listener closes: by default the longest deadline. */
  SHUTDOWN_TIMEOUT_MS: envInteger(100, 120_000).default(budgets.apiShutdownTimeoutMs),
  TRUST_PROXY: trustProxy,
  /**
   * The name this instance answers with; by default the machine's hostname (a container's id, a
   * pod's name). `npm start` sets one per instance, since they share a machine.
   */
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1 to 64 letters, digits or . _ -' })
    .optional(),
  /** Faults on demand (/faults, on the api's port only): on for demos, off where that port is reachable. */
  FAULTS: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  LOG_LEVEL: envLogLevel,
  LOG_FORMAT: envLogFormat,
});

/** Environment of the http-proxy edge (apps/edge). */
export const edgeEnvSchema = z.object({
  EDGE_PORT: envPort.default(ports.edge),
  EDGE_HOST: z.string().min(1).default('0.0.0.0'),
  /** One or more api instances, comma-separated; requests go round-robin. */
  API_UPSTREAM: z
    .string()
    .default(`http://127.0.0.1:${ports.api}`)
    .transform((value) => value.split(',').map((item) => item.trim()))
    .pipe(z.array(z.url({ protocol: /^http$/, error: 'must be http:// URLs, comma-separated' })).min(1)),
  LOG_LEVEL: envLogLevel,
  LOG_FORMAT: envLogFormat,
});

/** The variables of the api's environment, for deployment generators and their tests. */
export type ApiEnvName = keyof z.input<typeof apiEnvSchema>;
export type EdgeEnv = z.output<typeof edgeEnvSchema>;

/** Values never echoed in an error message. */
const secretNames = new Set(['REDIS_PASSWORD', 'REDIS_URL']);

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the variables a schema names out of an environment. Empty values count as unset, so
 * `PORT=` in a compose file means the default. Throws ConfigError naming each bad variable.
 */
export function parseEnv<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  env: Readonly<Record<string, string | undefined>>,
): z.output<z.ZodObject<Shape>> {
  const input: Record<string, string> = {};
  for (const name of Object.keys(schema.shape)) {
    const value = env[name];
    if (value !== undefined && value !== '') input[name] = value;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    // A check across variables has no single path; its message names them.
    if (issue.path[0] === undefined) return issue.message;
    const name = String(issue.path[0]);
    const value = input[name];
    const got = value === undefined || secretNames.has(name) ? '' : ` (got ${JSON.stringify(value)})`;
    return `${name} ${issue.message}${got}`;
  });
  throw new ConfigError(problems);
}
