import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { generateFiles } from '@three-tier/nginx';
import { checkNginxConfigInScratch, findBinaries } from '@three-tier/processes';
import { repoRoot } from '@three-tier/cli-kit';
import { nativeExample, nativeTarget } from '../src/index.js';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
/**
 * The native config with the default environment, pinned. The test only reads it; after an
 * intended change, rewrite it with docs/nginx.md's command:
 *   npm run --silent nginx:config > packages/runner/test/golden/native.conf
 */
const golden = fileURLToPath(new URL('../../test/golden/native.conf', import.meta.url));
const bare = { PATH: process.env.PATH };

describe('the native nginx target', () => {
  test('with the documented defaults, matches test/golden/native.conf', async () => {
    assert.equal(generateFiles(nativeTarget(nativeExample))['nginx.conf'], await readFile(golden, 'utf8'));
  });

  test('passes the real nginx -t', async () => {
    const check = await checkNginxConfigInScratch(
      findBinaries(process.env).nginx,
      (prefix) => generateFiles(nativeTarget({ ...nativeExample, prefix, accessLogPath: join(prefix, 'access.log') }))['nginx.conf'] ?? '',
    );
    assert.ok(check.ok, check.output);
  });
});

describe('three-tier nginx-config (npm run nginx:config)', () => {
  test('prints the config npm start runs: the golden one for the default environment, nothing else', async () => {
    const result = spawnSync(process.execPath, [cli, 'nginx-config'], { env: bare, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, await readFile(golden, 'utf8'));
  });

  test('follows EDGE_HOST, EDGE_PORT and API_PORT, as npm start does', () => {
    const env = { ...bare, EDGE_HOST: '0.0.0.0', EDGE_PORT: '9090', API_PORT: '4000' };
    const result = spawnSync(process.execPath, [cli, 'nginx-config', '--prefix', '/tmp/p'], { env, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /listen 0\.0\.0\.0:9090;/);
    assert.match(result.stdout, /server 127\.0\.0\.1:4000 /);
    assert.match(result.stdout, /pid \/tmp\/p\/nginx\.pid;/);
  });

  test('--output writes only the file; progress goes to stderr', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nginx-config-'));
    try {
      const file = join(dir, 'nginx.conf');
      const result = spawnSync(process.execPath, [cli, 'nginx-config', '--output', file], { env: bare, encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /wrote .*nginx\.conf/);
      assert.equal(await readFile(file, 'utf8'), await readFile(golden, 'utf8'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('--help prints the usage and exits 0; bad options and settings exit 2 and 1 with a message', () => {
    const help = spawnSync(process.execPath, [cli, '--help'], { env: bare, encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: three-tier <command>/);
    assert.match(help.stdout, /nginx-config/);
    for (const args of [['nginx-config', '--access-log-port', '5514'], ['nginx-config', '--nope'], ['mars']]) {
      const result = spawnSync(process.execPath, [cli, ...args], { env: bare, encoding: 'utf8' });
      assert.equal(result.status, 2, args.join(' '));
      assert.match(result.stderr, /^three-tier: /);
    }
    const badPort = spawnSync(process.execPath, [cli, 'nginx-config'], { env: { ...bare, EDGE_PORT: 'http' }, encoding: 'utf8' });
    assert.equal(badPort.status, 1);
    assert.match(badPort.stderr, /EDGE_PORT must be an integer from 1 to 65535/);
  });

  test('npm run --silent nginx:config (the documented command) prints the same', async () => {
    const result = spawnSync('npm', ['run', '--silent', 'nginx:config'], { cwd: repoRoot, env: { ...process.env, EDGE_PORT: '', API_PORT: '', EDGE_HOST: '' }, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, await readFile(golden, 'utf8'));
  });
});
