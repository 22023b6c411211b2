/**
 * The settings of a replicated Redis's members, from the contract (redisReplication): the data
 * nodes' and the Sentinels'. Pure: the native set passes them as command-line options, compose and
 * Kubernetes write them into the members' configuration files.
 */
import type { HostPort } from './config.js';
import { redisReplication } from './topology.js';

/** One configuration directive: its name and its arguments, e.g. ['min-replicas-to-write', '1']. */
export type Directive = readonly [name: string, ...values: string[]];

export interface DataNodeOptions {
  /** The master to follow; none: this node starts as the master. */
  readonly replicaOf?: HostPort | undefined;
  /** requirepass, and masterauth to follow a master that requires it (every member shares it). */
  readonly password?: string | undefined;
}

/**
 * What a data node adds to a single Redis's settings (AOF, `appendfsync always`): the same on
 * every node, since any of them may become master.
 */
export function dataNodeDirectives(options: DataNodeOptions = {}): Directive[] {
  const { replicaOf, password } = options;
  return [
    ['min-replicas-to-write', String(redisReplication.minReplicasToWrite)],
    ['min-replicas-max-lag', String(redisReplication.minReplicasMaxLagSeconds)],
    ['repl-diskless-sync-delay', String(redisReplication.replDisklessSyncDelaySeconds)],
    ...(password ? ([['masterauth', password]] as Directive[]) : []),
    ...(replicaOf ? ([['replicaof', replicaOf.host, String(replicaOf.port)]] as Directive[]) : []),
  ];
}

export interface SentinelOptions {
  /** The master the Sentinel starts out monitoring; it follows failovers from then on. */
  readonly master: HostPort;
  /** Required of clients and other Sentinels, and sent to the data nodes (auth-pass). */
  readonly password?: string | undefined;
  /**
   * Members known by name (compose, Kubernetes): Sentinel resolves the names and announces
   * them. Natively everything is an address on 127.0.0.1 and this stays off.
   */
  readonly hostnames?: boolean;
}

/** A Sentinel's directives for the set, `sentinel monitor` first (the others refer to it). */
export function sentinelDirectives(options: SentinelOptions): Directive[] {
  const { master, password, hostnames = false } = options;
  const name = redisReplication.masterName;
  const yesNo = hostnames ? 'yes' : 'no';
  return [
    ['sentinel', 'resolve-hostnames', yesNo],
    ['sentinel', 'announce-hostnames', yesNo],
    ['sentinel', 'monitor', name, master.host, String(master.port), String(redisReplication.quorum)],
    ['sentinel', 'down-after-milliseconds', name, String(redisReplication.downAfterMs)],
    ['sentinel', 'failover-timeout', name, String(redisReplication.failoverTimeoutMs)],
    ['sentinel', 'parallel-syncs', name, String(redisReplication.parallelSyncs)],
    ...(password ? ([['sentinel', 'auth-pass', name, password], ['requirepass', password]] as Directive[]) : []),
  ];
}

/** A value as Redis's configuration parser reads it: quoted when it holds spaces or quotes. */
function configValue(value: string): string {
  // The + sends an empty value to the quoted form too.
  if (/^[\x21-\x7e]+$/.test(value) && !/["'\\]/.test(value)) return value;
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}

/** Directives as the lines of a redis.conf or sentinel.conf. */
export function configText(directives: readonly Directive[]): string {
  return directives.map((directive) => `${directive.map(configValue).join(' ')}\n`).join('');
}

/** Directives as redis-server's command-line options (`--name value...`). */
export function commandLineOptions(directives: readonly Directive[]): string[] {
  return directives.flatMap(([name, ...values]) => [`--${name}`, ...values]);
}
