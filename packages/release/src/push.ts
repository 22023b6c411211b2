import { join } from 'node:path';
import { baseImages, imageBuilds, imageRepository, type ImageName } from '@three-tier/deploy';
import { commandOutput } from '@three-tier/processes';
import { releaseVersion, repoRoot } from '@three-tier/cli-kit';
import { resolveBaseImages, shareBuildCa, type BaseImages } from './base-images.js';
import { docker } from './docker.js';

export interface PushOptions {
  /** Everything before `-api`: alice/three-tier on Docker Hub, registry.example.com:5000/three-tier elsewhere. */
  readonly imagePrefix: string;
  /** The server `docker login` talks to; by default the host in imagePrefix, else Docker Hub. */
  readonly registry?: string | undefined;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /** The environment for docker and compose (PATH, DOCKER_CONFIG, base images...). */
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
}

/** The registry host in an image prefix, if it names one (a dot, a port, or localhost). */
export function registryOf(imagePrefix: string): string | undefined {
  const [first, ...rest] = imagePrefix.split('/');
  if (rest.length === 0 || first === undefined) return undefined;
  return /[.:]/.test(first) || first === 'localhost' ? first : undefined;
}

const loopback = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/;

/** The tags every image gets: the commit (marked -dirty with local changes), the version, latest. */
export async function releaseTags(): Promise<string[]> {
  const git = async (...args: string[]) => (await commandOutput('git', args, { cwd: repoRoot })).trim();
  const commit = await git('rev-parse', '--short=12', 'HEAD');
  const dirty = (await git('status', '--porcelain', '--untracked-files=no')) !== '';
  return [dirty ? `${commit}-dirty` : commit, releaseVersion(), 'latest'];
}

/** `docker build` of one image from its Dockerfile and context, on the chosen base. */
async function buildImage(image: ImageName, reference: string, bases: BaseImages, env: NodeJS.ProcessEnv): Promise<void> {
  const { context, dockerfile } = imageBuilds[image];
  const { arg } = baseImages[image];
  await docker(
    ['build', '--quiet', '--tag', reference, '--file', join(repoRoot, dockerfile), '--build-arg', `${arg}=${bases[arg]}`, join(repoRoot, context)],
    env,
  );
}

/**
 * Builds the three images with docker build, tags each with the commit, the version and latest, logs
 * in with the given credentials and pushes every tag. Returns the pushed references.
 */
export async function pushImages(options: PushOptions): Promise<string[]> {
  const { imagePrefix, user, password, log } = options;
  if (!imagePrefix.includes('/')) {
    throw new Error(`IMAGE_PREFIX must name your namespace, e.g. alice/three-tier for Docker Hub (got ${JSON.stringify(imagePrefix)})`);
  }
  const registry = options.registry ?? registryOf(imagePrefix) ?? 'docker.io';
  const [tag = 'latest', ...aliases] = await releaseTags();
  const env: NodeJS.ProcessEnv = { ...options.env, IMAGE_PREFIX: imagePrefix, TAG: tag };
  const bases = await resolveBaseImages(env, log);
  if (Object.values(bases).some((image) => image.startsWith('three-tier-local/')) && !loopback.test(registry)) {
    throw new Error(`refusing to push images built on local stand-in bases to ${registry}: they are for offline testing only`);
  }
  Object.assign(env, bases);
  await shareBuildCa(env);

  // Credentials first: a wrong password should fail in a second, not after a build.
  let loggedIn = false;
  if (user !== undefined && password !== undefined) {
    log(`logging in to ${registry} as ${user}`);
    await docker(['login', registry, '--username', user, '--password-stdin'], env, password);
    loggedIn = true;
  } else {
    log(`REGISTRY_USER/REGISTRY_PASSWORD not set: pushing with the credentials docker already has for ${registry}`);
  }

  const pushed: string[] = [];
  try {
    log(`building ${imagePrefix}-{api,nginx,redis}:${tag}`);
    for (const image of Object.keys(imageBuilds) as ImageName[]) await buildImage(image, `${imageRepository(imagePrefix, image)}:${tag}`, bases, env);
    for (const image of Object.keys(imageBuilds) as ImageName[]) {
      const repository = imageRepository(imagePrefix, image);
      for (const alias of aliases) await docker(['tag', `${repository}:${tag}`, `${repository}:${alias}`], env);
      for (const name of [tag, ...aliases]) {
        log(`pushing ${repository}:${name}`);
        await docker(['push', '--quiet', `${repository}:${name}`], env);
        pushed.push(`${repository}:${name}`);
      }
    }
  } finally {
    if (loggedIn) await docker(['logout', registry], env).catch(() => undefined);
  }
  return pushed;
}
