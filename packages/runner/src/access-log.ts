import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, rmSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';

/**
 * nginx's access log as a named pipe in the run directory, read by the runner. Node hands a child
 * sockets, not pipes, for stdout, and nginx cannot open /dev/stdout on a socket; a FIFO it opens
 * like a file. nginx buffers its lines (`accessLogBuffer` in the target) and writes them a chunk at
 * a time, so relaying costs the runner one read and one write per chunk, not per request (the
 * syslog relay it replaces took a datagram per request).
 */
export class AccessLogPipe {
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly socket: Socket,
    private readonly keepOpen: number,
  ) {}

  /** Makes the FIFO and starts reading it; `onLines` gets whole lines, a chunk at a time. */
  static open(path: string, onLines: (lines: readonly string[]) => void): AccessLogPipe {
    const made = spawnSync('mkfifo', ['-m', '0644', path], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`mkfifo ${path} failed: ${made.stderr || made.error?.message || 'unknown error'}`);
    const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    // A writer of our own, never used: without one, the reader sees end-of-file whenever nginx has
    // not opened the pipe yet or has just closed it (a reload, a restart).
    const keepOpen = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    const socket = new Socket({ fd: readFd, readable: true, writable: false });
    let partial = '';
    // Reading a pipe we made ourselves should not fail; if it does, the access log stops, not the runner.
    socket.on('error', () => undefined);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      if (lines.length > 0) onLines(lines);
    });
    return new AccessLogPipe(path, socket, keepOpen);
  }

  /** Stops reading, closes both ends and removes the pipe; once, however often it is called. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    closeSync(this.keepOpen);
    rmSync(this.path, { force: true });
  }
}

/**
 * Lines for a terminal or a pipe, written together once per turn of the event loop: one write
 * system call for a burst of log lines rather than one each.
 */
export function batchedWriter(fd: number): { line(text: string): void; flushSync(): void } {
  const stream = fd === 1 ? process.stdout : process.stderr;
  let pending: string[] = [];
  const take = (): string => {
    const text = pending.join('');
    pending = [];
    return text;
  };
  const flush = (): void => {
    if (pending.length > 0) stream.write(take());
  };
  return {
    line(text) {
      if (pending.length === 0) setImmediate(flush);
      pending.push(`${text}\n`);
    },
    /**
     * Writes what is pending before the process exits, which runs no more turns of the loop and
     * would drop what an asynchronous write (stdout on a full pipe) still holds.
     */
    flushSync() {
      if (pending.length > 0) writeAllSync(fd, take());
    },
  };
}

/** Every byte of `text` to `fd`, waiting out a full non-blocking pipe (EAGAIN). */
function writeAllSync(fd: number, text: string): void {
  let buffer = Buffer.from(text);
  while (buffer.length > 0) {
    try {
      buffer = buffer.subarray(writeSync(fd, buffer));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return;
    }
  }
}
