/**
 * prometheus.yml for the compose profile `observability`: every api replica through Docker's DNS
 * (so `--scale` is followed), the nginx exporter and the Redis exporter, and the rules.
 */
import { apiScrape, exporters, jobs } from './scrape.js';
import { routes } from '@three-tier/shared';

export interface PrometheusConfigOptions {
  /** Scrapes and rule evaluations this often; short, so a demo shows traffic within seconds. */
  readonly intervalSeconds: number;
  /** Where the rule file is inside Prometheus's container. */
  readonly ruleFile: string;
}

export function prometheusConfig({ intervalSeconds, ruleFile }: PrometheusConfigOptions): Record<string, unknown> {
  const interval = `${String(intervalSeconds)}s`;
  return {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: [ruleFile],
    scrape_configs: [
      {
        job_name: jobs.api,
        metrics_path: routes.metrics.path,
        // Docker's DNS answers an A record per replica; the refresh follows `--scale` within seconds.
        dns_sd_configs: [{ names: [apiScrape.host], type: 'A', port: apiScrape.port, refresh_interval: interval }],
      },
      { job_name: jobs.nginx, static_configs: [{ targets: [`${exporters.nginx.service}:${String(exporters.nginx.port)}`] }] },
      { job_name: jobs.redis, static_configs: [{ targets: [`${exporters.redis.service}:${String(exporters.redis.port)}`] }] },
    ],
  };
}
