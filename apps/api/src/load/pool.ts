import { Worker } from 'node:worker_threads';
import type { Metrics } from '../metrics.js';

/** Every worker is busy and the queue is full: the caller should answer 503 with Retry-After. */
export class PoolSaturatedError extends Error {
  constructor(readonly workers: number, readonly queued: number) {
    super(`all ${workers} load workers are busy and ${queued} jobs are waiting`);
    this.name = 'PoolSaturatedError';
  }
}

export class PoolClosedError extends Error {
  constructor() {
    super('the load pool is shut down');
    this.name = 'PoolClosedError';
  }
}

interface Job {
  readonly ms: number;
  readonly signal: AbortSignal;
  readonly resolve: (cpuMs: number) => void;
  readonly reject: (error: unknown) => void;
  readonly onAbort: () => void;
}

interface Slot {
  readonly worker: Worker;
  readonly cancel: Int32Array;
  job: Job | undefined;
}

type WorkerMessage = { type: 'ready'; clock: string } | { type: 'done'; cpuMs: number; cancelled: boolean };

export interface LoadPoolOptions {
  /** Worker threads; at most this many jobs burn CPU at once. */
  readonly size: number;
  /** Jobs that may wait for a worker; one more is refused. */
  readonly maxQueue: number;
  readonly metrics: Metrics;
}

/**
 * Runs /load jobs on worker threads, so the event loop (and with it /healthz and /redis) stays free
 * while the CPUs burn. Bounded twice: `size` jobs run, `maxQueue` wait, the rest are refused. A job
 * whose signal aborts (client gone, deadline passed) leaves the queue or is cancelled mid-burn.
 * Threads start on first use, so an instance that never serves /load never pays for them.
 */
export class LoadPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private closed = false;

  constructor(private readonly options: LoadPoolOptions) {
    options.metrics.loadWorkers.set(options.size);
  }

  get size(): number {
    return this.options.size;
  }

  /** Resolves with the CPU milliseconds burnt; rejects with the signal's reason when aborted. */
  run(ms: number, signal: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.closed) throw new PoolClosedError();
      signal.throwIfAborted();
      const job: Job = { ms, signal, resolve, reject, onAbort: () => this.abort(job) };
      const slot = this.idleSlot();
      if (slot) {
        this.start(slot, job);
      } else if (this.queue.length < this.options.maxQueue) {
        this.queue.push(job);
        this.updateGauges();
      } else {
        this.options.metrics.loadJobs.inc({ outcome: 'rejected' });
        throw new PoolSaturatedError(this.options.size, this.queue.length);
      }
      signal.addEventListener('abort', job.onAbort, { once: true });
    });
  }

  /** Cancels running jobs, refuses queued ones and stops the threads. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new PoolClosedError());
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.job?.reject(new PoolClosedError());
        slot.job = undefined;
        await slot.worker.terminate();
      }),
    );
    this.slots.length = 0;
    this.updateGauges();
  }

  private idleSlot(): Slot | undefined {
    const idle = this.slots.find((slot) => slot.job === undefined);
    if (idle || this.slots.length >= this.options.size) return idle;
    return this.spawn();
  }

  private spawn(): Slot {
    const cancel = new SharedArrayBuffer(4);
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { cancel } });
    const slot: Slot = { worker, cancel: new Int32Array(cancel), job: undefined };
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'done') this.finish(slot, message.cpuMs, message.cancelled);
    });
    // A worker that dies takes its job with it; the slot is replaced on the next demand.
    worker.on('error', (error) => {
      this.drop(slot, error);
    });
    worker.on('exit', (code) => {
      if (!this.closed) this.drop(slot, new Error(`load worker exited with code ${code}`));
    });
    this.slots.push(slot);
    return slot;
  }

  private start(slot: Slot, job: Job): void {
    Atomics.store(slot.cancel, 0, 0);
    slot.job = job;
    slot.worker.postMessage({ ms: job.ms });
    this.updateGauges();
  }

  private finish(slot: Slot, cpuMs: number, cancelled: boolean): void {
    const job = slot.job;
    slot.job = undefined;
    this.options.metrics.loadCpuSeconds.inc(cpuMs / 1_000);
    if (job) {
      job.signal.removeEventListener('abort', job.onAbort);
      this.options.metrics.loadJobs.inc({ outcome: cancelled ? 'cancelled' : 'completed' });
      if (cancelled) job.reject(job.signal.reason);
      else job.resolve(cpuMs);
    }
    this.next(slot);
  }

  private abort(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.options.metrics.loadJobs.inc({ outcome: 'cancelled' });
      this.updateGauges();
      job.reject(job.signal.reason);
      return;
    }
    // Running: raise the flag; the worker stops within a slice and `finish` settles the job.
    const slot = this.slots.find((candidate) => candidate.job === job);
    if (slot) Atomics.store(slot.cancel, 0, 1);
  }

  private next(slot: Slot): void {
    const job = this.queue.shift();
    if (job && !this.closed) this.start(slot, job);
    else this.updateGauges();
  }

  private drop(slot: Slot, error: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    slot.job?.reject(error);
    slot.job = undefined;
    // Someone may be waiting: give them a fresh worker.
    const job = this.queue.shift();
    if (job && !this.closed) this.start(this.spawn(), job);
    this.updateGauges();
  }

  private updateGauges(): void {
    const { metrics } = this.options;
    metrics.loadWorkersBusy.set(this.slots.filter((slot) => slot.job !== undefined).length);
    metrics.loadQueueLength.set(this.queue.length);
  }
}
