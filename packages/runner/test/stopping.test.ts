/**
 * Every way the native stack can be stopped leaves nothing behind: no process (nginx's workers
 * included), no port taken, no run folder. Ctrl-C is typed into a real pseudo-terminal, so it
 * reaches npm and the runner both, as a user's keypress does.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { assertPortFree, startTimeOf, waitFor } from '@three-tier/processes';
import { sameKeypressMs, sweepLeftovers } from '../src/index.js';
import { assertNothingLeft, freshTmp, groupMembers, loopClients, recordedServices, runnerSettingSuite, startRunner, visit, type Visit } from './helpers.js';

/** One unlabelled metric of the api's /metrics. */
async function metric(apiUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : Number.NaN;
}

describe('stopping the stack, every way', () => {
  let root: string;
  let ports: readonly number[];
  let env: Record<string, string>;
  runnerSettingSuite('stopping-test', (setting) => ({ root, ports, env } = setting));

  test('Ctrl-C in a terminal (npm start): one keypress is one stop, in order, exit 0, nothing left', async () => {
    const tmp = await freshTmp(root);
    const runner = startRunner({ ...env, TMPDIR: tmp }, { command: ['npm', 'start'], terminal: true });
    const url = await runner.ready;
    const services = await recordedServices(tmp);
    assert.equal((await visit(url)).outcome, 'ok');
    // The terminal signals npm and the runner; npm forwards its copy: two SIGINTs, one keypress.
    runner.pressCtrlC();
    assert.equal(await runner.exited, 0, runner.output.join('\n'));
    assert.equal(runner.output.filter((line) => line.includes('stack | stopping')).length, 1, runner.output.join('\n'));
    assert.ok(!runner.output.some((line) => /again/.test(line)), runner.output.join('\n'));
    assert.ok(runner.output.includes('stack | stopped'));
    await assertNothingLeft(services, ports, tmp);
  });

  test('a second Ctrl-C while nginx drains a request kills everything at once, its workers included', async () => {
    const tmp = await freshTmp(root);
    const runner = startRunner({ ...env, TMPDIR: tmp }, { command: ['npm', 'start'], terminal: true });
    const url = await runner.ready;
    const services = await recordedServices(tmp);
    const edge = services.edge;
    const apiUrl = `http://127.0.0.1:${env.API_PORT}`;
    assert.ok(edge);
    const clients = loopClients(url, 2);
    await waitFor(() => (clients.total > 50 ? true : undefined), { what: 'traffic through the stack', timeoutMs: 20_000 });
    // A long request keeps nginx's workers draining after the first Ctrl-C.
    const slow = visit(url, '/load?ms=5000');
    await waitFor(async () => ((await metric(apiUrl, 'load_workers_busy')) >= 1 ? true : undefined), { what: 'the slow request to be at work' });
    runner.pressCtrlC();
    await runner.line(/stack \| stopping/);
    await clients.stop();
    // A second keypress, as a person makes it: after the window that folds npm's forwarded copy
    // of the first keypress into it.
    await new Promise((resolve) => setTimeout(resolve, sameKeypressMs + 200));
    const draining = groupMembers(edge.pid);
    assert.ok(draining.length > 1, `nginx's master and a worker still drain the slow request (group: ${draining.join(', ')})`);
    const pressed = performance.now();
    runner.pressCtrlC();
    assert.equal(await runner.exited, 130, runner.output.join('\n'));
    const tookMs = performance.now() - pressed;
    assert.ok(runner.output.some((line) => /SIGINT again: killing what is left/.test(line)), runner.output.join('\n'));
    assert.ok(tookMs < 3_000, `the second Ctrl-C ended it in ${Math.round(tookMs)} ms, not after the drain`);
    await assertNothingLeft(services, ports, tmp);
    for (const pid of draining) assert.equal(startTimeOf(pid), undefined, `pid ${pid} of nginx's group is gone`);
    assert.notEqual((await slow).outcome, 'ok', 'the slow request was cut, as a kill must');
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal} to the runner alone, under load: every accepted request answered, exit 0, nothing left`, async () => {
      const tmp = await freshTmp(root);
      const runner = startRunner({ ...env, TMPDIR: tmp });
      const url = await runner.ready;
      const services = await recordedServices(tmp);
      const before = (await visit(url)).hits ?? 0;
      const clients = loopClients(url, 4);
      await waitFor(() => (clients.total > 50 ? true : undefined), { what: 'traffic through the stack', timeoutMs: 20_000 });
      const stopping = performance.now();
      runner.child.kill(signal);
      assert.equal(await runner.exited, 0, runner.output.join('\n'));
      await clients.stop();
      // Until the edge closed its port, every request got its answer; after, connections are refused
      // (or told to come back later: 503 with Retry-After). None was reset or dropped once sent, with
      // one exception the edge cannot help: a connection the kernel completed after the stop began
      // and that still waited in the listener's accept queue when nginx closed it is reset by the
      // kernel; nginx never accepted it (a loaded machine sees a few). A reset that came before the
      // request was even written out is the same: no edge can have taken a request never sent (CI
      // saw three of those, from connections made a moment before the stop).
      const atTheDoor = (failure: Visit): boolean => failure.reset === true && (failure.sent === false || (failure.connectedAt ?? 0) >= stopping);
      const dropped = clients.failures.filter((failure) => !atTheDoor(failure));
      const when = (failure: Visit): string => (failure.connectedAt === undefined ? 'never connected' : `connected ${Math.round(failure.connectedAt - stopping)} ms from the stop`);
      assert.deepEqual(dropped.map((failure) => `${failure.detail ?? ''}, ${when(failure)}`), [], clients.details.join('\n'));
      console.log(`${signal}: ${clients.failures.length - dropped.length} connections reset at the door (never sent, or made after the stop began)`);
      // The answers that came: failures were judged above, each by when it happened (a reset at the
      // door is keyed 'failed' too, and counting it here failed a run the rule above had passed).
      const answers = [...clients.statuses.keys()].filter((key) => !key.startsWith('turned-away') && key !== '503' && key !== 'failed');
      assert.deepEqual(answers, ['200'], clients.details.join('\n'));
      assert.equal(new Set(clients.acknowledged).size, clients.acknowledged.length, 'every acknowledged visit has its own count');
      await assertNothingLeft(services, ports, tmp);

      // Started again on the same data, the count carries on from exactly the acknowledged visits:
      // none lost, none counted without its answer reaching the client.
      const again = startRunner({ ...env, TMPDIR: tmp });
      assert.equal((await visit(await again.ready)).hits, before + clients.acknowledged.length + 1);
      again.child.kill(signal);
      assert.equal(await again.exited, 0);
    });
  }

  test('SIGKILL of the runner: its services stop by themselves, and the next start cleans up what is left', async () => {
    const tmp = await freshTmp(root);
    const runner = startRunner({ ...env, TMPDIR: tmp });
    const first = await visit(await runner.ready);
    const services = await recordedServices(tmp);
    runner.child.kill('SIGKILL');
    await runner.exited;
    const [left] = await readdir(tmp);
    assert.ok(left, 'a runner killed outright cannot remove its own folder');

    // Started again at once on the same ports: each service of the dead runner got SIGTERM from
    // the kernel (its parent-death signal) and is draining or gone; the sweep waits for (or stops)
    // whatever is still there, removes the folder, and the new stack starts.
    const again = startRunner({ ...env, TMPDIR: tmp });
    const url = await again.ready;
    assert.ok(again.output.includes(`stack | removed the run folder it left: ${join(tmp, left)}`), again.output.join('\n'));
    const swept = again.output.filter((line) => /left its \w+ running/.test(line));
    // Which services outlived the runner long enough for the sweep to see them, for the log.
    console.log(`services the sweep found still running: ${swept.length === 0 ? 'none' : swept.join('; ')}`);
    for (const [name, service] of Object.entries(services)) {
      assert.notEqual(startTimeOf(service.pid), service.startTime, `${name} of the killed runner is gone`);
    }
    // Same data: the count carries on.
    assert.equal((await visit(url)).hits, (first.hits ?? 0) + 1);
    const next = await recordedServices(tmp);
    again.child.kill('SIGTERM');
    assert.equal(await again.exited, 0);
    await assertNothingLeft(next, ports, tmp);
  });

  test('SIGKILL of the runner: with no new start, its services still stop by themselves', async () => {
    const tmp = await freshTmp(root);
    const runner = startRunner({ ...env, TMPDIR: tmp });
    await runner.ready;
    const services = await recordedServices(tmp);
    runner.child.kill('SIGKILL');
    await runner.exited;
    const alive = (): string[] =>
      Object.entries(services)
        .filter(([, service]) => startTimeOf(service.pid) === service.startTime)
        .map(([name, service]) => `${name} (pid ${service.pid}, ${readFileSync(`/proc/${service.pid}/status`, 'utf8').match(/^State:.*$/m)?.[0] ?? '?'})`);
    try {
      await waitFor(() => (alive().length === 0 ? true : undefined), {
        what: 'the services of the killed runner to stop by themselves',
        timeoutMs: 30_000,
      });
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}; still running: ${alive().join(', ')}`, { cause: error });
    }
    for (const port of ports) await assertPortFree(port, `port ${port} after the services stopped`);
    await rm(tmp, { recursive: true });
  });

  test('the sweep stops what a dead runner left running (each process group), and spares a live run', async () => {
    const tmp = await freshTmp(root);
    // A "service" in a group of its own that ignores SIGTERM, with a child of its own, left by a runner that is gone.
    const orphan = spawn('sh', ['-c', 'trap "" TERM; sleep 300 & wait'], { detached: true, stdio: 'ignore' });
    assert.ok(orphan.pid);
    await waitFor(() => (groupMembers(orphan.pid!).length === 2 ? true : undefined), { what: 'the orphan and its child' });
    const group = groupMembers(orphan.pid);
    const dead = spawn('true');
    await new Promise((resolve) => dead.once('exit', resolve));
    const record = (runner: number, services: Record<string, number>) =>
      JSON.stringify({
        runner: { pid: runner, startTime: startTimeOf(runner) ?? 'gone' },
        services: Object.fromEntries(Object.entries(services).map(([name, pid]) => [name, { pid, startTime: startTimeOf(pid) }])),
      });
    await mkdir(join(tmp, 'three-tier-dead'));
    await writeFile(join(tmp, 'three-tier-dead', 'stack.json'), record(dead.pid!, { api: orphan.pid }));
    await mkdir(join(tmp, 'three-tier-live'));
    await writeFile(join(tmp, 'three-tier-live', 'stack.json'), record(process.pid, {}));

    const said: string[] = [];
    assert.equal(await sweepLeftovers(tmp, (line) => said.push(line), 500), 1);
    for (const pid of group) assert.equal(startTimeOf(pid), undefined, `pid ${pid} of the orphan's group is gone`);
    assert.deepEqual(await readdir(tmp), ['three-tier-live']);
    assert.match(said.join('\n'), new RegExp(`left its api running \\(pid ${orphan.pid}\\): stopping it`));
    await rm(join(tmp, 'three-tier-live'), { recursive: true });
  });
});
