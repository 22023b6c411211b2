/**
 * What Prometheus scrapes and the names it finds there: the jobs, the exporters' ports, and the
 * series the api exports (apps/api/src/metrics.ts is their source; the compose test proves every
 * name here returns data from a real scrape).
 */
import { ports, services } from '@three-tier/shared';

/** Scrape jobs, as the `job` label of every series. */
export const jobs = {
  api: 'api',
  nginx: 'nginx',
  redis: 'redis',
} as const;

/** The exporters next to nginx and Redis, and where they listen (their own defaults). */
export const exporters = {
  nginx: { service: 'nginx-exporter', port: 9113 },
  redis: { service: 'redis-exporter', port: 9121 },
} as const;

/** Prometheus itself: its service name and the port of its UI and API. */
export const prometheusServer = { service: 'prometheus', port: 9090 } as const;

/**
 * nginx's stub_status: served by a server of its own on a port that is never published, for the
 * nginx exporter only.
 */
export const nginxStatus = { port: 8081, path: '/stub_status' } as const;

/** The api's series. The api is scraped on its own port, where `/metrics` lives (never through nginx). */
export const apiMetrics = {
  requestDuration: 'http_request_duration_seconds',
  redisCommandDuration: 'redis_command_duration_seconds',
  redisConnected: 'redis_connected',
  redisMaster: 'redis_master_info',
  redisReplicasInSync: 'redis_replicas_in_sync',
  redisReplicasRequired: 'redis_replicas_required',
  redisFailoversSeen: 'redis_failovers_seen_total',
  loadJobs: 'load_jobs_total',
  loadCpuSeconds: 'load_cpu_seconds_total',
  loadWorkersBusy: 'load_workers_busy',
  loadQueueLength: 'load_queue_length',
  loadWorkers: 'load_workers',
  faultActive: 'fault_active',
} as const;

/** The exporters' series the rules and panels read. */
export const exporterMetrics = {
  nginxRequests: 'nginx_http_requests_total',
  nginxConnectionsActive: 'nginx_connections_active',
  nginxUp: 'nginx_up',
  redisUp: 'redis_up',
} as const;

/** Where the api's replicas are found: Docker's DNS answers every replica's address for its service name. */
export const apiScrape = { host: services.api, port: ports.api } as const;
