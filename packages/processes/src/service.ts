import { Child, readyOrDead, type ChildOptions, type Exit } from './child.js';

/**
 * A long-running program of the stack (redis-server, nginx, a node service): started and awaited
 * until ready, stopped with the signal that makes it finish its work, signalled at will in tests.
 */
export abstract class Service {
  private child: Child | undefined;
  /** Set by `stop()` until the next start: this exit was asked for (compose's "stopped"). */
  private stopRequested = false;

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

  /** True once `stop()` was called, until the next start: its exit is no crash. */
  get stoppedOnPurpose(): boolean {
    return this.stopRequested;
  }

  async stop(): Promise<Exit | undefined> {
    this.stopRequested = true;
    return this.child?.stop(this.stopSignal, this.stopTimeoutMs);
  }

  /** Kills the program and everything it forked (its process group) at once, and waits for it. */
  async kill(): Promise<Exit | undefined> {
    this.stopRequested = true;
    return this.child?.kill();
  }

  /** After an exit: kills whatever the program forked and left behind (nginx's workers, say). */
  killLeftovers(): void {
    this.child?.killLeftovers();
  }

  /**
   * Starts it again after it exited on its own, as a restart policy does. By default the same
   * as `start`; a service whose readiness depends on another tier waits only until it is alive.
   */
  restart(): Promise<void> {
    return this.start();
  }

  /** Sends a signal as is: SIGKILL to crash it, SIGSTOP to make it hang, SIGCONT to resume. */
  signal(signal: NodeJS.Signals): void {
    this.child?.signal(signal);
  }

  /** Spawns the program and waits for `ready`; if it dies first, the error carries its last words. */
  protected async launch(options: ChildOptions, ready: () => Promise<unknown>): Promise<void> {
    this.stopRequested = false;
    const child = new Child(options);
    this.child = child;
    await readyOrDead(child, ready());
  }
}
