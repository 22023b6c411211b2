import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { baseImages, monitoringImages, type ImageName } from '@three-tier/deploy';
import { runCommand } from '@three-tier/processes';
import { repoRoot } from '@three-tier/cli-kit';
import { docker } from './docker.js';

export type BaseImages = Record<(typeof baseImages)[ImageName]['arg'], string>;

async function available(image: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (await docker(['image', 'inspect', image], env).then(() => true, () => false)) return true;
  return docker(['pull', '--quiet', image], env).then(() => true, () => false);
}

/** Runs scripts/docker-bases.sh, its progress (stderr) logged as it goes, and reads the NAME=value lines it prints. */
async function buildStandIns(env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<Record<string, string>> {
  const { code, stdout } = await runCommand('bash', [join(repoRoot, 'scripts/docker-bases.sh')], {
    env,
    onLine: (line, stream) => {
      if (stream === 'stderr' && line !== '') log(line);
    },
  });
  if (code !== 0) throw new Error(`npm run docker:bases failed (exit ${String(code)})`);
  return Object.fromEntries(
    stdout
      .split('\n')
      .map((line) => /^(?:export )?([A-Z_]+)=(\S+)$/.exec(line.trim()))
      .flatMap((match) => (match?.[1] && match[2] ? [[match[1], match[2]]] : [])),
  );
}

/**
 * The base image of each build: the one the environment names, else the official one when it is
 * here or can be pulled, else (no Docker Hub) the local stand-ins of `npm run docker:bases`. With
 * `monitoring`, the observability profile's too (PROMETHEUS_IMAGE...).
 */
export async function resolveBaseImages(
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  { monitoring = false }: { monitoring?: boolean } = {},
): Promise<BaseImages & Record<string, string>> {
  const chosen: Partial<Record<string, string>> = {};
  const missing: string[] = [];
  const wanted = [...Object.values(baseImages), ...(monitoring ? Object.values(monitoringImages).map(({ base }) => base) : [])];
  for (const { arg, default: official } of wanted) {
    const named = env[arg];
    if (named) chosen[arg] = named;
    else if (await available(official, env)) chosen[arg] = official;
    else missing.push(arg);
  }
  if (missing.length > 0) {
    log(`cannot pull ${missing.join(', ')} (no Docker Hub?): using the local stand-ins of npm run docker:bases`);
    const standIns = await buildStandIns(env, log);
    for (const arg of missing) chosen[arg] = standIns[arg];
  }
  for (const { arg } of wanted) {
    if (!chosen[arg]) throw new Error(`no base image for ${arg}`);
  }
  return chosen as BaseImages & Record<string, string>;
}

/**
 * Image builds that reach the npm registry trust the CA this machine's Node trusts
 * (NODE_EXTRA_CA_CERTS), through docker/certs/extra-ca.pem. Only build stages read it.
 */
export async function shareBuildCa(env: NodeJS.ProcessEnv): Promise<void> {
  const source = env.NODE_EXTRA_CA_CERTS;
  if (!source) return;
  const target = join(repoRoot, 'docker/certs/extra-ca.pem');
  const [wanted, current] = await Promise.all([readFile(source).catch(() => undefined), readFile(target).catch(() => undefined)]);
  if (wanted && !(current && wanted.equals(current))) await copyFile(source, target);
}
