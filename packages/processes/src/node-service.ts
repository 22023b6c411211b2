import { budgets, gracePeriodMs } from '@three-tier/shared';
import type { LineHandler } from './child.js';
import { assertPortFree, portOf } from './ports.js';
import { Service } from './service.js';
import { answersOk, waitFor } from './wait.js';

export interface NodeServiceOptions {
  readonly name: string;
  /** The built entry point, e.g. apps/api/dist/src/index.js. */
  readonly entry: string;
  readonly env: NodeJS.ProcessEnv;
  /** Answers 200 once the service is up. */
  readonly healthUrl: string;
  /**
   * Answers 200 once the process serves at all. A restart waits only for this: an api started
   * again while Redis is down is alive but not ready, and must not be killed for it.
   */
  readonly liveUrl?: string;
  readonly onLine?: LineHandler;
  /** SIGTERM, then SIGKILL after this long; by default the api's grace period (its drain plus slack). */
  readonly stopTimeoutMs?: number;
}

/** A Node.js program of this repository, started with the node that runs us; SIGTERM drains it. */
export class NodeService extends Service {
  constructor(readonly options: NodeServiceOptions) {
    super('SIGTERM', options.stopTimeoutMs ?? gracePeriodMs(budgets.apiShutdownTimeoutMs));
  }

  start(): Promise<void> {
    return this.launchAndWaitFor(this.options.healthUrl);
  }

  override restart(): Promise<void> {
    return this.launchAndWaitFor(this.options.liveUrl ?? this.options.healthUrl);
  }

  private async launchAndWaitFor(url: string): Promise<void> {
    const { name, entry, env, healthUrl, onLine } = this.options;
    await assertPortFree(portOf(healthUrl), name);
    await this.launch(
      { name, command: process.execPath, args: ['--enable-source-maps', entry], env, ...(onLine ? { onLine } : {}) },
      () => waitFor(() => answersOk(url), { what: `${name} at ${url}` }),
    );
  }
}
