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
  readonly onLine?: LineHandler;
  /** SIGTERM, then SIGKILL after this long; by default the api's grace period (its drain plus slack). */
  readonly stopTimeoutMs?: number;
}

/** A Node.js program of this repository, started with the node that runs us; SIGTERM drains it. */
export class NodeService extends Service {
  constructor(readonly options: NodeServiceOptions) {
    super('SIGTERM', options.stopTimeoutMs ?? gracePeriodMs(budgets.apiShutdownTimeoutMs));
  }

  async start(): Promise<void> {
    const { name, entry, env, healthUrl, onLine } = this.options;
    await assertPortFree(portOf(healthUrl), name);
    await this.launch(
      { name, command: process.execPath, args: ['--enable-source-maps', entry], env, ...(onLine ? { onLine } : {}) },
      () => waitFor(() => answersOk(healthUrl), { what: `${name} at ${healthUrl}` }),
    );
  }
}
