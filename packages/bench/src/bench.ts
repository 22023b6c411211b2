/**
 * npm run bench: what each hop and feature of the stack costs, measured in one run and printed as
 * ratios (these machines are shared and noisy; a figure from another run means nothing here).
 *
 * BENCH_SECONDS sets the length of each case (default 10). The load generator (autocannon) runs in
 * this process, on the same machine as the stack: the ratios are the point, not the absolutes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinaries, findBinary, freePort, NodeService, RedisServer } from '@three-tier/processes';
import { edge, headerNames } from '@three-tier/shared';
import autocannon from 'autocannon';
import { NativeStack } from '@three-tier/runner';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
if (!Number.isFinite(seconds) || seconds < 1) throw new Error('BENCH_SECONDS must be a number of seconds, 1 or more');
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = 32;

interface Row {
  readonly name: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

interface Case {
  readonly name: string;
  readonly url: string;
  readonly options?: Partial<autocannon.Options>;
}

async function measure({ name, url, options = {} }: Case): Promise<Row> {
  const result = await autocannon({ url, connections, duration: seconds, ...options });
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

/**
 * Runs the cases in turn, `rounds` times, starting each round with a different one, and keeps the
 * median of each: a burst of noise on this shared machine then lands on one run, not one case.
 */
async function compare(cases: readonly Case[]): Promise<Row[]> {
  for (const item of cases) await autocannon({ url: item.url, connections, duration: 1, ...item.options }); // warm-up
  const runs = new Map<string, Row[]>(cases.map((item) => [item.name, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (let i = 0; i < cases.length; i += 1) {
      const item = cases[(i + round) % cases.length];
      if (item) runs.get(item.name)?.push(await measure(item));
    }
  }
  return cases.map(({ name }) => {
    const rows = runs.get(name) ?? [];
    return {
      name,
      rps: median(rows.map((row) => row.rps)),
      p50: median(rows.map((row) => row.p50)),
      p99: median(rows.map((row) => row.p99)),
      errors: rows.reduce((sum, row) => sum + row.errors, 0),
    };
  });
}

/** Prints rows against the first of them. */
function table(title: string, rows: readonly Row[]): void {
  const [baseline] = rows;
  if (!baseline) return;
  const pad = Math.max(...rows.map((row) => row.name.length));
  console.log(`\n${title}`);
  console.log(`${''.padEnd(pad)}   req/s   p50 ms  p99 ms  errors  vs ${baseline.name}`);
  for (const row of rows) {
    const cells = [
      row.name.padEnd(pad),
      Math.round(row.rps).toString().padStart(7),
      row.p50.toFixed(1).padStart(8),
      row.p99.toFixed(1).padStart(7),
      String(row.errors).padStart(7),
      `${(row.rps / baseline.rps).toFixed(2)}x req/s, ${(row.p99 / Math.max(baseline.p99, 0.1)).toFixed(2)}x p99`.padStart(24),
    ];
    console.log(cells.join(' '));
  }
}

/** redis-benchmark INCR against a server with each fsync policy: the price of `appendfsync always`. */
async function fsyncCost(bin: string, dir: string): Promise<void> {
  const benchmark = findBinary('redis-benchmark', process.env);
  if (!benchmark) {
    console.log('\n(redis-benchmark not found: fsync policy comparison left out)');
    return;
  }
  const results: Record<string, number> = {};
  for (const policy of ['everysec', 'always']) {
    const server = new RedisServer({ bin, port: await freePort(), dir: join(dir, policy) });
    await server.start();
    spawnSync('redis-cli', ['-p', String(server.port), 'CONFIG', 'SET', 'appendfsync', policy]);
    const run = spawnSync(benchmark, ['-p', String(server.port), '-t', 'incr', '-n', String(20_000 * seconds), '-c', '50', '-q'], {
      encoding: 'utf8',
    });
    results[policy] = Number(/([\d.]+) requests per second/.exec(run.stdout)?.[1] ?? NaN);
    await server.stop();
  }
  const always = results.always ?? NaN;
  const everysec = results.everysec ?? NaN;
  console.log('\nRedis INCR, redis-benchmark, 50 clients');
  console.log(`appendfsync everysec  ${Math.round(everysec)} req/s`);
  console.log(`appendfsync always    ${Math.round(always)} req/s   ${(always / everysec).toFixed(2)}x`);
}

const { redisServer, nginx } = findBinaries(process.env);
if (!redisServer || !nginx) throw new Error('the benchmark needs redis-server and nginx');
const root = await mkdtemp(join(tmpdir(), 'bench-'));
const stack = await NativeStack.create({
  edge: 'nginx',
  ports: { edge: await freePort(), api: await freePort(), redis: await freePort() },
  edgeHost: '127.0.0.1',
  dataDir: join(root, 'data'),
  runDir: join(root, 'run'),
  bin: { redisServer, nginx },
  baseEnv: { PATH: process.env.PATH },
  logLevel: 'warn',
});
const proxyPort = await freePort();
const proxyEdge = new NodeService({
  name: 'edge',
  entry: fileURLToPath(import.meta.resolve('@three-tier/edge')),
  env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', EDGE_PORT: String(proxyPort), EDGE_HOST: '127.0.0.1', API_UPSTREAM: stack.apiUrl },
  healthUrl: `http://127.0.0.1:${proxyPort}${edge.healthPath}`,
});

try {
  await stack.start();
  await proxyEdge.start();
  console.log(
    `${seconds} s per run, ${rounds} interleaved rounds, medians; ${connections} connections; ` +
      'load generator on the same machine; logs at warn',
  );

  const edges = await compare([
    { name: 'api direct', url: `${stack.apiUrl}/redis` },
    { name: 'through nginx', url: `${stack.url}/redis` },
    { name: 'through http-proxy', url: `http://127.0.0.1:${proxyPort}/redis` },
  ]);
  table('GET /redis: the cost of each edge', edges);

  let key = 0;
  const counting = await compare([
    { name: 'plain INCR', url: `${stack.apiUrl}/redis` },
    {
      name: 'once per Idempotency-Key',
      url: `${stack.apiUrl}/redis`,
      options: {
        requests: [{ setupRequest: (request) => ({ ...request, headers: { ...request.headers, [headerNames.idempotencyKey]: `bench-${key++}` } }) }],
      },
    },
  ]);
  table('GET /redis on the api: a plain INCR vs the once-per-key script', counting);

  const [idle] = await compare([{ name: '/healthz idle', url: `${stack.apiUrl}/healthz` }]);
  const burning = autocannon({ url: `${stack.apiUrl}/load?ms=200`, connections: 8, duration: seconds * rounds + 3 });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const [busy] = await compare([{ name: '/healthz while /load burns every worker', url: `${stack.apiUrl}/healthz` }]);
  const burnt = await burning;
  if (idle && busy) table('The event loop while /load saturates the CPUs', [idle, busy]);
  const jobs = burnt['2xx'] / burnt.duration;
  console.log(`(/load meanwhile: ${jobs.toFixed(1)} jobs of 200 ms CPU a second done, ${burnt['5xx']} refused with 503 while every worker was busy)`);

  await fsyncCost(redisServer, root);
} finally {
  await proxyEdge.stop();
  await stack.stop();
  await rm(root, { recursive: true, force: true });
}
