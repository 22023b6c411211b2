import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateFiles } from '@three-tier/nginx';
import { freePort, Nginx, NodeService, RedisServer } from '@three-tier/processes';
import { accessLogBuffer, edge, instanceHue, routes } from '@three-tier/shared';

/** Redis, `instances` api processes and nginx balancing them, all on loopback. */
export interface MultiStack {
  readonly url: string;
  readonly apis: readonly { readonly url: string; readonly service: NodeService }[];
  readonly redis: RedisServer;
  cleanup(): Promise<void>;
}

function hueDistance(a: number, b: number): number {
  const apart = Math.abs(a - b) % 360;
  return Math.min(apart, 360 - apart);
}

/**
 * A free port whose instance (named `127.0.0.1-<port>`) has a hue at least `spacing` degrees from
 * `hues`, added to them. Colours that close are hard to tell apart in a picture.
 */
async function portOfDistinctHue(hues: number[], spacing: number): Promise<number> {
  for (let tries = 0; ; tries += 1) {
    const port = await freePort();
    const hue = instanceHue(`127.0.0.1-${port}`);
    if (tries >= 200 || hues.every((other) => hueDistance(hue, other) >= spacing)) {
      hues.push(hue);
      return port;
    }
  }
}

/**
 * Starts the stack on free ports and temporary directories; `bin` are redis-server and nginx, `path`
 * the PATH the api processes get.
 */
export async function startMultiStack(
  instances: number,
  bin: { readonly redisServer: string; readonly nginx: string },
  path: string | undefined,
  { distinctHues = false }: { readonly distinctHues?: boolean } = {},
): Promise<MultiStack> {
  const root = await mkdtemp(join(tmpdir(), 'multi-api-stack-'));
  const redis = new RedisServer({ bin: bin.redisServer, port: await freePort(), dir: join(root, 'data') });
  await redis.start();
  const apis: { url: string; service: NodeService }[] = [];
  const hues: number[] = [];
  for (let i = 0; i < instances; i += 1) {
    const port = distinctHues ? await portOfDistinctHue(hues, 360 / (2 * instances)) : await freePort();
    const url = `http://127.0.0.1:${port}`;
    const service = new NodeService({
      name: `api-${i}`,
      entry: fileURLToPath(import.meta.resolve('@three-tier/api')),
      env: { PATH: path, PORT: String(port), HOST: '127.0.0.1', REDIS_URL: `redis://127.0.0.1:${redis.port}`, INSTANCE_ID: `127.0.0.1-${port}`, LOG_LEVEL: 'warn' },
      healthUrl: `${url}${routes.readyz.path}`,
      liveUrl: `${url}${routes.healthz.path}`,
    });
    await service.start();
    apis.push({ url, service });
  }
  const edgePort = await freePort();
  const nginx = new Nginx({
    bin: bin.nginx,
    prefix: root,
    config:
      generateFiles({
        name: 'native',
        listen: `127.0.0.1:${edgePort}`,
        upstream: { kind: 'static', servers: apis.map(({ url }) => url.slice('http://'.length)) },
        pidFile: join(root, 'nginx.pid'),
        tempDir: join(root, 'tmp'),
        workerProcesses: 'auto',
        accessLog: '/dev/null',
        accessLogBuffer,
        trustedProxies: [],
      })['nginx.conf'] ?? '',
    healthUrl: `http://127.0.0.1:${edgePort}${edge.healthPath}`,
  });
  await nginx.start();
  return {
    url: `http://127.0.0.1:${edgePort}`,
    apis,
    redis,
    cleanup: async () => {
      await nginx.stop();
      for (const { service } of apis) await service.stop();
      await redis.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
