/**
 * `npm run soak`: a native stack of its own under mixed traffic for SOAK_SECONDS, with the api's
 * memory, file descriptors and event-loop delay and Redis's memory and keys printed as it goes.
 * Exits 0 when every check holds, 1 otherwise.
 */
import { envOrExit, exitWith, parseCommandLine } from '@three-tier/cli-kit';
import { envInteger } from '@three-tier/shared';
import { z } from 'zod';
import { keyWindowLifetimes, soak } from './soak.js';

const usage = `usage: three-tier-soak

Starts redis-server, the api and nginx on free ports with temporary data, sends mixed traffic on
every route through the edge, prints a line every 5 s, then checks: no errors beyond the documented
back-pressure (429 and 503 on /load), api RSS grown less than 10% after the warm-up, file
descriptors steady, idempotency keys expiring. Exit 0 when all hold.

  SOAK_SECONDS        how long (default 60)
  SOAK_CLIENTS        concurrent clients (default 8)
  SOAK_EDGE           nginx (default) or http-proxy
  SOAK_KEY_TTL        seconds the api keeps an idempotency key (default 10, so the soak sees them expire)

  -h, --help          this text
`;

const soakEnvSchema = z.object({
  SOAK_SECONDS: envInteger(10, 86_400).default(60),
  SOAK_CLIENTS: envInteger(1, 256).default(8),
  SOAK_EDGE: z.enum(['nginx', 'http-proxy'], { error: 'must be nginx or http-proxy' }).default('nginx'),
  SOAK_KEY_TTL: envInteger(1, 3_600).default(10),
});

/** `npm run soak` (`soak` as the first argument). Returns the exit code. */
export async function soakCommand(processEnv: NodeJS.ProcessEnv): Promise<number> {
  const cli = { program: 'three-tier-soak', usage };
  const { positionals } = parseCommandLine(cli, {});
  if (positionals.length > 1) exitWith(cli, `unexpected arguments: ${positionals.slice(1).join(' ')}`, 2);
  const env = envOrExit(cli, soakEnvSchema, processEnv);
  if (env.SOAK_SECONDS < 2 * keyWindowLifetimes * env.SOAK_KEY_TTL) {
    // Shorter, and keys that never expire could not be told from keys that do.
    exitWith(cli, `SOAK_SECONDS must be at least ${2 * keyWindowLifetimes} × SOAK_KEY_TTL (got ${env.SOAK_SECONDS} and ${env.SOAK_KEY_TTL})`, 1);
  }
  const print = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };

  // Ctrl-C ends the traffic early; the stack is stopped and its temporary files removed all the same.
  const interrupt = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => interrupt.abort());
  const report = await soak(
    {
      seconds: env.SOAK_SECONDS,
      clients: env.SOAK_CLIENTS,
      edge: env.SOAK_EDGE,
      idempotencyTtlSeconds: env.SOAK_KEY_TTL,
      path: processEnv.PATH,
      signal: interrupt.signal,
    },
    print,
  );
  if (interrupt.signal.aborted) print('soak | interrupted: the figures below cover only part of the run');
  const refused = [...report.backPressure].map(([status, count]) => `${count} × ${status}`).join(', ') || 'none';
  const worstLoopMs = Math.max(...report.samples.map((sample) => sample.loopDelayP99Seconds)) * 1_000;
  print(`soak | ${report.requests} requests; back-pressure on /load: ${refused}; errors: ${report.errorCount}`);
  print(`soak | api event-loop delay: worst p99 over 1 s ${worstLoopMs.toFixed(1)} ms; Redis ${(report.end.redisUsedBytes / 1_048_576).toFixed(1)} MB at the end`);
  for (const error of report.errors) print(`soak |   error: ${error}`);
  for (const verdict of report.verdicts) print(`soak | ${verdict.ok ? 'ok  ' : 'FAIL'} ${verdict.check}`);
  print(`soak | ${interrupt.signal.aborted ? 'interrupted' : report.passed ? 'passed' : 'failed'}`);
  return report.passed && !interrupt.signal.aborted ? 0 : 1;
}
