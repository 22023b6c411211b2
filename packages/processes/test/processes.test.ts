import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Child,
  checkNginxConfig,
  commandOutput,
  findBinaries,
  findBinary,
  bindable,
  freePort,
  freePortBesides,
  freePorts,
  freeStackPorts,
  installedComposes,
  preparePrefix,
  RedisServer,
  redisCall,
  runCommand,
  waitFor,
} from '../src/index.js';

const binaries = findBinaries(process.env);

/** True while a process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('free ports', () => {
  const [ephemeralFirst, ephemeralLast] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);

  test('are picked outside the kernel’s ephemeral range, where no outgoing connection can take them', async () => {
    assert.ok(ephemeralFirst && ephemeralLast);
    for (let pick = 0; pick < 50; pick += 1) {
      const port = await freePort();
      assert.ok(port < ephemeralFirst || port > ephemeralLast, `${port} must lie outside ${ephemeralFirst}-${ephemeralLast}`);
      assert.ok(port >= 1_024);
    }
  });

  test('a run of consecutive ports is all free, and a port besides it lies outside it', async () => {
    const first = await freePorts(4);
    for (let offset = 0; offset < 4; offset += 1) assert.equal(await bindable(first + offset), true, `${first + offset} is free`);
    for (let pick = 0; pick < 20; pick += 1) {
      const besides = await freePortBesides(first, 4);
      assert.ok(besides < first || besides >= first + 4, `${besides} is not one of ${first}-${first + 3}`);
    }
  });

  test('a stack’s ports: the api run, the edge and Redis, all distinct', async () => {
    for (let pick = 0; pick < 20; pick += 1) {
      const { api, edge, redis } = await freeStackPorts(3);
      const all = [api, api + 1, api + 2, edge, redis];
      assert.equal(new Set(all).size, 5, all.join(', '));
    }
  });

  test('a port something listens on is not bindable', async () => {
    const server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      assert.equal(await bindable(port), false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    assert.equal(await bindable(port), true);
  });
});

describe('runCommand', () => {
  test('collects both streams to their last line, and the exit code', async () => {
    const script = "process.stdout.write('out\\n'); process.stderr.write('err\\n'); process.stdout.write('x'.repeat(200000) + '\\nlast\\n'); process.exitCode = 3";
    const result = await runCommand(process.execPath, ['-e', script]);
    assert.equal(result.code, 3);
    assert.equal(result.stderr, 'err\n');
    assert.ok(result.stdout.startsWith('out\n') && result.stdout.endsWith('\nlast\n'), 'stdout whole');
    assert.equal(result.output.length, result.stdout.length + result.stderr.length);
  });

  test('resolves when the output ends, not at the exit: a child still printing is heard to its end', async () => {
    // The command exits at once; a child it leaves holds its stdout and prints 200 ms later.
    const script = "require('node:child_process').spawn(process.execPath, ['-e', 'setTimeout(() => console.log(\\'late\\'), 200)'], { stdio: 'inherit' }).unref(); console.log('early')";
    const result = await runCommand(process.execPath, ['-e', script]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'early\nlate\n');
  });

  test('stops a command that outlives timeoutMs, keeping what it printed', async () => {
    // sh, not node: it prints at once even on a loaded machine, where node can take longer than the
    // timeout to start (seen in CI). exec leaves sleep as the process the timeout stops.
    const result = await runCommand('sh', ['-c', 'echo started; exec sleep 60'], { timeoutMs: 1000 });
    assert.equal(result.code, null);
    assert.equal(result.stdout, 'started\n');
  });

  test('a command that ignores SIGTERM is ended by killSignal SIGKILL at timeoutMs, and nothing throws', async () => {
    // An ignored signal stays ignored across exec, so sleep ignores the SIGTERM.
    const result = await runCommand('sh', ['-c', "trap '' TERM; echo started; exec sleep 60"], { timeoutMs: 1000, killSignal: 'SIGKILL' });
    assert.equal(result.code, null);
    assert.equal(result.stdout, 'started\n');
  });

  test('input goes to its stdin, which is then closed', async () => {
    const script = "let text = ''; process.stdin.on('data', (chunk) => (text += chunk)).on('end', () => console.log(text.toUpperCase()))";
    const result = await runCommand(process.execPath, ['-e', script], { input: 'secret' });
    assert.equal(result.stdout, 'SECRET\n');
  });

  test('onLine hears each line of each stream as it comes, the last one unterminated', async () => {
    const lines: string[] = [];
    const script = "process.stdout.write('one\\ntw'); setTimeout(() => { process.stdout.write('o\\n'); process.stderr.write('three') }, 50)";
    const result = await runCommand(process.execPath, ['-e', script], { onLine: (line, stream) => lines.push(`${stream} ${line}`) });
    assert.deepEqual(lines, ['stdout one', 'stdout two', 'stderr three']);
    assert.equal(result.stdout, 'one\ntwo\n');
  });

  test('onSpawn gets the pid of the command while it runs', async () => {
    let spawned: number | undefined;
    const result = await runCommand(process.execPath, ['-e', 'console.log(process.pid)'], { onSpawn: (pid) => (spawned = pid) });
    assert.equal(result.stdout, `${String(spawned)}\n`);
  });
});

describe('commandOutput', () => {
  test('is the stdout of a command that succeeds', async () => {
    assert.equal(await commandOutput(process.execPath, ['-e', "console.log('fine')"]), 'fine\n');
  });

  test('a failure names the command and carries its stderr, or its exit code when it said nothing', async () => {
    await assert.rejects(commandOutput(process.execPath, ['-e', "console.error('broken'); process.exit(4)"]), /-e .* failed: broken$/);
    await assert.rejects(commandOutput(process.execPath, ['-e', 'process.exit(4)']), /failed: exit code 4$/);
    await assert.rejects(commandOutput('/nonexistent/tool', ['x']), /^Error: \/nonexistent\/tool x failed: spawn .*ENOENT/);
  });
});

describe('findBinary', () => {
  test('finds daemons in the sbin directories even when PATH lacks them', () => {
    const nginx = findBinary('nginx', { PATH: '/nonexistent' });
    assert.ok(nginx, 'nginx must be installed (npm test installs it as root)');
    assert.match(nginx, /\/sbin\/nginx$/);
  });

  test('an explicit override wins, and a wrong one is not silently replaced', () => {
    assert.equal(findBinary('nginx', process.env, '/bin/sh'), '/bin/sh');
    assert.equal(findBinary('nginx', process.env, '/nonexistent/nginx'), undefined);
  });
});

describe('installedComposes', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'composes-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** A PATH holding only a fake docker-compose that prints `script`'s output. */
  async function fakeCompose(name: string, script: string): Promise<NodeJS.ProcessEnv> {
    const bin = join(dir, name);
    await mkdir(bin);
    await writeFile(join(bin, 'docker-compose'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    return { PATH: bin };
  }

  test('a standalone docker-compose with the version it reports, without its v', async () => {
    const env = await fakeCompose('v2', 'echo v2.30.3');
    assert.deepEqual(await installedComposes(env), [{ flavour: 'standalone', command: [join(dir, 'v2', 'docker-compose')], version: '2.30.3' }]);
  });

  test('one that cannot tell its version is an error, not an absence', async () => {
    const env = await fakeCompose('broken', 'echo "No module named compose" >&2; exit 1');
    await assert.rejects(installedComposes(env), /docker-compose version --short failed \(1\): No module named compose/);
  });

  test('none on the PATH: none found', async () => {
    assert.deepEqual(await installedComposes({ PATH: dir }), []);
  });
});

describe('Child', () => {
  test('stop escalates to SIGKILL when the process ignores SIGTERM', async () => {
    const child = new Child({
      name: 'stubborn',
      command: process.execPath,
      args: ['-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"],
    });
    // Wait until the handler is installed, or SIGTERM would kill it before it could ignore it.
    await waitFor(() => (child.recentOutput().includes('up') ? true : undefined), { what: 'the handler', intervalMs: 10 });
    const started = Date.now();
    const exit = await child.stop('SIGTERM', 300);
    assert.equal(exit.signal, 'SIGKILL');
    assert.ok(Date.now() - started < 5_000);
  });

  test('kill() takes the whole process group: nothing the child forked survives', async () => {
    const child = new Child({ name: 'forker', command: 'sh', args: ['-c', 'sleep 300 & echo $!; wait'] });
    const grandchild = Number(await waitFor(() => /^\d+$/.exec(child.recentOutput())?.[0], { what: 'the forked pid' }));
    assert.ok(alive(grandchild));
    await child.kill();
    await waitFor(() => (alive(grandchild) ? undefined : true), { what: `the forked sleep (pid ${grandchild}) to die with its group` });
  });

  test('a child is stopped when its parent dies without stopping it (SIGKILL, OOM)', async () => {
    // A parent of our own that starts a Child, prints its pid, and is then killed outright.
    const module = new URL('../src/index.js', import.meta.url).href;
    const parent = new Child({
      name: 'parent',
      command: process.execPath,
      args: [
        '--input-type=module',
        '-e',
        `const { Child } = await import(${JSON.stringify(module)}); const c = new Child({ name: 'orphan', command: 'sleep', args: ['300'] }); console.log(c.pid); setInterval(() => {}, 1000);`,
      ],
      parentDeathSignal: false,
    });
    const orphan = Number(await waitFor(() => /^\d+$/.exec(parent.recentOutput())?.[0], { what: 'the child of the parent' }));
    assert.ok(alive(orphan));
    // setpriv sets the parent-death signal, then execs sleep: a parent killed before that (CI, under
    // load) would leave a child with no such signal, which is not what this test is about.
    await waitFor(() => (readFileSync(`/proc/${orphan}/comm`, 'utf8').trim() === 'sleep' ? true : undefined), { what: `pid ${orphan} to exec sleep` });
    parent.signal('SIGKILL');
    await parent.exited;
    await waitFor(() => (alive(orphan) ? undefined : true), { what: `the orphaned sleep (pid ${orphan}) to get its parent-death signal` });
  });

  test('a command that does not exist ends with an error, not a hang', async () => {
    const exit = await new Child({ name: 'ghost', command: '/nonexistent/ghost' }).exited;
    assert.match(exit.error?.message ?? '', /ENOENT/);
  });
});

describe('RedisServer', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'redis-test-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('keeps its data in its own directory across a restart', async () => {
    assert.ok(binaries.redisServer, 'redis-server must be installed');
    const redis = new RedisServer({ bin: binaries.redisServer, port: await freePort(), dir: join(dir, 'a') });
    await redis.start();
    assert.equal(await redisCall(redis.port, ['INCR', 'visits']), ':1');
    assert.equal(await redisCall(redis.port, ['INCR', 'visits']), ':2');
    await redis.stop();
    assert.equal(redis.running, false);
    await assert.rejects(redisCall(redis.port, ['PING']), /ECONNREFUSED/);
    await redis.start();
    assert.equal(await redisCall(redis.port, ['GET', 'visits']), '2');
    await redis.stop();
  });

  test('with a password, nothing is answered before AUTH', async () => {
    assert.ok(binaries.redisServer);
    const redis = new RedisServer({
      bin: binaries.redisServer,
      port: await freePort(),
      dir: join(dir, 'b'),
      password: 's3cret',
    });
    await redis.start();
    assert.match(await redisCall(redis.port, ['PING']), /^-NOAUTH/);
    assert.equal(await redisCall(redis.port, ['PING'], 's3cret'), '+PONG');
    await redis.stop();
  });

  test('a port already taken fails the start instead of trusting a stranger’s PONG', async () => {
    assert.ok(binaries.redisServer);
    const first = new RedisServer({ bin: binaries.redisServer, port: await freePort(), dir: join(dir, 'c') });
    await first.start();
    const second = new RedisServer({ bin: binaries.redisServer, port: first.port, dir: join(dir, 'd') });
    await assert.rejects(second.start(), /port \d+ is already in use/);
    await first.stop();
  });
});

describe('checkNginxConfig', () => {
  test('reports nginx’s own complaint about a broken config', async () => {
    assert.ok(binaries.nginx, 'nginx must be installed');
    const prefix = await mkdtemp(join(tmpdir(), 'nginx-test-'));
    try {
      const file = await preparePrefix(prefix, 'daemon off;\nevents {}\nhttp { server { listen 127.0.0.1:1; no_such_directive on; } }\n');
      const check = checkNginxConfig(binaries.nginx, prefix, file);
      assert.equal(check.ok, false);
      assert.match(check.output, /unknown directive "no_such_directive"/);
    } finally {
      await rm(prefix, { recursive: true, force: true });
    }
  });
});
