/**
 * wrk, the load generator: a C program in its own process, so the bench never measures a Node
 * generator competing with the servers for the same two cores. Its own CPU time is reported too.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Child, runCommand } from '@three-tier/processes';
import { headerNames } from '@three-tier/shared';
import { cpuSecondsOf } from './cpu.js';

export interface WrkOptions {
  readonly url: string;
  readonly seconds: number;
  readonly connections?: number;
  /** A wrk Lua script, e.g. from `uniqueKeyScript`. */
  readonly script?: string;
}

export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Non-2xx answers plus socket errors (connect, read, write, timeout). */
  readonly errors: number;
  /** CPU seconds wrk itself used. */
  readonly cpuSeconds: number;
}

export const defaultConnections = 32;

const toMs: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1_000, m: 60_000 };

function duration(text: string | undefined): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text ?? '');
  return match ? Number(match[1]) * (toMs[match[2] ?? ''] ?? NaN) : NaN;
}

/** Reads the figures out of wrk's --latency report. */
export function parseWrk(output: string): Omit<WrkResult, 'cpuSeconds'> {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(output);
  if (!total) throw new Error(`wrk printed no totals:\n${output}`);
  const requests = Number(total[1]);
  const seconds = duration(`${total[2] ?? ''}${total[3] ?? ''}`) / 1_000;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  return {
    requests,
    seconds,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? requests / seconds),
    p50Ms: duration(/^\s+50%\s+(\S+)/m.exec(output)?.[1]),
    p99Ms: duration(/^\s+99%\s+(\S+)/m.exec(output)?.[1]),
    errors: non2xx + socketErrors,
  };
}

/**
 * Writes a script giving every request an Idempotency-Key of its own, unique across runs (the api
 * remembers a key for a while, and a key it has seen is answered without counting). Each run of the
 * script starts its keys afresh from the second it started: a run lasts a second at least, so runs
 * of one case never share a key (a counter alone would replay the last run's keys, the cheap path).
 */
export async function uniqueKeyScript(dir: string): Promise<string> {
  const prefix = `bench-${randomBytes(6).toString('hex')}`;
  const file = join(dir, `${prefix}.lua`);
  await writeFile(
    file,
    `local n = 0
local run = "${prefix}-" .. os.time()
request = function()
  n = n + 1
  return wrk.format(nil, nil, { ["${headerNames.idempotencyKey}"] = run .. "-" .. n })
end
`,
  );
  return file;
}

/**
 * Runs wrk (1 thread, 32 connections by default) and samples its CPU time from /proc every 50 ms
 * while it runs: the last sample misses at most that much of it.
 */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = ['-t1', `-c${options.connections ?? defaultConnections}`, `-d${options.seconds}s`, '--latency'];
  if (options.script) args.push('-s', options.script);
  args.push(options.url);
  let cpuSeconds = 0;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const { code, output } = await runCommand('wrk', args, {
      // Never hang: wrk stops by itself after -d; a stuck one is killed.
      timeoutMs: (options.seconds + 15) * 1_000,
      killSignal: 'SIGKILL',
      onSpawn: (pid) => {
        sampler = setInterval(() => {
          cpuSeconds = cpuSecondsOf(pid) ?? cpuSeconds;
        }, 50);
      },
    });
    if (code !== 0) throw new Error(`wrk ${args.join(' ')} exited with ${String(code)}:\n${output}`);
    return { ...parseWrk(output), cpuSeconds };
  } finally {
    clearInterval(sampler);
  }
}

/** Starts wrk for a long while and returns a way to stop it: load in the background (a stop under load). */
export function backgroundWrk(url: string, seconds: number): { stop: () => void } {
  const wrk = new Child({ name: 'wrk', command: 'wrk', args: ['-t1', `-c${defaultConnections}`, `-d${seconds}s`, url] });
  const killer = setTimeout(() => void wrk.kill(), (seconds + 15) * 1_000);
  return {
    stop: () => {
      clearTimeout(killer);
      void wrk.kill();
    },
  };
}
