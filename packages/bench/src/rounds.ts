/**
 * Cases measured in interleaved rounds: every round runs every case once, starting one case later
 * than the round before, so a burst of noise on this shared machine lands on one run of several
 * cases rather than on every run of one. Each figure is the median of its runs.
 */
import { loadavg } from 'node:os';
import { roles, sampleRoles, type Role, type RoleProcesses, type RoleSeconds } from './cpu.js';
import { runWrk, type WrkResult } from './wrk.js';

export type Group = 'reference' | 'hop' | 'project' | 'feature';

export interface Case {
  readonly id: string;
  readonly label: string;
  readonly group: Group;
  readonly url: string;
  /** A wrk script, e.g. a unique Idempotency-Key per request. */
  readonly script?: string;
  /** The serving processes whose CPU time this case is charged. */
  readonly roles: RoleProcesses;
  /** The case this one is compared with: the api direct for an edge, "all on" for a feature. */
  readonly against?: string;
}

/** One run of one case. */
export interface Run extends WrkResult {
  /** CPU microseconds per request, by role. */
  readonly cpuUs: RoleSeconds;
  readonly cpuUsTotal: number;
  /** wrk's CPU time over the run's wall time, over the cores: its share of the machine. */
  readonly wrkShare: number;
  /** The machine's one-minute load average as the run ended: how shared the machine was. */
  readonly load: number;
}

/** The medians of a case's runs. */
export interface Result {
  readonly id: string;
  readonly label: string;
  readonly group: Group;
  readonly rps: number;
  readonly cpuUsTotal: number;
  readonly cpuUs: RoleSeconds;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Summed over every run. */
  readonly errors: number;
  /** Every request sent, the warm-up's included. */
  readonly requests: number;
  readonly wrkShare: number;
  /** The median of the runs' load averages. */
  readonly load: number;
  readonly runs: readonly Run[];
  readonly against?: string;
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1 ? (sorted[middle] ?? NaN) : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
};

/** One wrk run of a case, with the CPU time each serving role spent on it. */
export async function measure(item: Case, seconds: number, cores: number): Promise<Run> {
  const before = sampleRoles(item.roles);
  const result = await runWrk({ url: item.url, seconds, ...(item.script ? { script: item.script } : {}) });
  const after = sampleRoles(item.roles);
  const cpuUs: RoleSeconds = {};
  let cpuUsTotal = 0;
  for (const role of roles) {
    const start = before[role];
    const end = after[role];
    if (start === undefined || end === undefined) continue;
    const perRequest = ((end - start) / Math.max(result.requests, 1)) * 1e6;
    cpuUs[role] = perRequest;
    cpuUsTotal += perRequest;
  }
  return { ...result, cpuUs, cpuUsTotal, wrkShare: result.cpuSeconds / result.seconds / cores, load: loadavg()[0] ?? NaN };
}

/**
 * The order of the cases in each round, by index: each round starts one case later than the round
 * before, so every case takes every place in turn and no case always runs first.
 */
export function roundOrder(cases: number, rounds: number): number[][] {
  return Array.from({ length: rounds }, (_, round) => Array.from({ length: cases }, (_, i) => (i + round) % cases));
}

/** A case's figures: the medians of its runs; errors summed; requests summed with the warm-up's. */
export function summarise(item: Case, runs: readonly Run[], warmUpRequests: number): Result {
  const cpuUs: RoleSeconds = {};
  for (const role of roles) {
    const values = runs.map((run) => run.cpuUs[role]).filter((value): value is number => value !== undefined);
    if (values.length > 0) cpuUs[role] = median(values);
  }
  return {
    id: item.id,
    label: item.label,
    group: item.group,
    rps: median(runs.map((run) => run.rps)),
    cpuUsTotal: median(runs.map((run) => run.cpuUsTotal)),
    cpuUs,
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    requests: runs.reduce((sum, run) => sum + run.requests, warmUpRequests),
    wrkShare: median(runs.map((run) => run.wrkShare)),
    load: median(runs.map((run) => run.load)),
    runs,
    ...(item.against ? { against: item.against } : {}),
  };
}

export interface RoundOptions {
  readonly seconds: number;
  readonly rounds: number;
  readonly cores: number;
  readonly warmUpSeconds: number;
  readonly progress: (message: string) => void;
}

/** Warms every case up once, then runs the rounds; results in the order of `cases`. */
export async function runRounds(cases: readonly Case[], options: RoundOptions): Promise<Result[]> {
  const { seconds, rounds, cores, warmUpSeconds, progress } = options;
  const warmUps = new Map<string, number>();
  for (const [i, item] of cases.entries()) {
    progress(`warm-up ${i + 1}/${cases.length}: ${item.label}`);
    const warmUp = await runWrk({ url: item.url, seconds: warmUpSeconds, ...(item.script ? { script: item.script } : {}) });
    warmUps.set(item.id, warmUp.requests);
  }
  const runs = new Map<string, Run[]>(cases.map((item) => [item.id, []]));
  for (const [round, order] of roundOrder(cases.length, rounds).entries()) {
    for (const [i, index] of order.entries()) {
      const item = cases[index];
      if (!item) continue;
      const run = await measure(item, seconds, cores);
      runs.get(item.id)?.push(run);
      progress(
        `round ${round + 1}/${rounds}, ${i + 1}/${cases.length}: ${item.label}: ${Math.round(run.rps)} req/s, ` +
          `${Math.round(run.cpuUsTotal)} µs CPU/req${run.errors > 0 ? `, ${run.errors} errors` : ''}`,
      );
    }
  }
  return cases.map((item) => summarise(item, runs.get(item.id) ?? [], warmUps.get(item.id) ?? 0));
}

export type { Role };
