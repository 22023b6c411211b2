import { setTimeout as sleep } from 'node:timers/promises';
import type { Exit, Service } from '@three-tier/processes';

/**
 * Compose's `restart: unless-stopped`, for the native stack: a service that exits without being
 * asked to is started again after a delay that doubles from 100 ms; a run that lasted long enough
 * resets the delay. Unlike compose, a service that keeps failing ends the stack, so a broken
 * setup says so instead of looping forever.
 */
export interface RestartPolicy {
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  /** A run at least this long counts as healthy: the next failure starts the count again. */
  readonly healthyAfterMs: number;
  /** Failures in a row (exits or failed restarts) before giving up. */
  readonly maxFailures: number;
}

export const restartPolicy: RestartPolicy = { firstDelayMs: 100, maxDelayMs: 10_000, healthyAfterMs: 10_000, maxFailures: 5 };

/** The delay before the n-th restart in a row (1-based). */
export function restartDelayMs(failures: number, policy: RestartPolicy = restartPolicy): number {
  return Math.min(policy.firstDelayMs * 2 ** Math.max(0, failures - 1), policy.maxDelayMs);
}

export type SupervisionEvent<Name extends string> =
  | { readonly kind: 'exited'; readonly service: Name; readonly exit: Exit | undefined; readonly failures: number; readonly delayMs: number }
  | { readonly kind: 'restarted'; readonly service: Name; readonly pid: number | undefined; readonly downMs: number }
  | { readonly kind: 'restart-failed'; readonly service: Name; readonly error: Error }
  | { readonly kind: 'gave-up'; readonly service: Name; readonly failures: number };

export interface Supervised<Name extends string> {
  readonly services: Readonly<Record<Name, Service>>;
  /** True once the stack is stopping: exits are expected from then on. */
  readonly stopping: boolean;
}

/**
 * Watches every service of `stack` and restarts one that exits on its own (a crash, an OOM kill,
 * a SIGTERM from outside). Exits asked for (`stop()`, the stack stopping) are left alone. Returns a
 * function that ends the watch.
 */
export function supervise<Name extends string>(
  stack: Supervised<Name>,
  onEvent: (event: SupervisionEvent<Name>) => void,
  policy: RestartPolicy = restartPolicy,
): () => void {
  let ended = false;
  const expected = (service: Service): boolean => ended || stack.stopping || service.stoppedOnPurpose;

  const watch = async (name: Name, service: Service): Promise<void> => {
    let failures = 0;
    let upSince = Date.now();
    for (;;) {
      const exit = await service.exited;
      if (expected(service)) return;
      const exitedAt = Date.now();
      if (exitedAt - upSince >= policy.healthyAfterMs) failures = 0;
      failures += 1;
      // Whatever it forked goes with it: nginx's workers would keep its port.
      service.killLeftovers();
      if (failures > policy.maxFailures) {
        onEvent({ kind: 'gave-up', service: name, failures: failures - 1 });
        return;
      }
      const delayMs = restartDelayMs(failures, policy);
      onEvent({ kind: 'exited', service: name, exit, failures, delayMs });
      await sleep(delayMs);
      if (expected(service)) return;
      try {
        await service.restart();
        if (expected(service)) {
          // The stack began to stop while this restart ran: stop what it started.
          await service.stop();
          return;
        }
        upSince = Date.now();
        onEvent({ kind: 'restarted', service: name, pid: service.pid, downMs: upSince - exitedAt });
      } catch (error) {
        if (expected(service)) return;
        // A failed start leaves its process dead, so the next turn counts it as a failure.
        onEvent({ kind: 'restart-failed', service: name, error: error instanceof Error ? error : new Error(String(error)) });
        upSince = Date.now();
      }
    }
  };
  for (const [name, service] of Object.entries(stack.services) as [Name, Service][]) void watch(name, service);
  return () => {
    ended = true;
  };
}
