/**
 * Which Docker Compose this machine has. Debian 12 packages only the standalone docker-compose
 * (1.29); Debian 13 and Docker's own packages add Compose v2 as the `docker compose` plugin. The
 * code runs on both, so every caller asks here rather than assuming one.
 */
import { findBinary } from './binaries.js';
import { runCommand } from './command.js';

/** `plugin`: Compose v2 as `docker compose`. `standalone`: the docker-compose binary (1.29, or v2). */
export type ComposeFlavour = 'plugin' | 'standalone';

export interface InstalledCompose {
  readonly flavour: ComposeFlavour;
  /** The program and the arguments that come before compose's own: `docker compose` or `docker-compose`. */
  readonly command: readonly [string, ...string[]];
  /** As it reports it, without a leading v: 2.26.1, 1.29.2. */
  readonly version: string;
}

const versionTimeoutMs = 30_000;

/**
 * Every compose installed here, plugin first, with its version. A docker-compose that is on the
 * PATH but cannot say its version is an error, not an absence: a broken install must not pass for
 * a missing one.
 */
export async function installedComposes(env: NodeJS.ProcessEnv): Promise<InstalledCompose[]> {
  const found: InstalledCompose[] = [];
  const docker = findBinary('docker', env);
  if (docker) {
    // Without the plugin, docker itself answers "compose is not a docker command".
    const plugin = await runCommand(docker, ['compose', 'version', '--short'], { env, timeoutMs: versionTimeoutMs });
    if (plugin.code === 0) found.push({ flavour: 'plugin', command: [docker, 'compose'], version: plugin.stdout.trim().replace(/^v/, '') });
  }
  const standalone = findBinary('docker-compose', env);
  if (standalone) {
    const result = await runCommand(standalone, ['version', '--short'], { env, timeoutMs: versionTimeoutMs });
    if (result.code !== 0) throw new Error(`${standalone} version --short failed (${String(result.code)}): ${result.output.trim()}`);
    found.push({ flavour: 'standalone', command: [standalone], version: result.stdout.trim().replace(/^v/, '') });
  }
  return found;
}

/** The composes this machine has, the plugin first. */
export async function composeFlavours(env: NodeJS.ProcessEnv): Promise<ComposeFlavour[]> {
  return (await installedComposes(env)).map((compose) => compose.flavour);
}

/** The version a compose reports, e.g. 2.26.1 or 1.29.2. */
export async function composeVersion(flavour: ComposeFlavour, env: NodeJS.ProcessEnv): Promise<string> {
  const found = (await installedComposes(env)).find((compose) => compose.flavour === flavour);
  if (!found) throw new Error(`no ${flavour === 'plugin' ? 'docker compose plugin' : 'docker-compose'} is installed`);
  return found.version;
}

/** The command line of a flavour, to put a compose command's arguments after. */
export function composeCommand(flavour: ComposeFlavour): readonly [string, ...string[]] {
  return flavour === 'plugin' ? ['docker', 'compose'] : ['docker-compose'];
}

/** The command line of the compose to use: the plugin when there is one, else docker-compose. */
export async function preferredComposeCommand(env: NodeJS.ProcessEnv): Promise<readonly [string, ...string[]]> {
  const [flavour = 'standalone'] = await composeFlavours(env);
  return composeCommand(flavour);
}

/**
 * The version of docker-compose the package manager would install (apt's candidate: 1.29.2-3 on
 * Debian 12, 2.x on Debian 13), or undefined where there is no apt or no such package.
 */
export async function packagedComposeVersion(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const aptCache = findBinary('apt-cache', env);
  if (!aptCache) return undefined;
  const policy = await runCommand(aptCache, ['policy', 'docker-compose'], { env: { ...env, LC_ALL: 'C' }, timeoutMs: versionTimeoutMs });
  const candidate = /^\s*Candidate:\s*(\S+)/m.exec(policy.stdout)?.[1];
  return candidate === undefined || candidate === '(none)' ? undefined : candidate;
}

/**
 * The project compose names when run in `dir` without -p: COMPOSE_PROJECT_NAME, else the folder's
 * name normalised as both composes do (lowercase, only a-z 0-9 _ -; v2 also drops a leading _ or -).
 * A clone in a folder of another name than three-tier is a project of that name.
 */
export function composeProjectName(dir: string, env: NodeJS.ProcessEnv): string {
  if (env.COMPOSE_PROJECT_NAME) return env.COMPOSE_PROJECT_NAME;
  const folder = dir.replace(/\/+$/, '').split('/').pop() ?? '';
  return folder.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}
