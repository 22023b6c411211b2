import { fileURLToPath } from 'node:url';
import type { Target } from '../src/index.js';

/**
 * Targets of the generator's own: one of each upstream kind, with and without trusted proxies. The
 * deployments' targets (native in packages/runner, compose and Kubernetes in packages/deploy) are
 * pinned and checked with nginx -t where they live.
 */
export const prefix = '/run/nginx-test';

export const staticTarget: Target = {
  name: 'static',
  listen: '127.0.0.1:8080',
  upstream: { kind: 'static', servers: ['127.0.0.1:3000', '127.0.0.1:3001'] },
  pidFile: `${prefix}/nginx.pid`,
  tempDir: `${prefix}/tmp`,
  workerProcesses: 'auto',
  accessLog: '/dev/stdout',
  trustedProxies: [],
};

export const dnsTarget: Target = {
  ...staticTarget,
  name: 'dns',
  listen: '8080',
  upstream: { kind: 'dns', host: 'api', port: 3000, resolver: '127.0.0.53', validSeconds: 2, connectTimeoutMs: 100 },
  status: { listen: '8081', path: '/stub_status' },
};

/** One api process: nginx never tries a request on another. */
export const singleServerTarget: Target = {
  ...staticTarget,
  name: 'single-server',
  upstream: { kind: 'static', servers: ['127.0.0.1:3000'], oneInstancePerServer: true },
};

/** One address that spreads connections over several instances, as a Kubernetes Service does. */
export const serviceTarget: Target = { ...staticTarget, name: 'service', upstream: { kind: 'static', servers: ['api:3000'] } };

/** An access log that keeps only answers of 400 and above, and retried requests (LOG_LEVEL=warn). */
export const quietLogTarget: Target = { ...staticTarget, name: 'quiet-log', accessLogOnly: { statusFrom: 400 } };

/** An access log written a chunk at a time, flushed more often than once a second. */
export const bufferedLogTarget: Target = { ...staticTarget, name: 'buffered-log', accessLogBuffer: { bytes: 8_192, flushMs: 1_500 } };

export const behindProxiesTarget: Target = { ...staticTarget, name: 'behind-proxies', trustedProxies: ['10.0.0.0/8', 'fc00::/7'] };

export const targets: readonly Target[] = [staticTarget, singleServerTarget, serviceTarget, quietLogTarget, bufferedLogTarget, dnsTarget, behindProxiesTarget];

/** Where a target's pinned nginx.conf is, in the package's test/golden (the compiled test runs from dist-test/test). */
export function goldenFile(target: Target): string {
  return fileURLToPath(new URL(`../../test/golden/${target.name}.conf`, import.meta.url));
}
