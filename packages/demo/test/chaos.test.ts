/**
 * npm run chaos against a real native stack: `npm start` with API_INSTANCES=3 (nginx, three api
 * instances, redis-server), found through its run folder. Each action does what it says, and the
 * output says what the stack did.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { findBinaries, freeStackPorts, runCommand, waitFor, type CommandResult } from '@three-tier/processes';
import { repoRoot } from '@three-tier/cli-kit';
import { instanceAlias } from '@three-tier/shared';

const chaosCli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const runnerCli = fileURLToPath(new URL('cli.js', import.meta.resolve('@three-tier/runner')));
const instances = 3;

describe('npm run chaos on the native stack (npm start, API_INSTANCES=3)', () => {
  let root: string;
  let tmp: string;
  let runner: ChildProcess;
  const runnerOutput: string[] = [];
  let apiPort: number;
  let url: string;

  /** chaos with `args`, finding the stack through TMPDIR; watching `seconds` after acting. */
  const chaos = (args: readonly string[], seconds = 0, viaNpm = false): Promise<CommandResult> => {
    // Through `npm run chaos --`, as docs/demo.md shows it, or the built CLI directly (faster).
    const [file, ...prefix] = viaNpm ? ['npm', 'run', '--silent', 'chaos', '--'] : [process.execPath, chaosCli, 'chaos'];
    return runCommand(file ?? 'npm', [...prefix, ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tmp, CHAOS_WATCH_SECONDS: String(seconds) },
    });
  };
  const id = (index: number): string => `${hostname()}-${apiPort + index}`;
  const named = (index: number): string => `${instanceAlias(id(index))} (${id(index)})`;
  const runnerSaid = (pattern: RegExp): Promise<string> =>
    waitFor(() => runnerOutput.find((line) => pattern.test(line)), { what: `the runner to say ${String(pattern)}`, timeoutMs: 20_000 });

  before(async () => {
    const { redisServer, nginx } = findBinaries(process.env);
    assert.ok(redisServer && nginx, 'redis-server and nginx must be installed (npm test installs them as root)');
    root = await mkdtemp(join(tmpdir(), 'demo-chaos-'));
    tmp = join(root, 'tmp');
    await mkdir(tmp);
    const ports = await freeStackPorts(instances);
    apiPort = ports.api;
    runner = spawn(process.execPath, [runnerCli, 'up'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TMPDIR: tmp,
        LOG_LEVEL: 'warn',
        STACK_EDGE: 'nginx',
        API_INSTANCES: String(instances),
        API_PORT: String(apiPort),
        EDGE_PORT: String(ports.edge),
        REDIS_PORT: String(ports.redis),
        STACK_DATA_DIR: join(root, 'data'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [runner.stdout, runner.stderr]) if (stream) createInterface({ input: stream }).on('line', (line) => runnerOutput.push(line));
    const ready = await runnerSaid(/^ready: /);
    url = /^ready: (\S+)/.exec(ready)?.[1] ?? '';
  });
  after(async () => {
    const exited = new Promise((resolve) => runner.once('exit', resolve));
    runner.kill('SIGTERM');
    await exited;
    await rm(root, { recursive: true, force: true });
  });

  test('kill: the instance named by its index is SIGKILLed; chaos sees it leave and come back as the runner restarts it', async () => {
    const result = await chaos(['kill', '2'], 10);
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout;
    assert.match(out, new RegExp(`chaos \\| the native stack \\(npm start, run folder ${tmp}/three-tier-\\w+\\), edge ${url}`));
    assert.match(out, new RegExp(`killing ${named(1).replace(/[()]/g, '\\$&')} at port ${apiPort + 1}: sent SIGKILL to pid \\d+`));
    assert.match(out, new RegExp(`${id(1)}\\) left the rotation`));
    assert.match(out, new RegExp(`${id(1)}\\) came back into the rotation`));
    assert.match(out, /requests: \d+, failed: 0 \(non-2xx or network errors\), instances answering: 3/);
    assert.match(out, /the edge retried \d+ request\(s\) on another instance since the action/);
    // A progress line every second of the watch: never silent.
    assert.ok((out.match(/^\+\s?\d+\.\d s\s+\d+ requests, \d+ failed; answering: /gm) ?? []).length >= 9, out);
    await runnerSaid(new RegExp(`stack \\| api ${apiPort + 1} exited on its own \\(killed by SIGKILL\\)`));
    await runnerSaid(new RegExp(`stack \\| api ${apiPort + 1} is back`));
  });

  test('redis freeze, then thaw: /instance says frozen, then up', async () => {
    let thawed = false;
    try {
      const frozen = await chaos(['redis', 'freeze'], 3);
      assert.equal(frozen.code, 0, frozen.stderr);
      assert.match(frozen.stdout, /sent SIGSTOP to redis-server \(pid \d+\)/);
      assert.match(frozen.stdout, /redis is frozen now, as [a-z-]+ sees it: Redis does not answer in time/);
      const thaw = await chaos(['redis', 'thaw'], 3);
      thawed = thaw.code === 0;
      assert.equal(thaw.code, 0, thaw.stderr);
      assert.match(thaw.stdout, /sent SIGCONT to redis-server/);
      assert.match(thaw.stdout, /redis is up now, as [a-z-]+ sees it/);
    } finally {
      if (!thawed) await chaos(['redis', 'thaw']);
    }
  });

  test('redis stop: SIGTERM, the runner restarts it, and chaos sees Redis down, then up; redis start explains', async () => {
    const stopped = await chaos(['redis', 'stop'], 5);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /sent SIGTERM to redis-server \(pid \d+\); the runner restarts it on its own/);
    assert.match(stopped.stdout, /redis is up now, as [a-z-]+ sees it/);
    await runnerSaid(/stack \| redis exited on its own/);
    await runnerSaid(/stack \| redis is back/);
    const start = await chaos(['redis', 'start']);
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stdout, /natively there is nothing to start: the runner restarts redis-server on its own whenever it exits/);
  });

  test("fault set unready: the instance leaves the rotation, the edge's retries are counted, fault list shows it, fault clear brings it back", async () => {
    // A visitor on / (which nginx logs, unlike the /instance polls): its requests to the unready
    // instance are the retries chaos must count, and none of them may fail.
    let visiting = true;
    const statuses: number[] = [];
    const visitor = (async () => {
      while (visiting) statuses.push((await fetch(`${url}/`)).status);
    })();
    const set = await chaos(['fault', 'set', 'unready', String(apiPort)], 3);
    visiting = false;
    await visitor;
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual([...new Set(statuses)], [200], 'the visitor saw only 200s');
    assert.match(set.stdout, /the edge retried [1-9]\d* request\(s\) on another instance since the action/);
    assert.match(set.stdout, new RegExp(`${id(0)}\\) at port ${apiPort} is switched to unready; its faults now: unready`));
    assert.match(set.stdout, new RegExp(`${id(0)}\\) is out: its /readyz answers 503`));
    assert.match(set.stdout, new RegExp(`${id(0)}\\) left the rotation`));
    assert.match(set.stdout, /failed: 0 /);
    const latency = await chaos(['fault', 'set', 'latency=150', instanceAlias(id(2))]);
    assert.equal(latency.code, 0, latency.stderr);
    const list = await chaos(['fault', 'list'], 0, true);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`1: ${named(0).replace(/[()]/g, '\\$&')} at port ${apiPort}: unready\n`));
    assert.match(list.stdout, new RegExp(`2: .* at port ${apiPort + 1}: no faults\n`));
    assert.match(list.stdout, new RegExp(`3: .* at port ${apiPort + 2}: latency \\+150 ms\n`));
    const clear = await chaos(['fault', 'clear', 'unready', id(0)], 8);
    assert.equal(clear.code, 0, clear.stderr);
    assert.match(clear.stdout, new RegExp(`${id(0)}\\) came back into the rotation`));
    const clearAll = await chaos(['fault', 'clear']);
    assert.equal(clearAll.code, 0, clearAll.stderr);
    assert.match(clearAll.stdout, /cleared every fault on 3 instances/);
    assert.doesNotMatch((await chaos(['fault', 'list'])).stdout, /unready|latency/);
  });

  test('fault exit: the instance exits 1 as a crash would, and the runner brings it back', async () => {
    const result = await chaos(['fault', 'exit', '3'], 4);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`${id(2)}\\) at port ${apiPort + 2} exits with code 1 now`));
    assert.match(result.stdout, new RegExp(`${id(2)}\\) is out: `));
    assert.match(result.stdout, new RegExp(`${id(2)}\\) is up and ready again`));
    await runnerSaid(new RegExp(`stack \\| api ${apiPort + 2} exited on its own \\(exit code 1\\)`));
  });

  test('scale is refused natively (exit 2), saying API_INSTANCES fixes the count; bad input is refused with the usage', async () => {
    const scale = await chaos(['scale', '5']);
    assert.equal(scale.code, 2);
    assert.match(scale.stderr, /npm start fixes the number of api instances when it starts: .*API_INSTANCES=5/);
    const unknown = await chaos(['kill', 'no-such-instance']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, new RegExp(`no api instance is named "no-such-instance"; there are 1: ${named(0).replace(/[()]/g, '\\$&')} at port ${apiPort}`));
    const badFault = await chaos(['fault', 'set', 'latency=0']);
    assert.equal(badFault.code, 1, badFault.stdout);
    assert.match(badFault.stderr, /answered 400: .*ms must be an integer/);
    assert.equal((await chaos(['fault', 'set', 'slow'])).code, 2);
  });

  test('redis kill-master, kill-replica and kill-sentinel are refused on a single Redis (exit 1), saying how to run the set', async () => {
    for (const action of ['kill-master', 'kill-replica', 'kill-sentinel']) {
      const result = await chaos(['redis', action], 3);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, new RegExp(`^chaos: redis ${action}: npm start runs a single Redis: start it with REDIS_REPLICAS=2`));
      assert.doesNotMatch(result.stdout, /SIGKILL/);
    }
  });
});
