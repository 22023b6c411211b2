import type { CheckResult, Checks, InstanceBody, InstanceState } from '@three-tier/shared';
import type { FaultSwitch } from './faults/fault-switch.js';
import type { ReplicationState, VisitCounter } from './redis/counter.js';

/** Failures that mean Redis is there but silent (SIGSTOP, a hung host), not gone. */
const silent = /timed out|ETIMEDOUT/i;

/** Whether this instance should take work, and why: what /readyz answers and /instance shows. */
export interface Readiness {
  readonly ready: boolean;
  /** ready, draining (shutting down, finishing what it has) or unready (Redis or a fault says no). */
  readonly state: InstanceState;
  readonly checks: Checks;
  /** Redis as this instance sees it, in /instance's words. */
  readonly redis: InstanceBody['redis'];
  /** The count as it stands; null when Redis did not answer. */
  readonly hits: number | null;
}

interface RedisLook {
  readonly check: CheckResult;
  readonly view: InstanceBody['redis'];
  readonly hits: number | null;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** Sentinel mode: the master must have the replicas a visit waits for, or every visit fails. */
function replicationLook(latencyMs: number, hits: number, state: ReplicationState): RedisLook {
  const { master, replicasInSync, replicasRequired } = state;
  const about = { master, replicasInSync };
  const view = { state: 'up' as const, latencyMs, ...about };
  if (state.role !== 'master') {
    const detail = `${master} answers as ${state.role}, not master; the api asks the Sentinels again`;
    return { check: { status: 'fail', detail, ...about }, view: { ...view, detail }, hits };
  }
  if (replicasInSync < replicasRequired) {
    const detail = `master ${master} has ${String(replicasInSync)} of ${String(replicasRequired)} replicas in sync: visits are refused until one catches up`;
    return { check: { status: 'fail', detail, ...about }, view: { ...view, detail }, hits };
  }
  return { check: { status: 'pass', latencyMs, ...about }, view, hits };
}

/**
 * Redis in one round trip: TIME (the latency, and the clock offset it keeps), the count, and in
 * Sentinel mode the master's replicas, sent together (auto-pipelining writes them at once).
 */
async function lookAtRedis(counter: VisitCounter): Promise<RedisLook> {
  // Not connected: say so plainly rather than relay the client library's wording.
  if (counter.connection !== 'ready') {
    const detail = `not connected (${counter.connection})`;
    return { check: { status: 'fail', detail }, view: unreachable(counter.failure ?? detail), hits: null };
  }
  try {
    const [latencyMs, hits, replication] = await Promise.all([
      counter.ping(),
      counter.current(),
      counter.replicated ? counter.replication() : undefined,
    ]);
    if (replication) return replicationLook(round(latencyMs), hits, replication);
    return { check: { status: 'pass', latencyMs: round(latencyMs) }, view: { state: 'up', latencyMs: round(latencyMs) }, hits };
  } catch (error) {
    const message = (error as Error).message;
    return { check: { status: 'fail', detail: message }, view: unreachable(counter.failure ?? message), hits: null };
  }
}

function unreachable(failure: string): InstanceBody['redis'] {
  if (silent.test(failure)) return { state: 'frozen', detail: `Redis does not answer in time (${failure}); the api keeps trying.` };
  return { state: 'down', detail: `Redis is not reachable (${failure}); the api keeps trying.` };
}

/**
 * The one readiness computation, for /readyz and /instance alike: ready when Redis answers (in
 * Sentinel mode: a master with the replicas a visit needs), the instance is not draining, and no
 * one switched it to unready on demand.
 */
export async function readiness(counter: VisitCounter, isDraining: () => boolean, faults: FaultSwitch): Promise<Readiness> {
  const redis = await lookAtRedis(counter);
  const draining = isDraining();
  const checks: Checks = {
    redis: redis.check,
    shutdown: draining ? { status: 'fail', detail: 'draining: this instance is shutting down' } : { status: 'pass' },
    faults: faults.state.unready ? { status: 'fail', detail: 'switched to unready on demand (DELETE /faults/unready)' } : { status: 'pass' },
  };
  const ready = Object.values(checks).every((check) => check.status === 'pass');
  const state: InstanceState = draining ? 'draining' : ready ? 'ready' : 'unready';
  return { ready, state, checks, redis: redis.view, hits: redis.hits };
}
