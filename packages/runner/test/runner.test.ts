import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { assertPortFree } from '@three-tier/processes';
import { cli, runnerSettingSuite, startRunner, visit } from './helpers.js';

describe('npm start (the stack runner)', () => {
  let env: Record<string, string>;
  let ports: readonly number[];
  runnerSettingSuite('runner-test', (setting) => ({ ports, env } = setting));

  test('npm start itself (the documented command) brings the stack up and Ctrl-C brings it down', async () => {
    const runner = startRunner(env, { command: ['npm', 'start'] });
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
