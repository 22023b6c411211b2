/**
 * Which Docker Compose this machine has. Debian 12 packages only the standalone docker-compose
 * (1.29); Debian 13 and Docker's own packages add Compose v2 as the `docker compose` plugin. The
 * code runs on both, so every caller asks here rather than assuming one.
 */
import { findBinary } from './binaries.js';
import { commandOutput, runCommand } from './command.js';

/** `plugin`: Compose v2 as `docker compose`. `standalone`: the docker-compose binary (1.29, or v2). */
export type ComposeFlavour = 'plugin' | 'standalone';

/** The composes this machine has, the plugin first. */
export async function composeFlavours(env: NodeJS.ProcessEnv): Promise<ComposeFlavour[]> {
  const flavours: ComposeFlavour[] = [];
  const plugin = await runCommand('docker', ['compose', 'version'], { env }).then(
    (result) => result.code === 0,
    () => false,
  );
  if (plugin) flavours.push('plugin');
  if (findBinary('docker-compose', env)) flavours.push('standalone');
  return flavours;
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

/** The version a compose reports, e.g. 2.26.1 or 1.29.2. */
export async function composeVersion(flavour: ComposeFlavour, env: NodeJS.ProcessEnv): Promise<string> {
  const [file, ...prefix] = composeCommand(flavour);
  return (await commandOutput(file, [...prefix, 'version', '--short'], { env })).trim();
}
