import { faultNames } from '@three-tier/shared';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The api's metrics, in a Registry of its own (never prom-client's global one), so two apps in one
 * process (the tests make many) never share or clash.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  /** Reads the master's replicas afresh at each scrape; set by the counter in Sentinel mode. */
  const beforeScrape: { replication?: () => Promise<unknown> } = {};
  const metrics = {
    registry,
    httpRequestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route template (never the raw URL), method and status.',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    redisCommandDuration: new Histogram({
      name: 'redis_command_duration_seconds',
      help: 'Time Redis took to answer the api, by command and outcome.',
      labelNames: ['command', 'outcome'] as const,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    redisConnected: new Gauge({
      name: 'redis_connected',
      help: '1 while the connection to Redis is ready, else 0.',
      registers,
    }),
    redisMaster: new Gauge({
      name: 'redis_master_info',
      help: 'The Redis server this instance writes to (in Sentinel mode, the master the Sentinels named), by address: 1.',
      labelNames: ['address'] as const,
      registers,
    }),
    redisReplicasInSync: new Gauge({
      name: 'redis_replicas_in_sync',
      help: 'Replicas the master counts in sync (min-replicas-max-lag); 0 with a single Redis.',
      registers,
      async collect() {
        // A master the api cannot ask has, as far as visits go, no replica in sync.
        await beforeScrape.replication?.().catch(() => this.set(0));
      },
    }),
    redisReplicasRequired: new Gauge({
      name: 'redis_replicas_required',
      help: 'Replicas a visit must reach before it is acknowledged (WAIT); 0 with a single Redis.',
      registers,
    }),
    redisFailoversSeen: new Counter({
      name: 'redis_failovers_seen_total',
      help: 'Times this instance found a different master on reconnecting: failovers, as seen from here.',
      registers,
    }),
    loadCpuSeconds: new Counter({
      name: 'load_cpu_seconds_total',
      help: 'CPU time burnt by /load, as measured by the worker threads.',
      registers,
    }),
    loadJobs: new Counter({
      name: 'load_jobs_total',
      help: '/load jobs by outcome: completed, cancelled (client gone or deadline), rejected (pool saturated).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    loadWorkersBusy: new Gauge({ name: 'load_workers_busy', help: 'Worker threads burning CPU now.', registers }),
    loadQueueLength: new Gauge({ name: 'load_queue_length', help: '/load jobs waiting for a worker.', registers }),
    loadWorkers: new Gauge({ name: 'load_workers', help: 'Size of the /load worker pool.', registers }),
    faultActive: new Gauge({
      name: 'fault_active',
      help: 'Faults switched on by demand (1) or off (0): unready, latency, errors.',
      labelNames: ['fault'] as const,
      registers,
    }),
    faultLatencySeconds: new Gauge({
      name: 'fault_latency_seconds',
      help: 'Latency added on demand to every work answer.',
      registers,
    }),
    faultErrorRatio: new Gauge({
      name: 'fault_error_ratio',
      help: 'Share of work requests answered 500 on demand.',
      registers,
    }),
    faultInjections: new Counter({
      name: 'fault_injections_total',
      help: 'Requests a fault acted on: dropped (unready), delayed (latency) or failed (errors).',
      labelNames: ['fault'] as const,
      registers,
    }),
  };
  // Every outcome and fault from the start, at 0: rate() sees no increase in a series' first
  // sample, so a /load saturation or a fault that creates its series would be invisible once.
  for (const outcome of ['completed', 'cancelled', 'rejected']) metrics.loadJobs.inc({ outcome }, 0);
  for (const fault of faultNames) metrics.faultInjections.inc({ fault }, 0);
  return { ...metrics, beforeScrape };
}

export type Metrics = ReturnType<typeof createMetrics>;
