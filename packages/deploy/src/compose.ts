import {
  budgets,
  containerResources,
  edge,
  gracePeriodMs,
  ports,
  routes,
  services,
  tmpSizeMiB,
  type ApiEnvName,
} from '@three-tier/shared';
import { exporters, nginxStatus, prometheusServer } from '@three-tier/observability';
import type { ComposeSpecification } from 'docker-compose';
import {
  baseImages,
  imageBuilds,
  monitoringImages,
  redisAuthDir,
  redisExporterPasswordFile,
  redisPasswordFile,
  type ImageName,
  type MonitoringImageName,
} from './images.js';

type Service = NonNullable<ComposeSpecification['services']>[string];

/**
 * How long a stopping api keeps its listener open: not at all. Docker's DNS lists a container until
 * it has exited, drain included, so keeping the listener open longer never takes it out of nginx's
 * rotation first; it only makes `docker stop` slower. Closed at once, its port refuses new
 * connections (a RST nginx answers by trying the next address at once) while its requests in flight
 * finish; once it has exited, nginx's cached answer may name it for composeDnsValidSeconds more.
 */
export const composeDrainDelayMs = 0;

const seconds = (ms: number): string => `${Math.ceil(ms / 1_000)}s`;
const memoryLimit = (image: ImageName): string => `${containerResources[image].memoryMiB.limit}m`;

/** What every service gets: no privileges, nothing writable but what it must write, bounded logs. */
function hardened(image: ImageName, extra: Service): Service {
  return hardenedImage(imageBuilds[image], baseImages[image], extra);
}

/** The profile `observability`'s services: hardened the same way, and started only with the profile. */
function monitoring(image: MonitoringImageName, extra: Service): Service {
  const { build, base } = monitoringImages[image];
  return {
    ...hardenedImage(build, base, extra),
    profiles: [observabilityProfile],
  };
}

/**
 * A service built from its Dockerfile, with no `image:`: each compose then names what it builds
 * after the project (projectImage: `<project>-api` in Compose v2, `<project>_api` in 1.29), so two
 * checkouts, or two COMPOSE_PROJECT_NAMEs, never build over each other's images. `image:` cannot say
 * that for both: docker-compose 1.29 offers no project name to interpolation and nests no defaults,
 * and v2 offers COMPOSE_PROJECT_NAME only when the environment or a top-level `name` sets it, not for
 * `-p` or the folder's name. Only a registry's images have a name of their own: registryOverride.
 */
function hardenedImage(
  build: { readonly context: string; readonly dockerfile: string },
  base: { readonly arg: string; readonly default: string },
  extra: Service,
): Service {
  return {
    build: {
      context: build.context,
      ...(build.context === '.' ? { dockerfile: build.dockerfile } : {}),
      args: { [base.arg]: `\${${base.arg}:-${base.default}}` },
    },
    restart: 'unless-stopped',
    init: true,
    read_only: true,
    tmpfs: [`/tmp:size=${tmpSizeMiB}m,mode=1777`],
    cap_drop: ['ALL'],
    security_opt: ['no-new-privileges:true'],
    logging: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
    ...extra,
  };
}

/**
 * Docker runs the first check one interval after the start, and engine 20.10 (Debian 12) has no
 * start_interval, so an interval is both how soon a start is noticed and how often a healthy
 * container is probed. No service waits for another's check (see apiStartsWith): Redis is checked
 * every second with redis-cli, the api and nginx every 2 s by a shell and busybox, never by a new
 * node process.
 */
function healthcheck(test: string[], intervalSeconds: number): Service['healthcheck'] {
  return { test, interval: `${intervalSeconds}s`, timeout: '2s', retries: 3, start_period: '10s' };
}

/** GET /readyz over bash's /dev/tcp: a few milliseconds, where `node healthcheck.js` took ~40 ms of CPU. */
const apiReadyCheck = [
  `exec 3<>/dev/tcp/127.0.0.1/${ports.api}`,
  `printf 'GET ${routes.readyz.path} HTTP/1.0\\r\\n\\r\\n' >&3`,
  'read -r -t 2 status <&3',
  // $$: compose would substitute a single $ itself.
  "case $$status in *' 200 '*) exit 0 ;; esac",
  'exit 1',
].join('; ');

/**
 * The api starts once Redis has started, not once Redis's check passed: that check runs a whole
 * interval after the start (no start_interval on engine 20.10), which was a second of the 3.2 s
 * `docker compose up` took to its first answer. The gate is the api's own: it listens only once
 * Redis answers (or after firstConnectionWaitMs), and /readyz says 503 while Redis does not. Redis
 * writes its generated password before it starts the server, milliseconds after its container
 * starts; an api that read the file before that would exit with a clear ConfigError and be
 * restarted (restart: unless-stopped).
 */
const apiStartsWith = { [services.redis]: { condition: 'service_started' } } as const;

/** Redis for the api and its exporter; for the exporter also the key of its password in the file Redis writes. */
const redisAddress = `redis://${services.redis}:${ports.redis}`;

const apiEnvironment: Partial<Record<ApiEnvName, string>> = {
  PORT: String(ports.api),
  REDIS_URL: redisAddress,
  REDIS_PASSWORD_FILE: redisPasswordFile,
  SHUTDOWN_DELAY_MS: String(composeDrainDelayMs),
  SHUTDOWN_TIMEOUT_MS: String(budgets.apiShutdownTimeoutMs),
  LOG_LEVEL: '${LOG_LEVEL:-info}',
};

/** `docker compose --profile observability up`: Prometheus, the nginx exporter, the Redis exporter. */
export const observabilityProfile = 'observability';

/** Where Prometheus's UI is published: on 127.0.0.1 only, at PROMETHEUS_PORT (default 9090). */
export const prometheusPublished = `127.0.0.1:\${PROMETHEUS_PORT:-${String(prometheusServer.port)}}:${String(prometheusServer.port)}`;

/**
 * docker-compose.yml: nginx on frontend (its port published), the api on frontend and backend,
 * Redis on backend only (internal: no route out, no published port). metrics (internal) joins nginx,
 * the api and the observability profile's exporters and Prometheus (the Redis exporter reaches Redis
 * on backend); monitoring-ui holds Prometheus alone, whose UI is published. Works with Compose v2
 * and docker-compose 1.29.
 */
export function composeFile(): ComposeSpecification {
  const authVolume = 'redis-auth';
  return {
    services: {
      [services.redis]: hardened('redis', {
        // REDIS_EXPORTER_ADDR: the address the Redis exporter's password file is keyed by.
        environment: { REDIS_PASSWORD: '${REDIS_PASSWORD:-}', REDIS_EXPORTER_ADDR: redisAddress },
        volumes: ['redis-data:/data', `${authVolume}:${redisAuthDir}`],
        networks: ['backend'],
        healthcheck: healthcheck(['CMD', '/usr/local/bin/redis-healthcheck.sh'], 1),
        mem_limit: memoryLimit('redis'),
        stop_grace_period: seconds(gracePeriodMs(budgets.redisShutdownTimeoutMs)),
      }),
      [services.api]: hardened('api', {
        environment: apiEnvironment,
        volumes: [`${authVolume}:${redisAuthDir}:ro`],
        networks: ['frontend', 'backend', 'metrics'],
        depends_on: apiStartsWith,
        healthcheck: healthcheck(['CMD', 'bash', '-c', apiReadyCheck], 2),
        // One CPU per replica: /load saturates it, and --scale api=N adds capacity to see.
        cpus: containerResources.api.cpu.limit,
        mem_limit: memoryLimit('api'),
        stop_grace_period: seconds(gracePeriodMs(composeDrainDelayMs + budgets.apiShutdownTimeoutMs)),
      }),
      [services.edge]: hardened('edge', {
        ports: [`\${HTTP_HOST:-127.0.0.1}:\${HTTP_PORT:-80}:${ports.edge}`],
        // metrics: where the nginx exporter reads stub_status, on a port that is never published.
        networks: ['frontend', 'metrics'],
        // No depends_on: nginx needs no api to start (it resolves the api per request and answers
        // 502 until one listens), and starting it beside the api rather than after saves a
        // container start on the way to the first answer.
        healthcheck: healthcheck(['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${ports.edge}${edge.healthPath}`], 2),
        mem_limit: memoryLimit('edge'),
        stop_signal: 'SIGQUIT',
        // nginx lets in-flight requests finish; the longest is a /load.
        stop_grace_period: seconds(gracePeriodMs(budgets.edgeDrainMs)),
      }),
      // The exporters' images have no shell and no client: Prometheus's `up` is their health check.
      [exporters.nginx.service]: monitoring('nginx-exporter', {
        command: [`--nginx.scrape-uri=http://${services.edge}:${String(nginxStatus.port)}${nginxStatus.path}`],
        networks: ['metrics'],
        depends_on: { [services.edge]: { condition: 'service_started' } },
        mem_limit: '64m',
      }),
      [exporters.redis.service]: monitoring('redis-exporter', {
        command: [`--redis.addr=${redisAddress}`, `--redis.password-file=${redisExporterPasswordFile}`],
        volumes: [`${authVolume}:${redisAuthDir}:ro`],
        networks: ['backend', 'metrics'],
        depends_on: { [services.redis]: { condition: 'service_healthy' } },
        mem_limit: '64m',
      }),
      [prometheusServer.service]: monitoring('prometheus', {
        ports: [prometheusPublished],
        volumes: ['prometheus-data:/prometheus'],
        // metrics reaches every target; monitoring-ui (Prometheus alone) is what its port is published from.
        networks: ['metrics', 'monitoring-ui'],
        healthcheck: healthcheck(['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${String(prometheusServer.port)}/-/ready`], 2),
        mem_limit: '512m',
      }),
    },
    networks: {
      frontend: {},
      backend: { internal: true },
      metrics: { internal: true },
      'monitoring-ui': {},
    },
    volumes: {
      'redis-data': {},
      [authVolume]: {},
      'prometheus-data': {},
    },
  };
}
