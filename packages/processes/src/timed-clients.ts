/**
 * Clients under load that time every request: the tests of a stack that changes under them (a
 * replica stopped, scaled, replaced, an edge reloaded) fail on a stall, not only on an error. Each
 * client keeps one connection alive, as a browser does, and never resends unless asked to.
 */
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from './wait.js';

/** One request: when it left (ms since the clients started), how long until its answer ended, what came back. */
export interface TimedRequest {
  readonly client: number;
  readonly atMs: number;
  readonly ms: number;
  /** The status, or undefined when there was no answer (then `error` says why). */
  readonly status: number | undefined;
  /** Why it failed: the error's code, or the status and the start of a wrong answer's body. */
  readonly error?: string;
  /** It went out on a connection an earlier request had used. */
  readonly reused: boolean;
}

/** Something that happened to the stack while the clients ran, to read the slow requests against. */
export interface TimedMark {
  readonly atMs: number;
  readonly what: string;
}

export interface LatencySummary {
  readonly requests: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** The longest any request may take, and the 99th percentile. */
export interface LatencyBudget {
  readonly maxMs: number;
  readonly p99Ms: number;
}

export interface TimedClientsOptions {
  /** Where every request goes, e.g. http://127.0.0.1:8080/redis. */
  readonly url: string;
  readonly clients: number;
  /** One connection kept per client (the default), or a new one per request. */
  readonly keepAlive?: boolean;
  /** A request with no answer by then is aborted and failed; far above any budget, so a stall shows its length. */
  readonly timeoutMs?: number;
  /** Headers of one visit, asked once per visit: a resend (`resendAfterMs`) carries the same. */
  readonly headers?: () => Record<string, string>;
  /** The answers that count as success; by default 200 only. */
  readonly ok?: (status: number) => boolean;
  /** Each successful answer's body, e.g. to tally who served it. */
  readonly onOk?: (body: string) => void;
  /**
   * A failed visit is sent again, same headers, `resendAfterMs` later, until it succeeds: for faults
   * that must show failures (Redis down) and still count every visit. Without it a failure is final.
   */
  readonly resendAfterMs?: number;
}

/** The quiet window, summed up, and the worst p99 of its parts as long as the change window. */
export interface QuietReference extends LatencySummary {
  readonly worstP99Ms: number;
}

/**
 * The worst p99 among the consecutive parts, `lengthMs` long, of the requests that left from
 * `fromMs` on (the last part, if shorter than half of `lengthMs`, joins the one before): what
 * the machine did at its worst over windows as long as the change's.
 */
export function worstWindowP99(requests: readonly TimedRequest[], lengthMs: number, fromMs: number): number {
  if (requests.length === 0) return 0;
  const lastAt = Math.max(...requests.map((sample) => sample.atMs));
  const parts = Math.max(1, Math.round((lastAt - fromMs) / Math.max(1, lengthMs)));
  const groups: TimedRequest[][] = Array.from({ length: parts }, () => []);
  for (const sample of requests) groups[Math.min(parts - 1, Math.max(0, Math.floor((sample.atMs - fromMs) / Math.max(1, lengthMs))))]?.push(sample);
  return Math.max(...groups.filter((group) => group.length > 0).map((group) => summarize(group).p99Ms));
}

/** A change held against a window with no change, from the same clients. */
export interface StackChangeVerdict {
  /** The requests that left from the change's mark to the quiet window's. */
  readonly change: LatencySummary;
  /** The same clients, with nothing changing: what the machine does by itself. */
  readonly quiet: QuietReference;
  readonly budget: LatencyBudget;
  /** The change window's failures of a kind the quiet window never showed: the change's doing. */
  readonly unexplained: readonly TimedRequest[];
  /** The change window's failures of a kind the quiet window showed too, "kind: change n, quiet m". */
  readonly machine: readonly string[];
  /** Where the change window went past the budget; none when within. */
  readonly breaches: readonly string[];
}

/** Failures the machine makes by chance: up to `count` of a kind matching `kind` need no match in the quiet window. */
export interface ChanceFailures {
  readonly kind: RegExp;
  readonly count: number;
}

/**
 * What kind of failure a request had: the network error's code, or the status and the first
 * sentence of a problem's detail ("503 The visit counter is unavailable: Redis is not answering").
 */
export function failureKind(sample: TimedRequest): string {
  const error = sample.error ?? '';
  if (sample.status === undefined) return error;
  const detail = /"detail":"([^".]*)/.exec(error)?.[1];
  return detail === undefined ? String(sample.status) : `${sample.status} ${detail}`;
}

/** The value at quantile `q` (0..1) of `values`, nearest rank; 0 for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

/** Count, failures, p50, p99 and the slowest request of a run. */
export function summarize(requests: readonly TimedRequest[]): LatencySummary {
  const times = requests.map((sample) => sample.ms);
  return {
    requests: requests.length,
    failures: requests.filter((sample) => sample.error !== undefined).length,
    p50Ms: quantile(times, 0.5),
    p99Ms: quantile(times, 0.99),
    maxMs: Math.max(0, ...times),
  };
}

/** "2707 requests, 0 failed, p50 3 ms, p99 41 ms, max 180 ms" */
export function describeLatency(summary: LatencySummary): string {
  const ms = (value: number): string => `${Math.round(value)} ms`;
  return `${summary.requests} requests, ${summary.failures} failed, p50 ${ms(summary.p50Ms)}, p99 ${ms(summary.p99Ms)}, max ${ms(summary.maxMs)}`;
}

/**
 * What went wrong in a change, figures first, so that a report cut to its first line still says
 * how far past the budget it went and against what: the breaches, then the failures the change
 * made (`failed`, described). Empty when the change held.
 */
export function changeProblems(verdict: StackChangeVerdict, failed: readonly string[]): string[] {
  const problems = [...verdict.breaches, ...failed.map((line) => `failed: ${line}`)];
  if (problems.length === 0) return [];
  const { budget, quiet } = verdict;
  const ms = (value: number): string => `${Math.round(value)} ms`;
  return [
    `budget max ${ms(budget.maxMs)}, p99 ${ms(budget.p99Ms)} (the change: p99 ${ms(verdict.change.p99Ms)}, max ${ms(verdict.change.maxMs)}; ` +
      `with no change: worst p99 ${ms(quiet.worstP99Ms)}, max ${ms(quiet.maxMs)})`,
    ...problems,
  ];
}

interface Answer {
  readonly ms: number;
  readonly reused: boolean;
  readonly status?: number;
  readonly body?: string;
  readonly error?: string;
}

/** One GET on `agent`, timed from the call to the last byte of the answer (or the error). */
function timedGet(url: string, agent: Agent | false, headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (result: Omit<Answer, 'ms' | 'reused'>): void => resolve({ ms: performance.now() - started, reused: req.reusedSocket, ...result });
    const req = request(url, { agent, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', (error: NodeJS.ErrnoException) => done({ error: `${error.code ?? error.message} mid-answer` }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: 'TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => done({ error: error.code ?? error.message }));
    req.end();
  });
}

/**
 * `clients` loops of GET `url` until `stop()`, each request timed. Marks put the stack's changes on
 * the same clock, so a slow request can be read against what happened just before it.
 */
export class TimedClients {
  readonly requests: TimedRequest[] = [];
  readonly marks: TimedMark[] = [];
  private stopping = false;
  private okCount = 0;
  private readonly started = performance.now();
  private readonly agents: Agent[] = [];
  private readonly loops: Promise<void>;

  constructor(readonly options: TimedClientsOptions) {
    this.loops = Promise.all(Array.from({ length: options.clients }, (_, client) => this.loop(client))).then(() => undefined);
  }

  /** False once `stop()` was called: each loop ends after its request in flight. */
  private going(): boolean {
    return !this.stopping;
  }

  private async loop(client: number): Promise<void> {
    const { url, keepAlive = true, timeoutMs = 20_000, headers, ok = (status: number) => status === 200, onOk, resendAfterMs } = this.options;
    // An agent of its own with one socket: the client's connection lives as long as the server keeps it.
    const agent = keepAlive ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
    if (agent) this.agents.push(agent);
    while (this.going()) {
      const visitHeaders = headers?.() ?? {};
      for (;;) {
        const atMs = performance.now() - this.started;
        const { ms, reused, status, body = '', error } = await timedGet(url, agent, visitHeaders, timeoutMs);
        const succeeded = status !== undefined && ok(status);
        const why = error ?? (succeeded ? undefined : `${status} ${body.slice(0, 1_000)}`);
        this.requests.push({ client, atMs, ms, status, reused, ...(why === undefined ? {} : { error: why }) });
        if (succeeded) {
          this.okCount += 1;
          onOk?.(body);
          break;
        }
        if (resendAfterMs === undefined || !this.going()) break;
        await sleep(resendAfterMs);
      }
    }
  }

  /** Successful answers so far. */
  get acknowledged(): number {
    return this.okCount;
  }

  /** The requests that got no answer or a wrong one. */
  get failed(): TimedRequest[] {
    return this.requests.filter((sample) => sample.error !== undefined);
  }

  /** Why each failed request failed: "502 {...}", "ECONNRESET". */
  get failures(): string[] {
    return this.failed.map((sample) => sample.error ?? '');
  }

  /** Puts `what` on the clients' clock. */
  mark(what: string): void {
    this.marks.push({ atMs: performance.now() - this.started, what });
  }

  /**
   * Resolves once every client has finished a request that left after mark `what`: each client
   * sends one request at a time, so none that left before the mark is still on its way.
   */
  async passed(what: string, timeoutMs = 60_000): Promise<void> {
    const mark = this.marks.find((candidate) => candidate.what === what);
    if (!mark) throw new Error(`no mark "${what}"`);
    const past = (client: number): boolean => this.requests.some((sample) => sample.client === client && sample.atMs >= mark.atMs);
    await waitFor(() => (Array.from({ length: this.options.clients }, (_, client) => client).every(past) ? true : undefined), {
      what: `every client past ${what}`,
      timeoutMs,
      intervalMs: 20,
    });
  }

  /** Resolves once `count` more requests than now have succeeded. */
  async acknowledge(count: number, what: string, timeoutMs = 60_000): Promise<void> {
    const target = this.okCount + count;
    await waitFor(() => (this.okCount >= target ? true : undefined), { what: `${count} answers ${what}`, timeoutMs, intervalMs: 20 });
  }

  summary(): LatencySummary {
    return summarize(this.requests);
  }

  /** The requests that left before the first mark: the load as it was before anything changed. */
  steady(): LatencySummary {
    const [first] = this.marks;
    return summarize(first ? this.requests.filter((sample) => sample.atMs < first.atMs) : this.requests);
  }

  /** "1840 ms at 12.3 s (client 4, 200), 0.4 s after docker stop": a request and the last mark before it left. */
  describe(sample: TimedRequest): string {
    const before = this.marks.filter((mark) => mark.atMs <= sample.atMs).at(-1);
    const since = before ? `, ${((sample.atMs - before.atMs) / 1_000).toFixed(1)} s after ${before.what}` : '';
    const what = sample.error === undefined ? String(sample.status) : failureKind(sample);
    return `${Math.round(sample.ms)} ms at ${(sample.atMs / 1_000).toFixed(1)} s (client ${sample.client}, ${what})${since}`;
  }

  /** The `count` slowest requests (of `requests`, by default all), described. */
  slowest(count = 5, requests: readonly TimedRequest[] = this.requests): string[] {
    return [...requests]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, count)
      .map((sample) => this.describe(sample));
  }

  /** What went past `budget`, a line each, naming the slowest requests and what preceded them; none when within. */
  budgetBreaches(budget: LatencyBudget, requests: readonly TimedRequest[] = this.requests): string[] {
    const { p99Ms, maxMs } = summarize(requests);
    const breaches: string[] = [];
    if (maxMs > budget.maxMs) breaches.push(`a request took ${Math.round(maxMs)} ms, past ${budget.maxMs} ms; the slowest: ${this.slowest(5, requests).join('; ')}`);
    if (p99Ms > budget.p99Ms) breaches.push(`p99 ${Math.round(p99Ms)} ms, past ${budget.p99Ms} ms`);
    return breaches;
  }

  /** The requests that left from mark `from` until mark `to` (or until now). */
  between(from: string, to?: string): TimedRequest[] {
    const at = (what: string): number => {
      const mark = this.marks.find((candidate) => candidate.what === what);
      if (!mark) throw new Error(`no mark "${what}" among: ${this.marks.map((candidate) => candidate.what).join(', ')}`);
      return mark.atMs;
    };
    const start = at(from);
    const end = to === undefined ? Number.POSITIVE_INFINITY : at(to);
    return this.requests.filter((sample) => sample.atMs >= start && sample.atMs < end);
  }

  /**
   * Marks `quiet` and keeps the clients going, with nothing changing, for `length(ms)` given how
   * long the window from mark `since` took (by default as long again): the reference the change is
   * held against (see judgeChange).
   */
  async quietWindow(since: string, quiet: string, length: (changeMs: number) => number = (changeMs) => changeMs): Promise<void> {
    const start = this.marks.find((mark) => mark.what === since)?.atMs;
    if (start === undefined) throw new Error(`no mark "${since}"`);
    this.mark(quiet);
    const end = performance.now() + length(performance.now() - this.started - start);
    await waitFor(() => (performance.now() >= end ? true : undefined), { what: `a quiet window after the one since ${since}`, timeoutMs: end - performance.now() + 60_000, intervalMs: 50 });
    this.mark(`${quiet}: end`);
  }

  /**
   * Holds the change window (mark `change` to mark `quiet`) against the quiet window (from `quiet`
   * to its end): the budget comes from the quiet window, its p99 taken from the worst of its parts
   * as long as the change (a burst of the machine's counts as much there as in the change), and a
   * failure of a kind the quiet window shows too (a Redis stalled on its disk, say) is the
   * machine's, not the change's.
   */
  judgeChange(change: string, quiet: string, budgetFor: (quiet: QuietReference) => LatencyBudget, chance?: ChanceFailures): StackChangeVerdict {
    const changed = this.between(change, quiet);
    const ends = this.marks.some((mark) => mark.what === `${quiet}: end`);
    const calm = this.between(quiet, ends ? `${quiet}: end` : undefined);
    const quietSummary = summarize(calm);
    const reference: QuietReference = { ...quietSummary, worstP99Ms: worstWindowP99(calm, this.markAt(quiet) - this.markAt(change), this.markAt(quiet)) };
    const budget = budgetFor(reference);
    const quietKinds = new Map<string, number>();
    for (const sample of calm.filter((candidate) => candidate.error !== undefined)) quietKinds.set(failureKind(sample), (quietKinds.get(failureKind(sample)) ?? 0) + 1);
    const changeFailures = changed.filter((sample) => sample.error !== undefined);
    const changeKinds = new Map<string, number>();
    for (const sample of changeFailures) changeKinds.set(failureKind(sample), (changeKinds.get(failureKind(sample)) ?? 0) + 1);
    // A kind the quiet window shows is the machine's; one it does not, only up to the chance allowance.
    const machine = (kind: string): boolean =>
      quietKinds.has(kind) || (chance !== undefined && chance.kind.test(kind) && (changeKinds.get(kind) ?? 0) <= chance.count);
    return {
      change: summarize(changed),
      quiet: reference,
      budget,
      unexplained: changeFailures.filter((sample) => !machine(failureKind(sample))),
      machine: [...changeKinds].filter(([kind]) => machine(kind)).map(([kind, count]) => `${kind}: change ${count}, quiet ${quietKinds.get(kind) ?? 0}`),
      breaches: this.budgetBreaches(budget, changed),
    };
  }

  private markAt(what: string): number {
    const mark = this.marks.find((candidate) => candidate.what === what);
    if (!mark) throw new Error(`no mark "${what}" among: ${this.marks.map((candidate) => candidate.what).join(', ')}`);
    return mark.atMs;
  }

  /** Ends every loop after its request in flight, closes the connections, and summarizes. */
  async stop(): Promise<LatencySummary> {
    this.stopping = true;
    await this.loops;
    for (const agent of this.agents) agent.destroy();
    return this.summary();
  }
}
