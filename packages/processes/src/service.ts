import { Child, readyOrDead, type ChildOptions, type Exit } from './child.js';

/**
 * A long-running program of the stack (redis-server, nginx, a node service): started and awaited
 * until ready, stopped with the signal that makes it finish its work, signalled at will in tests.
 */
export abstract class Service {
  private child: Child | undefined;

  /**
   * @param stopSignal asks the program to finish in-flight work and exit
   * @param stopTimeoutMs after which a stop becomes SIGKILL
   */
  protected constructor(
    private readonly stopSignal: NodeJS.Signals,
    private readonly stopTimeoutMs: number,
  ) {}

  abstract start(): Promise<void>;

  get running(): boolean {
    return this.child?.running ?? false;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves when the current process exits, whoever stopped it. */
  get exited(): Promise<Exit | undefined> {
    return this.child?.exited ?? Promise.resolve(undefined);
  }

  async stop(): Promise<Exit | undefined> {
    return this.child?.stop(this.stopSignal, this.stopTimeoutMs);
  }

  /** Sends a signal as is: SIGKILL to crash it, SIGSTOP to make it hang, SIGCONT to resume. */
  signal(signal: NodeJS.Signals): void {
    this.child?.signal(signal);
  }

  /** Spawns the program and waits for `ready`; if it dies first, the error carries its last words. */
  protected async launch(options: ChildOptions, ready: () => Promise<unknown>): Promise<void> {
    const child = new Child(options);
    this.child = child;
    await readyOrDead(child, ready());
  }
}
