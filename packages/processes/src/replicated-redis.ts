import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  budgets,
  commandLineOptions,
  dataNodeDirectives,
  redisReplication,
  redisReplicationNames,
  type HostPort,
} from '@three-tier/shared';
import type { Exit } from './child.js';
import { freePorts } from './ports.js';
import { RedisSentinel } from './redis-sentinel.js';
import { RedisServer, redisInfo, type RedisServerOptions } from './redis-server.js';
import { respFields, respRequest, type RespValue } from './resp.js';
import type { Service } from './service.js';
import { waitFor } from './wait.js';

const loopback = '127.0.0.1';

/** Every port of a set: its data nodes (the first is the first master) and its Sentinels. */
export interface ReplicatedRedisPorts {
  readonly nodes: readonly number[];
  readonly sentinels: readonly number[];
}

export interface ReplicatedRedisOptions {
  readonly bin: { readonly redisServer: string; readonly redisSentinel: string };
  readonly ports: ReplicatedRedisPorts;
  /**
   * Each member keeps a folder under here, named as in the contract (redis-0, sentinel-0...): the
   * data nodes' append-only files, the Sentinels' rewritten configuration. Reuse it, with the same
   * ports, and the set comes back as it was, master included.
   */
  readonly dir: string;
  /** Required by every member, data nodes and Sentinels alike. */
  readonly password?: string | undefined;
  readonly onLine?: (member: string, line: string, stream: 'stdout' | 'stderr') => void;
}

/** Consecutive free ports for a whole set, as the contract sizes it. */
export async function freeReplicatedRedisPorts(): Promise<ReplicatedRedisPorts> {
  const nodes = redisReplication.replicas + 1;
  const first = await freePorts(nodes + redisReplication.sentinels);
  const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, index) => from + index);
  return { nodes: range(first, nodes), sentinels: range(first + nodes, redisReplication.sentinels) };
}

/** What the Sentinels say of the master, by the newest configuration among those that answer. */
interface SentinelView {
  readonly master: HostPort;
  /** Some Sentinel holding that configuration deems the master down or is failing it over. */
  readonly failingOver: boolean;
  /** Sentinels that answered, and those of them that name this master. */
  readonly answered: number;
  readonly agreeing: number;
  /** What each Sentinel that names this master says of it (SENTINEL MASTER's fields). */
  readonly details: ReadonlyArray<ReadonlyMap<string, string>>;
}

/** Flags a Sentinel gives a master it deems down, or is replacing. */
const troubleFlags = /s_down|o_down|failover_in_progress/;

/**
 * A data node of the set: a redis-server whose role is decided at each start (by the set, from
 * what the Sentinels say), so a node restarted after a failover follows the new master at once.
 */
export class RedisNode extends RedisServer {
  private following: HostPort | undefined;

  constructor(
    options: RedisServerOptions,
    private readonly roleOf: (node: RedisNode, restarting: boolean) => Promise<HostPort | undefined>,
  ) {
    super(options);
  }

  get address(): HostPort {
    return { host: loopback, port: this.port };
  }

  get name(): string {
    return this.options.name ?? `redis ${String(this.port)}`;
  }

  override async start(): Promise<void> {
    await this.startAs(false);
  }

  /**
   * After a crash, as a supervisor restarts it: a node that crashed as master waits for the
   * Sentinels to replace it, and comes back as a replica of its successor (see roleFor).
   */
  override async restart(): Promise<void> {
    await this.startAs(true);
  }

  private async startAs(restarting: boolean): Promise<void> {
    if (this.running) return;
    this.following = await this.roleOf(this, restarting);
    await super.start();
  }

  protected override serverArgs(): string[] {
    return [...super.serverArgs(), ...commandLineOptions(dataNodeDirectives({ replicaOf: this.following, password: this.options.password }))];
  }
}

/**
 * Redis replicated as the contract says (redisReplication): a master, its replicas and the
 * Sentinels, each a supervised process on 127.0.0.1 with its own folder. Starts and stops the
 * whole set in a safe order, crashes a member on demand, and says who is master now.
 */
export class ReplicatedRedis {
  readonly nodes: readonly RedisNode[];
  readonly sentinels: readonly RedisSentinel[];
  /** The master the Sentinels named last; used when none of them answers. */
  private lastMaster: HostPort | undefined;

  constructor(readonly options: ReplicatedRedisOptions) {
    const { bin, ports, dir, password, onLine } = options;
    const { dataNodes, sentinels } = redisReplicationNames;
    if (ports.nodes.length !== dataNodes.length || ports.sentinels.length !== sentinels.length) {
      throw new Error(`a replicated Redis has ${String(dataNodes.length)} data nodes and ${String(sentinels.length)} Sentinels: give as many ports`);
    }
    const logAs = (name: string) => (onLine ? { onLine: (line: string, stream: 'stdout' | 'stderr') => onLine(name, line, stream) } : {});
    this.nodes = ports.nodes.map((port, index) => {
      const name = dataNodes[index] ?? '';
      return new RedisNode({ bin: bin.redisServer, port, dir: join(dir, name), password, name, ...logAs(name) }, (node, restarting) => this.roleFor(node, restarting));
    });
    const firstMaster = { host: loopback, port: ports.nodes[0] ?? 0 };
    this.sentinels = ports.sentinels.map((port, index) => {
      const name = sentinels[index] ?? '';
      return new RedisSentinel({ bin: bin.redisSentinel, port, dir: join(dir, name), master: firstMaster, password, name, ...logAs(name) });
    });
  }

  /** Every member by its name, for a supervisor: a data node restarted on its own still starts in its right role. */
  get services(): Readonly<Record<string, Service>> {
    return Object.fromEntries([...this.nodes, ...this.sentinels].map((member) => [member.options.name ?? '', member]));
  }

  /** Where the Sentinels listen: the api's REDIS_SENTINELS (see formatHostPorts). */
  get sentinelAddresses(): HostPort[] {
    return this.sentinels.map((sentinel) => ({ host: loopback, port: sentinel.port }));
  }

  /**
   * Starts what is not running: the Sentinels first (they know the master from their files), then
   * the master, then its replicas; resolves once the set is whole (see waitHealthy).
   */
  async start(): Promise<void> {
    await this.claimFolder();
    await Promise.all(this.sentinels.map((sentinel) => sentinel.start()));
    const named = (await this.sentinelView())?.master ?? this.lastMaster;
    const first = this.nodes.find((node) => node.port === named?.port) ?? this.nodes[0];
    await first?.start();
    await Promise.all(this.nodes.map((node) => node.start()));
    await this.waitHealthy();
  }

  /**
   * The folder remembers the ports it was made for: the Sentinels' files name the members by
   * address, so the same folder with other ports would describe a set that is not there.
   */
  private async claimFolder(): Promise<void> {
    const file = join(this.options.dir, 'ports.json');
    const ports = JSON.stringify(this.options.ports);
    const recorded = await readFile(file, 'utf8').catch(() => undefined);
    if (recorded !== undefined && recorded !== ports) {
      throw new Error(`${this.options.dir} holds a replicated Redis on other ports (${recorded}); use those, or remove the folder to start afresh`);
    }
    await mkdir(this.options.dir, { recursive: true });
    await writeFile(file, ports);
  }

  /** Stops every member: the Sentinels first, so that none fails the master over on its way down. */
  async stop(): Promise<void> {
    await Promise.all(this.sentinels.map((sentinel) => sentinel.stop()));
    await Promise.all(this.nodes.map((node) => node.stop()));
  }

  /** The data node the Sentinels name master now (the newest configuration among those that answer). */
  async master(): Promise<RedisNode> {
    const view = await this.sentinelView();
    if (!view) throw new Error('no Sentinel answers: the master is unknown');
    return this.nodeAt(view.master);
  }

  /** SIGKILLs the master, as a crash would (a supervisor restarts it); resolves with it once it is gone. */
  async killMaster(): Promise<RedisNode> {
    const master = await this.master();
    await this.crash(master);
    return master;
  }

  /** SIGKILLs a running replica, as a crash would. */
  async killReplica(): Promise<RedisNode> {
    const master = await this.master();
    const replica = this.nodes.find((node) => node !== master && node.running);
    if (!replica) throw new Error('no replica is running');
    await this.crash(replica);
    return replica;
  }

  /** SIGKILLs a running Sentinel, as a crash would. */
  async killSentinel(): Promise<RedisSentinel> {
    const sentinel = this.sentinels.find((member) => member.running);
    if (!sentinel) throw new Error('no Sentinel is running');
    await this.crash(sentinel);
    return sentinel;
  }

  /**
   * SIGKILL to one member, as a crash: it is not marked stopped, so a supervisor restarts it.
   * Resolves once it is gone, and what it forked (a replication child) with it.
   */
  async crash(member: RedisNode | RedisSentinel): Promise<Exit | undefined> {
    member.signal('SIGKILL');
    const exit = await member.exited;
    member.killLeftovers();
    return exit;
  }

  /**
   * Resolves with the master once the Sentinels agree on one other than `formerly` (a failover
   * done) that has the replicas it needs to take writes; fails after budgets.failoverWithinMs.
   */
  async waitForFailover(formerly: RedisNode): Promise<RedisNode> {
    return waitFor(
      async () => {
        const view = await this.sentinelView();
        if (!view || view.failingOver || view.agreeing < view.answered || view.master.port === formerly.port) return undefined;
        const master = this.nodeAt(view.master);
        return (await this.replicasInSync(master)) >= redisReplication.minReplicasToWrite ? master : undefined;
      },
      { what: `a master other than ${formerly.name}`, timeoutMs: budgets.failoverWithinMs, intervalMs: 50 },
    );
  }

  /**
   * Resolves once the set is whole for what runs of it: every running Sentinel names the same
   * master, which runs, has every running replica online and in sync, and every running Sentinel
   * sees those replicas as healthy (so that it could promote one).
   */
  async waitHealthy(timeoutMs = 30_000): Promise<RedisNode> {
    return waitFor(() => this.healthyMaster(), { what: 'the replicated Redis to be whole', timeoutMs, intervalMs: 100 });
  }

  private async healthyMaster(): Promise<RedisNode | undefined> {
    const view = await this.sentinelView();
    const running = this.sentinels.filter((sentinel) => sentinel.running);
    if (!view || view.failingOver || view.answered < running.length || view.agreeing < view.answered) return undefined;
    // Each Sentinel must know the others that run: a failover needs a majority of them.
    if (view.details.some((fields) => Number(fields.get('num-other-sentinels')) < running.length - 1)) return undefined;
    const master = this.nodeAt(view.master);
    const replicas = this.nodes.filter((node) => node !== master && node.running);
    if (!master.running || (await this.replicasInSync(master)) < replicas.length) return undefined;
    const { password } = this.options;
    for (const sentinel of running) {
      const seen = await respRequest(sentinel.port, ['SENTINEL', 'REPLICAS', redisReplication.masterName], { password });
      const entries: readonly RespValue[] = Array.isArray(seen) ? (seen as readonly RespValue[]) : [];
      const healthy = new Set(
        entries
          .map((entry) => respFields(entry))
          .filter((fields) => fields.get('flags') === 'slave' && fields.get('master-link-status') === 'ok')
          .map((fields) => Number(fields.get('port'))),
      );
      if (!replicas.every((replica) => healthy.has(replica.port))) return undefined;
    }
    return master;
  }

  /** Replicas the node, as master, counts in sync (Redis's own count, the one min-replicas-to-write uses). */
  async replicasInSync(node: RedisNode): Promise<number> {
    const info = await redisInfo(node.port, 'replication', this.options.password).catch(() => undefined);
    if (info?.get('role') !== 'master') return 0;
    return Number(info.get('min_slaves_good_slaves') ?? 0);
  }

  private nodeAt(address: HostPort): RedisNode {
    const node = this.nodes.find((candidate) => candidate.port === address.port);
    if (!node) throw new Error(`the Sentinels name ${address.host}:${String(address.port)}, which is not a node of this set`);
    return node;
  }

  /** Asks every running Sentinel about the master; the newest configuration (epoch) wins, as among Sentinels. */
  private async sentinelView(): Promise<SentinelView | undefined> {
    const { password } = this.options;
    const answers = await Promise.all(
      this.sentinels
        .filter((sentinel) => sentinel.running)
        .map((sentinel) => respRequest(sentinel.port, ['SENTINEL', 'MASTER', redisReplication.masterName], { password }).then(respFields, () => undefined)),
    );
    const known = answers.filter((fields): fields is Map<string, string> => fields !== undefined && fields.has('port'));
    const newest = known.reduce<Map<string, string> | undefined>(
      (best, fields) => (best === undefined || Number(fields.get('config-epoch')) > Number(best.get('config-epoch')) ? fields : best),
      undefined,
    );
    if (!newest) return undefined;
    const master = { host: newest.get('ip') ?? loopback, port: Number(newest.get('port')) };
    const agreeing = known.filter((fields) => Number(fields.get('port')) === master.port);
    this.lastMaster = master;
    return {
      master,
      failingOver: agreeing.some((fields) => troubleFlags.test(fields.get('flags') ?? '')),
      answered: known.length,
      agreeing: agreeing.length,
      details: agreeing,
    };
  }

  /**
   * The master a data node must follow as it starts, undefined to start as master. A node never
   * starts as master while the Sentinels are replacing it (there would be two). A master restarted
   * after a crash (`restarting`) waits for the Sentinels to replace it even before they deem it
   * down: back as master within their down-after time, it would hide the crash, and a failover
   * that starts while it loads would find two masters. A replica starts only once its master
   * answers and every Sentinel has heard from that master since then, with no failover under way:
   * a replica back from a crash holds only what its own file kept, and a Sentinel that deems the
   * master down promotes any replica it can reach (judged by the offset it reported before the
   * crash), even if the master returns meanwhile. The master, which has every acknowledged write,
   * would then be resynchronised from that replica, and lose what it missed. So after a crash of
   * the whole set the master comes back first, is seen up, and the replicas copy it. Either wait
   * ends after budgets.failoverWithinMs, for availability (a master that never returns).
   */
  private async roleFor(node: RedisNode, restarting: boolean): Promise<HostPort | undefined> {
    const deadline = Date.now() + budgets.failoverWithinMs;
    let answering: { readonly port: number; readonly since: number } | undefined;
    for (;;) {
      const view = await this.sentinelView();
      const master = view?.master ?? this.lastMaster ?? this.nodes[0]?.address;
      if (!master) throw new Error('the replicated Redis has no data node');
      const late = Date.now() >= deadline;
      if (master.port === node.port) {
        const successor = this.nodes.some((other) => other !== node && other.running);
        if (!(restarting || view?.failingOver) || !successor || late) return undefined;
      } else if (late) {
        return master;
      } else if (await answersPing(master.port, this.options.password)) {
        if (answering?.port !== master.port) answering = { port: master.port, since: Date.now() };
        if (view && !view.failingOver && heardSince(view, Date.now() - answering.since)) return master;
      } else {
        answering = undefined;
      }
      await sleep(100);
    }
  }
}

/** Every Sentinel naming the master had a good reply to its PING within the last `ms`. */
function heardSince(view: SentinelView, ms: number): boolean {
  return view.agreeing === view.answered && view.details.every((fields) => Number(fields.get('last-ok-ping-reply') ?? Infinity) < ms);
}

async function answersPing(port: number, password: string | undefined): Promise<boolean> {
  return (await respRequest(port, ['PING'], { password }).catch(() => undefined)) === 'PONG';
}
