import { setTimeout as sleep } from 'node:timers/promises';
import { instanceAlias, instanceName, Rotation, routes, type LoadBody } from '@three-tier/shared';

export interface LoadOptions {
  /** The stack's public entry: the Ingress, compose's nginx, or npm start's edge. */
  readonly url: string;
  /** CPU milliseconds each request asks for. */
  readonly ms: number;
  readonly concurrency: number;
  /** 0: until stopped. */
  readonly seconds: number;
  readonly signal?: AbortSignal;
}

export interface LoadReport {
  readonly completed: number;
  readonly cpuSeconds: number;
  /** 429: the edge's rate limit turned the request away. */
  readonly rateLimited: number;
  /** 503: every instance that was asked was saturated (its workers and queue full). */
  readonly saturated: number;
  readonly errors: number;
  /** Every instance that answered, with the second it first did. */
  readonly instances: ReadonlyMap<string, number>;
}

type Counts = Pick<LoadReport, 'completed' | 'rateLimited' | 'saturated' | 'errors'>;

/** What the load has seen: the rotation, every instance's first answer, and the counts of the last second and of the whole run. */
class LoadTally {
  readonly instances = new Map<string, number>();
  readonly total = { completed: 0, cpuSeconds: 0, rateLimited: 0, saturated: 0, errors: 0 };
  #second = { completed: 0, rateLimited: 0, saturated: 0, errors: 0, hosts: new Set<string>() };
  readonly #started = Date.now();
  readonly #rotation = new Rotation(this.#started);
  #saidBaseline = false;
  readonly #ms: number;
  readonly #print: (line: string) => void;

  constructor(ms: number, print: (line: string) => void) {
    this.#ms = ms;
    this.#print = print;
  }

  /** Whole seconds since the load began. */
  elapsed(): number {
    return Math.round((Date.now() - this.#started) / 1_000);
  }

  count(key: keyof Counts): void {
    this.#second[key] += 1;
    this.total[key] += 1;
  }

  /** A job done by `hostname`: an instance new to the load, or one answering again, is said. */
  completed(hostname: string, cpuMs: number): void {
    this.count('completed');
    this.total.cpuSeconds += cpuMs / 1_000;
    this.#second.hosts.add(hostname);
    if (!this.instances.has(hostname)) this.instances.set(hostname, this.elapsed());
    const arrival = this.#rotation.answer(hostname, Date.now());
    if (arrival === 'back') this.#print(`+ ${instanceName(hostname)} answers again (after ${this.elapsed()} s)`);
    if (arrival !== 'new') return;
    this.sayBaseline();
    this.#print(`+ a new instance answers: ${instanceName(hostname)} (after ${this.elapsed()} s)`);
  }

  /** No instance answered: a turn each of them missed. (429s and 503s were turns not handed out, or taken by a busy instance.) */
  failed(): void {
    this.#rotation.miss(Date.now());
    this.count('errors');
  }

  /** Names the instances that answered before the first new one, or before the rotation rule settled; once. */
  sayBaseline(): void {
    if (this.#saidBaseline) return;
    this.#saidBaseline = true;
    const names = this.#rotation.baseline().sort().map(instanceName);
    this.#print(`answering: ${names.join(', ') || 'no instance yet'} (the first ${this.elapsed()} s)`);
  }

  /** The second's line; then the baseline once the rule has settled, and who is gone by it. */
  tick(): void {
    const second = this.#second;
    this.#print(
      `${String(this.elapsed()).padStart(4)} s  ${String(second.completed).padStart(4)} jobs of ${this.#ms} ms  ` +
        `${String(second.rateLimited).padStart(3)} × 429 (rate limit)  ${String(second.saturated).padStart(3)} × 503 (saturated)  ` +
        `${String(second.errors).padStart(3)} errors  ` +
        `instances: ${second.hosts.size} [${[...second.hosts].map((host) => instanceAlias(host)).sort().join(' ')}]`,
    );
    this.#second = { completed: 0, rateLimited: 0, saturated: 0, errors: 0, hosts: new Set() };
    const now = Date.now();
    const left = this.#rotation.sweep(now);
    if (this.#rotation.settled) this.sayBaseline();
    for (const member of left) this.#print(`- ${instanceName(member.hostname)} is gone: no answer for ${Math.round((now - member.lastAnswerAt) / 1_000)} s`);
  }
}

/** One client: a /load request after another, each answer counted, 429s and 503s waited out as their Retry-After says. */
async function loadClient(options: LoadOptions, tally: LoadTally, running: () => boolean): Promise<void> {
  while (running()) {
    try {
      const response = await fetch(`${options.url}${routes.load.path}?ms=${options.ms}`, { signal: AbortSignal.timeout(30_000) });
      if (response.status === 200) {
        const body = (await response.json()) as LoadBody;
        tally.completed(body.hostname, body.cpuMs);
      } else if (response.status === 429 || response.status === 503) {
        await response.body?.cancel();
        tally.count(response.status === 429 ? 'rateLimited' : 'saturated');
        await sleep(Number(response.headers.get('retry-after') ?? 1) * 1_000);
      } else {
        await response.body?.cancel();
        throw new Error(`status ${response.status}`);
      }
    } catch {
      tally.failed();
      await sleep(1_000);
    }
  }
}

/**
 * Keeps /load busy with `concurrency` clients and prints, each second, the jobs done, the 429s
 * (the edge's rate limit) and 503s (saturated instances), both waited out as their Retry-After
 * says, and the instances answering. The instances answering before the rotation rule has settled
 * are named once as the baseline; after that, an instance that starts answering (an autoscaler's
 * new replica) is announced as new, and one that missed its turns as gone (@three-tier/shared's
 * Rotation, as on the live page and in chaos).
 */
export async function runLoad(options: LoadOptions, print: (line: string) => void): Promise<LoadReport> {
  const tally = new LoadTally(options.ms, print);
  const deadline = options.seconds > 0 ? Date.now() + options.seconds * 1_000 : Infinity;
  const running = (): boolean => Date.now() < deadline && !options.signal?.aborted;
  const ticker = setInterval(() => tally.tick(), 1_000);
  try {
    await Promise.all(Array.from({ length: options.concurrency }, () => loadClient(options, tally, running)));
  } finally {
    clearInterval(ticker);
  }
  tally.sayBaseline();
  const { total, instances } = tally;
  print(
    `done: ${total.completed} jobs (${total.cpuSeconds.toFixed(1)} CPU seconds), ${total.rateLimited} × 429 (rate limit), ` +
      `${total.saturated} × 503 (saturated), ${total.errors} errors, ${instances.size} instance(s) answered`,
  );
  return { ...total, instances };
}
