/**
 * Recording and alert rules, in the shape both Prometheus's rule files and the prometheus-operator's
 * PrometheusRule take (`groups`). Written from the route table and the api's metric names.
 */
import { routes } from '@three-tier/shared';
import { rate, quantile, selector, sumBy } from './promql.js';
import { apiMetrics, exporterMetrics, jobs } from './scrape.js';

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: { readonly severity: 'critical' | 'warning' | 'info' };
  readonly annotations: { readonly summary: string; readonly description: string };
}

export interface RuleGroup<R> {
  readonly name: string;
  readonly rules: readonly R[];
}

/** An alert written as signal, comparison and threshold: the signal alone is what a test can query. */
interface AlertSpec extends Omit<AlertRule, 'expr'> {
  readonly signal: string;
  readonly firesWhen: string;
}

const api = { job: jobs.api };
const requests = selector(`${apiMetrics.requestDuration}_count`, api);
const serverErrors = selector(`${apiMetrics.requestDuration}_count`, { ...api, status_code: '~5..' });
const buckets = selector(`${apiMetrics.requestDuration}_bucket`, api);
const loadRoute = routes.load.path;

/** Names of the recorded series, for the alerts, the dashboard and the tests. */
export const recorded = {
  routeRequestRate: 'route:http_requests:rate1m',
  instanceRequestRate: 'instance:http_requests:rate1m',
  routeErrorRatio: 'route:http_request_errors:ratio_rate1m',
  routeLatencyP95: 'route:http_request_duration_seconds:p95_1m',
  redisUp: 'job:redis_up:min',
  apiRedisConnected: 'instance:redis_connected:min',
  loadJobRate: 'outcome:load_jobs:rate1m',
  loadRejectionRate: 'load:rejected_jobs:rate1m',
  load503Rate: 'load:http_503:rate1m',
  loadWorkersBusyRatio: 'load:workers_busy:ratio',
} as const;

export const recordingRules: readonly RecordingRule[] = [
  { record: recorded.routeRequestRate, expr: sumBy(['route'], rate(requests)) },
  { record: recorded.instanceRequestRate, expr: sumBy(['instance'], rate(requests)) },
  {
    // Routes without a single 5xx count as 0, not as missing: `or` fills them in.
    record: recorded.routeErrorRatio,
    expr: `(${sumBy(['route'], rate(serverErrors))} or ${sumBy(['route'], rate(requests))} * 0) / ${sumBy(['route'], rate(requests))}`,
  },
  { record: recorded.routeLatencyP95, expr: quantile(0.95, sumBy(['route', 'le'], rate(buckets))) },
  // Redis as the exporter sees it, and as each api instance sees it.
  { record: recorded.redisUp, expr: `min(${selector(exporterMetrics.redisUp, { job: jobs.redis })})` },
  { record: recorded.apiRedisConnected, expr: `min by (instance) (${selector(apiMetrics.redisConnected, api)})` },
  // /load: the api's own queue rejects with 503 when every worker is busy and the queue is full.
  { record: recorded.loadJobRate, expr: sumBy(['outcome'], rate(selector(apiMetrics.loadJobs, api))) },
  { record: recorded.loadRejectionRate, expr: sumBy([], rate(selector(apiMetrics.loadJobs, { ...api, outcome: 'rejected' }))) },
  {
    record: recorded.load503Rate,
    expr: sumBy([], rate(selector(`${apiMetrics.requestDuration}_count`, { ...api, route: loadRoute, status_code: '503' }))),
  },
  {
    record: recorded.loadWorkersBusyRatio,
    expr: `${sumBy([], selector(apiMetrics.loadWorkersBusy, api))} / ${sumBy([], selector(apiMetrics.loadWorkers, api))}`,
  },
];

/** p95 above half a route's own timeout: the route is on its way to 503s. */
const latencyThresholds = Object.values(routes).map((route) => ({ route: route.path, seconds: route.timeoutMs / 2_000 }));

const alertSpecs: readonly AlertSpec[] = [
  {
    alert: 'ApiInstanceDown',
    signal: selector('up', api),
    firesWhen: '== 0',
    for: '1m',
    labels: { severity: 'critical' },
    annotations: {
      summary: 'An api instance does not answer scrapes',
      description: '{{ $labels.instance }} has not answered /metrics for a minute.',
    },
  },
  {
    alert: 'ExporterDown',
    signal: selector('up', { job: `~${jobs.nginx}|${jobs.redis}` }),
    firesWhen: '== 0',
    for: '1m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'An exporter does not answer scrapes',
      description: 'The {{ $labels.job }} exporter at {{ $labels.instance }} has not answered for a minute.',
    },
  },
  {
    alert: 'RedisDown',
    signal: recorded.redisUp,
    firesWhen: '== 0',
    for: '30s',
    labels: { severity: 'critical' },
    annotations: {
      summary: 'Redis does not answer its exporter',
      description: 'The Redis exporter cannot reach Redis: /redis and /html answer 503.',
    },
  },
  {
    alert: 'ApiRedisDisconnected',
    signal: recorded.apiRedisConnected,
    firesWhen: '== 0',
    for: '30s',
    labels: { severity: 'critical' },
    annotations: {
      summary: 'An api instance has lost Redis',
      description: '{{ $labels.instance }} is not connected to Redis: it reports not ready.',
    },
  },
  {
    alert: 'RouteErrorRatioHigh',
    signal: recorded.routeErrorRatio,
    firesWhen: '> 0.05',
    for: '2m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'More than 5% of a route\'s answers are 5xx',
      description: '{{ $labels.route }}: {{ $value | humanizePercentage }} of answers are server errors.',
    },
  },
  {
    alert: 'RouteLatencyHigh',
    signal: recorded.routeLatencyP95,
    firesWhen: latencyThresholds.map(({ route, seconds }) => `${selector('', { route })} > ${seconds}`).join(' or '),
    for: '5m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'A route\'s p95 latency is above half its timeout',
      description: '{{ $labels.route }}: p95 {{ $value | humanizeDuration }}.',
    },
  },
  {
    alert: 'LoadSaturated',
    signal: recorded.loadRejectionRate,
    firesWhen: '> 0',
    for: '1m',
    labels: { severity: 'warning' },
    annotations: {
      summary: '/load is saturated: the api rejects jobs with 503',
      description: '{{ $value | humanize }} /load jobs a second are rejected: every worker is busy and the queue is full. Scale the api out.',
    },
  },
  {
    alert: 'FaultActive',
    signal: `max by (instance, fault) (${selector(apiMetrics.faultActive, api)})`,
    firesWhen: '== 1',
    labels: { severity: 'info' },
    annotations: {
      summary: 'A fault is switched on',
      description: '{{ $labels.instance }} injects the {{ $labels.fault }} fault (switched on through /faults).',
    },
  },
];

/**
 * The alert's expression. A threshold per route is written as `{route="/x"} > n or ...` and
 * applied to the signal by label matching on the recorded series.
 */
function alertExpr(spec: AlertSpec): string {
  if (!spec.firesWhen.startsWith('{')) return `${spec.signal} ${spec.firesWhen}`;
  return spec.firesWhen
    .split(' or ')
    .map((part) => `${spec.signal}${part}`)
    .join(' or ');
}

export const alertRules: readonly AlertRule[] = alertSpecs.map((spec) => ({
  alert: spec.alert,
  expr: alertExpr(spec),
  ...(spec.for ? { for: spec.for } : {}),
  labels: spec.labels,
  annotations: spec.annotations,
}));

/** Each alert's signal: the expression without its threshold, which returns series whenever there is data. */
export const alertSignals: ReadonlyArray<{ readonly alert: string; readonly signal: string }> = alertSpecs.map(({ alert, signal }) => ({
  alert,
  signal,
}));

/** The rule groups: recording first (alerts read what they record), then alerts. */
export function ruleGroups(): { groups: [RuleGroup<RecordingRule>, RuleGroup<AlertRule>] } {
  return {
    groups: [
      { name: 'three-tier.recording', rules: recordingRules },
      { name: 'three-tier.alerts', rules: alertRules },
    ],
  };
}
