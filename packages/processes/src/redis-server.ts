import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { budgets, gracePeriodMs } from '@three-tier/shared';
import type { LineHandler } from './child.js';
import { assertPortFree } from './ports.js';
import { encodeCommand as command } from './resp.js';
import { Service } from './service.js';
import { waitFor } from './wait.js';

export interface RedisServerOptions {
  readonly bin: string;
  readonly port: number;
  /** Holds the append-only file; reuse it and the data comes back. */
  readonly dir: string;
  readonly password?: string | undefined;
  readonly onLine?: LineHandler;
  /** Shown in errors and log prefixes; `redis` by default. */
  readonly name?: string;
}

/**
 * Sends one command (after AUTH when a password is set) and resolves with the first line of Redis's
 * reply, e.g. `+PONG`, `:3` or `-LOADING ...`. Dependency-free: the runner waits for Redis with it
 * before any client library is loaded.
 */
export async function redisCall(port: number, args: readonly string[], password?: string, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const expected = password ? 2 : 1;
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from 127.0.0.1:${port} in ${timeoutMs} ms`)));
    socket.once('error', reject);
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      // A bulk string ($n) is followed by its value on the next line.
      const lines = reply.split('\r\n');
      const first = lines[expected - 1];
      if (first === undefined || lines.length <= expected) return;
      if (first.startsWith('$') && first !== '$-1') {
        if (lines.length <= expected + 1) return;
        socket.end();
        resolve(lines[expected] ?? '');
        return;
      }
      socket.end();
      resolve(first);
    });
    socket.write((password ? command(['AUTH', password]) : '') + command(args));
  });
}

/** A redis-server of the stack's own: its port, its data directory, AOF on, never the system instance. */
export class RedisServer extends Service {
  /** SIGTERM: Redis flushes its AOF and exits; SIGKILL only after its own shutdown timeout and the slack. */
  constructor(readonly options: RedisServerOptions) {
    super('SIGTERM', gracePeriodMs(budgets.redisShutdownTimeoutMs));
  }

  get port(): number {
    return this.options.port;
  }

  /** Starts redis-server and resolves once it answers PING with its data loaded. */
  async start(): Promise<void> {
    if (this.running) return;
    const { bin, port, dir, password, onLine, name = 'redis' } = this.options;
    await assertPortFree(port, 'redis-server');
    await mkdir(dir, { recursive: true });
    const args = this.serverArgs();
    await this.launch({ name, command: bin, args, ...(onLine ? { onLine } : {}) }, () =>
      waitFor(async () => ((await redisCall(port, ['PING'], password)) === '+PONG' ? true : undefined), {
        what: `redis-server on port ${port}`,
      }),
    );
  }

  /** redis-server's options: a subclass adds its own. */
  protected serverArgs(): string[] {
    const { port, dir, password } = this.options;
    return [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--protected-mode', 'yes',
      '--dir', dir,
      '--appendonly', 'yes',
      // Every acknowledged increment is on disk before the reply leaves.
      '--appendfsync', 'always',
      '--save', '',
      '--daemonize', 'no',
      '--supervised', 'no',
      '--logfile', '',
      ...(password ? ['--requirepass', password] : []),
    ];
  }
}

/**
 * `INFO <section>` as a map of its fields (e.g. used_memory), read to the end of the bulk reply;
 * dependency-free like `redisCall`.
 */
export async function redisInfo(port: number, section: string, password?: string, timeoutMs = 1_000): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from 127.0.0.1:${port} in ${timeoutMs} ms`)));
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      let text = reply.toString('latin1');
      if (password) {
        const end = text.indexOf('\r\n');
        if (end < 0) return;
        if (!text.startsWith('+OK')) return reject(new Error(text.slice(0, end)));
        text = text.slice(end + 2);
      }
      const header = /^\$(\d+)\r\n/.exec(text);
      if (!header) {
        if (text.startsWith('-')) reject(new Error(text.split('\r\n', 1)[0]));
        return;
      }
      const body = text.slice(header[0].length);
      if (Buffer.byteLength(body, 'latin1') < Number(header[1])) return;
      socket.end();
      const fields = new Map<string, string>();
      for (const line of body.split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
      }
      resolve(fields);
    });
    socket.write((password ? command(['AUTH', password]) : '') + command(['INFO', section]));
  });
}
