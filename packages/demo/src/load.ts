import { setTimeout as sleep } from 'node:timers/promises';
import { instanceAlias, Rotation, routes, type LoadBody } from '@three-tier/shared';

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

/** "amber-otter (3f2c9a1e7b1d)" */
const nameOf = (hostname: string): string => `${instanceAlias(hostname)} (${hostname})`;

/**
 * Keeps /load busy with `concurrency` clients and prints, each second, the jobs done, the 429s
 * (the edge's rate limit) and 503s (saturated instances), both waited out as their Retry-After
 * says, and the instances answering. The instances answering before the rotation rule has settled
 * are named once as the baseline; after that, an instance that starts answering (an autoscaler's
 * new replica) is announced as new, and one that missed its turns as gone (@three-tier/shared's
 * Rotation, as on the live page and in chaos).
 */
export async function runLoad(options: LoadOptions, print: (line: string) => void): Promise<LoadReport> {
  const started = Date.now();
  const deadline = options.seconds > 0 ? started + options.seconds * 1_000 : Infinity;
  const instances = new Map<string, number>();
  const rotation = new Rotation(started);
  const said = { baseline: false };
  const second = { completed: 0, rateLimited: 0, saturated: 0, errors: 0, hosts: new Set<string>() };
  const total = { completed: 0, cpuSeconds: 0, rateLimited: 0, saturated: 0, errors: 0 };
  const running = () => Date.now() < deadline && !options.signal?.aborted;
  const elapsed = () => Math.round((Date.now() - started) / 1_000);

  const sayBaseline = (): void => {
    said.baseline = true;
    const names = rotation.baseline().sort().map(nameOf);
    print(`answering: ${names.join(', ') || 'no instance yet'} (the first ${elapsed()} s)`);
  };

  const answered = (hostname: string): void => {
    second.hosts.add(hostname);
    if (!instances.has(hostname)) instances.set(hostname, elapsed());
    const arrival = rotation.answer(hostname, Date.now());
    if (arrival === 'back') print(`+ ${nameOf(hostname)} answers again (after ${elapsed()} s)`);
    if (arrival !== 'new') return;
    if (!said.baseline) sayBaseline();
    print(`+ a new instance answers: ${nameOf(hostname)} (after ${elapsed()} s)`);
  };

  const client = async (): Promise<void> => {
    while (running()) {
      try {
        const response = await fetch(`${options.url}${routes.load.path}?ms=${options.ms}`, { signal: AbortSignal.timeout(30_000) });
        if (response.status === 200) {
          const body = (await response.json()) as LoadBody;
          second.completed += 1;
          total.completed += 1;
          total.cpuSeconds += body.cpuMs / 1_000;
          answered(body.hostname);
        } else if (response.status === 429 || response.status === 503) {
          await response.body?.cancel();
          const key = response.status === 429 ? 'rateLimited' : 'saturated';
          second[key] += 1;
          total[key] += 1;
          await sleep(Number(response.headers.get('retry-after') ?? 1) * 1_000);
        } else {
          await response.body?.cancel();
          throw new Error(`status ${response.status}`);
        }
      } catch {
        // No instance answered: a turn each of them missed. (429s and 503s were turns not handed
        // out, or taken by a busy instance.)
        rotation.miss(Date.now());
        second.errors += 1;
        total.errors += 1;
        await sleep(1_000);
      }
    }
  };

  const ticker = setInterval(() => {
    print(
      `${String(elapsed()).padStart(4)} s  ${String(second.completed).padStart(4)} jobs of ${options.ms} ms  ` +
        `${String(second.rateLimited).padStart(3)} × 429 (rate limit)  ${String(second.saturated).padStart(3)} × 503 (saturated)  ` +
        `${String(second.errors).padStart(3)} errors  ` +
        `instances: ${second.hosts.size} [${[...second.hosts].map((host) => instanceAlias(host)).sort().join(' ')}]`,
    );
    second.completed = 0;
    second.rateLimited = 0;
    second.saturated = 0;
    second.errors = 0;
    second.hosts = new Set();
    const now = Date.now();
    const left = rotation.sweep(now);
    if (!said.baseline && rotation.settled) sayBaseline();
    for (const member of left) print(`- ${nameOf(member.hostname)} is gone: no answer for ${Math.round((now - member.lastAnswerAt) / 1_000)} s`);
  }, 1_000);
  try {
    await Promise.all(Array.from({ length: options.concurrency }, client));
  } finally {
    clearInterval(ticker);
  }
  if (!said.baseline) sayBaseline();
  print(
    `done: ${total.completed} jobs (${total.cpuSeconds.toFixed(1)} CPU seconds), ${total.rateLimited} × 429 (rate limit), ` +
      `${total.saturated} × 503 (saturated), ${total.errors} errors, ${instances.size} instance(s) answered`,
  );
  return { ...total, instances };
}
