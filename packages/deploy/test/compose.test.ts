import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { installedComposes, packagedComposeVersion, type InstalledCompose } from '@three-tier/processes';
import { exporters, nginxStatus, prometheusServer } from '@three-tier/observability';
import { apiEnvSchema, edge, ports, services } from '@three-tier/shared';
import {
  baseImages,
  composeFile,
  generatedFiles,
  imageBuilds,
  imageUsers,
  monitoringImages,
  monitoringUser,
  observabilityProfile,
  projectImage,
  prometheusPublished,
  registryComposePath,
  registryOverride,
  type ImageName,
} from '../src/index.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const compose = composeFile();
const service = (name: string) => {
  const found = compose.services?.[name];
  assert.ok(found, `service ${name}`);
  return found;
};

describe('generated files', () => {
  test('what is committed is what the generator writes (npm run generate after a change)', async () => {
    for (const [path, content] of Object.entries(generatedFiles())) {
      assert.equal(await readFile(join(root, path), 'utf8'), content, `${path} is out of date: run npm run generate`);
    }
  });

  test('deploy-generate --check agrees', () => {
    const result = spawnSync(process.execPath, [cli, '--check'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  });
});

describe('the Dockerfiles agree with the contract', () => {
  for (const image of Object.keys(imageBuilds) as ImageName[]) {
    test(`${image}: base image argument, user and port`, async () => {
      const dockerfile = await readFile(join(root, imageBuilds[image].dockerfile), 'utf8');
      const { arg, default: official } = baseImages[image];
      assert.match(dockerfile, new RegExp(`^ARG ${arg}=${official.replace(/[.]/g, '\\.')}$`, 'm'));
      assert.match(dockerfile, new RegExp(`^FROM \\$\\{${arg}\\}`, 'm'));
      const { uid, gid } = imageUsers[image];
      const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((match) => match[1]);
      assert.deepEqual(users.slice(-1), [`${uid}:${gid}`], 'the last USER is the unprivileged one');
      const port = { api: ports.api, edge: ports.edge, redis: ports.redis }[image];
      assert.match(dockerfile, new RegExp(`^EXPOSE ${port}$`, 'm'));
      assert.match(dockerfile, /^(CMD|ENTRYPOINT) \[/m, 'exec form, so signals reach the process');
    });
  }
});

describe('the observability images\' Dockerfiles', () => {
  for (const [image, { base, build }] of Object.entries(monitoringImages)) {
    test(`${image}: base image argument, nobody, exec form`, async () => {
      const dockerfile = await readFile(join(root, build.dockerfile), 'utf8');
      assert.match(dockerfile, new RegExp(`^ARG ${base.arg}=${base.default.replace(/[.]/g, '\\.')}$`, 'm'));
      assert.match(dockerfile, new RegExp(`^FROM \\$\\{${base.arg}\\}`, 'm'));
      assert.deepEqual([...dockerfile.matchAll(/^USER (\S+)$/gm)].map((match) => match[1]), [`${monitoringUser.uid}:${monitoringUser.gid}`]);
      assert.match(dockerfile, /^ENTRYPOINT \[/m);
    });
  }
});

describe('docker-compose.yml', () => {
  test('has the three services, named as the contract names them, and the observability profile\'s three', () => {
    assert.deepEqual(
      Object.keys(compose.services ?? {}).sort(),
      [services.api, services.edge, services.redis, prometheusServer.service, exporters.nginx.service, exporters.redis.service].sort(),
    );
    for (const name of [prometheusServer.service, exporters.nginx.service, exporters.redis.service]) {
      assert.deepEqual(service(name).profiles, [observabilityProfile], name);
    }
    for (const name of Object.values(services)) assert.equal(service(name).profiles, undefined, name);
  });

  test('hardens every service: read-only root, no capabilities, no new privileges, init, health check, restart', () => {
    for (const name of Object.values(services)) {
      const s = service(name);
      assert.equal(s.read_only, true, name);
      assert.deepEqual(s.cap_drop, ['ALL'], name);
      assert.deepEqual(s.security_opt, ['no-new-privileges:true'], name);
      assert.equal(s.init, true, name);
      assert.equal(s.restart, 'unless-stopped', name);
      assert.ok(s.healthcheck?.test, `${name} health check`);
      assert.ok(s.stop_grace_period, `${name} stop grace period`);
    }
    // The exporters' official images have no shell and no client for a health check: Prometheus's
    // `up` is theirs (the compose test proves it is 1).
    for (const name of [prometheusServer.service, exporters.nginx.service, exporters.redis.service]) {
      const s = service(name);
      assert.equal(s.read_only, true, name);
      assert.deepEqual(s.cap_drop, ['ALL'], name);
      assert.deepEqual(s.security_opt, ['no-new-privileges:true'], name);
      assert.equal(s.init, true, name);
    }
    assert.ok(service(prometheusServer.service).healthcheck?.test, 'prometheus health check');
  });

  test('Redis sits on the internal network only and publishes nothing; nginx never joins it', () => {
    assert.deepEqual(service(services.redis).networks, ['backend']);
    assert.equal(service(services.redis).ports, undefined);
    assert.deepEqual(service(services.edge).networks, ['frontend', 'metrics']);
    assert.deepEqual(service(services.api).networks, ['frontend', 'backend', 'metrics']);
    assert.deepEqual(compose.networks?.backend, { internal: true });
  });

  test('the observability profile scrapes on the internal metrics network; only Prometheus is published, on 127.0.0.1', () => {
    assert.deepEqual(compose.networks?.metrics, { internal: true });
    assert.deepEqual(service(exporters.nginx.service).networks, ['metrics']);
    assert.deepEqual(service(exporters.redis.service).networks, ['backend', 'metrics']);
    // monitoring-ui: Prometheus alone, so its port can be published; everything else it reaches over metrics.
    assert.deepEqual(service(prometheusServer.service).networks, ['metrics', 'monitoring-ui']);
    const joined = Object.values(compose.services ?? {}).filter((s) => (s.networks as string[] | undefined)?.includes('monitoring-ui'));
    assert.equal(joined.length, 1);
    assert.deepEqual(service(prometheusServer.service).ports, [prometheusPublished]);
    assert.match(prometheusPublished, /^127\.0\.0\.1:/);
    for (const name of [exporters.nginx.service, exporters.redis.service]) assert.equal(service(name).ports, undefined, name);
    // nginx's status port is never published.
    assert.ok(!JSON.stringify(service(services.edge).ports).includes(String(nginxStatus.port)));
  });

  test('publishes only nginx, on 127.0.0.1 by default', () => {
    assert.deepEqual(service(services.edge).ports, [`\${HTTP_HOST:-127.0.0.1}:\${HTTP_PORT:-80}:${ports.edge}`]);
    assert.equal(service(services.api).ports, undefined);
  });

  test('health checks probe the paths of the contract', () => {
    assert.ok(service(services.edge).healthcheck?.test?.includes(`http://127.0.0.1:${ports.edge}${edge.healthPath}`));
  });

  test('gives the api only variables its schema knows, and the api time to drain before it is killed', () => {
    const environment = service(services.api).environment as Record<string, string>;
    for (const name of Object.keys(environment)) assert.ok(name in apiEnvSchema.shape, name);
    const drainMs = Number(environment.SHUTDOWN_DELAY_MS) + Number(environment.SHUTDOWN_TIMEOUT_MS);
    assert.ok(Number.parseInt(String(service(services.api).stop_grace_period), 10) * 1_000 > drainMs);
  });

  test('names no image, so that each compose names its builds after the project; takes the base images from the environment', () => {
    for (const [name, s] of Object.entries(compose.services ?? {})) assert.equal(s.image, undefined, name);
    for (const image of Object.keys(imageBuilds) as ImageName[]) {
      const build = service(services[image]).build as { args: Record<string, string> };
      const { arg, default: official } = baseImages[image];
      assert.equal(build.args[arg], `\${${arg}:-${official}}`);
    }
    for (const [image, { base }] of Object.entries(monitoringImages)) {
      assert.equal((service(image).build as { args: Record<string, string> }).args[base.arg], `\${${base.arg}:-${base.default}}`);
    }
  });

  test('the registry override names the pushed images <IMAGE_PREFIX>-<service>:<TAG>, and no other', () => {
    const override = registryOverride(compose);
    const prefix = '${IMAGE_PREFIX:?set IMAGE_PREFIX to what npm run images:push pushed, e.g. alice/three-tier}';
    assert.deepEqual(
      override.services,
      Object.fromEntries((Object.keys(imageBuilds) as ImageName[]).map((image) => [services[image], { image: `${prefix}-${services[image]}:\${TAG:-latest}` }])),
    );
    // A file that builds one Dockerfile for several services (the replicated Redis's members) names one image for all.
    const twins = registryOverride({ services: { 'redis-0': service(services.redis), 'sentinel-0': service(services.redis) } });
    assert.deepEqual(Object.values(twins.services ?? {}).map((s) => s.image), [`${prefix}-redis:\${TAG:-latest}`, `${prefix}-redis:\${TAG:-latest}`]);
  });

  test('projectImage: the project and the service, as Compose v2 and docker-compose 1.29 each spell them', () => {
    assert.equal(projectImage('alpha', 'api', '2.26.1'), 'alpha-api:latest');
    assert.equal(projectImage('beta', 'nginx', '2.40.0'), 'beta-nginx:latest');
    assert.equal(projectImage('alpha', 'api', '1.29.2'), 'alpha_api:latest');
    assert.notEqual(projectImage('alpha', 'redis', '2.26.1'), projectImage('beta', 'redis', '2.26.1'));
  });

  test('Compose v2 names the images of two projects as projectImage says (config --images; 1.29 has none: the e2e build proves it)', async () => {
    const v2 = (await installedComposes(process.env)).filter(({ version }) => version.startsWith('2.'));
    for (const { command: [program, ...prefix], version } of v2) {
      for (const project of ['alpha', 'beta']) {
        const result = spawnSync(program, [...prefix, '-p', project, '--profile', observabilityProfile, 'config', '--images'], { cwd: root, encoding: 'utf8' });
        assert.equal(result.status, 0, result.stderr);
        const expected = Object.keys(compose.services ?? {}).map((name) => projectImage(project, name, version).replace(/:latest$/, ''));
        assert.deepEqual(result.stdout.trim().split('\n').sort(), expected.sort());
      }
    }
  });

  test('is valid for every compose on this machine (docker-compose 1.29 and/or Compose v2)', async () => {
    const installed = await installedComposes(process.env);
    assert.ok(installed.length > 0, 'a compose must be installed (npm test installs docker-compose as root)');
    for (const { command: [program, ...prefix] } of installed) {
      const result = spawnSync(program, [...prefix, 'config', '--quiet'], { cwd: root, encoding: 'utf8' });
      assert.equal(result.status, 0, `${[program, ...prefix].join(' ')} config --quiet: ${result.stderr}`);
    }
  });

  test('with the registry override, every compose here names the pushed images, and asks for IMAGE_PREFIX without one', async () => {
    const files = ['-f', 'docker-compose.yml', '-f', registryComposePath];
    const env = { ...process.env, IMAGE_PREFIX: 'alice/three-tier', TAG: '1.0.0' };
    for (const { command: [program, ...prefix] } of await installedComposes(process.env)) {
      const named = spawnSync(program, [...prefix, ...files, 'config'], { cwd: root, encoding: 'utf8', env });
      assert.equal(named.status, 0, named.stderr);
      for (const image of Object.keys(imageBuilds) as ImageName[]) assert.match(named.stdout, new RegExp(`image: alice/three-tier-${services[image]}:1\\.0\\.0$`, 'm'));
      const unnamed = spawnSync(program, [...prefix, ...files, 'config', '--quiet'], { cwd: root, encoding: 'utf8', env: { ...env, IMAGE_PREFIX: '' } });
      assert.notEqual(unnamed.status, 0);
      assert.match(unnamed.stderr, /set IMAGE_PREFIX to what npm run images:push pushed/);
    }
  });
});

/**
 * What is wrong with the composes a machine has, for proving the compose file with each: none at
 * all; one of a version the file is not written for; and under CI, Compose v2 missing, or
 * docker-compose 1.29 missing where the distribution packages it (Debian 12; Debian 13 packages
 * only v2, and 1.29 cannot be had there without PyPI).
 */
function composeProblems(installed: readonly InstalledCompose[], packaged: string | undefined, ci: boolean): string[] {
  const problems: string[] = [];
  if (installed.length === 0) problems.push('no Docker Compose: install docker-compose or the Compose v2 plugin (npm test does, as root)');
  for (const { flavour, command, version } of installed) {
    const expected = flavour === 'plugin' ? /^2\./ : /^(1\.29|2)\./;
    if (!expected.test(version)) problems.push(`${command.join(' ')} is ${version}: the compose file is written for Compose v2 and docker-compose 1.29`);
  }
  if (!ci) return problems;
  if (!installed.some(({ version }) => version.startsWith('2.'))) problems.push('CI proves the compose file with Compose v2, and none is installed (.ci/run adds the plugin)');
  const standalone129 = installed.some(({ flavour, version }) => flavour === 'standalone' && version.startsWith('1.29.'));
  if (packaged?.startsWith('1.29.') && !standalone129) {
    problems.push(`this distribution packages docker-compose ${packaged}, and CI proves the compose file with it too: it is not installed`);
  }
  return problems;
}

describe('the composes that prove the file', () => {
  const plugin: InstalledCompose = { flavour: 'plugin', command: ['/usr/bin/docker', 'compose'], version: '2.26.1' };
  const v129: InstalledCompose = { flavour: 'standalone', command: ['/usr/bin/docker-compose'], version: '1.29.2' };

  test('are what this machine should have: decided from what is installed and what the distribution packages', async () => {
    const installed = await installedComposes(process.env);
    const packaged = await packagedComposeVersion(process.env);
    assert.deepEqual(composeProblems(installed, packaged, process.env.CI === 'true'), [], `installed: ${JSON.stringify(installed)}; packaged: ${packaged ?? 'none'}`);
  });

  test('the rule: none at all always fails; one of another version fails', () => {
    assert.equal(composeProblems([], undefined, false).length, 1);
    assert.match(composeProblems([{ ...plugin, version: '1.27.4' }], undefined, false).join(), /docker compose is 1\.27\.4/);
    assert.match(composeProblems([{ ...v129, version: '1.25.0' }], undefined, false).join(), /docker-compose is 1\.25\.0/);
    assert.deepEqual(composeProblems([v129], '1.29.2-3', false), [], 'outside CI, one compose is enough');
  });

  test('the rule under CI: Compose v2 always, and docker-compose 1.29 where the distribution packages it', () => {
    assert.deepEqual(composeProblems([plugin, v129], '1.29.2-3', true), []);
    assert.match(composeProblems([plugin], '1.29.2-3', true).join(), /packages docker-compose 1\.29\.2-3.*not installed/);
    assert.match(composeProblems([v129], '1.29.2-3', true).join(), /Compose v2, and none is installed/);
    // Debian 13: only v2 is packaged, and a v2 docker-compose binary counts as v2.
    assert.deepEqual(composeProblems([plugin], '2.26.1-4', true), []);
    assert.deepEqual(composeProblems([{ ...v129, version: '2.26.1' }], '2.26.1-4', true), []);
    assert.equal(composeProblems([], undefined, true).length, 2);
  });
});

describe('npm run generate (the documented command)', () => {
  test('rewrites nothing when the committed files are current', () => {
    const result = spawnSync('npm', ['run', '--silent', 'generate'], { cwd: root, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.doesNotMatch(result.stdout, /wrote/);
  });
});
