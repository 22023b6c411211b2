import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { budgets, gracePeriodMs } from '@three-tier/shared';
import type { LineHandler } from './child.js';
import { assertPortFree, portOf } from './ports.js';
import { Service } from './service.js';
import { answersOk, waitFor } from './wait.js';

export interface NginxOptions {
  readonly bin: string;
  /** nginx's prefix: holds nginx.conf, the pid file and temp paths; must already be private to this run. */
  readonly prefix: string;
  /** The whole nginx.conf. It must say `daemon off;` and keep its pid and temp paths under `prefix`. */
  readonly config: string;
  /** Answers 200 once nginx serves; polled after start. */
  readonly healthUrl: string;
  readonly onLine?: LineHandler;
}

export interface NginxCheck {
  readonly ok: boolean;
  readonly output: string;
}

/**
 * `nginx -t` on a config file. Errors go to stderr (`-e`), so the check needs no writable log
 * directory and works as any user.
 *
 * `hosts` gives names the config uses a meaning here (a Kubernetes Service name, say): nginx then
 * runs in a mount namespace of its own whose /etc/hosts lists them, so the exact config is checked
 * and this machine's /etc/hosts is never touched. That takes root, or unprivileged user namespaces.
 */
export function checkNginxConfig(
  bin: string,
  prefix: string,
  configFile: string,
  hosts: Readonly<Record<string, string>> = {},
): NginxCheck {
  const test = [bin, '-t', '-q', '-p', prefix, '-c', configFile, '-e', 'stderr'];
  let command = test;
  if (Object.keys(hosts).length > 0) {
    const hostsFile = join(prefix, 'hosts');
    writeFileSync(hostsFile, Object.entries(hosts).map(([name, address]) => `${address} ${name}\n`).join(''));
    const asRoot = process.getuid?.() === 0;
    // In a user namespace, nginx thinks it is root and would chown its temp paths to nobody, who
    // does not exist there; `user root` keeps them ours.
    if (!asRoot) test.push('-g', 'user root root;');
    command = [
      'unshare',
      ...(asRoot ? [] : ['--map-root-user']),
      '--mount',
      'sh',
      '-c',
      'mount --bind "$0" /etc/hosts && exec "$@"',
      hostsFile,
      ...test,
    ];
  }
  const [file = bin, ...args] = command;
  // stdout to /dev/null: a config logging to /dev/stdout must be checkable, and Node's default
  // stdout for a child is a socket nginx cannot open.
  const result = spawnSync(file, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const output = result.stderr.trim() || (result.error?.message ?? '');
  return { ok: result.status === 0, output };
}

/**
 * `nginx -t` of a config in a scratch prefix of its own, removed afterwards: `render` gets the
 * prefix and returns the config with its pid and temp paths moved there, so the check writes
 * nothing elsewhere on this machine. Fails when there is no nginx (CI installs it).
 */
export async function checkNginxConfigInScratch(
  bin: string | undefined,
  render: (prefix: string) => string,
  hosts: Readonly<Record<string, string>> = {},
): Promise<NginxCheck> {
  if (!bin) return { ok: false, output: 'nginx must be installed (npm test installs it as root)' };
  const prefix = await mkdtemp(join(tmpdir(), 'nginx-check-'));
  try {
    return checkNginxConfig(bin, prefix, await preparePrefix(prefix, render(prefix)), hosts);
  } finally {
    await rm(prefix, { recursive: true, force: true });
  }
}

/**
 * Prepares a prefix for a config: the temp directory nginx writes request bodies and buffers to.
 * As root, nginx's workers run as nobody, so the prefix must be traversable by them.
 */
export async function preparePrefix(prefix: string, config: string): Promise<string> {
  await mkdir(join(prefix, 'tmp'), { recursive: true });
  await chmod(prefix, 0o755);
  const configFile = join(prefix, 'nginx.conf');
  await writeFile(configFile, config);
  return configFile;
}

/**
 * nginx in the foreground; `stop()` asks for a graceful quit (SIGQUIT), which drains in-flight
 * requests, and kills only past the edge's grace period, as compose and Kubernetes do.
 */
export class Nginx extends Service {
  constructor(readonly options: NginxOptions) {
    super('SIGQUIT', gracePeriodMs(budgets.edgeDrainMs));
  }

  async start(): Promise<void> {
    const { bin, prefix, config, healthUrl, onLine } = this.options;
    await assertPortFree(portOf(healthUrl), 'nginx');
    const configFile = await preparePrefix(prefix, config);
    const check = checkNginxConfig(bin, prefix, configFile);
    if (!check.ok) throw new Error(`nginx rejected its generated config:\n${check.output}`);
    await this.launch(
      { name: 'nginx', command: bin, args: ['-p', prefix, '-c', configFile, '-e', 'stderr'], ...(onLine ? { onLine } : {}) },
      () => waitFor(() => answersOk(healthUrl), { what: `nginx at ${healthUrl}` }),
    );
  }
}
