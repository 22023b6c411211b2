import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';

/**
 * nginx's access log as a named pipe in the run directory, read by the runner. Node hands a child
 * sockets, not pipes, for stdout, and nginx cannot open /dev/stdout on a socket; a FIFO it opens
 * like a file. nginx buffers its lines (`accessLogBuffer` in the target) and writes them a chunk at
 * a time, so relaying costs the runner one read and one write per chunk, not per request (the
 * syslog relay it replaces took a datagram per request).
 */
export class AccessLogPipe {
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
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      if (lines.length > 0) onLines(lines);
    });
    return new AccessLogPipe(path, socket, keepOpen);
  }

  close(): void {
    this.socket.destroy();
    closeSync(this.keepOpen);
    rmSync(this.path, { force: true });
  }
}

/**
 * Lines for a terminal or a pipe, written together once per turn of the event loop: one write
 * system call for a burst of log lines rather than one each.
 */
export function batchedWriter(write: (text: string) => void): { line(text: string): void; flush(): void } {
  let pending: string[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    write(text);
  };
  return {
    line(text) {
      if (pending.length === 0) setImmediate(flush);
      pending.push(`${text}\n`);
    },
    /** Writes what is pending now; before process.exit, which runs no more turns of the loop. */
    flush,
  };
}
