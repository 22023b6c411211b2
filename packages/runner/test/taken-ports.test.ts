/**
 * `npm start` on a port that is taken says which port and by what, starts nothing and exits 1. A
 * start that failed once printed "starting redis on ...", started Redis and the api, stopped them
 * and exited 0 without a word.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertPortFree, type ProcessId } from '@three-tier/processes';
import { freshTmp, recordedServices, runnerSetting, startRunner, visit, type RunnerSetting } from './helpers.js';

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('npm start on a port that is taken', () => {
  let setting: RunnerSetting;

  before(async () => {
    setting = await runnerSetting('taken-ports-test');
  });
  after(async () => {
    await setting.cleanup();
  });

  test('held by another program: names the port, the pid and its command, starts nothing, exits 1', async () => {
    const { env, ports } = setting;
    const tmp = await freshTmp(setting.root);
    const holder = await listen(Number(env.EDGE_PORT));
    try {
      const runner = startRunner({ ...env, TMPDIR: tmp });
      const output = (): string => runner.output.join('\n');
      assert.equal(await runner.exited, 1, output());
      assert.match(output(), new RegExp(`EDGE_PORT ${env.EDGE_PORT} is taken on 127\\.0\\.0\\.1, by pid ${process.pid} \\(\\S*node`));
      assert.ok(!/starting redis/.test(output()), output());
      for (const port of ports.slice(1)) await assertPortFree(port, `port ${port}, which nothing should have started on`);
      assert.deepEqual(await readdir(tmp), [], 'no run folder made');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  // An npm killed outright leaves its runner running, the stack with it. The runner is started here
  // directly, as npm starts it: an orphaned one would be reaped by no one in a container whose pid 1
  // is not an init, and linger as a zombie.
  test('held by the stack of an earlier npm start whose runner still runs: names its runner and run folder', async () => {
    const { env } = setting;
    const tmp = await freshTmp(setting.root);
    const earlier = startRunner({ ...env, TMPDIR: tmp });
    try {
      const url = await earlier.ready;
      await recordedServices(tmp);
      const [folder = ''] = await readdir(tmp);
      const { runner: earlierRunner } = JSON.parse(readFileSync(join(tmp, folder, 'stack.json'), 'utf8')) as { runner: ProcessId };
      assert.equal(earlierRunner.pid, earlier.child.pid);
      assert.equal((await visit(url)).outcome, 'ok');
      const runner = startRunner({ ...env, TMPDIR: tmp });
      const output = (): string => runner.output.join('\n');
      assert.equal(await runner.exited, 1, output());
      assert.match(output(), new RegExp(`EDGE_PORT ${env.EDGE_PORT} is taken on 127\\.0\\.0\\.1, by pid \\d+ \\(nginx: master process`));
      assert.ok(output().includes(`the edge of the stack an earlier npm start still runs (runner pid ${earlierRunner.pid}, run folder ${join(tmp, folder)})`), output());
      assert.ok(output().includes(`kill ${earlierRunner.pid}`), output());
      for (const variable of ['API_PORT', 'REDIS_PORT']) assert.match(output(), new RegExp(`${variable} ${env[variable]} is taken`));
      assert.ok(!/starting redis/.test(output()), output());
      // The earlier stack is untouched.
      assert.equal((await visit(url)).outcome, 'ok');
    } finally {
      earlier.child.kill('SIGTERM');
      await earlier.exited;
    }
  });
});
