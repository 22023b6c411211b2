import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { assertPortFree, findBinaries, freePort } from '@three-tier/processes';
import { repoRoot, type CounterBody } from '@three-tier/shared';

/** The built CLI, as `npm start` runs it. */
const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

interface Runner {
  readonly child: ChildProcess;
  readonly output: string[];
  readonly ready: Promise<string>;
  readonly exited: Promise<number | null>;
}

function startRunner(env: Record<string, string>, command: readonly string[] = [process.execPath, cli, 'up']): Runner {
  const [file = '', ...args] = command;
  const child = spawn(file, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const ready = new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      output.push(line);
      const match = /^ready: (http:\/\/\S+)$/.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`runner exited (${String(code)}) before ready:\n${output.join('\n')}`)));
  });
  createInterface({ input: child.stderr }).on('line', (line) => output.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, output, ready, exited };
}

/**
 * GET on a fresh connection. `turned-away`: refused, or reset before any byte of an answer, which
 * is what a connection still in the kernel's accept queue gets when the listener closes.
 */
async function visit(url: string): Promise<{ outcome: 'ok' | 'turned-away' | 'failed'; hits?: number; detail?: string }> {
  return new Promise((resolve) => {
    const req = request(`${url}/redis`, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        if (res.statusCode !== 200) {
          resolve({ outcome: 'failed', detail: `status ${String(res.statusCode)}` });
          return;
        }
        resolve({ outcome: 'ok', hits: (JSON.parse(Buffer.concat(chunks).toString()) as CounterBody).hits });
      });
      res.on('error', (error) => resolve({ outcome: 'failed', detail: error.message }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      const away = error.code === 'ECONNREFUSED' || error.code === 'ECONNRESET';
      resolve(away ? { outcome: 'turned-away', detail: error.code } : { outcome: 'failed', detail: error.message });
    });
    req.end();
  });
}

describe('npm start (the stack runner)', () => {
  let root: string;
  let env: Record<string, string>;
  let ports: number[];

  before(async () => {
    const { redisServer, nginx } = findBinaries(process.env);
    assert.ok(redisServer && nginx, 'redis-server and nginx must be installed (npm test installs them as root)');
    root = await mkdtemp(join(tmpdir(), 'runner-test-'));
    ports = [await freePort(), await freePort(), await freePort()];
    env = {
      EDGE_PORT: String(ports[0]),
      API_PORT: String(ports[1]),
      REDIS_PORT: String(ports[2]),
      STACK_DATA_DIR: join(root, 'data'),
      STACK_EDGE: 'nginx',
    };
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('prints ready, and SIGTERM under light load stops every tier without failing a request it accepted', async () => {
    const runner = startRunner(env);
    const url = await runner.ready;
    assert.equal(url, `http://127.0.0.1:${env.EDGE_PORT}`);

    let stopping = false;
    const acknowledged: number[] = [];
    const failures: string[] = [];
    // Four clients in a loop, each request on a fresh connection, until the stack turns them away.
    const clients = Array.from({ length: 4 }, async () => {
      for (;;) {
        const result = await visit(url);
        if (result.outcome === 'ok' && result.hits !== undefined) acknowledged.push(result.hits);
        else if (result.outcome === 'turned-away' && stopping) return;
        else {
          failures.push(`${result.outcome}: ${result.detail ?? ''}`);
          return;
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    stopping = true;
    runner.child.kill('SIGTERM');
    await Promise.all(clients);
    assert.equal(await runner.exited, 0, runner.output.join('\n'));
    // No error status and no broken answer: nothing the stack accepted failed.
    assert.deepEqual(failures, []);
    assert.ok(acknowledged.length > 20, `${acknowledged.length} visits counted under load`);
    assert.equal(new Set(acknowledged).size, acknowledged.length, 'every acknowledged visit has its own count');
    assert.ok(runner.output.includes('stack | stopped'));
    for (const port of ports) await assertPortFree(port, `port ${port} after the stop`);

    // Started again on the same data directory, the count carries on. It started at zero, so
    // `acknowledged + 1` also proves no visit was counted without its answer reaching the client.
    const again = startRunner(env);
    const next = await visit(await again.ready);
    assert.equal(next.hits, acknowledged.length + 1);
    assert.equal(Math.max(...acknowledged), acknowledged.length);
    again.child.kill('SIGINT');
    assert.equal(await again.exited, 0);
  });

  test('npm start itself (the README command) brings the stack up and Ctrl-C brings it down', async () => {
    const runner = startRunner(env, ['npm', 'start']);
    const url = await runner.ready;
    assert.equal((await visit(url)).outcome, 'ok');
    // npm passes the signal on to the runner it started.
    runner.child.kill('SIGINT');
    assert.equal(await runner.exited, 0, runner.output.join('\n'));
    for (const port of ports) await assertPortFree(port, `port ${port} after the stop`);
  });

  test('without nginx it falls back to the http-proxy edge, and says so', async () => {
    const runner = startRunner({ ...env, STACK_EDGE: 'auto', NGINX_BIN: '/nonexistent/nginx' });
    const url = await runner.ready;
    assert.ok(runner.output.some((line) => /nginx is not installed: using the http-proxy edge/.test(line)));
    assert.equal((await visit(url)).outcome, 'ok');
    runner.child.kill('SIGTERM');
    assert.equal(await runner.exited, 0);
  });

  test('a bad variable stops it before anything starts, naming the variable', () => {
    const result = spawnSync(process.execPath, [cli, 'up'], {
      env: { PATH: process.env.PATH, EDGE_PORT: 'http', API_PORT: '3000', REDIS_PORT: '3000' },
      encoding: 'utf8',
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /EDGE_PORT must be an integer from 1 to 65535 \(got "http"\)/);
    const clash = spawnSync(process.execPath, [cli, 'up'], {
      env: { PATH: process.env.PATH, API_PORT: '3000', REDIS_PORT: '3000' },
      encoding: 'utf8',
    });
    assert.equal(clash.status, 1);
    assert.match(clash.stderr, /EDGE_PORT, API_PORT and REDIS_PORT must differ/);
  });

  test('STACK_EDGE=nginx without nginx fails with the command that installs it', () => {
    const result = spawnSync(process.execPath, [cli, 'up'], {
      env: { PATH: process.env.PATH, ...env, STACK_EDGE: 'nginx', NGINX_BIN: '/nonexistent/nginx' },
      encoding: 'utf8',
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /apt-get install -y nginx/);
  });
});
