/**
 * Container figures: image sizes against their base images and `docker compose up` to the first
 * 200 from /readyz. Only when a Docker engine answers and the images are built; never a failure.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectImage } from '@three-tier/deploy';
import { freePort, installedComposes, runCommand, type CommandResult } from '@three-tier/processes';
import { repoRoot } from '@three-tier/cli-kit';
import { routes, services } from '@three-tier/shared';
import { firstOk } from './children.js';

export interface ImageSize {
  readonly image: string;
  readonly bytes: number;
  readonly base: string;
  /** Undefined when the base image is not on this machine. */
  readonly baseBytes: number | undefined;
}

export type ContainerFigures =
  | { readonly measured: false; readonly reason: string }
  | { readonly measured: true; readonly images: readonly ImageSize[]; readonly composeUpMs: readonly number[]; readonly compose: string };

/**
 * How many times the bench brings the stack up from nothing: one run on a shared machine is at the
 * mercy of whatever else starts then; the report gives the median and each run.
 */
export const composeUpRuns = 3;

/** Runs a command to its end, SIGKILLed after `timeoutMs`; never throws (a command not found is an outcome too). */
async function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CommandResult> {
  return runCommand(command, args, { cwd: repoRoot, env, timeoutMs, killSignal: 'SIGKILL' }).catch((error: unknown) => ({
    code: null,
    stdout: '',
    stderr: (error as Error).message,
    output: (error as Error).message,
  }));
}

async function imageBytes(image: string, env: NodeJS.ProcessEnv): Promise<number | undefined> {
  const result = await run('docker', ['image', 'inspect', '--format', '{{.Size}}', image], env, 20_000);
  return result.code === 0 ? Number(result.stdout.trim()) : undefined;
}

/** The default of a Dockerfile's `ARG name=…`, the base image when no variable overrides it. */
function argDefault(dockerfile: string, name: string): string {
  const text = readFileSync(join(repoRoot, 'docker', dockerfile, 'Dockerfile'), 'utf8');
  return new RegExp(`^ARG ${name}=(\\S+)`, 'm').exec(text)?.[1] ?? '(unknown)';
}

const firstLine = (text: string): string => text.trim().split('\n')[0] ?? '';

/** The bench's compose project: its containers, and the images compose names for it. */
const benchProject = 'threetierbench';

/**
 * @param env the bench's environment: docker's own settings and NODE_IMAGE, NGINX_IMAGE, REDIS_IMAGE
 */
export async function measureContainers(env: NodeJS.ProcessEnv, progress: (message: string) => void): Promise<ContainerFigures> {
  const info = await run('docker', ['info', '--format', '{{.ServerVersion}}'], env, 15_000);
  if (info.code !== 0) return { measured: false, reason: `docker info did not answer (${firstLine(info.stderr) || 'timed out'})` };
  const [installed] = await installedComposes(env);
  if (!installed) return { measured: false, reason: 'no Docker Compose here: install docker-compose, or the Compose v2 plugin' };
  const [command, ...prefix] = installed.command;
  const compose = [command, ...prefix].join(' ');
  // Images of the bench's own project, named for it by compose, built here when missing (from the
  // build cache the tests leave, a few seconds) and removed at the end.
  const image = (service: string): string => projectImage(benchProject, service, installed.version);
  const tiers = [
    { image: image(services.api), dockerfile: 'api', arg: 'NODE_IMAGE' },
    { image: image(services.edge), dockerfile: 'nginx', arg: 'NGINX_IMAGE' },
    { image: image(services.redis), dockerfile: 'redis', arg: 'REDIS_IMAGE' },
  ] as const;
  let built = false;
  if ((await Promise.all(tiers.map((tier) => imageBytes(tier.image, env)))).includes(undefined)) {
    progress(`${compose} -p ${benchProject} build`);
    const build = await run(command, [...prefix, '-p', benchProject, 'build'], env, 900_000);
    if (build.code !== 0) {
      return { measured: false, reason: `${compose} build failed (no base images? npm run docker:bases): ${firstLine(build.stderr.split('\n').slice(-3).join('\n'))}` };
    }
    built = true;
  }
  const images: ImageSize[] = [];
  try {
    for (const tier of tiers) {
      const bytes = await imageBytes(tier.image, env);
      if (bytes === undefined) return { measured: false, reason: `image ${tier.image} was not built` };
      const base = env[tier.arg] || argDefault(tier.dockerfile, tier.arg);
      images.push({ image: tier.image, bytes, base, baseBytes: await imageBytes(base, env) });
    }
    return await composeUp(command, prefix, compose, env, images, progress);
  } finally {
    if (built) await run('docker', ['rmi', ...tiers.map((tier) => tier.image)], env, 60_000);
  }
}

async function composeUp(
  command: string,
  prefix: readonly string[],
  compose: string,
  env: NodeJS.ProcessEnv,
  images: readonly ImageSize[],
  progress: (message: string) => void,
): Promise<ContainerFigures> {
  const composeUpMs: number[] = [];
  for (let round = 1; round <= composeUpRuns; round += 1) {
    const measured = await composeUpOnce(command, prefix, compose, env, progress, round);
    if (typeof measured === 'string') return { measured: false, reason: measured };
    composeUpMs.push(measured);
  }
  return { measured: true, images, composeUpMs, compose };
}

/** `up -d` from nothing to the first 200 from /readyz through nginx, in ms, then `down --volumes`; or why not. */
async function composeUpOnce(
  command: string,
  prefix: readonly string[],
  compose: string,
  env: NodeJS.ProcessEnv,
  progress: (message: string) => void,
  round: number,
): Promise<number | string> {
  const port = await freePort();
  const composeEnv = { ...env, HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1' };
  const project = [...prefix, '-p', benchProject];
  progress(`${compose} up -d --no-build (project ${benchProject}, port ${port}), ${round}/${composeUpRuns}`);
  const started = performance.now();
  try {
    const up = await run(command, [...project, 'up', '-d', '--no-build'], composeEnv, 120_000);
    if (up.code !== 0) return `${compose} up failed: ${firstLine(up.stderr.split('\n').slice(-3).join('\n'))}`;
    return await firstOk(`http://127.0.0.1:${port}${routes.readyz.path}`, 120_000, started);
  } catch (error) {
    return `${compose} up: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    progress(`${compose} down --volumes`);
    await run(command, [...project, 'down', '--volumes', '--timeout', '10'], composeEnv, 120_000);
  }
}
