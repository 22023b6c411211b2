/**
 * npm run chaos -- redis kill-master | kill-replica | kill-sentinel against a real native stack
 * with a replicated Redis (REDIS_REPLICAS=2 npm start): each SIGKILLs one member, and the output
 * says what the set did: which node became master and after how long, when the killed member
 * answered again and in which role, and when the set was whole again.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { findBinaries, freePorts, freeReplicatedRedisPorts, runCommand, waitFor, type CommandResult } from '@three-tier/processes';
import { repoRoot } from '@three-tier/cli-kit';

const chaosCli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const runnerCli = fileURLToPath(new URL('cli.js', import.meta.resolve('@three-tier/runner')));

describe('npm run chaos on a replicated Redis (REDIS_REPLICAS=2 npm start)', () => {
  let root: string;
  let tmp: string;
  let runner: ChildProcess;
  const runnerOutput: string[] = [];
  let firstPort: number;

  const chaos = (args: readonly string[], seconds = 0, viaNpm = false): Promise<CommandResult> => {
    const [file, ...prefix] = viaNpm ? ['npm', 'run', '--silent', 'chaos', '--'] : [process.execPath, chaosCli, 'chaos'];
    return runCommand(file ?? 'npm', [...prefix, ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: tmp, CHAOS_WATCH_SECONDS: String(seconds) },
    });
  };
  const runnerSaid = (pattern: RegExp): Promise<string> =>
    waitFor(() => runnerOutput.find((line) => pattern.test(line)), { what: `the runner to say ${String(pattern)}`, timeoutMs: 30_000 });

  before(async () => {
    const { redisServer, redisSentinel, nginx } = findBinaries(process.env);
    assert.ok(redisServer && redisSentinel && nginx, 'redis-server, redis-sentinel and nginx must be installed (npm test installs them as root)');
    root = await mkdtemp(join(tmpdir(), 'demo-chaos-set-'));
    tmp = join(root, 'tmp');
    await mkdir(tmp);
    const set = await freeReplicatedRedisPorts();
    // Two in a row: the api's, then the edge's.
    const api = await freePorts(2);
    const edge = api + 1;
    firstPort = set.nodes[0] ?? 0;
    runner = spawn(process.execPath, [runnerCli, 'up'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TMPDIR: tmp,
        LOG_LEVEL: 'warn',
        STACK_EDGE: 'nginx',
        REDIS_REPLICAS: '2',
        API_PORT: String(api),
        EDGE_PORT: String(edge),
        REDIS_PORT: String(firstPort),
        STACK_DATA_DIR: join(root, 'data'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [runner.stdout, runner.stderr]) if (stream) createInterface({ input: stream }).on('line', (line) => runnerOutput.push(line));
    await runnerSaid(/^ready: /);
  });
  after(async () => {
    const exited = new Promise((resolve) => runner.once('exit', resolve));
    runner.kill('SIGTERM');
    await exited;
    await rm(root, { recursive: true, force: true });
  });

  test('kill-master (npm run chaos -- redis kill-master): a replica becomes master, the api follows it, the old master returns as its replica', async () => {
    const result = await chaos(['redis', 'kill-master'], 6, true);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const out = result.stdout;
    assert.match(out, new RegExp(`redis is up, its master 127\\.0\\.0\\.1:${firstPort}`));
    assert.match(out, /redis: master redis-0 with 2 of 2 replicas in sync, 3 of 3 Sentinels agreeing; sent SIGKILL to redis-0 \(pid \d+\)/);
    assert.match(out, /redis: redis-0 is down/);
    const promoted = /redis: the Sentinels named (redis-[12]) master \(was redis-0\), (\d+\.\d) s after the kill/.exec(out);
    assert.ok(promoted, out);
    const [, successor = '', seconds = ''] = promoted;
    assert.match(out, new RegExp(`the api writes to a new redis master: 127\\.0\\.0\\.1:${firstPort + Number(successor.slice(-1))} \\(was 127\\.0\\.0\\.1:${firstPort}\\)`));
    assert.match(out, new RegExp(`redis: redis-0 answers again, as replica of ${successor}, \\d+\\.\\d s after the kill`));
    const whole = new RegExp(`redis: the set is whole again, (\\d+\\.\\d) s after the kill: master ${successor} with 2 of 2 replicas in sync, 3 of 3 Sentinels agreeing`).exec(out);
    assert.ok(whole, out);
    assert.ok(Number(whole[1]) >= Number(seconds), out);
    await runnerSaid(/^stack \| redis-0 exited on its own \(killed by SIGKILL\)/);
    await runnerSaid(/^stack \| redis-0 is back/);
  });

  test('kill-replica: the master stays, the replica comes back into sync', async () => {
    const result = await chaos(['redis', 'kill-replica']);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const killed = /sent SIGKILL to (redis-[012]) \(pid \d+\)/.exec(result.stdout)?.[1];
    assert.ok(killed, result.stdout);
    const master = /redis: master (redis-[012]) with/.exec(result.stdout)?.[1];
    assert.notEqual(killed, master);
    assert.match(result.stdout, new RegExp(`redis: ${killed} answers again, as replica of ${master ?? ''}`));
    assert.match(result.stdout, new RegExp(`redis: the set is whole again, \\d+\\.\\d s after the kill: master ${master ?? ''} with 2 of 2`));
    assert.doesNotMatch(result.stdout, /the Sentinels named/);
  });

  test('kill-sentinel: no failover; the Sentinel comes back and the set is whole', async () => {
    const result = await chaos(['redis', 'kill-sentinel']);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const killed = /sent SIGKILL to (sentinel-[012]) \(pid \d+\)/.exec(result.stdout)?.[1];
    assert.ok(killed, result.stdout);
    assert.match(result.stdout, new RegExp(`redis: ${killed} answers again, \\d+\\.\\d s after the kill`));
    assert.match(result.stdout, /redis: the set is whole again, .* 3 of 3 Sentinels agreeing/);
    assert.doesNotMatch(result.stdout, /the Sentinels named/);
    await runnerSaid(new RegExp(`^stack \\| ${killed} is back`));
  });

  test('freeze, thaw and stop name the single Redis: refused with the actions that fit a set', async () => {
    const result = await chaos(['redis', 'freeze']);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /npm start runs a replicated Redis \(REDIS_REPLICAS\): act on its members with redis kill-master, kill-replica or kill-sentinel/);
  });
});
