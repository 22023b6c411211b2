import { fileURLToPath } from 'node:url';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { generateFiles } from '@three-tier/nginx';
import {
  Nginx,
  NodeService,
  RedisServer,
  ReplicatedRedis,
  RetryLog,
  answersOk,
  retryLogName,
  waitFor,
  type ReplicatedRedisPorts,
  type Service,
} from '@three-tier/processes';
import { hostname } from 'node:os';
import { budgets, edge as edgeContract, formatHostPorts, gracePeriodMs, redisReplication, routes, type LogLevel } from '@three-tier/shared';
import { AccessLogPipe } from './access-log.js';
import { nativeTarget } from './nginx-target.js';
import { noteRetry } from './retry-log.js';

export type EdgeKind = 'nginx' | 'http-proxy';
/**
 * 'redis' (or, replicated, 'redis-0' to 'redis-2' and 'sentinel-0' to 'sentinel-2'), 'edge', and
 * 'api' (one instance) or 'api 3001', 'api 3002', ... (several).
 */
export type ServiceName = string;

/** One api instance: its port, and the name it answers /instance with. */
export interface ApiInstance {
  /** 'api' alone, or 'api <port>' among several: how the runner's lines name it. */
  readonly name: string;
  readonly port: number;
  readonly instanceId: string;
  readonly service: NodeService;
}

export interface NativeStackOptions {
  readonly edge: EdgeKind;
  /** `api` is the first instance's port; the others follow it (api+1, api+2, ...). */
  readonly ports: { readonly edge: number; readonly api: number; readonly redis: number };
  /** How many api instances the edge balances; 1 by default. */
  readonly apiInstances?: number;
  /**
   * A replicated Redis (a master, its replicas, the Sentinels) on these ports in place of the
   * single one on `ports.redis`; the api then asks the Sentinels for the master.
   */
  readonly replicatedRedis?: ReplicatedRedisPorts | undefined;
  /** Where the edge listens; the api and Redis always stay on 127.0.0.1. */
  readonly edgeHost: string;
  /**
   * Redis keeps its append-only file here; reuse it and the counter comes back. A replicated set
   * keeps a folder per member in it (redis-0, sentinel-0, ...).
   */
  readonly dataDir: string;
  /** A fresh directory for this run: nginx's config, pid and temp files. */
  readonly runDir: string;
  /** redisSentinel: needed only with `replicatedRedis`. */
  readonly bin: { readonly redisServer: string; readonly redisSentinel?: string | undefined; readonly nginx?: string | undefined };
  /** What the node children inherit, e.g. PATH; nothing else leaks into them. */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  readonly redisPassword?: string | undefined;
  readonly logLevel?: LogLevel;
  readonly logFormat?: 'json' | 'pretty';
  /** More environment for the api, e.g. SHUTDOWN_DELAY_MS. */
  readonly apiEnv?: Readonly<Record<string, string>>;
  readonly onLine?: (service: ServiceName, line: string) => void;
}

/** The built entry point of a workspace app, found the way Node finds packages. */
function entryOf(specifier: '@three-tier/api' | '@three-tier/edge'): string {
  return fileURLToPath(import.meta.resolve(specifier));
}

/** What every node service of the stack gets: the base environment and the log settings. */
function nodeEnv(options: NativeStackOptions): NodeJS.ProcessEnv {
  return { ...options.baseEnv, LOG_LEVEL: options.logLevel ?? 'info', ...(options.logFormat ? { LOG_FORMAT: options.logFormat } : {}) };
}

/** Where the api finds Redis: its URL, or (replicated) the Sentinels that name the master. */
function redisEnv(options: NativeStackOptions, replicated: ReplicatedRedis | undefined): Record<string, string> {
  const password: Record<string, string> = options.redisPassword ? { REDIS_PASSWORD: options.redisPassword } : {};
  if (!replicated) return { REDIS_URL: `redis://127.0.0.1:${options.ports.redis}`, ...password };
  return { REDIS_SENTINELS: formatHostPorts(replicated.sentinelAddresses), REDIS_MASTER_NAME: redisReplication.masterName, ...password };
}

/** The replicated set the options ask for, or undefined for the single Redis. */
function replicatedSet(options: NativeStackOptions): ReplicatedRedis | undefined {
  const { replicatedRedis: ports, bin, onLine } = options;
  if (!ports) return undefined;
  if (!bin.redisSentinel) throw new Error('a replicated Redis needs the redis-sentinel binary');
  return new ReplicatedRedis({
    bin: { redisServer: bin.redisServer, redisSentinel: bin.redisSentinel },
    ports,
    dir: options.dataDir,
    password: options.redisPassword,
    onLine: (member, line) => onLine?.(member, line),
  });
}

/** The api instances on ports api, api+1, ..., each with a hostname of its own, as each container has. */
function apiInstances(options: NativeStackOptions, replicated: ReplicatedRedis | undefined): ApiInstance[] {
  const { ports, onLine } = options;
  const count = options.apiInstances ?? 1;
  const host = hostname();
  return Array.from({ length: count }, (_, index) => {
    const port = ports.api + index;
    const name = count === 1 ? 'api' : `api ${port}`;
    // /instance tells them apart.
    const instanceId = `${host}-${port}`;
    const url = `http://127.0.0.1:${port}`;
    const service = new NodeService({
      name,
      entry: entryOf('@three-tier/api'),
      env: {
        ...nodeEnv(options),
        PORT: String(port),
        HOST: '127.0.0.1',
        INSTANCE_ID: instanceId,
        ...redisEnv(options, replicated),
        ...options.apiEnv,
      },
      healthUrl: `${url}${routes.readyz.path}`,
      liveUrl: `${url}${routes.healthz.path}`,
      onLine: (line) => onLine?.(name, line),
    });
    return { name, port, instanceId, service };
  });
}

const edgeHealthUrl = (options: NativeStackOptions): string => `http://127.0.0.1:${options.ports.edge}${edgeContract.healthPath}`;

/** nginx with the generated native config; its access log comes through `accessLog` (see create). */
function nginxEdge(options: NativeStackOptions, accessLog: AccessLogPipe | undefined): Nginx {
  const { ports, bin, onLine } = options;
  if (!bin.nginx || !accessLog) throw new Error('the nginx edge needs the nginx binary');
  const target = nativeTarget({
    listenHost: options.edgeHost,
    edgePort: ports.edge,
    apiPort: ports.api,
    apiInstances: options.apiInstances ?? 1,
    prefix: options.runDir,
    accessLogPath: accessLog.path,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
  });
  return new Nginx({
    bin: bin.nginx,
    prefix: options.runDir,
    config: generateFiles(target)['nginx.conf'] ?? '',
    healthUrl: edgeHealthUrl(options),
    onLine: (line) => onLine?.('edge', line),
  });
}

/** The http-proxy edge in front of the api instances; it warns of each retry, which the run folder notes. */
function nodeEdge(options: NativeStackOptions, apis: readonly ApiInstance[]): NodeService {
  const { ports, onLine } = options;
  const retries = new RetryLog(join(options.runDir, retryLogName));
  return new NodeService({
    name: 'edge',
    entry: entryOf('@three-tier/edge'),
    env: {
      ...nodeEnv(options),
      EDGE_PORT: String(ports.edge),
      EDGE_HOST: options.edgeHost,
      API_UPSTREAM: apis.map(({ port }) => `http://127.0.0.1:${port}`).join(','),
    },
    healthUrl: edgeHealthUrl(options),
    onLine: (line) => {
      noteRetry(retries, line);
      onLine?.('edge', line);
    },
    // Both edges drain for budgets.edgeDrainMs: killed past the same grace period as nginx.
    stopTimeoutMs: gracePeriodMs(budgets.edgeDrainMs),
  });
}

/**
 * The three tiers as plain processes on one machine: redis-server with its own data directory (or
 * a replicated set: a master, its replicas and the Sentinels), the api, and nginx (or the
 * http-proxy edge) in front. Started in dependency order, stopped in reverse, each stop graceful.
 */
export class NativeStack {
  /** The replicated set, when the stack runs one in place of the single Redis. */
  readonly replicatedRedis: ReplicatedRedis | undefined;
  private readonly singleRedis: RedisServer | undefined;
  /** The api instances, in port order. */
  readonly apis: readonly ApiInstance[];
  readonly edge: Nginx | NodeService;
  /** Set by the first stop; every later one waits for it. */
  private stopped: Promise<void> | undefined;

  /** Builds the stack (nothing runs until `start`). */
  static async create(options: NativeStackOptions): Promise<NativeStack> {
    let accessLog: AccessLogPipe | undefined;
    if (options.edge === 'nginx') {
      if (!options.bin.nginx) throw new Error('the nginx edge needs the nginx binary');
      await mkdir(options.runDir, { recursive: true });
      const retries = new RetryLog(join(options.runDir, retryLogName));
      accessLog = AccessLogPipe.open(join(options.runDir, 'access.log'), (lines) => {
        for (const line of lines) {
          noteRetry(retries, line);
          options.onLine?.('edge', line);
        }
      });
    }
    try {
      return new NativeStack(options, accessLog);
    } catch (error) {
      accessLog?.close();
      throw error;
    }
  }

  private constructor(
    readonly options: NativeStackOptions,
    private readonly accessLog: AccessLogPipe | undefined,
  ) {
    const { ports, bin, onLine } = options;
    this.replicatedRedis = replicatedSet(options);
    this.singleRedis = this.replicatedRedis
      ? undefined
      : new RedisServer({
          bin: bin.redisServer,
          port: ports.redis,
          dir: options.dataDir,
          password: options.redisPassword,
          onLine: (line) => onLine?.('redis', line),
        });
    this.apis = apiInstances(options, this.replicatedRedis);
    this.edge = options.edge === 'nginx' ? nginxEdge(options, accessLog) : nodeEdge(options, this.apis);
  }

  /** The single Redis; a stack that runs a replicated set has none (see replicatedRedis). */
  get redis(): RedisServer {
    if (!this.singleRedis) throw new Error('this stack runs a replicated Redis: see replicatedRedis');
    return this.singleRedis;
  }

  /** Redis as one tier, single or replicated: started first, stopped last. */
  private get redisTier(): { start(): Promise<void>; stop(): Promise<unknown> } {
    return this.replicatedRedis ?? this.redis;
  }

  /** Redis's services by name: 'redis', or every member of the set. */
  private get redisServices(): Record<ServiceName, Service> {
    return this.replicatedRedis ? { ...this.replicatedRedis.services } : { redis: this.redis };
  }

  /** The public entry: the edge, on loopback. */
  get url(): string {
    return `http://127.0.0.1:${this.options.ports.edge}`;
  }

  /** The first api instance (the only one by default). */
  get api(): NodeService {
    const [first] = this.apis;
    if (!first) throw new Error('no api instance');
    return first.service;
  }

  /** The first api instance's own port: /metrics lives here. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.options.ports.api}`;
  }

  get nginxConfigFile(): string {
    return join(this.options.runDir, 'nginx.conf');
  }

  /** Every service by name, in start order: redis (or the set's members), the api instances, the edge. */
  get services(): Readonly<Record<ServiceName, Service>> {
    return { ...this.redisServices, ...Object.fromEntries(this.apis.map(({ name, service }) => [name, service])), edge: this.edge };
  }

  /** The port each service listens on, by the names of `services`. */
  get ports(): Readonly<Record<ServiceName, number>> {
    const { ports } = this.options;
    const set = this.replicatedRedis;
    const redis = set ? Object.fromEntries([...set.nodes, ...set.sentinels].map((member) => [member.options.name ?? '', member.port])) : { redis: ports.redis };
    return { ...redis, ...Object.fromEntries(this.apis.map(({ name, port }) => [name, port])), edge: ports.edge };
  }

  /** True once a stop was asked for. */
  get stopping(): boolean {
    return this.stopped !== undefined;
  }

  /**
   * Starts Redis (a replicated set: once it is whole), then the api (ready means Redis answers), then the edge; ready when /readyz
   * passes through it. A stop asked for meanwhile (Ctrl-C during the start) ends it early.
   */
  async start(): Promise<void> {
    try {
      // The api instances start side by side: each waits only for Redis.
      for (const tier of [[this.redisTier], this.apis.map(({ service }) => service), [this.edge]]) {
        if (this.stopping) throw new Error('stopped while starting');
        // Every start settles before a failure stops the stack: none is left half-started.
        const failed = (await Promise.allSettled(tier.map((service) => service.start()))).find((result) => result.status === 'rejected');
        if (failed) throw failed.reason;
      }
      await waitFor(() => answersOk(`${this.url}${routes.readyz.path}`), { what: 'the stack to answer /readyz through the edge' });
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /**
   * Edge first (it drains its in-flight requests), then the api (it drains too), then Redis (it
   * flushes). Runs once: a failed start and a signal may both ask for it.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.edge.stop();
      this.accessLog?.close();
      await Promise.all(this.apis.map(({ service }) => service.stop()));
      await this.redisTier.stop();
    })();
    return this.stopped;
  }

  /**
   * Kills every service and all it forked (each process group) at once: the second Ctrl-C, when
   * waiting for a graceful stop is no longer wanted. Resolves once all are gone.
   */
  async kill(): Promise<void> {
    this.stopped ??= Promise.resolve();
    await Promise.all(Object.values(this.services).map((service) => service.kill()));
    this.accessLog?.close();
  }
}
