import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { accessLogBuffer } from '@three-tier/shared';

/**
 * How long the relay leaves the pipe alone after a read. Every wake-up of the runner costs it far
 * more than the lines it reads (a cold process on a busy machine: ~0.2 ms), and nginx writes a
 * chunk every dozen requests; reading what gathered over this long takes one wake-up for many
 * chunks. A pipe holds 64 KiB: at this pace it fills only above ~2.6 MB/s of log (some 8,000
 * lines a second), and a read that finds a quarter of it waits no more (see `burstBytes`).
 */
export const relayPauseMs = 25;

/** A read this large means the pipe fills fast: read again at once rather than let nginx block on it. */
const burstBytes = 4 * accessLogBuffer.bytes;

/**
 * nginx's access log as a named pipe in the run directory, read by the runner. Node hands a child
 * sockets, not pipes, for stdout, and nginx cannot open /dev/stdout on a socket; a FIFO it opens
 * like a file. nginx buffers its lines (`accessLogBuffer` in the target) and writes them a chunk at
 * a time; the runner reads what gathered every `relayPauseMs`, so relaying costs it one wake-up per
 * many chunks, not one per chunk (nor per request, as the syslog relay it replaces did).
 */
export class AccessLogPipe {
  private closed = false;
  private partial = '';
  private resumeTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly path: string,
    private readonly readFd: number,
    private readonly socket: Socket,
    private readonly keepOpen: number,
    private readonly onLines: (lines: readonly string[]) => void,
  ) {
    // Reading a pipe we made ourselves should not fail; if it does, the access log stops, not the runner.
    socket.on('error', () => undefined);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.take(chunk);
      if (chunk.length >= burstBytes) return;
      socket.pause();
      this.resumeTimer = setTimeout(() => socket.resume(), relayPauseMs);
    });
  }

  /** Makes the FIFO and starts reading it; `onLines` gets whole lines, a batch at a time. */
  static open(path: string, onLines: (lines: readonly string[]) => void): AccessLogPipe {
    const made = spawnSync('mkfifo', ['-m', '0644', path], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`mkfifo ${path} failed: ${made.stderr || made.error?.message || 'unknown error'}`);
    const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    // A writer of our own, never used: without one, the reader sees end-of-file whenever nginx has
    // not opened the pipe yet or has just closed it (a reload, a restart).
    const keepOpen = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    return new AccessLogPipe(path, readFd, new Socket({ fd: readFd, readable: true, writable: false }), keepOpen, onLines);
  }

  /**
   * Relays what is still in the pipe (nginx's last lines, written as it stopped), then stops
   * reading, closes both ends and removes the pipe; once, however often it is called.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.resumeTimer);
    this.socket.pause();
    this.drain();
    this.socket.destroy();
    closeSync(this.keepOpen);
    rmSync(this.path, { force: true });
  }

  /** Whole lines of `text` to `onLines`; an unfinished last line waits for the rest. */
  private take(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    if (lines.length > 0) this.onLines(lines);
  }

  /** What the socket holds unread and what is left in the pipe; a last line without its newline too. */
  private drain(): void {
    for (let chunk: unknown = this.socket.read(); typeof chunk === 'string'; chunk = this.socket.read()) this.take(chunk);
    const buffer = Buffer.allocUnsafe(64 * 1024);
    const decoder = new StringDecoder('utf8');
    for (let read = readQuietly(this.readFd, buffer); read > 0; read = readQuietly(this.readFd, buffer)) {
      this.take(decoder.write(buffer.subarray(0, read)));
    }
    if (this.partial !== '') this.onLines([this.partial]);
    this.partial = '';
  }
}

/** Bytes read from a non-blocking descriptor into `buffer`; 0 when there are none (EAGAIN) or it failed. */
function readQuietly(fd: number, buffer: Buffer): number {
  try {
    return readSync(fd, buffer, 0, buffer.length, null);
  } catch {
    return 0;
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
