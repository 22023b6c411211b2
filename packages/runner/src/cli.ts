#!/usr/bin/env node
/**
 * The stack runner's CLI: `npm start` and `npm run nginx:config`. Every setting comes from the
 * environment, parsed once by `runnerEnvSchema`; options are for where output goes.
 */
import { writeFile } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateFiles } from '@three-tier/nginx';
import { describeExit, findBinaries, installHint } from '@three-tier/processes';
import { envOrExit, exitWith, parseCommandLine } from '@three-tier/cli-kit';
import { budgets, gracePeriodMs, redisReplicationNames } from '@three-tier/shared';
import { apiPortsOf, replicatedRedisPortsOf, runnerEnvSchema, type RunnerEnv } from './config.js';
import { batchedWriter } from './access-log.js';
import { NativeStack, type EdgeKind, type ServiceName } from './native-stack.js';
import { restartPolicy, supervise, type SupervisionEvent } from './restart-policy.js';
import { RunFolder, sameKeypressMs, sweepLeftovers } from './run-folder.js';
import { takenPorts } from './taken-ports.js';
import { nativeExample, nativeTarget } from './nginx-target.js';

const usage = `usage: three-tier <command> [options]

commands:
  up              the whole stack in the foreground (npm start): redis-server (REDIS_REPLICAS=2: a
                  master, 2 replicas and 3 Sentinels), the api, and nginx (or the http-proxy edge). Prints "ready: <url>" once every tier answers. A service
                  that exits on its own is restarted with backoff, as compose does; five failures in a
                  row stop the stack. Ctrl-C or SIGTERM stops it in order (edge, api, Redis) and
                  exits 0; a second one kills what is left. A stack left behind by a runner that was
                  killed outright is stopped and cleaned up by the next "up".
  nginx-config    prints the nginx.conf that "up" runs with the same environment (EDGE_HOST,
                  EDGE_PORT, API_PORT, API_INSTANCES, LOG_LEVEL) on stdout, and nothing else (npm run --silent nginx:config)
      --output FILE           write it to FILE instead
      --prefix DIR            nginx's run directory (default ${nativeExample.prefix}; "up" makes a fresh one)

  -h, --help      this text

The environment variables are listed in docs/configuration.md.
`;

// `three-tier nginx-config | head` closes the pipe early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

/** Every line of the runner and its children, in order, a burst at a time. */
const output = batchedWriter(1);
// Whatever ends the process (a stop, fail(), an unexpected error), the pending lines go out first.
process.on('exit', () => output.flushSync());

const say = (message: string): void => {
  output.line(`stack | ${message}`);
};

const cli = { program: 'three-tier', usage };

function fail(message: string, code = 1): never {
  output.flushSync();
  exitWith(cli, message, code);
}

const loadEnv = (): RunnerEnv => envOrExit(cli, runnerEnvSchema, process.env);

function chooseEdge(env: RunnerEnv, nginx: string | undefined): EdgeKind {
  if (env.STACK_EDGE === 'http-proxy') return 'http-proxy';
  if (nginx) return 'nginx';
  if (env.STACK_EDGE === 'nginx') fail(`STACK_EDGE=nginx but nginx is not installed. Install it: ${installHint(['nginx'])}`);
  say(`nginx is not installed: using the http-proxy edge instead (for nginx: ${installHint(['nginx'])})`);
  return 'http-proxy';
}

function describeEvent(event: SupervisionEvent<ServiceName>): string {
  switch (event.kind) {
    case 'exited':
      return (
        `${event.service} exited on its own (${event.exit ? describeExit(event.exit) : 'unknown'}); ` +
        `restarting it in ${event.delayMs} ms (restart ${event.failures} of at most ${restartPolicy.maxFailures} in a row)`
      );
    case 'restarted':
      return `${event.service} is back (pid ${String(event.pid)}), ${event.downMs} ms after it went down`;
    case 'restart-failed':
      return `${event.service} did not come back: ${event.error.message}`;
    case 'gave-up':
      return `${event.service} did not stay up after ${event.failures} restarts in a row; stopping the stack`;
  }
}

/**
 * A runner killed outright could not clean up: its services and run folder go first. Nothing of
 * ours runs yet, so a Ctrl-C meanwhile just ends it (the next start sweeps what is left).
 */
async function sweepEarlierRuns(): Promise<void> {
  const duringSweep = (signal: NodeJS.Signals): void => {
    say(`${signal} while cleaning up after an earlier run: nothing started`);
    process.exit(128 + osConstants.signals[signal]);
  };
  process.once('SIGINT', duringSweep).once('SIGTERM', duringSweep);
  await sweepLeftovers(tmpdir(), say, gracePeriodMs(budgets.apiShutdownTimeoutMs));
  process.off('SIGINT', duringSweep).off('SIGTERM', duringSweep);
}

type StackBinaries = { redisServer: string; redisSentinel: string | undefined; nginx: string | undefined };

/** The replicated set's folder: beside the single Redis's files, so switching back and forth loses neither. */
const replicatedDataDir = (env: RunnerEnv): string => join(env.STACK_DATA_DIR, 'replicated');

/** The stack `up` runs, every line of its services relayed as `<service>| <line>`. */
function createStack(env: RunnerEnv, edge: EdgeKind, bin: StackBinaries, runDir: string): Promise<NativeStack> {
  // "api   | ..." alone; "api 3001| ..." among several; "sentinel-0| ..." with a replicated Redis.
  const names = [env.API_INSTANCES === 1 ? 'api' : `api ${env.API_PORT + env.API_INSTANCES - 1}`, ...(env.REDIS_REPLICAS > 0 ? redisReplicationNames.sentinels : [])];
  const width = Math.max(6, ...names.map((name) => name.length));
  const replicated = env.REDIS_REPLICAS > 0;
  return NativeStack.create({
    edge,
    ports: { edge: env.EDGE_PORT, api: env.API_PORT, redis: env.REDIS_PORT },
    ...(replicated ? { replicatedRedis: replicatedRedisPortsOf(env) } : {}),
    apiInstances: env.API_INSTANCES,
    edgeHost: env.EDGE_HOST,
    dataDir: replicated ? replicatedDataDir(env) : env.STACK_DATA_DIR,
    runDir,
    bin,
    baseEnv: { PATH: env.PATH, HOME: env.HOME },
    redisPassword: env.REDIS_PASSWORD,
    logLevel: env.LOG_LEVEL,
    ...(env.LOG_FORMAT ? { logFormat: env.LOG_FORMAT } : process.stdout.isTTY ? { logFormat: 'pretty' as const } : {}),
    onLine: (service: ServiceName, line: string) => {
      const name = service === 'edge' ? edge.replace('http-proxy', 'proxy') : service;
      output.line(`${name.padEnd(width)}| ${line}`);
    },
  });
}

/** One `up`: its stack, its run folder, and the supervision to end before a stop. */
interface Run {
  readonly stack: NativeStack;
  readonly folder: RunFolder;
  endSupervision: () => void;
  /** Set by the first Ctrl-C or SIGTERM: a start that fails after it was stopped, not broken. */
  signalled: boolean;
}

/** Records each service's pid, port and (for an api instance) INSTANCE_ID: chaos names an instance even while it answers nothing. */
function recordServices({ stack, folder }: Run): Promise<void> {
  const instanceIds = new Map(stack.apis.map(({ name, instanceId }) => [name, instanceId]));
  return folder.record(
    Object.fromEntries(
      Object.entries(stack.services).map(([name, service]) => [name, { pid: service.pid, port: stack.ports[name], instanceId: instanceIds.get(name) }]),
    ),
    stack.url,
  );
}

/**
 * Ctrl-C or SIGTERM stops the stack in order and exits 0; a second one, a keypress later, kills
 * what is left. Returns the graceful stop, for a supervisor that gives up.
 */
function stopOnSignals(run: Run): (code: number) => Promise<void> {
  let killing = false;
  const stop = async (code: number): Promise<void> => {
    run.endSupervision();
    say(`stopping: edge, then api, then ${run.stack.replicatedRedis ? 'the Sentinels, then redis' : 'redis'}`);
    await run.stack.stop();
    if (killing) return; // a second signal cut the stop short, and says how it ended
    await run.folder.remove();
    say('stopped');
    process.exit(code);
  };
  /** The second request to stop: every process group at once, nginx's draining workers included. */
  const killEverything = async (signal: NodeJS.Signals): Promise<void> => {
    if (killing) return; // npm's forwarded copy of the same second keypress
    killing = true;
    run.endSupervision();
    say(`${signal} again: killing what is left`);
    await run.stack.kill();
    await run.folder.remove();
    say('killed');
    // As a shell reports a process ended by the signal: 130 for SIGINT, 143 for SIGTERM.
    process.exit(128 + osConstants.signals[signal]);
  };
  let firstSignalAt: number | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      const now = Date.now();
      if (firstSignalAt === undefined) {
        firstSignalAt = now;
        run.signalled = true;
        void stop(0);
      } else if (now - firstSignalAt >= sameKeypressMs) {
        void killEverything(signal);
      }
    });
  }
  return stop;
}

/** Restarts a service that exits on its own, recording its new pid; gives up (and stops) after the policy's failures. */
function superviseServices(run: Run, stop: (code: number) => Promise<void>): void {
  run.endSupervision = supervise(run.stack, (event) => {
    say(describeEvent(event));
    if (event.kind === 'restarted') void recordServices(run);
    if (event.kind === 'gave-up') void stop(1);
  });
}

/** What starts, on which ports; and once it answers, the `ready:` line. */
function describeStart(env: RunnerEnv, edge: EdgeKind): string {
  const apiPorts = apiPortsOf(env);
  const apis = apiPorts.length === 1 ? `the api on 127.0.0.1:${env.API_PORT}` : `${apiPorts.length} api instances on 127.0.0.1:${apiPorts.join(', ')}`;
  return `starting ${describeRedis(env)}, ${apis}, ${edge} on ${env.EDGE_HOST}:${env.EDGE_PORT}`;
}

function describeRedis(env: RunnerEnv): string {
  if (env.REDIS_REPLICAS === 0) return `redis on 127.0.0.1:${env.REDIS_PORT} (data in ${env.STACK_DATA_DIR})`;
  const { nodes, sentinels } = replicatedRedisPortsOf(env);
  return (
    `a replicated redis (${nodes.length} servers on 127.0.0.1:${nodes.join(', ')}, ${sentinels.length} Sentinels on ` +
    `127.0.0.1:${sentinels.join(', ')}; data in ${replicatedDataDir(env)})`
  );
}

/** Which server is master now, and where the replicas and Sentinels are: said once the set is whole. */
async function describeSet(stack: NativeStack): Promise<string | undefined> {
  const set = stack.replicatedRedis;
  if (!set) return undefined;
  const master = await set.master();
  const replicas = set.nodes.filter((node) => node !== master).map((node) => `${node.name} on ${node.port}`);
  return `redis: ${master.name} on ${master.port} is master, ${replicas.join(' and ')} replicate it; the api asks the Sentinels for the master`;
}

function readyLine(stack: NativeStack): string {
  // One instance: the line as it always was. Several: which ones the edge balances, by port and name.
  const instances = stack.apis.length === 1 ? '' : ` (api instances: ${stack.apis.map(({ port, instanceId }) => `${port} ${instanceId}`).join(', ')})`;
  return `ready: ${stack.url}${instances}`;
}

async function up(env: RunnerEnv): Promise<void> {
  const bin = findBinaries({ PATH: env.PATH, NGINX_BIN: env.NGINX_BIN, REDIS_SERVER_BIN: env.REDIS_SERVER_BIN, REDIS_SENTINEL_BIN: env.REDIS_SENTINEL_BIN });
  if (!bin.redisServer) fail(`redis-server is not installed. Install it: ${installHint(['redis-server'])}`);
  if (env.REDIS_REPLICAS > 0 && !bin.redisSentinel) {
    fail(`REDIS_REPLICAS=${env.REDIS_REPLICAS} needs redis-sentinel, which is not installed. Install it: ${installHint(['redis-sentinel'])}`);
  }
  const edge = chooseEdge(env, bin.nginx);
  await sweepEarlierRuns();
  // A port taken is said before anything starts, and the run ends there (a failed start said nothing once).
  const taken = await takenPorts(env, tmpdir());
  if (taken.length > 0) fail(`cannot start: ${taken.join('\n')}`);
  const folder = await RunFolder.create(tmpdir());
  const stack = await createStack(env, edge, { redisServer: bin.redisServer, redisSentinel: bin.redisSentinel, nginx: bin.nginx }, folder.path);
  const run: Run = { stack, folder, endSupervision: () => {}, signalled: false };
  const stop = stopOnSignals(run);
  say(describeStart(env, edge));
  try {
    await stack.start();
  } catch (error) {
    if (run.signalled) return; // a signal during the start: its stop exits
    await folder.remove();
    fail(error instanceof Error ? error.message : String(error));
  }
  if (run.signalled) return; // a signal came as the start finished: its stop exits
  await recordServices(run);
  superviseServices(run, stop);
  const set = await describeSet(stack).catch((error: unknown) => `redis: ${(error as Error).message}`);
  if (set) say(set);
  output.line(readyLine(stack));
}

async function nginxConfig(env: RunnerEnv, options: { output?: string; prefix?: string }): Promise<void> {
  const target = nativeTarget({
    listenHost: env.EDGE_HOST,
    edgePort: env.EDGE_PORT,
    apiPort: env.API_PORT,
    apiInstances: env.API_INSTANCES,
    prefix: options.prefix ?? nativeExample.prefix,
    // The pipe lives in the run directory, as "up" makes it.
    accessLogPath: options.prefix ? join(options.prefix, 'access.log') : nativeExample.accessLogPath,
    logLevel: env.LOG_LEVEL,
  });
  const config = generateFiles(target)['nginx.conf'] ?? '';
  if (options.output === undefined) {
    process.stdout.write(config);
    return;
  }
  await writeFile(options.output, config);
  process.stderr.write(`three-tier: wrote ${options.output}\n`);
}

const { values, positionals } = parseCommandLine(cli, { output: { type: 'string' }, prefix: { type: 'string' } });
const [command, ...extra] = positionals;
if (extra.length > 0) fail(`unexpected arguments: ${extra.join(' ')}`, 2);
if (command === 'up') {
  if (values.output ?? values.prefix) fail('up takes no options', 2);
  await up(loadEnv());
} else if (command === 'nginx-config') {
  await nginxConfig(loadEnv(), {
    ...(values.output ? { output: values.output } : {}),
    ...(values.prefix ? { prefix: values.prefix } : {}),
  });
} else {
  fail(command === undefined ? 'a command is needed' : `unknown command ${JSON.stringify(command)}`, 2);
}
