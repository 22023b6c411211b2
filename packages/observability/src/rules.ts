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

/**
 * Labels every series of this stack carries where it shares a Prometheus with others: in Kubernetes,
 * `{namespace: "three-tier"}`. Every selector gets them and every aggregation keeps them, so two
 * installations never mix or collide. Empty in compose, where the Prometheus is the stack's own.
 */
export type Scope = Readonly<Record<string, string>>;

/** Selectors and aggregations of one scope. */
export function scoped(scope: Scope) {
  const keys = Object.keys(scope);
  const by = (labels: readonly string[]): string[] => [...keys, ...labels];
  return {
    api: { ...scope, job: jobs.api } as Record<string, string>,
    select: (name: string, labels: Readonly<Record<string, string>> = {}) => selector(name, { ...scope, ...labels }),
    /** A recorded series of this scope. */
    recordedSeries: (name: string) => selector(name, scope),
    sumBy: (labels: readonly string[], expr: string) => sumBy(by(labels), expr),
    aggregate: (op: 'min' | 'max', labels: readonly string[], expr: string) => {
      const all = by(labels);
      return all.length === 0 ? `${op}(${expr})` : `${op} by (${all.join(', ')}) (${expr})`;
    },
  };
}

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

function recordingRulesFor(scope: Scope): RecordingRule[] {
  const { api, select, sumBy, aggregate } = scoped(scope);
  const requests = select(`${apiMetrics.requestDuration}_count`, api);
  const serverErrors = select(`${apiMetrics.requestDuration}_count`, { ...api, status_code: '~5..' });
  const buckets = select(`${apiMetrics.requestDuration}_bucket`, api);
  return [
  { record: recorded.routeRequestRate, expr: sumBy(['route'], rate(requests)) },
  { record: recorded.instanceRequestRate, expr: sumBy(['instance'], rate(requests)) },
  {
    // Routes without a single 5xx count as 0, not as missing: `or` fills them in.
    record: recorded.routeErrorRatio,
    expr: `(${sumBy(['route'], rate(serverErrors))} or ${sumBy(['route'], rate(requests))} * 0) / ${sumBy(['route'], rate(requests))}`,
  },
  { record: recorded.routeLatencyP95, expr: quantile(0.95, sumBy(['route', 'le'], rate(buckets))) },
  // Redis as the exporter sees it, and as each api instance sees it.
  { record: recorded.redisUp, expr: aggregate('min', [], select(exporterMetrics.redisUp, { job: jobs.redis })) },
  { record: recorded.apiRedisConnected, expr: aggregate('min', ['instance'], select(apiMetrics.redisConnected, api)) },
  // /load: the api's own queue rejects with 503 when every worker is busy and the queue is full.
  { record: recorded.loadJobRate, expr: sumBy(['outcome'], rate(select(apiMetrics.loadJobs, api))) },
  { record: recorded.loadRejectionRate, expr: sumBy([], rate(select(apiMetrics.loadJobs, { ...api, outcome: 'rejected' }))) },
  {
    record: recorded.load503Rate,
    expr: sumBy([], rate(select(`${apiMetrics.requestDuration}_count`, { ...api, route: loadRoute, status_code: '503' }))),
  },
  {
    record: recorded.loadWorkersBusyRatio,
    expr: `${sumBy([], select(apiMetrics.loadWorkersBusy, api))} / ${sumBy([], select(apiMetrics.loadWorkers, api))}`,
  },
];
}

/** p95 above half a route's own timeout: the route is on its way to 503s. */
const latencyThresholds = Object.values(routes).map((route) => ({ route: route.path, seconds: route.timeoutMs / 2_000 }));

function alertSpecsFor(scope: Scope): AlertSpec[] {
  const { api, select, recordedSeries, aggregate } = scoped(scope);
  return [
  {
    alert: 'ApiInstanceDown',
    signal: select('up', api),
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
    signal: select('up', { job: `~${jobs.nginx}|${jobs.redis}` }),
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
    signal: recordedSeries(recorded.redisUp),
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
    signal: recordedSeries(recorded.apiRedisConnected),
    firesWhen: '== 0',
    for: '30s',
    labels: { severity: 'critical' },
    annotations: {
      summary: 'An api instance has lost Redis',
      description: '{{ $labels.instance }} is not connected to Redis: it reports not ready.',
    },
  },
  {
    // With a single Redis both are 0: quiet, and the signal still has series.
    alert: 'RedisMasterWithoutReplicas',
    signal: aggregate('max', ['instance'], `${select(apiMetrics.redisReplicasRequired, api)} - ${select(apiMetrics.redisReplicasInSync, api)}`),
    firesWhen: '> 0',
    for: '30s',
    labels: { severity: 'critical' },
    annotations: {
      summary: 'The Redis master has fewer replicas in sync than a visit needs',
      description:
        '{{ $labels.instance }} writes to a master {{ $value }} replica(s) short: it refuses writes (NOREPLICAS) and every visit answers 503 until a replica catches up.',
    },
  },
  {
    alert: 'RouteErrorRatioHigh',
    signal: recordedSeries(recorded.routeErrorRatio),
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
    firesWhen: latencyThresholds.map(({ route, seconds }) => `${selector('', { ...scope, route })} > ${String(seconds)}`).join(' or '),
    for: '5m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'A route\'s p95 latency is above half its timeout',
      description: '{{ $labels.route }}: p95 {{ $value | humanizeDuration }}.',
    },
  },
  {
    alert: 'LoadSaturated',
    signal: recordedSeries(recorded.loadRejectionRate),
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
    signal: aggregate('max', ['instance', 'fault'], select(apiMetrics.faultActive, api)),
    firesWhen: '== 1',
    labels: { severity: 'info' },
    annotations: {
      summary: 'A fault is switched on',
      description: '{{ $labels.instance }} injects the {{ $labels.fault }} fault (switched on through /faults).',
    },
  },
];
}

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

/** The recording rules of a scope (none: compose's own Prometheus). */
export function recordingRules(scope: Scope = {}): RecordingRule[] {
  return recordingRulesFor(scope);
}

export function alertRules(scope: Scope = {}): AlertRule[] {
  return alertSpecsFor(scope).map((spec) => ({
    alert: spec.alert,
    expr: alertExpr(spec),
    ...(spec.for ? { for: spec.for } : {}),
    labels: spec.labels,
    annotations: spec.annotations,
  }));
}

/** Each alert's signal: the expression without its threshold, which returns series whenever there is data. */
export function alertSignals(scope: Scope = {}): Array<{ readonly alert: string; readonly signal: string }> {
  return alertSpecsFor(scope).map(({ alert, signal }) => ({ alert, signal }));
}

/** The rule groups: recording first (alerts read what they record), then alerts. */
export function ruleGroups(scope: Scope = {}): { groups: [RuleGroup<RecordingRule>, RuleGroup<AlertRule>] } {
  return {
    groups: [
      { name: 'three-tier.recording', rules: recordingRules(scope) },
      { name: 'three-tier.alerts', rules: alertRules(scope) },
    ],
  };
}
