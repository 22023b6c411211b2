import { setTimeout as sleep } from 'node:timers/promises';
import { redisInfo, respFields, respRequest, type RunRecord } from '@three-tier/processes';
import { budgets, ports, redisReplication, redisReplicationNames } from '@three-tier/shared';

/** The chaos actions on a replicated Redis: a SIGKILL of one member, as a crash would. */
export const redisKills = ['kill-master', 'kill-replica', 'kill-sentinel'] as const;
export type RedisKill = (typeof redisKills)[number];

/** Raised when the stack runs a single Redis: there is no set to act on. */
export class SingleRedisError extends Error {}

/**
 * A replicated Redis as chaos reaches it: each member by its contract name (redis-0, sentinel-0...),
 * asked over RESP natively or through redis-cli in its container, and killed with SIGKILL.
 */
export interface RedisSetAccess {
  /** SENTINEL MASTER's fields, as `sentinel` says; undefined when it does not answer. */
  sentinelMaster(sentinel: string): Promise<Map<string, string> | undefined>;
  /** INFO replication's fields of a data node; undefined when it does not answer. */
  replication(node: string): Promise<Map<string, string> | undefined>;
  /** The data node a Sentinel's address (ip or host name, and port) names. */
  nodeAt(host: string, port: number): string;
  /** SIGKILLs the member's process, as a crash; says what was done. */
  kill(member: string): Promise<string>;
}

/** Where the set stands, in one look. */
interface SetLook {
  /** The master the newest configuration among the answering Sentinels names. */
  readonly master: string | undefined;
  readonly sentinelsAnswering: number;
  readonly sentinelsAgreeing: number;
  /** A Sentinel deems the master down or is failing it over. */
  readonly troubled: boolean;
  /** The data nodes that answer, with their role ('master', or 'replica of redis-1'). */
  readonly roles: ReadonlyMap<string, string>;
  /** Replicas the master counts in sync (min_slaves_good_slaves). */
  readonly inSync: number;
}

const troubleFlags = /s_down|o_down|failover_in_progress/;

async function look(access: RedisSetAccess): Promise<SetLook> {
  const answers = (await Promise.all(redisReplicationNames.sentinels.map((name) => access.sentinelMaster(name)))).filter(
    (fields): fields is Map<string, string> => fields?.has('port') ?? false,
  );
  const newest = answers.reduce<Map<string, string> | undefined>(
    (best, fields) => (best === undefined || Number(fields.get('config-epoch')) > Number(best.get('config-epoch')) ? fields : best),
    undefined,
  );
  const master = newest && access.nodeAt(newest.get('ip') ?? '', Number(newest.get('port')));
  const agreeing = answers.filter((fields) => access.nodeAt(fields.get('ip') ?? '', Number(fields.get('port'))) === master);
  const roles = new Map<string, string>();
  let inSync = 0;
  for (const node of redisReplicationNames.dataNodes) {
    const info = await access.replication(node);
    const role = info?.get('role');
    if (!info || !role) continue;
    if (role === 'master') {
      roles.set(node, 'master');
      if (node === master) inSync = Number(info.get('min_slaves_good_slaves') ?? 0);
    } else {
      const following = access.nodeAt(info.get('master_host') ?? '', Number(info.get('master_port')));
      roles.set(node, `replica of ${following}${info.get('master_link_status') === 'up' ? '' : ' (link down)'}`);
    }
  }
  return {
    master,
    sentinelsAnswering: answers.length,
    sentinelsAgreeing: agreeing.length,
    troubled: agreeing.some((fields) => troubleFlags.test(fields.get('flags') ?? '')),
    roles,
    inSync,
  };
}

/** Every member answers, the Sentinels agree and are calm, and the master has every replica in sync. */
function whole(set: SetLook): boolean {
  return (
    set.master !== undefined &&
    !set.troubled &&
    set.sentinelsAgreeing === redisReplication.sentinels &&
    set.roles.get(set.master) === 'master' &&
    set.inSync === redisReplication.replicas &&
    [...set.roles.values()].filter((role) => role === `replica of ${set.master ?? ''}`).length === redisReplication.replicas
  );
}

const describeSet = (set: SetLook): string =>
  `master ${set.master ?? 'unknown'} with ${set.inSync} of ${redisReplication.replicas} replicas in sync, ` +
  `${set.sentinelsAgreeing} of ${redisReplication.sentinels} Sentinels agreeing`;

/** The member a kill is for: the master, a replica, or a Sentinel, the latter two at random. */
function victimOf(action: RedisKill, set: SetLook): string {
  const pick = (names: readonly string[]): string => names[Math.floor(Math.random() * names.length)] ?? '';
  if (!set.master) throw new Error('no Sentinel names a master: the set is not running');
  if (action === 'kill-master') return set.master;
  if (action === 'kill-sentinel') return pick(redisReplicationNames.sentinels);
  const replicas = [...set.roles.entries()].filter(([, role]) => role.startsWith('replica')).map(([name]) => name);
  if (replicas.length === 0) throw new Error(`no replica answers (${describeSet(set)})`);
  return pick(replicas);
}

export interface SetKill {
  /** What was killed, said at once. */
  readonly said: string;
  /** Follows the set until it is whole again (or the wait ends), saying each change; resolves with the exit code. */
  readonly follow: (print: (line: string) => void, since: number, signal?: AbortSignal) => Promise<number>;
}

/**
 * Kills one member as `action` says, then follows the set: which node the Sentinels name master
 * and after how long, when the killed member answers again and in which role, and when the set is
 * whole again. Gives up after twice the failover budget (a failover abandoned once, then retried).
 */
export async function killInSet(access: RedisSetAccess, action: RedisKill): Promise<SetKill> {
  const before = await look(access);
  const victim = victimOf(action, before);
  const said = `redis: ${describeSet(before)}; ${await access.kill(victim)}`;
  const killedAt = Date.now();
  const follow = async (print: (line: string) => void, since: number, signal?: AbortSignal): Promise<number> => {
    const at = (time: number): string => `+${((time - since) / 1_000).toFixed(1)} s`.padEnd(8);
    const say = (line: string): void => print(`${at(Date.now())} redis: ${line}`);
    const after = (time: number): string => `${((time - killedAt) / 1_000).toFixed(1)} s after the kill`;
    let master = before.master;
    let victimRole: string | undefined = 'killed';
    const isSentinel = redisReplicationNames.sentinels.includes(victim);
    const deadline = killedAt + 2 * budgets.failoverWithinMs;
    while (Date.now() < deadline && !signal?.aborted) {
      const now = await look(access);
      const time = Date.now();
      if (now.master !== undefined && now.master !== master && !now.troubled) {
        say(`the Sentinels named ${now.master} master (was ${master ?? 'unknown'}), ${after(time)}`);
        master = now.master;
      }
      const role = isSentinel ? ((await access.sentinelMaster(victim)) ? 'back' : undefined) : now.roles.get(victim);
      if (role !== victimRole) {
        say(role === undefined ? `${victim} is down` : `${victim} answers again${role === 'back' ? '' : `, as ${role}`}, ${after(time)}`);
        victimRole = role;
      }
      if (time - killedAt > 500 && victimRole !== undefined && victimRole !== 'killed' && whole(now)) {
        say(`the set is whole again, ${after(time)}: ${describeSet(now)}`);
        return 0;
      }
      await sleep(100);
    }
    say(`not whole ${after(Date.now())}: ${describeSet(await look(access))}`);
    return 1;
  };
  return { said, follow };
}

function signalPid(pid: number, name: string): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    throw new Error(`cannot SIGKILL ${name} (pid ${pid}): ${(error as Error).message}`, { cause: error });
  }
}

/** The set of `npm start` with REDIS_REPLICAS, from its run folder's record: each member's port and pid. */
export function nativeRedisSet(record: RunRecord, password: string | undefined): RedisSetAccess {
  const member = (name: string): { pid: number; port: number } => {
    const found = record.services[name];
    if (!found?.port) throw new Error(`the run folder records no ${name}`);
    return { pid: found.pid, port: found.port };
  };
  if (!record.services[redisReplicationNames.dataNodes[0] ?? '']) {
    throw new SingleRedisError('npm start runs a single Redis: start it with REDIS_REPLICAS=2 for a master, replicas and Sentinels to kill');
  }
  const byPort = new Map(redisReplicationNames.dataNodes.map((name) => [member(name).port, name]));
  return {
    async sentinelMaster(name) {
      const reply = await respRequest(member(name).port, ['SENTINEL', 'MASTER', redisReplication.masterName], { password }).catch(() => undefined);
      return reply === undefined ? undefined : respFields(reply);
    },
    replication: (name) => redisInfo(member(name).port, 'replication', password).catch(() => undefined),
    nodeAt: (host, port) => byPort.get(port) ?? `${host}:${port}`,
    kill(name) {
      // The pid as recorded when chaos started: the runner rewrites the record after each restart.
      const { pid } = member(name);
      signalPid(pid, name);
      return Promise.resolve(`sent SIGKILL to ${name} (pid ${pid}); the runner restarts it on its own`);
    },
  };
}

/** A container of the set: its id, and the addresses Sentinels may name it by. */
interface SetContainer {
  readonly id: string;
  readonly name: string;
  readonly addresses: readonly string[];
}

/** The docker CLI; `env` is added to its environment (a password `docker exec -e` passes on by name). */
type Docker = (args: readonly string[], env?: NodeJS.ProcessEnv) => Promise<string>;

/** redis-cli's raw output of SENTINEL MASTER: a name on one line, its value on the next. */
function pairs(text: string): Map<string, string> {
  const lines = text.split('\n').map((line) => line.trim());
  const fields = new Map<string, string>();
  for (let index = 0; index + 1 < lines.length; index += 2) fields.set(lines[index] ?? '', lines[index + 1] ?? '');
  return fields;
}

/** INFO's `name:value` lines. */
function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/**
 * The set of a compose project that runs the replicated Redis (a service per member, named as in
 * the contract), asked through redis-cli in each container, logged in with REDIS_PASSWORD or else
 * the password the set keeps in its shared file. A kill is a SIGKILL, from the host, to the member's
 * redis-server or redis-sentinel: a crash, which the start script around it answers by starting it
 * again in the same container (its name and address stay, which the Sentinels need). Killing the
 * script instead would restart the container, and `docker kill` would count as a stop asked for.
 */
export async function composeRedisSet(docker: Docker, project: string, password: string | undefined): Promise<RedisSetAccess> {
  const containers = new Map<string, SetContainer>();
  for (const name of [...redisReplicationNames.dataNodes, ...redisReplicationNames.sentinels]) {
    const filters = ['--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${name}`];
    const [id] = (await docker(['ps', '-q', ...filters])).split('\n').filter(Boolean);
    if (!id) continue;
    const format = '{{.Name}} {{.Config.Hostname}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}';
    const [container = '', ...addresses] = (await docker(['inspect', '--format', format, id])).trim().split(/\s+/);
    containers.set(name, { id, name: container.replace(/^\//, ''), addresses: [name, ...addresses] });
  }
  if (!containers.has(redisReplicationNames.dataNodes[0] ?? '')) {
    throw new SingleRedisError(`compose project ${project} runs no replicated Redis (no ${redisReplicationNames.dataNodes[0] ?? ''} service): kill-master, kill-replica and kill-sentinel need its replicated Redis file`);
  }
  const cli = async (name: string, port: number, args: readonly string[]): Promise<string | undefined> => {
    const container = containers.get(name);
    if (!container) return undefined;
    // By name from the docker CLI's environment: an argument would show in the host's process list.
    if (password) return docker(['exec', '-e', 'REDISCLI_AUTH', container.id, 'redis-cli', '-p', String(port), ...args], { REDISCLI_AUTH: password }).catch(() => undefined);
    // The password the set generated at its first start, in the volume every member mounts.
    const fromFile = ['sh', '-c', 'REDISCLI_AUTH=$(cat /run/redis-auth/password) exec redis-cli "$@"', 'redis-cli'];
    return docker(['exec', container.id, ...fromFile, '-p', String(port), ...args]).catch(() => undefined);
  };
  return {
    async sentinelMaster(name) {
      const text = await cli(name, ports.sentinel, ['SENTINEL', 'MASTER', redisReplication.masterName]);
      return text === undefined ? undefined : pairs(text);
    },
    async replication(name) {
      const text = await cli(name, ports.redis, ['INFO', 'replication']);
      return text?.includes('role:') ? infoFields(text) : undefined;
    },
    nodeAt: (host) => [...containers.entries()].find(([, container]) => container.addresses.includes(host))?.[0] ?? host,
    async kill(name) {
      const container = containers.get(name);
      if (!container) throw new Error(`no ${name} container is running`);
      const program = redisReplicationNames.sentinels.includes(name) ? 'redis-sentinel' : 'redis-server';
      const pid = Number(
        (await docker(['top', container.id, '-o', 'pid,args']))
          .split('\n')
          .find((line) => line.includes(program))
          ?.trim()
          .split(/\s+/)[0] ?? NaN,
      );
      if (!Number.isInteger(pid)) throw new Error(`no ${program} runs in ${container.name}`);
      signalPid(pid, name);
      return `sent SIGKILL to ${name}'s ${program} (host pid ${String(pid)}, in ${container.name}), as a crash would; its start script starts it again in the same container`;
    },
  };
}
