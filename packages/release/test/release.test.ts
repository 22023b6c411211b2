import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { registryOf, releaseTags } from '../src/index.js';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

describe('registryOf', () => {
  test('finds a registry host only where the prefix names one', () => {
    assert.equal(registryOf('alice/three-tier'), undefined);
    assert.equal(registryOf('three-tier'), undefined);
    assert.equal(registryOf('registry.example.com/team/three-tier'), 'registry.example.com');
    assert.equal(registryOf('127.0.0.1:5000/three-tier'), '127.0.0.1:5000');
    assert.equal(registryOf('localhost/three-tier'), 'localhost');
  });
});

describe('releaseTags', () => {
  test('the commit (12 characters, -dirty with local changes), the version, latest', async () => {
    const [commit, version, latest] = await releaseTags();
    assert.match(commit ?? '', /^[0-9a-f]{12}(-dirty)?$/);
    assert.match(version ?? '', /^\d+\.\d+\.\d+/);
    assert.equal(latest, 'latest');
  });
});

describe('images-push (the CLI)', () => {
  test('--help prints the usage and exits 0', () => {
    const result = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    assert.equal(result.status, 0);
    assert.match(result.stdout, /^usage: three-tier-release images-push/);
  });

  test('names what is wrong with its environment before doing anything', () => {
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, [cli, 'images-push'], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
    const unset = run({});
    assert.equal(unset.status, 1);
    assert.match(unset.stderr, /IMAGE_PREFIX is not set/);
    const half = run({ IMAGE_PREFIX: 'alice/three-tier', REGISTRY_USER: 'alice' });
    assert.equal(half.status, 1);
    assert.match(half.stderr, /REGISTRY_USER and REGISTRY_PASSWORD go together/);
  });

  test('an unknown command is a usage error (exit 2)', () => {
    const result = spawnSync(process.execPath, [cli, 'images-pull'], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /unknown command "images-pull"/);
  });
});
