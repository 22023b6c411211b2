#!/usr/bin/env node
/**
 * stack up           `npm start`: the whole stack in the foreground. Prints `ready: <url>` once every
 *                    tier is healthy; Ctrl-C or SIGTERM stops it in order (edge, api, Redis); a
 *                    second signal kills what is left.
 * stack images-push  `npm run images:push`: builds the images, tags them with the commit, the
 *                    version and latest, and pushes them to IMAGE_PREFIX (see push.ts).
 * stack load         `npm run load`: keeps /load busy at LOAD_URL (the Ingress in the autoscaling
 *                    demo) and prints, every second, the work done and the instances answering.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeExit, findBinaries, installHint } from '@three-tier/processes';
import { ConfigError, envInteger, load, nativeDefaults, parseEnv } from '@three-tier/shared';
import { z } from 'zod';
import { stackEnvSchema, type StackEnv } from './config.js';
import { NativeStack, type EdgeKind, type ServiceName } from './native.js';
import { pushImages } from './push.js';
import { runLoad } from './load.js';

const say = (message: string): void => {
  process.stdout.write(`stack | ${message}\n`);
};

function fail(message: string): never {
  process.stderr.write(`stack: ${message}\n`);
  process.exit(1);
}

function loadEnv(): StackEnv {
  try {
    return parseEnv(stackEnvSchema, process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

function chooseEdge(env: StackEnv, nginx: string | undefined): EdgeKind {
  if (env.STACK_EDGE === 'http-proxy') return 'http-proxy';
  if (nginx) return 'nginx';
  if (env.STACK_EDGE === 'nginx') fail(`STACK_EDGE=nginx but nginx is not installed. Install it: ${installHint(['nginx'])}`);
  say(`nginx is not installed: using the http-proxy edge instead (for nginx: ${installHint(['nginx'])})`);
  return 'http-proxy';
}

async function up(): Promise<void> {
  const env = loadEnv();
  const bin = findBinaries(process.env);
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
    baseEnv: { PATH: process.env.PATH, HOME: process.env.HOME },
    redisPassword: env.REDIS_PASSWORD,
    logLevel: env.LOG_LEVEL,
    ...(env.LOG_FORMAT ? { logFormat: env.LOG_FORMAT } : process.stdout.isTTY ? { logFormat: 'pretty' as const } : {}),
    onLine: (service: ServiceName, line: string) => {
      const name = service === 'edge' ? edge.replace('http-proxy', 'proxy') : service;
      process.stdout.write(`${name.padEnd(width)}| ${line}\n`);
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

  say(`starting redis on 127.0.0.1:${env.REDIS_PORT} (data in ${env.STACK_DATA_DIR}), the api on 127.0.0.1:${env.API_PORT}, ${edge} on ${env.EDGE_HOST}:${env.EDGE_PORT}`);
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
  process.stdout.write(`ready: ${stack.url}\n`);
}

async function imagesPush(): Promise<void> {
  const imagePrefix = process.env.IMAGE_PREFIX;
  if (!imagePrefix) fail('IMAGE_PREFIX is not set: e.g. IMAGE_PREFIX=alice/three-tier for Docker Hub user alice');
  try {
    const pushed = await pushImages({
      imagePrefix,
      registry: process.env.REGISTRY || undefined,
      user: process.env.REGISTRY_USER || undefined,
      password: process.env.REGISTRY_PASSWORD || undefined,
      env: process.env,
      log: say,
    });
    for (const reference of pushed) process.stdout.write(`pushed ${reference}\n`);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
}

const loadEnvSchema = z.object({
  LOAD_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://three-tier.example.com' }).default(
    `http://127.0.0.1:${nativeDefaults.edgePort}`,
  ),
  LOAD_MS: envInteger(load.minMs, load.maxMs).default(500),
  LOAD_CONCURRENCY: envInteger(1, 256).default(8),
  LOAD_SECONDS: envInteger(0, 86_400).default(120),
});

async function loadCommand(): Promise<void> {
  let env: z.output<typeof loadEnvSchema>;
  try {
    env = parseEnv(loadEnvSchema, process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const url = env.LOAD_URL.replace(/\/$/, '');
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
  say(`${env.LOAD_CONCURRENCY} clients asking ${url}/load for ${env.LOAD_MS} ms of CPU each, ${env.LOAD_SECONDS ? `for ${env.LOAD_SECONDS} s` : 'until Ctrl-C'}`);
  await runLoad(
    { url, ms: env.LOAD_MS, concurrency: env.LOAD_CONCURRENCY, seconds: env.LOAD_SECONDS, signal: stop.signal },
    (line) => process.stdout.write(`${line}\n`),
  );
}

const [command] = process.argv.slice(2);
if (command === 'up') await up();
else if (command === 'images-push') await imagesPush();
else if (command === 'load') await loadCommand();
else fail('usage: stack up | stack images-push | stack load   (npm start, npm run images:push and npm run load; see the README)');
