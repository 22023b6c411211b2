/**
 * The Grafana dashboard, as the JSON Grafana imports (typed by hand: the fields this dashboard
 * uses). Every panel's queries read the api's series, the exporters' and the recorded rules; the
 * compose test runs each one against a real Prometheus.
 */
import { routes } from '@three-tier/shared';
import { quantile, rate } from './promql.js';
import { recorded, scoped, type Scope } from './rules.js';
import { apiMetrics, exporterMetrics, jobs } from './scrape.js';

export interface DashboardTarget {
  readonly refId: string;
  readonly expr: string;
  readonly legendFormat: string;
  readonly datasource: DataSourceRef;
}

interface DataSourceRef {
  readonly type: 'prometheus';
  readonly uid: string;
}

export interface Panel {
  readonly id: number;
  readonly type: 'timeseries' | 'stat';
  readonly title: string;
  readonly description: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly datasource: DataSourceRef;
  readonly targets: readonly DashboardTarget[];
  readonly fieldConfig: { readonly defaults: { readonly unit: string; readonly min?: number; readonly max?: number }; readonly overrides: [] };
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly schemaVersion: number;
  readonly editable: boolean;
  readonly refresh: string;
  readonly time: { readonly from: string; readonly to: string };
  readonly templating: {
    readonly list: ReadonlyArray<{ readonly name: string; readonly label: string; readonly type: 'datasource'; readonly query: 'prometheus' }>;
  };
  readonly panels: readonly Panel[];
}

/** The data source is a variable, so the dashboard imports into any Grafana with any Prometheus. */
const datasource: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly type?: Panel['type'];
  readonly queries: ReadonlyArray<readonly [expr: string, legend: string]>;
}

const requestCount = `${apiMetrics.requestDuration}_count`;

function panelSpecsFor(scope: Scope): PanelSpec[] {
  const { api, select, recordedSeries, sumBy, aggregate } = scoped(scope);
  return [
  {
    title: 'Traffic per api instance',
    description: 'Requests a second each api replica answered (all routes, probes and scrapes included).',
    unit: 'reqps',
    queries: [[recordedSeries(recorded.instanceRequestRate), '{{instance}}']],
  },
  {
    title: 'Traffic per route',
    description: 'Requests a second per route of the route table; `unmatched` is everything else (404).',
    unit: 'reqps',
    queries: [[recordedSeries(recorded.routeRequestRate), '{{route}}']],
  },
  {
    title: 'Latency percentiles per route',
    description: 'p50, p95 and p99 of the time the api took to answer, per route.',
    unit: 's',
    queries: [0.5, 0.95, 0.99].map((q) => [
      q === 0.95 ? recordedSeries(recorded.routeLatencyP95) : quantile(q, sumBy(['route', 'le'], rate(select(`${apiMetrics.requestDuration}_bucket`, api)))),
      `p${String(q * 100)} {{route}}`,
    ]),
  },
  {
    title: 'Server error ratio per route',
    description: 'The share of each route\'s answers that were 5xx (alert above 5%).',
    unit: 'percentunit',
    queries: [[recordedSeries(recorded.routeErrorRatio), '{{route}}']],
  },
  {
    title: 'Answers by status',
    description: 'Every status the api answered, per second: 404s are unmatched paths, 503s /load rejections or Redis down.',
    unit: 'reqps',
    queries: [[sumBy(['status_code'], rate(select(requestCount, api))), '{{status_code}}']],
  },
  {
    title: 'nginx: requests and connections',
    description:
      'Requests nginx handled, its own answers included: the 429s of its rate limit never reach the api, and stub_status counts no status codes, so they show here only as the gap above the api\'s rate.',
    unit: 'reqps',
    queries: [
      [sumBy([], rate(select(exporterMetrics.nginxRequests, { job: jobs.nginx }))), 'nginx'],
      [sumBy([], rate(select(requestCount, { ...api, route: `!${routes.metrics.path}` }))), 'api (scrapes left out)'],
      [sumBy([], select(exporterMetrics.nginxConnectionsActive, { job: jobs.nginx })), 'active connections'],
    ],
  },
  {
    title: 'Redis command latency (p95)',
    description: 'How long the api\'s Redis commands took, per command.',
    unit: 's',
    queries: [[quantile(0.95, sumBy(['command', 'le'], rate(select(`${apiMetrics.redisCommandDuration}_bucket`, api)))), '{{command}}']],
  },
  {
    title: 'Redis availability',
    description: '1 when up: Redis as its exporter sees it, and each api instance\'s connection.',
    unit: 'none',
    type: 'stat',
    queries: [
      [recordedSeries(recorded.redisUp), 'redis (exporter)'],
      [recordedSeries(recorded.apiRedisConnected), '{{instance}}'],
    ],
  },
  {
    title: 'Redis replication',
    description:
      'The master each api instance writes to, its replicas in sync against the replicas a visit waits for (0 and 0 with a single Redis), and the failovers the instances saw.',
    unit: 'short',
    queries: [
      [aggregate('max', ['instance'], select(apiMetrics.redisReplicasInSync, api)), 'in sync {{instance}}'],
      [aggregate('max', [], select(apiMetrics.redisReplicasRequired, api)), 'required'],
      [aggregate('max', ['address'], select(apiMetrics.redisMaster, api)), 'master {{address}}'],
      [sumBy([], `increase(${select(apiMetrics.redisFailoversSeen, api)}[5m])`), 'failovers seen (5 min)'],
    ],
  },
  {
    title: '/load work',
    description: 'CPU seconds a second burnt by /load workers, and jobs a second by outcome.',
    unit: 'short',
    queries: [
      [sumBy(['instance'], rate(select(apiMetrics.loadCpuSeconds, api))), 'cpu {{instance}}'],
      [recordedSeries(recorded.loadJobRate), 'jobs {{outcome}}'],
    ],
  },
  {
    title: '/load saturation',
    description: 'Busy workers over the pool, the queue, and the 503s of rejected jobs (nginx\'s 429s are not counted here: see the nginx panel).',
    unit: 'short',
    queries: [
      [recordedSeries(recorded.loadWorkersBusyRatio), 'busy workers (ratio)'],
      [sumBy(['instance'], select(apiMetrics.loadQueueLength, api)), 'queue {{instance}}'],
      [recordedSeries(recorded.loadRejectionRate), 'rejected jobs/s'],
      [recordedSeries(recorded.load503Rate), '/load 503/s'],
    ],
  },
  {
    title: 'Faults active',
    description: '1 while a fault is switched on through /faults, per instance and fault.',
    unit: 'none',
    queries: [[aggregate('max', ['instance', 'fault'], select(apiMetrics.faultActive, api)), '{{fault}} {{instance}}']],
  },
];
}

const refIds = 'ABCDEFGHIJ';

/** Two panels a row, 12 columns each. */
function panel(spec: PanelSpec, index: number): Panel {
  return {
    id: index + 1,
    type: spec.type ?? 'timeseries',
    title: spec.title,
    description: spec.description,
    gridPos: { x: (index % 2) * 12, y: Math.floor(index / 2) * 8, w: 12, h: 8 },
    datasource,
    targets: spec.queries.map(([expr, legendFormat], i) => ({ refId: refIds[i] ?? `Q${String(i)}`, expr, legendFormat, datasource })),
    fieldConfig: { defaults: { unit: spec.unit }, overrides: [] },
  };
}

/** The dashboard, ready for Grafana's import or its dashboard sidecar; its queries limited to `scope`. */
export function dashboard(scope: Scope = {}): Dashboard {
  return {
    uid: 'three-tier',
    title: 'three-tier: nginx, api, Redis',
    description: 'Traffic, latency, errors, Redis and /load of the three-tier stack (generated by @three-tier/observability).',
    tags: ['three-tier'],
    schemaVersion: 39,
    editable: true,
    refresh: '10s',
    time: { from: 'now-30m', to: 'now' },
    templating: { list: [{ name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus' }] },
    panels: panelSpecsFor(scope).map(panel),
  };
}
