/**
 * A /load worker thread. Each job is `{ ms }`; the main thread cancels by setting the shared flag,
 * which the burn loop reads between slices (this thread's event loop is busy, so a message could
 * not arrive in time).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { burn, threadCpuClock } from './burn.js';

interface WorkerData {
  readonly cancel: SharedArrayBuffer;
}

const port = parentPort;
if (!port) throw new Error('load worker must run in a worker thread');

const { cancel } = workerData as WorkerData;
const flag = new Int32Array(cancel);
const { clock, kind } = threadCpuClock();
port.postMessage({ type: 'ready', clock: kind });

port.on('message', (job: { ms: number }) => {
  const result = burn(job.ms, clock, () => Atomics.load(flag, 0) === 1);
  port.postMessage({ type: 'done', ...result });
});
