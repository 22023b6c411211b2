import { setTimeout as sleep } from 'node:timers/promises';
import { routes, type LoadBody } from '@three-tier/shared';

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
  readonly refused: number;
  readonly errors: number;
  /** Every instance that answered, with the second it first did. */
  readonly instances: ReadonlyMap<string, number>;
}

/**
 * Keeps /load busy with `concurrency` clients and prints, each second, the jobs done, the refusals
 * (429 from the edge's rate limit, 503 from saturated instances; both are waited out as their
 * Retry-After says) and the instances answering. When an autoscaler adds replicas, new hostnames
 * appear in the line.
 */
export async function runLoad(options: LoadOptions, print: (line: string) => void): Promise<LoadReport> {
  const started = Date.now();
  const deadline = options.seconds > 0 ? started + options.seconds * 1_000 : Infinity;
  const instances = new Map<string, number>();
  const second = { completed: 0, refused: 0, errors: 0, hosts: new Set<string>() };
  const total = { completed: 0, cpuSeconds: 0, refused: 0, errors: 0 };
  const running = () => Date.now() < deadline && !options.signal?.aborted;
  const elapsed = () => Math.round((Date.now() - started) / 1_000);

  const client = async (): Promise<void> => {
    while (running()) {
      try {
        const response = await fetch(`${options.url}${routes.load.path}?ms=${options.ms}`, { signal: AbortSignal.timeout(30_000) });
        if (response.status === 200) {
          const body = (await response.json()) as LoadBody;
          second.completed += 1;
          total.completed += 1;
          total.cpuSeconds += body.cpuMs / 1_000;
          second.hosts.add(body.hostname);
          if (!instances.has(body.hostname)) {
            instances.set(body.hostname, elapsed());
            if (instances.size > 1) print(`+ a new instance answers: ${body.hostname} (after ${elapsed()} s)`);
          }
        } else {
          await response.body?.cancel();
          second.refused += 1;
          total.refused += 1;
          await sleep(Number(response.headers.get('retry-after') ?? 1) * 1_000);
        }
      } catch {
        second.errors += 1;
        total.errors += 1;
        await sleep(1_000);
      }
    }
  };

  const ticker = setInterval(() => {
    print(
      `${String(elapsed()).padStart(4)} s  ${String(second.completed).padStart(4)} jobs of ${options.ms} ms  ` +
        `${String(second.refused).padStart(3)} refused  ${String(second.errors).padStart(3)} errors  ` +
        `instances: ${second.hosts.size} [${[...second.hosts].sort().join(' ')}]`,
    );
    second.completed = 0;
    second.refused = 0;
    second.errors = 0;
    second.hosts = new Set();
  }, 1_000);
  try {
    await Promise.all(Array.from({ length: options.concurrency }, client));
  } finally {
    clearInterval(ticker);
  }
  print(
    `done: ${total.completed} jobs (${total.cpuSeconds.toFixed(1)} CPU seconds), ${total.refused} refused, ` +
      `${total.errors} errors, ${instances.size} instance(s) answered`,
  );
  return { ...total, instances };
}
