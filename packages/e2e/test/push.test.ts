import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { imageBuilds, imageRepository, type ImageName } from '@three-tier/deploy';
import { findBinary, freePort, runCommand } from '@three-tier/processes';
import { docker, dockerAnswers, registryOf, releaseTags, resolveBaseImages } from '@three-tier/release';
import { repoRoot } from '@three-tier/cli-kit';
import { routeIds } from '@three-tier/shared';
import { ComposeStack, dockerBridgeClient, probeTarget, Registry, routeProbes } from '../src/index.js';

const cli = fileURLToPath(import.meta.resolve('@three-tier/release/cli'));
const user = 'pusher';
const password = 'a-test-password-for-a-loopback-registry';

describe('registryOf', () => {
  test('finds the registry host in an image prefix, and only a host', () => {
    assert.equal(registryOf('alice/three-tier'), undefined);
    assert.equal(registryOf('127.0.0.1:5000/three-tier'), '127.0.0.1:5000');
    assert.equal(registryOf('registry.example.com/team/three-tier'), 'registry.example.com');
    assert.equal(registryOf('localhost/three-tier'), 'localhost');
    assert.equal(registryOf('three-tier'), undefined);
  });
});

describe('npm run images:push, against a real registry with authentication', () => {
  let registry: Registry;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let prefix: string;
  let tags: string[];

  before(async () => {
    assert.ok(await dockerAnswers(), 'a Docker engine must answer');
    const bin = findBinary('docker-registry', process.env);
    const htpasswd = findBinary('htpasswd', process.env);
    assert.ok(bin && htpasswd, 'docker-registry and htpasswd must be installed (npm test installs them as root)');
    dir = await mkdtemp(join(tmpdir(), 'registry-test-'));
    registry = new Registry({ bin, htpasswd, port: await freePort(), dir, user, password });
    await registry.start();
    prefix = `${registry.address}/three-tier`;
    // A docker config of its own: logins here never touch this machine's.
    env = { ...process.env, DOCKER_CONFIG: join(dir, 'docker-config') };
    Object.assign(env, await resolveBaseImages(env, () => undefined));
    tags = await releaseTags();
  });
  after(async () => {
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
    // The tags the push made (and the pull brought back) name a registry that is gone now.
    const references = prefix && tags ? (Object.keys(imageBuilds) as ImageName[]).flatMap((image) => tags.map((tag) => `${imageRepository(prefix, image)}:${tag}`)) : [];
    const present = async (): Promise<string[]> => {
      const found: string[] = [];
      for (const reference of references) {
        if (await docker(['image', 'inspect', reference]).then(() => true, () => false)) found.push(reference);
      }
      return found;
    };
    const left = await present();
    // --no-prune: the untagged layers stay, as the build cache of the next run.
    if (left.length > 0) await docker(['image', 'rm', '--no-prune', ...left]);
    assert.deepEqual(await present(), [], 'no pushed image tag is left behind');
  });

  test('refuses an IMAGE_PREFIX without a namespace, before building anything', () => {
    const result = spawnSync(process.execPath, [cli, 'images-push'], { env: { ...env, IMAGE_PREFIX: 'three-tier' }, encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /IMAGE_PREFIX must name your namespace, e\.g\. alice\/three-tier/);
  });

  test('a wrong password fails the login and pushes nothing', async () => {
    const result = await runCommand(process.execPath, [cli, 'images-push'], {
      cwd: repoRoot,
      env: {
        ...env,
        IMAGE_PREFIX: prefix,
        REGISTRY_USER: user,
        REGISTRY_PASSWORD: 'wrong',
      },
    });
    assert.equal(result.code, 1, result.output);
    assert.match(result.output, /docker login 127\.0\.0\.1:\d+ --username pusher --password-stdin failed/);
    assert.doesNotMatch(result.output, /building/, 'it failed before building');
    const catalog = await fetch(`http://${registry.address}/v2/_catalog`, { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } });
    assert.deepEqual(((await catalog.json()) as { repositories: string[] }).repositories, []);
  });

  test('builds, logs in and pushes every image as commit, version and latest', async () => {
    const result = await runCommand('npm', ['run', '--silent', 'images:push'], {
      cwd: repoRoot,
      env: {
        ...env,
        IMAGE_PREFIX: prefix,
        REGISTRY_USER: user,
        REGISTRY_PASSWORD: password,
      },
    });
    assert.equal(result.code, 0, result.output);
    const images = Object.keys(imageBuilds) as ImageName[];
    const expected = images.flatMap((image) => tags.map((tag) => `pushed ${imageRepository(prefix, image)}:${tag}`));
    for (const line of expected) assert.ok(result.output.includes(line), `${line} in:\n${result.output}`);

    const auth = { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
    const catalog = (await (await fetch(`http://${registry.address}/v2/_catalog`, { headers: auth })).json()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories.sort(), images.map((image) => imageRepository('three-tier', image)).sort());
    for (const repository of catalog.repositories) {
      const list = (await (await fetch(`http://${registry.address}/v2/${repository}/tags/list`, { headers: auth })).json()) as { tags: string[] };
      assert.deepEqual(list.tags.sort(), [...tags].sort(), repository);
    }
    assert.equal((await fetch(`http://${registry.address}/v2/_catalog`)).status, 401, 'nothing without credentials');
    // The login was for the push only: no credentials are left behind.
    const config = JSON.parse(await readFile(join(dir, 'docker-config', 'config.json'), 'utf8')) as { auths?: Record<string, unknown> };
    assert.equal(config.auths?.[registry.address], undefined);
  });

  test('the pushed images, removed here and pulled back, run the stack', async () => {
    const [tag = 'latest'] = tags;
    const references = (Object.keys(imageBuilds) as ImageName[]).flatMap((image) =>
      tags.map((name) => `${imageRepository(prefix, image)}:${name}`),
    );
    await docker(['image', 'rm', ...references], env);
    for (const reference of references) {
      await assert.rejects(docker(['image', 'inspect', reference], env), `${reference} is gone locally`);
    }
    await docker(['login', registry.address, '--username', user, '--password-stdin'], env, password);
    const stack = await ComposeStack.create({
      project: `threetierpulled${process.pid}`,
      httpPort: await freePort(),
      env,
      registry: { prefix, tag },
    });
    try {
      await stack.pull();
      for (const image of Object.keys(imageBuilds) as ImageName[]) {
        await docker(['image', 'inspect', `${imageRepository(prefix, image)}:${tag}`], env);
      }
      await stack.up(1);
      const target = probeTarget(stack.url, dockerBridgeClient);
      for (const id of routeIds) await routeProbes[id](target);
    } finally {
      await stack.down(true);
      await docker(['logout', registry.address], env).catch(() => undefined);
    }
  });
});
