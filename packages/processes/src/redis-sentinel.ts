import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configText, sentinelDirectives, type HostPort } from '@three-tier/shared';
import type { LineHandler } from './child.js';
import { assertPortFree } from './ports.js';
import { respRequest } from './resp.js';
import { Service } from './service.js';
import { waitFor } from './wait.js';

export interface RedisSentinelOptions {
  readonly bin: string;
  readonly port: number;
  /**
   * Holds its sentinel.conf, which Sentinel rewrites as it learns (its id, the other Sentinels,
   * the replicas, each failover): reuse the folder and it comes back knowing the set.
   */
  readonly dir: string;
  /** The master it monitors when it starts for the first time; after that, its file says. */
  readonly master: HostPort;
  readonly password?: string | undefined;
  readonly name?: string;
  readonly onLine?: LineHandler;
}

/** The settings of the process itself, written before the set's. */
function processDirectives(port: number, dir: string): Array<readonly [string, ...string[]]> {
  return [
    ['port', String(port)],
    ['bind', '127.0.0.1'],
    ['dir', dir],
    ['daemonize', 'no'],
    ['logfile', ''],
  ];
}

/** A redis-sentinel of the replicated set, with a configuration file of its own that it rewrites. */
export class RedisSentinel extends Service {
  constructor(readonly options: RedisSentinelOptions) {
    super('SIGTERM', 10_000);
  }

  get port(): number {
    return this.options.port;
  }

  get configFile(): string {
    return join(this.options.dir, 'sentinel.conf');
  }

  /** Starts it (writing its file the first time) and resolves once it answers PING. */
  async start(): Promise<void> {
    if (this.running) return;
    const { bin, port, dir, master, password, name = 'sentinel', onLine } = this.options;
    await assertPortFree(port, name);
    await mkdir(dir, { recursive: true });
    if (!existsSync(this.configFile)) {
      await writeFile(this.configFile, configText([...processDirectives(port, dir), ...sentinelDirectives({ master, password })]), { mode: 0o600 });
    }
    // The port again on the command line: a file written for another port must not win.
    await this.launch({ name, command: bin, args: [this.configFile, '--port', String(port)], ...(onLine ? { onLine } : {}) }, () =>
      waitFor(async () => ((await respRequest(port, ['PING'], { password })) === 'PONG' ? true : undefined), {
        what: `${name} on port ${String(port)}`,
      }),
    );
  }
}
