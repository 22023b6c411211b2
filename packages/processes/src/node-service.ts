import { Child, readyOrDead, type Exit, type LineHandler } from './child.js';
import { assertPortFree, portOf } from './ports.js';
import { answersOk, waitFor } from './wait.js';

export interface NodeServiceOptions {
  readonly name: string;
  /** The built entry point, e.g. apps/api/dist/src/index.js. */
  readonly entry: string;
  readonly env: NodeJS.ProcessEnv;
  /** Answers 200 once the service is up. */
  readonly healthUrl: string;
  readonly onLine?: LineHandler;
}

/** A Node.js program of this repository, started with the node that runs us. */
export class NodeService {
  private child: Child | undefined;

  constructor(readonly options: NodeServiceOptions) {}

  get running(): boolean {
    return this.child?.running ?? false;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves when it exits, whoever stopped it. */
  get exited(): Promise<Exit | undefined> {
    return this.child?.exited ?? Promise.resolve(undefined);
  }

  async start(): Promise<void> {
    const { name, entry, env, healthUrl, onLine } = this.options;
    await assertPortFree(portOf(healthUrl), name);
    const child = new Child({
      name,
      command: process.execPath,
      args: ['--enable-source-maps', entry],
      env,
      ...(onLine ? { onLine } : {}),
    });
    this.child = child;
    await readyOrDead(
      child,
      waitFor(() => answersOk(healthUrl), { what: `${name} at ${healthUrl}` }),
    );
  }

  /** SIGTERM, and the service drains; SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<Exit | undefined> {
    return this.child?.stop('SIGTERM', timeoutMs);
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.signal(signal);
  }
}
