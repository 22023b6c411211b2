/**
 * Test helpers for docker-compose.replicated-redis.yml: ask the members (with redis-cli, in their
 * own containers, as an operator would), kill one member's process with SIGKILL, wait for the set
 * to be whole, and a load of visits through nginx that retries each visit with its own
 * Idempotency-Key until it is acknowledged, every try timed.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { docker } from '@three-tier/release';
import { waitFor } from '@three-tier/processes';
import { budgets, ports, redisReplication, redisReplicationNames } from '@three-tier/shared';
import type { ComposeStack } from '../src/index.js';

const { dataNodes, sentinels } = redisReplicationNames;

/** redis-cli in a member's container, logged in with the password the set shares. */
export async function redisCli(stack: ComposeStack, service: string, args: string[]): Promise<string> {
  const [container] = (await stack.containers(service)).filter((candidate) => candidate.running);
  if (!container) return '';
  const { out } = await stack.execIn(container.id, ['sh', '-c', 'REDISCLI_AUTH=$(cat /run/redis-auth/password) exec redis-cli "$@"', 'redis-cli', ...args]);
  return out.replace(/\r/g, '');
}

export interface NodeRole {
  readonly role: string;
  readonly masterHost?: string;
  readonly linkUp: boolean;
  readonly replicasInSync: number;
}

/** What a data node says of itself (INFO replication), or undefined when it does not answer. */
export async function nodeRole(stack: ComposeStack, node: string): Promise<NodeRole | undefined> {
  const fields = new Map(
    (await redisCli(stack, node, ['INFO', 'replication']))
      .split('\n')
      .map((line) => line.split(':'))
      .filter((parts): parts is [string, string] => parts.length === 2)
      .map(([key, value]) => [key, value.trim()]),
  );
  const role = fields.get('role');
  if (!role) return undefined;
  return {
    role,
    ...(fields.has('master_host') ? { masterHost: fields.get('master_host') } : {}),
    linkUp: fields.get('master_link_status') === 'up',
    replicasInSync: Number(fields.get('min_slaves_good_slaves') ?? 0),
  };
}

/** One field of a Sentinel's answer to SENTINEL MASTER (name and value on alternate lines). */
export function sentinelField(out: string, field: string): string | undefined {
  const lines = out.split('\n');
  const at = lines.indexOf(field);
  return at >= 0 ? lines[at + 1] : undefined;
}

/** The master each running Sentinel names (by Sentinel), undefined for one that does not answer. */
export async function sentinelMasters(stack: ComposeStack): Promise<Map<string, string | undefined>> {
  const answers = await Promise.all(
    sentinels.map(async (name) => {
      const out = await redisCli(stack, name, ['-p', String(ports.sentinel), 'SENTINEL', 'get-master-addr-by-name', redisReplication.masterName]);
      const [host] = out.split('\n');
      return [name, host && dataNodes.includes(host) ? host : undefined] as const;
    }),
  );
  return new Map(answers);
}

/** The replicas a Sentinel's raw SENTINEL REPLICAS answer lists as plainly `slave` (not down, not disconnected). */
export function healthyReplicas(out: string): number {
  const lines = out.split('\n');
  return lines.filter((line, at) => line === 'flags' && lines[at + 1] === 'slave').length;
}

/**
 * The set is whole: every Sentinel names the same master, which counts both replicas in sync, each
 * replica follows it with its link up, and every Sentinel knows the other two Sentinels and both
 * replicas. Resolves with the master.
 */
export async function waitWhole(stack: ComposeStack, what: string, timeoutMs = 60_000): Promise<string> {
  return waitFor(
    async () => {
      const named = new Set((await sentinelMasters(stack)).values());
      const [master] = [...named];
      if (named.size !== 1 || !master) return undefined;
      const roles = await Promise.all(dataNodes.map(async (node) => [node, await nodeRole(stack, node)] as const));
      for (const [node, role] of roles) {
        if (node === master ? role?.role !== 'master' || role.replicasInSync < redisReplication.replicas : role?.role !== 'slave' || role.masterHost !== master || !role.linkUp) return undefined;
      }
      for (const sentinel of sentinels) {
        const out = await redisCli(stack, sentinel, ['-p', String(ports.sentinel), 'SENTINEL', 'SENTINELS', redisReplication.masterName]);
        if ((out.match(/^name$/gm) ?? []).length !== sentinels.length - 1) return undefined;
        // A Sentinel learns the replicas from the master's INFO, every 10 s: one that has not yet
        // has no replica to promote, and aborts a failover (-failover-abort-no-good-slave).
        if (healthyReplicas(await redisCli(stack, sentinel, ['-p', String(ports.sentinel), 'SENTINEL', 'REPLICAS', redisReplication.masterName])) !== redisReplication.replicas) return undefined;
      }
      return master;
    },
    { what: `the replicated Redis whole (${what})`, timeoutMs, intervalMs: 250 },
  );
}

/** The Sentinels' last log lines (their events: +sdown, +odown, +switch-master, +tilt...), for a failure's message. */
export async function sentinelLogs(stack: ComposeStack, lines = 25): Promise<string> {
  const logs = await Promise.all(
    sentinels.map(async (name) => {
      const [container] = await stack.containers(name);
      if (!container) return `${name}: no container`;
      const out = await docker(['logs', '--tail', String(lines), container.id], stack.options.env).catch((error: unknown) => String(error));
      return `${name}:\n${out}`;
    }),
  );
  return logs.join('\n');
}

/** A master other than `formerly`, named by every Sentinel that answers; fails after failoverWithinMs. */
export async function waitNewMaster(stack: ComposeStack, formerly: string): Promise<string> {
  try {
    return await waitFor(
      async () => {
        const named = new Set([...(await sentinelMasters(stack)).values()].filter((host) => host !== undefined));
        const [master] = [...named];
        return named.size === 1 && master && master !== formerly ? master : undefined;
      },
      { what: `a master other than ${formerly}`, timeoutMs: budgets.failoverWithinMs + 5_000, intervalMs: 50 },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\nthe Sentinels said:\n${await sentinelLogs(stack)}`, { cause: error });
  }
}

/**
 * SIGKILLs the process `name` (redis-server, redis-sentinel) in each of `services`' containers,
 * from the host, all in the same instant (their pids are found first); resolves with that instant
 * (performance.now).
 */
export async function killProcesses(stack: ComposeStack, services: readonly string[], name: string): Promise<number> {
  const pids = await Promise.all(
    services.map(async (service) => {
      const [container] = (await stack.containers(service)).filter((candidate) => candidate.running);
      assert.ok(container, `${service} runs`);
      const lines = (await docker(['top', container.id, '-o', 'pid,args'], stack.options.env)).split('\n');
      const found = lines.filter((line) => line.includes(name)).map((line) => Number(line.trim().split(/\s+/)[0]));
      assert.equal(found.length, 1, `one ${name} in ${service}: ${lines.join(' | ')}`);
      return found[0] ?? 0;
    }),
  );
  const killedAt = performance.now();
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  return killedAt;
}

/** SIGKILLs the process `name` in one service's container; resolves with the instant of the kill. */
export async function killProcess(stack: ComposeStack, service: string, name: string): Promise<number> {
  return killProcesses(stack, [service], name);
}

/** One try of one visit, timed. */
export interface Attempt {
  readonly key: string;
  readonly startedAt: number;
  readonly ms: number;
  /** The HTTP status, 0 for a network error or a timeout. */
  readonly status: number;
  readonly detail: string;
  /** The request id a problem document named: the api logged why under it. */
  readonly requestId?: string;
}

/**
 * Visits /redis through nginx from `clients` clients at once, each visit with an Idempotency-Key of
 * its own, tried again with the same key on a 503 or a network error until it gets a 200 (a visit
 * without a 200 after `giveUpAfterMs` is given up, and the test fails). Every try is timed.
 */
export class VisitLoad {
  readonly attempts: Attempt[] = [];
  /** Acknowledged visits: key and the count its 200 showed. */
  readonly acknowledged: { key: string; hits: number }[] = [];
  readonly givenUp: string[] = [];
  private running = true;
  private readonly clients: Promise<void>[];

  constructor(
    private readonly url: string,
    private readonly run: string,
    private readonly options: { clients?: number; giveUpAfterMs?: number; requestTimeoutMs?: number } = {},
  ) {
    this.clients = Array.from({ length: options.clients ?? 6 }, (_, client) => this.client(client));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.clients);
  }

  /** Resolves once `count` more visits than now are acknowledged. */
  async flowing(count: number, what: string): Promise<void> {
    const target = this.acknowledged.length + count;
    await waitFor(() => (this.acknowledged.length >= target ? true : undefined), { what: `${count} visits acknowledged ${what}`, timeoutMs: 60_000, intervalMs: 20 });
  }

  /** The first 200 answered to a try started at or after `time` (performance.now). */
  firstAcknowledgedAfter(time: number): Attempt | undefined {
    return this.attempts
      .filter((attempt) => attempt.status === 200 && attempt.startedAt >= time)
      .sort((a, b) => a.startedAt + a.ms - (b.startedAt + b.ms))[0];
  }

  /** Tries that did not get a 200, as "status detail" lines. */
  failures(since = 0): string[] {
    return this.attempts.filter((attempt) => attempt.status !== 200 && attempt.startedAt >= since).map((attempt) => `${String(attempt.status)} ${attempt.detail}`);
  }

  private async client(client: number): Promise<void> {
    for (let visit = 0; this.running; visit += 1) await this.visit(`${this.run}-${String(client)}-${String(visit)}`);
  }

  private async visit(key: string): Promise<void> {
    const started = performance.now();
    for (;;) {
      const hits = await this.attempt(key);
      if (hits !== undefined) {
        this.acknowledged.push({ key, hits });
        return;
      }
      if (performance.now() - started > (this.options.giveUpAfterMs ?? 60_000)) {
        this.givenUp.push(key);
        return;
      }
      // The api's Retry-After is 1 s; a test client asks again sooner, to see the first 200.
      await sleep(25);
    }
  }

  private async attempt(key: string): Promise<number | undefined> {
    const startedAt = performance.now();
    const record = (status: number, detail: string, requestId?: string) =>
      this.attempts.push({ key, startedAt, ms: performance.now() - startedAt, status, detail, ...(requestId ? { requestId } : {}) });
    try {
      const response = await fetch(`${this.url}/redis`, {
        headers: { 'Idempotency-Key': key },
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 5_000),
      });
      const text = await response.text();
      if (response.status === 200) {
        const { hits } = JSON.parse(text) as { hits: number };
        record(200, '');
        return hits;
      }
      let problem: { detail?: string; requestId?: string } = {};
      try {
        problem = JSON.parse(text) as typeof problem;
      } catch {
        // not a problem document: keep the text
      }
      record(response.status, problem.detail ?? text, problem.requestId);
    } catch (error) {
      record(0, (error as Error).message);
    }
    return undefined;
  }
}

/** The counter as the master holds it. */
export async function masterCount(stack: ComposeStack, master: string): Promise<number> {
  return Number((await redisCli(stack, master, ['GET', 'hits'])).trim() || '0');
}

/**
 * Every acknowledged visit is counted exactly once: the 200s showed `before + 1` to `before + n`,
 * each once (a lost count is given again to a later visit, a double count leaves a gap), and the
 * master's counter stands at `before + n`.
 */
export async function assertCountedOnce(stack: ComposeStack, load: VisitLoad, before: number): Promise<void> {
  assert.deepEqual(load.givenUp, [], 'every visit got a 200 in the end');
  const shown = load.acknowledged.map((visit) => visit.hits).sort((a, b) => a - b);
  const times = new Map<number, number>();
  for (const hits of shown) times.set(hits, (times.get(hits) ?? 0) + 1);
  // A count shown twice was lost and given again; one never shown went to a visit counted twice.
  const twice = [...times].filter(([, count]) => count > 1).map(([hits]) => hits);
  const never = Array.from({ length: shown.length }, (_, index) => before + index + 1).filter((hits) => !times.has(hits));
  const about = (hits: number) => {
    const visit = load.acknowledged.find((candidate) => candidate.hits === hits);
    const tries = visit ? load.attempts.filter((attempt) => attempt.key === visit.key).map((attempt) => `${String(attempt.status)}@${attempt.startedAt.toFixed(0)}`) : [];
    return `${String(hits)} (${visit?.key ?? 'no visit'}: ${tries.join(' ')})`;
  };
  assert.deepEqual(
    { twice: twice.slice(0, 5).map(about), never: never.slice(0, 5) },
    { twice: [], never: [] },
    `the 200s show ${String(before + 1)}..${String(before + shown.length)} once each (${String(twice.length)} shown twice, ${String(never.length)} never)`,
  );
  const master = await waitWhole(stack, 'after the load');
  assert.equal(await masterCount(stack, master), before + shown.length, `the master counts ${String(before)} + ${String(shown.length)} acknowledged visits`);
}

/** Median and worst of durations, rounded to ms, for the report. */
export function medianAndWorst(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return `median ${median.toFixed(0)} ms, worst ${(sorted.at(-1) ?? 0).toFixed(0)} ms`;
}

/** Why the api failed a request, from its own log: the error it logged under the request's id. */
export interface ApiFailure {
  readonly at: number;
  readonly instance: string;
  readonly reason: string;
}

/** The api replicas' logged failures (warnings and errors with an `err`), by request id. */
export async function apiFailures(stack: ComposeStack): Promise<Map<string, ApiFailure>> {
  const found = new Map<string, ApiFailure>();
  for (const container of await stack.containers('api')) {
    const out = await docker(['logs', container.id], stack.options.env).catch(() => '');
    for (const line of out.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line) as { time?: string; hostname?: string; reqId?: string; err?: { type?: string; message?: string } };
        if (!entry.err) continue;
        const failure = { at: Date.parse(entry.time ?? ''), instance: entry.hostname ?? container.id, reason: `${entry.err.type ?? 'Error'}: ${entry.err.message ?? ''}` };
        found.set(entry.reqId ?? String(found.size), failure);
      } catch {
        // not a log entry of the api
      }
    }
  }
  return found;
}
