#!/usr/bin/env node
/**
 * The user's commands that drive a stack, each `three-tier-demo <command>`:
 * - load (`npm run load`): keeps /load busy at LOAD_URL (the Ingress in the autoscaling demo) and
 *   prints, every second, the work done and the instances answering;
 * - chaos (`npm run chaos -- <action>`): breaks the native or compose stack on purpose and says
 *   what the stack does about it;
 * - soak (`npm run soak`): a stack of its own under mixed traffic, checked for leaks;
 * - screenshot (`npm run screenshot`): the README's picture of the live page.
 * The only file of the package that reads the environment.
 */
import { tmpdir } from 'node:os';
import { envOrExit, exitWith, parseCommandLine, repoRoot } from '@three-tier/cli-kit';
import { composeProjectName } from '@three-tier/processes';
import { envInteger, load, nativeDefaults, rotationRule } from '@three-tier/shared';
import { z } from 'zod';
import { composeStack, findNativeRun, nativeStack, type ChaosStack } from './chaos-stacks.js';
import { RefusedError, runChaos, UsageError } from './chaos.js';
import { runLoad } from './load.js';
import { screenshotCommand } from './screenshot-command.js';
import { soakCommand } from './soak-command.js';

const usage = `usage: three-tier-demo load
       three-tier-demo chaos <action>
       three-tier-demo soak          (npm run soak; --help for its settings)
       three-tier-demo screenshot    (npm run screenshot; --help for its options)

Keeps GET /load busy with LOAD_CONCURRENCY clients and prints a line a second: jobs done, 429s
(the edge's rate limit), 503s (saturated instances), errors, and the instances that answered. The
instances answering in the first seconds are named once; later ones are announced as new, and one
that missed ${rotationRule.turnsMissed} turns (the others answered ${rotationRule.turnsMissed} times each since its last answer, ${rotationRule.minSilentMs / 1_000} s at least) as
gone. Ctrl-C stops it.

  LOAD_URL            the stack's public entry (default http://127.0.0.1:${nativeDefaults.edgePort}, npm start's edge)
  LOAD_MS             CPU milliseconds a request asks for (${load.minMs} to ${load.maxMs}, default 500)
  LOAD_CONCURRENCY    clients (default 8)
  LOAD_SECONDS        how long (default 120; 0 runs until Ctrl-C)

chaos actions (npm run chaos -- <action>); an instance is named by hostname, alias, port (native),
container (compose) or index (1, 2, ...); without one, kill and fault set pick one at random:
  kill [instance]                             SIGKILL one api instance
  redis freeze|thaw|stop|start                pause/unpause/stop/start Redis (natively SIGSTOP,
                                              SIGCONT, SIGTERM; the runner restarts it by itself)
  redis kill-master|kill-replica|kill-sentinel   a replicated Redis only (REDIS_REPLICAS=2 npm start,
                                              or compose's replicated Redis): SIGKILL of that member's
                                              process, then which node became master, after how long,
                                              and when the set was whole again
  scale N                                     compose only: N api replicas (npm start: API_INSTANCES)
  fault set unready|latency=MS|errors=RATE [instance]
  fault clear [unready|latency|errors] [instance]   (no instance: every instance)
  fault exit [instance]                       the instance exits 1 at once, as a crash would
  fault list                                  every instance's faults
After acting, chaos polls GET /instance through the edge 10 times a second and says who left or
joined the rotation, how Redis changed, which requests failed, and nginx's retries.

  CHAOS_STACK          native (npm start's live run folder in TMPDIR) or compose (docker CLI);
                       default native when npm start is running, else compose
  CHAOS_URL            the edge (default: npm start's edge; compose: http://127.0.0.1:\${HTTP_PORT:-80})
  CHAOS_WATCH_SECONDS  how long to watch after acting (default 10; 0: do not watch)
  COMPOSE_PROJECT_NAME the compose project (default: as compose names it, the repository folder's
                       name in lowercase with only a-z, 0-9, _ and - kept)
  REDIS_PASSWORD       the stack's Redis password, to ask a replicated Redis's members

  -h, --help          this text
`;

const loadEnvSchema = z.object({
  LOAD_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://three-tier.example.com' })
    .default(`http://127.0.0.1:${nativeDefaults.edgePort}`),
  LOAD_MS: envInteger(load.minMs, load.maxMs).default(500),
  LOAD_CONCURRENCY: envInteger(1, 256).default(8),
  LOAD_SECONDS: envInteger(0, 86_400).default(120),
});

const chaosEnvSchema = z.object({
  CHAOS_STACK: z.enum(['native', 'compose'], { error: 'must be native or compose' }).optional(),
  CHAOS_URL: z.url({ protocol: /^http$/, error: 'must be an http:// URL, e.g. http://127.0.0.1:8080' }).optional(),
  CHAOS_WATCH_SECONDS: envInteger(0, 3_600).default(10),
  COMPOSE_PROJECT_NAME: z.string().min(1).optional(),
  HTTP_PORT: envInteger(1, 65_535).default(80),
  REDIS_PASSWORD: z.string().min(1).optional(),
});

/** Stops the work on Ctrl-C or SIGTERM: the command winds down and says so. */
function stopOnSignals(): AbortSignal {
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
  return stop.signal;
}

async function chaosCommand(positionals: readonly string[]): Promise<never> {
  const cli = { program: 'chaos', usage };
  const env = envOrExit(cli, chaosEnvSchema, process.env);
  const run = env.CHAOS_STACK === 'compose' ? undefined : await findNativeRun(tmpdir());
  if (env.CHAOS_STACK === 'native' && !run) exitWith(cli, `CHAOS_STACK=native but no npm start is running (no live run folder in ${tmpdir()})`);
  // As `docker compose` run in the repository names it: COMPOSE_PROJECT_NAME, else the folder's name.
  const project = composeProjectName(repoRoot, { COMPOSE_PROJECT_NAME: env.COMPOSE_PROJECT_NAME });
  if (!run && project === '') exitWith(cli, `the repository's folder name (${repoRoot}) leaves no compose project name: set COMPOSE_PROJECT_NAME`);
  const stack: ChaosStack = run
    ? nativeStack(run.path, run.record, env.CHAOS_URL, env.REDIS_PASSWORD)
    : composeStack({ project, url: env.CHAOS_URL ?? `http://127.0.0.1:${env.HTTP_PORT}`, env: process.env, redisPassword: env.REDIS_PASSWORD });
  process.stdout.write(`chaos | the ${stack.kind} stack (${stack.where}), edge ${stack.url}\n`);
  try {
    process.exitCode = await runChaos(
      positionals.slice(1),
      { stack, watchSeconds: env.CHAOS_WATCH_SECONDS, composeProject: project, env: process.env, signal: stopOnSignals() },
      (line) => process.stdout.write(`${line}\n`),
    );
  } catch (error) {
    if (error instanceof UsageError) exitWith(cli, error.message, 2);
    if (error instanceof RefusedError) {
      // Said plainly, without the usage: the command was right, the stack cannot do it.
      process.stderr.write(`chaos: ${error.message}\n`);
      process.exit(error.code);
    }
    exitWith(cli, (error as Error).message);
  }
  process.exit();
}

async function loadCommand(positionals: readonly string[]): Promise<void> {
  const cli = { program: 'load', usage };
  if (positionals.join(' ') !== 'load') exitWith(cli, `unknown command ${JSON.stringify(positionals.join(' '))}`, 2);
  const env = envOrExit(cli, loadEnvSchema, process.env);
  const url = env.LOAD_URL.replace(/\/$/, '');
  const signal = stopOnSignals();
  process.stdout.write(
    `load | ${env.LOAD_CONCURRENCY} clients asking ${url}/load for ${env.LOAD_MS} ms of CPU each, ` +
      `${env.LOAD_SECONDS ? `for ${env.LOAD_SECONDS} s` : 'until Ctrl-C'}\n`,
  );
  await runLoad(
    { url, ms: env.LOAD_MS, concurrency: env.LOAD_CONCURRENCY, seconds: env.LOAD_SECONDS, signal },
    (line) => process.stdout.write(`${line}\n`),
  );
}

// soak and screenshot take options and usages of their own: they parse their command lines themselves.
const [command] = process.argv.slice(2);
if (command === 'soak') {
  process.exitCode = await soakCommand(process.env);
} else if (command === 'screenshot') {
  process.exitCode = await screenshotCommand(process.env);
} else {
  const { positionals } = parseCommandLine({ program: 'three-tier-demo', usage }, {});
  await (positionals[0] === 'chaos' ? chaosCommand(positionals) : loadCommand(positionals));
}
