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
import type { ComposeSpecification } from 'docker-compose';
import {
  baseImages,
  defaultImagePrefix,
  imageBuilds,
  imageRepository,
  redisAuthDir,
  redisPasswordFile,
  type ImageName,
} from './images.js';
import { composeTarget } from './nginx-targets.js';

type Service = NonNullable<ComposeSpecification['services']>[string];

const { upstream } = composeTarget();

/** How long a stopping api keeps serving: until nginx's cached DNS answers that name it expire. */
export const composeDrainDelayMs = (upstream.kind === 'dns' ? upstream.validSeconds * 1_000 : 0) + 1_000;

const seconds = (ms: number): string => `${Math.ceil(ms / 1_000)}s`;
const memoryLimit = (image: ImageName): string => `${containerResources[image].memoryMiB.limit}m`;

/** What every service gets: no privileges, nothing writable but what it must write, bounded logs. */
function hardened(image: ImageName, extra: Service): Service {
  const build = imageBuilds[image];
  const base = baseImages[image];
  return {
    build: {
      context: build.context,
      ...(build.context === '.' ? { dockerfile: build.dockerfile } : {}),
      args: { [base.arg]: `\${${base.arg}:-${base.default}}` },
    },
    image: `${imageRepository(`\${IMAGE_PREFIX:-${defaultImagePrefix}}`, image)}:\${TAG:-latest}`,
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
 * container is probed. Only Redis gates another service (the api reads the password Redis writes at
 * its first start), so only Redis is checked every second, with redis-cli; the api and nginx are
 * checked every 2 s by a shell and busybox, never by a new node process.
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

const apiEnvironment: Partial<Record<ApiEnvName, string>> = {
  PORT: String(ports.api),
  REDIS_URL: `redis://${services.redis}:${ports.redis}`,
  REDIS_PASSWORD_FILE: redisPasswordFile,
  SHUTDOWN_DELAY_MS: String(composeDrainDelayMs),
  SHUTDOWN_TIMEOUT_MS: String(budgets.apiShutdownTimeoutMs),
  LOG_LEVEL: '${LOG_LEVEL:-info}',
};

/**
 * docker-compose.yml: nginx on the front network, the api on both, Redis on the back network only
 * (internal: no route out, no published port). Works with Compose v2 and docker-compose 1.29.
 */
export function composeFile(): ComposeSpecification {
  const authVolume = 'redis-auth';
  return {
    services: {
      [services.redis]: hardened('redis', {
        environment: { REDIS_PASSWORD: '${REDIS_PASSWORD:-}' },
        volumes: ['redis-data:/data', `${authVolume}:${redisAuthDir}`],
        networks: ['backend'],
        healthcheck: healthcheck(['CMD', '/usr/local/bin/redis-healthcheck.sh'], 1),
        mem_limit: memoryLimit('redis'),
        stop_grace_period: '10s',
      }),
      [services.api]: hardened('api', {
        environment: apiEnvironment,
        volumes: [`${authVolume}:${redisAuthDir}:ro`],
        networks: ['frontend', 'backend'],
        depends_on: { [services.redis]: { condition: 'service_healthy' } },
        healthcheck: healthcheck(['CMD', 'bash', '-c', apiReadyCheck], 2),
        // One CPU per replica: /load saturates it, and --scale api=N adds capacity to see.
        cpus: containerResources.api.cpu.limit,
        mem_limit: memoryLimit('api'),
        stop_grace_period: seconds(gracePeriodMs(composeDrainDelayMs + budgets.apiShutdownTimeoutMs)),
      }),
      [services.edge]: hardened('edge', {
        ports: [`\${HTTP_HOST:-127.0.0.1}:\${HTTP_PORT:-80}:${ports.edge}`],
        networks: ['frontend'],
        // nginx needs no api to start: it resolves the api per request and answers 502 until one is up.
        depends_on: { [services.api]: { condition: 'service_started' } },
        healthcheck: healthcheck(['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${ports.edge}${edge.healthPath}`], 2),
        mem_limit: memoryLimit('edge'),
        stop_signal: 'SIGQUIT',
        // nginx lets in-flight requests finish; the longest is a /load.
        stop_grace_period: seconds(gracePeriodMs(budgets.edgeDrainMs)),
      }),
    },
    networks: {
      frontend: {},
      backend: { internal: true },
    },
    volumes: {
      'redis-data': {},
      [authVolume]: {},
    },
  };
}
