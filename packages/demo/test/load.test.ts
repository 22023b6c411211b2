import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { findBinaries, freePort } from '@three-tier/processes';
import { NativeStack } from '@three-tier/runner';
import { repoRoot } from '@three-tier/shared';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

describe('npm run load (the autoscaling demo’s load)', () => {
  let stack: NativeStack;
  let root: string;
  before(async () => {
    const { redisServer, nginx } = findBinaries(process.env);
    assert.ok(redisServer && nginx, 'redis-server and nginx must be installed (npm test installs them as root)');
    root = await mkdtemp(join(tmpdir(), 'demo-load-'));
    stack = await NativeStack.create({
      edge: 'nginx',
      ports: { edge: await freePort(), api: await freePort(), redis: await freePort() },
      edgeHost: '127.0.0.1',
      dataDir: join(root, 'data'),
      runDir: join(root, 'run'),
      bin: { redisServer, nginx },
      baseEnv: { PATH: process.env.PATH },
      logLevel: 'warn',
    });
    await stack.start();
  });
  after(async () => {
    await stack.stop();
    await rm(root, { recursive: true, force: true });
  });

  test('keeps /load busy, waits out the rate limit, and reports the instances that answered', async () => {
    const child = spawn('npm', ['run', '--silent', 'load'], {
      cwd: repoRoot,
      env: { ...process.env, LOAD_URL: stack.url, LOAD_MS: '1', LOAD_CONCURRENCY: '16', LOAD_SECONDS: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, output);
    assert.match(output, /^\s+\d+ s\s+\d+ jobs of 1 ms\s+\d+ refused\s+0 errors\s+instances: 1 \[/m);
    const done = /done: (\d+) jobs \(([\d.]+) CPU seconds\), (\d+) refused, (\d+) errors, 1 instance\(s\) answered/.exec(output);
    assert.ok(done, output);
    assert.ok(Number(done[1]) > 10, 'jobs were done');
    assert.ok(Number(done[3]) > 0, 'the edge rate limit refused some, and they were waited out');
    assert.equal(Number(done[4]), 0);
  });

  test('a bad setting stops it with the variable named', () => {
    const result = spawnSync(process.execPath, [cli, 'load'], { env: { PATH: process.env.PATH, LOAD_MS: '0' }, encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /LOAD_MS must be an integer from 1 to 5000/);
  });
});
