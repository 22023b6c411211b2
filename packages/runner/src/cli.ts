#!/usr/bin/env node
/**
 * The stack runner's CLI: `npm start` and `npm run nginx:config`. Every setting comes from the
 * environment, parsed once by `runnerEnvSchema`; options are for where output goes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateFiles } from '@three-tier/nginx';
import { describeExit, findBinaries, installHint } from '@three-tier/processes';
import { envOrExit, exitWith, parseCommandLine } from '@three-tier/shared';
import { runnerEnvSchema, type RunnerEnv } from './config.js';
import { batchedWriter } from './access-log.js';
import { NativeStack, type EdgeKind, type ServiceName } from './native-stack.js';
import { nativeExample, nativeTarget } from './nginx-target.js';

const usage = `usage: three-tier <command> [options]

commands:
  up              the whole stack in the foreground (npm start): redis-server, the api, and nginx
                  (or the http-proxy edge). Prints "ready: <url>" once every tier answers; Ctrl-C or
                  SIGTERM stops it in order (edge, api, Redis); a second signal kills what is left.
  nginx-config    prints the nginx.conf that "up" runs with the same environment (EDGE_HOST,
                  EDGE_PORT, API_PORT) on stdout, and nothing else (npm run --silent nginx:config)
      --output FILE           write it to FILE instead
      --prefix DIR            nginx's run directory (default ${nativeExample.prefix}; "up" makes a fresh one)

  -h, --help      this text

The environment variables are listed in the README (Configuration, npm start).
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

async function up(env: RunnerEnv): Promise<void> {
  const bin = findBinaries({ PATH: env.PATH, NGINX_BIN: env.NGINX_BIN, REDIS_SERVER_BIN: env.REDIS_SERVER_BIN });
  if (!bin.redisServer) fail(`redis-server is not installed. Install it: ${installHint(['redis-server'])}`);
  const edge = chooseEdge(env, bin.nginx);
  const runDir = await mkdtemp(join(tmpdir(), 'three-tier-'));
  const width = 6;
  const stack = await NativeStack.create({
    edge,
    ports: { edge: env.EDGE_PORT, api: env.API_PORT, redis: env.REDIS_PORT },
    edgeHost: env.EDGE_HOST,
    dataDir: env.STACK_DATA_DIR,
    runDir,
    bin: { redisServer: bin.redisServer, nginx: bin.nginx },
    baseEnv: { PATH: env.PATH, HOME: env.HOME },
    redisPassword: env.REDIS_PASSWORD,
    logLevel: env.LOG_LEVEL,
    ...(env.LOG_FORMAT ? { logFormat: env.LOG_FORMAT } : process.stdout.isTTY ? { logFormat: 'pretty' as const } : {}),
    onLine: (service: ServiceName, line: string) => {
      const name = service === 'edge' ? edge.replace('http-proxy', 'proxy') : service;
      output.line(`${name.padEnd(width)}| ${line}`);
    },
  });

  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    stopping = true;
    say('stopping: edge, then api, then redis');
    await stack.stop();
    await rm(runDir, { recursive: true, force: true });
    say('stopped');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) {
        say(`${signal} again: killing what is left`);
        process.exit(1); // the exit hook SIGKILLs the children
      }
      void stop(0);
    });
  }

  say(
    `starting redis on 127.0.0.1:${env.REDIS_PORT} (data in ${env.STACK_DATA_DIR}), the api on 127.0.0.1:${env.API_PORT}, ` +
      `${edge} on ${env.EDGE_HOST}:${env.EDGE_PORT}`,
  );
  try {
    await stack.start();
  } catch (error) {
    await rm(runDir, { recursive: true, force: true });
    fail(error instanceof Error ? error.message : String(error));
  }
  stack.onUnexpectedExit((service, exit) => {
    if (stopping) return;
    say(`${service} exited unexpectedly (${exit ? describeExit(exit) : 'unknown'}); stopping the stack`);
    void stop(1);
  });
  output.line(`ready: ${stack.url}`);
}

async function nginxConfig(env: RunnerEnv, options: { output?: string; prefix?: string }): Promise<void> {
  const target = nativeTarget({
    listenHost: env.EDGE_HOST,
    edgePort: env.EDGE_PORT,
    apiPort: env.API_PORT,
    prefix: options.prefix ?? nativeExample.prefix,
    // The pipe lives in the run directory, as "up" makes it.
    accessLogPath: options.prefix ? join(options.prefix, 'access.log') : nativeExample.accessLogPath,
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
