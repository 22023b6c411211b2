import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { findBinaries, freeStackPorts, runCommand } from '@three-tier/processes';
import { NativeStack } from '@three-tier/runner';
import { repoRoot } from '@three-tier/cli-kit';

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
      ports: await freeStackPorts(3),
      // Three instances, each with one worker and no queue: 16 clients saturate them (503) and
      // trip the edge's rate limit (429).
      apiInstances: 3,
      apiEnv: { LOAD_WORKERS: '1', LOAD_QUEUE: '0' },
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

  test('keeps /load busy, counts 429 and 503 apart, and names the first instances once, not as new', async () => {
    const { code, output } = await runCommand('npm', ['run', '--silent', 'load'], {
      cwd: repoRoot,
      env: { ...process.env, LOAD_URL: stack.url, LOAD_MS: '200', LOAD_CONCURRENCY: '16', LOAD_SECONDS: '5' },
    });
    assert.equal(code, 0, output);
    assert.match(output, /^\s+\d+ s\s+\d+ jobs of 200 ms\s+\d+ × 429 \(rate limit\)\s+\d+ × 503 \(saturated\)\s+0 errors\s+instances: \d \[/m);
    const done = /done: (\d+) jobs \(([\d.]+) CPU seconds\), (\d+) × 429 \(rate limit\), (\d+) × 503 \(saturated\), (\d+) errors, 3 instance\(s\) answered/.exec(output);
    assert.ok(done, output);
    assert.ok(Number(done[1]) > 10, `jobs were done\n${output}`);
    assert.ok(Number(done[3]) > 0, `the edge rate limit turned some away, and they were waited out\n${output}`);
    assert.ok(Number(done[4]) > 0, `saturated instances turned some away\n${output}`);
    assert.equal(Number(done[5]), 0, output);
    // The three instances answered from the start: named once as the baseline, never as new.
    const baseline = /^answering: (.+) \(the first \d+ s\)$/m.exec(output);
    assert.ok(baseline, output);
    assert.equal(baseline[1]?.split(', ').length, 3, output);
    assert.doesNotMatch(output, /new instance/, output);
    assert.doesNotMatch(output, /is gone/, output);
  });

  test('a bad setting stops it with the variable named', () => {
    const result = spawnSync(process.execPath, [cli, 'load'], { env: { PATH: process.env.PATH, LOAD_MS: '0' }, encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /LOAD_MS must be an integer from 1 to 5000/);
  });
});
