#!/usr/bin/env node
/**
 * three-tier-demo load (`npm run load`): keeps /load busy at LOAD_URL (the Ingress in the
 * autoscaling demo) and prints, every second, the work done and the instances answering.
 */
import { envInteger, envOrExit, exitWith, load, nativeDefaults, parseCommandLine } from '@three-tier/shared';
import { z } from 'zod';
import { runLoad } from './load.js';

const usage = `usage: three-tier-demo load

Keeps GET /load busy with LOAD_CONCURRENCY clients and prints a line a second: jobs done, refusals
(429 rate limit, 503 saturation), errors, and the instances that answered. Ctrl-C stops it.

  LOAD_URL            the stack's public entry (default http://127.0.0.1:${nativeDefaults.edgePort}, npm start's edge)
  LOAD_MS             CPU milliseconds a request asks for (${load.minMs} to ${load.maxMs}, default 500)
  LOAD_CONCURRENCY    clients (default 8)
  LOAD_SECONDS        how long (default 120; 0 runs until Ctrl-C)

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

const cli = { program: 'load', usage };
const { positionals } = parseCommandLine(cli, {});
if (positionals.join(' ') !== 'load') exitWith(cli, `unknown command ${JSON.stringify(positionals.join(' '))}`, 2);
const env = envOrExit(cli, loadEnvSchema, process.env);
const url = env.LOAD_URL.replace(/\/$/, '');
const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
process.stdout.write(
  `load | ${env.LOAD_CONCURRENCY} clients asking ${url}/load for ${env.LOAD_MS} ms of CPU each, ` +
    `${env.LOAD_SECONDS ? `for ${env.LOAD_SECONDS} s` : 'until Ctrl-C'}\n`,
);
await runLoad(
  { url, ms: env.LOAD_MS, concurrency: env.LOAD_CONCURRENCY, seconds: env.LOAD_SECONDS, signal: stop.signal },
  (line) => process.stdout.write(`${line}\n`),
);
