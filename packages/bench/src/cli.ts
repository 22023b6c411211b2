/**
 * npm run bench: what each hop and feature of the stack costs, in req/s and in CPU time per request,
 * beside bare references started in the same run, plus start, stop, memory, a CPU profile and the
 * container figures. The only file of the bench that reads the environment.
 *
 * The load generator is wrk, a process of its own (a Node generator here would compete with the
 * servers for the same two cores). Figures are ratios within one run: the machine is shared.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { findBinaries } from '@three-tier/processes';
import { repoRoot } from '@three-tier/cli-kit';
import { startBench, type BenchSettings } from './bench.js';

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`bench: ${name} must be a whole number, 1 or more (got ${JSON.stringify(raw)})\n`);
    process.exit(2);
  }
  return value;
}

/** The settings from the environment, and the programs the bench needs: wrk, redis-server, nginx. */
function readSettings(): BenchSettings {
  const seconds = positiveInteger('BENCH_SECONDS', 5);
  const rounds = positiveInteger('BENCH_ROUNDS', 3);
  const { redisServer, redisSentinel, nginx } = findBinaries(process.env);
  if (!redisServer || !redisSentinel || !nginx) throw new Error('the bench needs redis-server, redis-sentinel and nginx (npm start installs them as root)');
  const wrk = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (wrk.error) throw new Error('the bench needs wrk: apt-get install -y wrk');
  return {
    seconds,
    rounds,
    outDir: resolve(process.env.BENCH_OUT || join(repoRoot, '.bench')),
    writeDocs: process.env.BENCH_WRITE_DOCS === '1',
    baseEnv: { PATH: process.env.PATH, HOME: process.env.HOME },
    bin: { redisServer, redisSentinel, nginx },
    wrkVersion: /wrk (\S+)/.exec(wrk.stdout)?.[1] ?? '?',
    dockerEnv: process.env,
  };
}

async function main(): Promise<void> {
  const began = performance.now();
  const progress = (message: string): void => {
    process.stderr.write(`bench ${((performance.now() - began) / 1000).toFixed(0).padStart(4)} s | ${message}\n`);
  };
  const bench = startBench(readSettings(), progress, began);
  // However the bench ends, and on Ctrl-C or a kill: every child, descendants included, goes with it.
  process.once('exit', bench.killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      progress(`${signal}: killing every child`);
      bench.killAll();
      process.exit(130);
    });
  }
  await bench.done;
}

await main();
