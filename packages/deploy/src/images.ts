/**
 * The images of the stack: their names, the official bases they build on, and the unprivileged
 * users they run as. The Dockerfiles say the same (a test holds them to it); compose and the
 * Kubernetes manifests take them from here.
 */
import { services } from '@three-tier/shared';
import type { ComposeSpecification } from 'docker-compose';

type Service = NonNullable<ComposeSpecification['services']>[string];

export type ImageName = keyof typeof services;

/**
 * Official base images, pinned to current releases; each overridable at build time (`NODE_IMAGE`,
 * `NGINX_IMAGE`, `REDIS_IMAGE`), e.g. with the stand-ins `npm run docker:bases` builds.
 */
export const baseImages = {
  api: { arg: 'NODE_IMAGE', default: 'node:24.21-bookworm-slim' },
  edge: { arg: 'NGINX_IMAGE', default: 'nginx:1.30-alpine' },
  redis: { arg: 'REDIS_IMAGE', default: 'redis:8.2-alpine' },
} as const satisfies Record<ImageName, { arg: string; default: string }>;

/** uid:gid each image runs as: the official images' own unprivileged users. */
export const imageUsers = {
  api: { uid: 1000, gid: 1000 },
  edge: { uid: 101, gid: 101 },
  redis: { uid: 999, gid: 999 },
} as const satisfies Record<ImageName, { uid: number; gid: number }>;

/** Where each image's Dockerfile is, and the build context it expects. */
export const imageBuilds = {
  api: { context: '.', dockerfile: 'docker/api/Dockerfile' },
  edge: { context: 'docker/nginx', dockerfile: 'docker/nginx/Dockerfile' },
  redis: { context: 'docker/redis', dockerfile: 'docker/redis/Dockerfile' },
} as const satisfies Record<ImageName, { context: string; dockerfile: string }>;

/** `<prefix>-<service>`: with IMAGE_PREFIX=alice/three-tier, Docker Hub repositories alice/three-tier-api and so on. */
export const defaultImagePrefix = 'three-tier';

export function imageRepository(prefix: string, image: ImageName): string {
  return `${prefix}-${services[image]}`;
}

/**
 * The image compose builds for a service of the compose files, which name none (compose.ts says
 * why): the project and the service, joined by `-` in Compose v2 and by `_` in docker-compose 1.x,
 * tagged latest. `composeVersion` is what the compose reports (2.26.1, 1.29.2).
 */
export function projectImage(project: string, service: string, composeVersion: string): string {
  const separator = composeVersion.startsWith('1.') ? '_' : '-';
  return `${project}${separator}${service}:latest`;
}

/** `docker compose -f docker-compose.yml -f docker-compose.registry.yml pull`: the images npm run images:push pushed. */
export const registryComposePath = 'docker-compose.registry.yml';

/** The pushed image a service builds, found by its Dockerfile; none for the images never pushed (Prometheus, the exporters). */
function pushedImageOf(service: Service): ImageName | undefined {
  const { build } = service;
  if (typeof build !== 'object') return undefined;
  return (Object.keys(imageBuilds) as ImageName[]).find(
    (image) => imageBuilds[image].context === build.context && (build.dockerfile ?? imageBuilds[image].dockerfile) === imageBuilds[image].dockerfile,
  );
}

/**
 * The override that names a compose file's pushed images after the registry they were pushed to,
 * `<IMAGE_PREFIX>-api:<TAG>` and so on, for `pull` and `up --no-build` on another machine. The one
 * place a compose file names an image: every service that builds a pushed image gets its name, so a
 * file with several services built from one Dockerfile runs one pulled image.
 */
export function registryOverride(file: ComposeSpecification): ComposeSpecification {
  const prefix = '${IMAGE_PREFIX:?set IMAGE_PREFIX to what npm run images:push pushed, e.g. alice/three-tier}';
  const named = Object.entries(file.services ?? {}).flatMap(([name, service]) => {
    const image = pushedImageOf(service);
    return image ? [[name, { image: `${imageRepository(prefix, image)}:\${TAG:-latest}` }] as const] : [];
  });
  return { services: Object.fromEntries(named) };
}

/** Where the Redis password file lives in the containers that share it (a volume, or a secret). */
export const redisAuthDir = '/run/redis-auth';
export const redisPasswordFile = `${redisAuthDir}/password`;

/**
 * The images of the compose profile `observability`: Prometheus and the two exporters, each a
 * thin layer (config, user) over an official image, overridable like the others, e.g. with the
 * Debian-package stand-ins `npm run docker:bases` builds. They run as nobody.
 */
export const monitoringImages = {
  prometheus: {
    base: { arg: 'PROMETHEUS_IMAGE', default: 'prom/prometheus:v2.53.4' },
    build: { context: 'docker/prometheus', dockerfile: 'docker/prometheus/Dockerfile' },
  },
  'nginx-exporter': {
    base: { arg: 'NGINX_EXPORTER_IMAGE', default: 'nginx/nginx-prometheus-exporter:1.4.2' },
    build: { context: 'docker/nginx-exporter', dockerfile: 'docker/nginx-exporter/Dockerfile' },
  },
  'redis-exporter': {
    base: { arg: 'REDIS_EXPORTER_IMAGE', default: 'oliver006/redis_exporter:v1.67.0' },
    build: { context: 'docker/redis-exporter', dockerfile: 'docker/redis-exporter/Dockerfile' },
  },
} as const satisfies Record<string, { base: { arg: string; default: string }; build: { context: string; dockerfile: string } }>;

export type MonitoringImageName = keyof typeof monitoringImages;

/** nobody: no home, no shell, owns nothing but Prometheus's data. */
export const monitoringUser = { uid: 65534, gid: 65534 } as const;

/** The JSON map of Redis address to password the Redis exporter reads, next to the password. */
export const redisExporterPasswordFile = `${redisAuthDir}/exporter-passwords.json`;
