/**
 * The runner's restart policy under load, natively: a service that exits on its own comes back by
 * itself, as compose's `restart: unless-stopped` would bring it back, and no visit is lost. One
 * that keeps failing stops the stack, saying why.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startTimeOf, waitFor } from '@three-tier/processes';
import { edgeProblems, problemContentType } from '@three-tier/shared';
import { restartDelayMs, restartPolicy } from '../src/index.js';
import { assertNothingLeft, freshTmp, groupMembers, loopClients, recordedServices, runnerSettingSuite, startRunner, visit, type Runner } from './helpers.js';

const clientCount = 4;

/**
 * Clients loop on /redis; once 100 visits are acknowledged, `fault` strikes, the runner must say
 * each of `said` in turn, and 50 more visits must be counted without anyone's help.
 */
async function throughFault(runner: Runner, url: string, fault: () => void, said: readonly RegExp[]): Promise<ReturnType<typeof loopClients>> {
  const clients = loopClients(url, clientCount);
  await waitFor(() => (clients.acknowledged.length > 100 ? true : undefined), { what: 'visits under load', timeoutMs: 20_000 });
  fault();
  for (const line of said) await runner.line(line);
  const atRestart = clients.acknowledged.length;
  await waitFor(() => (clients.acknowledged.length > atRestart + 50 ? true : undefined), {
    what: 'visits counted again after the restart',
    timeoutMs: 20_000,
  });
  await clients.stop();
  return clients;
}

describe('the restart policy', () => {
  let root: string;
  let ports: readonly number[];
  let env: Record<string, string>;
  runnerSettingSuite('restart-test', (setting) => ({ root, ports, env } = setting));

  test('backs off as compose does: 100 ms, doubling, capped', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map((failures) => restartDelayMs(failures)), [100, 200, 400, 800, 1_600]);
    assert.equal(restartDelayMs(20), restartPolicy.maxDelayMs);
  });

  /** Stops the runner and checks it left nothing. */
  async function stopRunner(runner: Runner, tmp: string): Promise<void> {
    const services = await recordedServices(tmp);
    runner.child.kill('SIGTERM');
    assert.equal(await runner.exited, 0, runner.output.join('\n'));
    await assertNothingLeft(services, ports, tmp);
  }

  test('Redis SIGKILLed under load: restarted at once, the api recovers, no acknowledged visit lost', async () => {
    const tmp = await freshTmp(root);
    const runner = startRunner({ ...env, TMPDIR: tmp });
    const url = await runner.ready;
    const before = (await visit(url)).hits ?? 0;
    const { redis } = await recordedServices(tmp);
    assert.ok(redis);
    const clients = await throughFault(runner, url, () => process.kill(redis.pid, 'SIGKILL'), [
      /redis exited on its own \(killed by SIGKILL\); restarting it in 100 ms/,
      /redis is back \(pid \d+\)/,
    ]);

    // While Redis was down, the api said so (503 problem+json); nothing else went wrong.
    const statuses = [...clients.statuses.keys()].sort();
    assert.ok(statuses.every((status) => status === '200' || status === '503'), `${statuses.join(', ')}\n${clients.details.join('\n')}`);
    assert.ok(clients.details.every((detail) => detail.includes(problemContentType) && /Redis/.test(detail)), clients.details.join('\n'));
    // Every acknowledged visit survived the kill (appendfsync always). A visit Redis had counted
    // when it died may have lost its answer on the way back (a 503): at most one per client.
    const counted = ((await visit(url)).hits ?? 0) - 1 - before;
    const acknowledged = clients.acknowledged.length;
    assert.equal(new Set(clients.acknowledged).size, acknowledged);
    assert.ok(counted >= acknowledged && counted <= acknowledged + clientCount, `counted ${counted}, acknowledged ${acknowledged}`);
    await stopRunner(runner, tmp);
  });

  test('the api SIGTERMed under load: it drains, comes back, and the count matches exactly', async () => {
    const tmp = await freshTmp(root);
    const runner = startRunner({ ...env, TMPDIR: tmp });
    const url = await runner.ready;
    const before = (await visit(url)).hits ?? 0;
    const { api } = await recordedServices(tmp);
    assert.ok(api);
    const clients = await throughFault(runner, url, () => process.kill(api.pid, 'SIGTERM'), [
      /api exited on its own \(exit code 0\)/,
      /api is back \(pid \d+\)/,
    ]);

    // With one instance there is a gap between its exit and its restart: nginx answers it with its
    // own 502 problem (retry after a second). Nothing is refused, reset or left hanging.
    const statuses = [...clients.statuses.keys()].sort();
    assert.ok(statuses.every((status) => status === '200' || status === '502'), `${statuses.join(', ')}\n${clients.details.join('\n')}`);
    for (const detail of clients.details) {
      assert.ok(detail.includes(problemContentType) && detail.includes(edgeProblems.badGateway.detail), detail);
    }
    // The api finished every request it had accepted: the count is exactly the acknowledged visits.
    const counted = ((await visit(url)).hits ?? 0) - 1 - before;
    assert.equal(counted, clients.acknowledged.length);
    await stopRunner(runner, tmp);
  });

  test("nginx's master SIGKILLed alone: its orphaned workers are killed, and nginx comes back on its port", async () => {
    const tmp = await freshTmp(root);
    const runner = startRunner({ ...env, TMPDIR: tmp });
    const url = await runner.ready;
    const { edge } = await recordedServices(tmp);
    assert.ok(edge);
    const workers = groupMembers(edge.pid).filter((pid) => pid !== edge.pid);
    assert.ok(workers.length > 0, "nginx's workers share its process group");

    process.kill(edge.pid, 'SIGKILL');
    // Left alone, the workers would keep the port and every restart would fail.
    await runner.line(/edge is back \(pid \d+\)/);
    for (const pid of workers) assert.equal(startTimeOf(pid), undefined, `orphaned worker ${pid} is gone`);
    assert.equal((await visit(url)).outcome, 'ok');
    await stopRunner(runner, tmp);
  });

  test('a service that keeps failing stops the stack after five tries, saying so', async () => {
    const tmp = await freshTmp(root);
    const runner = startRunner({ ...env, TMPDIR: tmp });
    await runner.ready;
    const services = await recordedServices(tmp);
    const { redis } = services;
    assert.ok(redis);
    // A corrupt append-only manifest: Redis refuses to start on it, every time.
    await writeFile(join(env.STACK_DATA_DIR ?? '', 'appendonlydir', 'appendonly.aof.manifest'), 'not a manifest\n');
    process.kill(redis.pid, 'SIGKILL');
    assert.equal(await runner.exited, 1, runner.output.join('\n'));
    const restarts = runner.output.filter((line) => /redis exited on its own/.test(line));
    assert.deepEqual(
      restarts.map((line) => /restarting it in (\d+) ms/.exec(line)?.[1]),
      ['100', '200', '400', '800', '1600'],
      runner.output.join('\n'),
    );
    assert.ok(runner.output.includes('stack | redis did not stay up after 5 restarts in a row; stopping the stack'), runner.output.join('\n'));
    await assertNothingLeft(services, ports, tmp);
    await rm(env.STACK_DATA_DIR ?? '', { recursive: true, force: true });
  });
});
