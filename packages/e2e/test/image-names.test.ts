/**
 * Two compose projects on one machine build images of their own: the compose file names none, so
 * each compose names what it builds after the project (projectImage). Built for real, with every
 * compose installed here, one small service (Redis) per project.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { projectImage } from '@three-tier/deploy';
import { installedComposes, runCommand, type InstalledCompose } from '@three-tier/processes';
import { docker, dockerAnswers, resolveBaseImages } from '@three-tier/release';
import { repoRoot } from '@three-tier/cli-kit';
import { services } from '@three-tier/shared';

const composes = await installedComposes(process.env);

/** The Redis images present, of those named. */
async function present(names: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const name of names) if (await docker(['image', 'inspect', name]).then(() => true, () => false)) found.push(name);
  return found;
}

describe('two compose projects on one machine', () => {
  let env: NodeJS.ProcessEnv;
  const built: string[] = [];

  before(async () => {
    assert.ok(await dockerAnswers(), 'a Docker engine must answer (CI starts dockerd)');
    assert.ok(composes.length > 0, 'a compose must be installed: docker-compose, or the Compose v2 plugin');
    env = { ...process.env };
    Object.assign(env, await resolveBaseImages(env, () => undefined));
  });
  after(async () => {
    // --no-prune: the layers stay, as the build cache of the next run.
    const left = await present(built);
    if (left.length > 0) await docker(['image', 'rm', '--no-prune', ...left]);
    assert.deepEqual(await present(built), [], 'the images built here are removed');
  });

  const build = async ({ command: [program, ...prefix] }: InstalledCompose, project: string): Promise<void> => {
    const result = await runCommand(program, [...prefix, '-p', project, 'build', services.redis], { cwd: repoRoot, env });
    assert.equal(result.code, 0, `${project}: ${result.output.slice(-2_000)}`);
  };

  for (const compose of composes) {
    test(`${compose.command.join(' ')} ${compose.version} builds an image per project, named for it`, async () => {
      const projects = ['a', 'b'].map((letter) => `threetierimg${letter}${compose.flavour}${process.pid}`);
      const names = projects.map((project) => projectImage(project, services.redis, compose.version));
      built.push(...names);
      for (const project of projects) await build(compose, project);
      assert.deepEqual(await present(names), names, 'each project has its own image, the second build took nothing from the first');
      assert.notEqual(names[0], names[1]);
    });
  }
});
