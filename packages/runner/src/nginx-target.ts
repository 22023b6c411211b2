import type { Target } from '@three-tier/nginx';
import { accessLogBuffer, ports, type LogLevel } from '@three-tier/shared';

export interface NativeParams {
  readonly listenHost: string;
  readonly edgePort: number;
  readonly apiPort: number;
  /** How many api instances, on apiPort, apiPort+1, ...; 1 by default. */
  readonly apiInstances?: number;
  /** nginx's prefix for this run: holds the pid file and temp paths. */
  readonly prefix: string;
  /** The named pipe the runner reads access log lines from (see AccessLogPipe). */
  readonly accessLogPath: string;
  /** The stack's LOG_LEVEL: what nginx's access log keeps (see accessLogOnly); info by default. */
  readonly logLevel?: LogLevel;
}

/**
 * nginx's access log at a LOG_LEVEL, as the api and the http-proxy edge log requests: every request
 * at info and below; at warn, answers of 400 and above; at error and beyond, 500 and above. Requests
 * tried on more than one instance are always kept: the runner lists retries from them.
 */
export function accessLogOnly(level: LogLevel = 'info'): Target['accessLogOnly'] {
  if (level === 'warn') return { statusFrom: 400 };
  if (level === 'error' || level === 'fatal' || level === 'silent') return { statusFrom: 500 };
  return undefined;
}

/**
 * `npm start` and the integration tests: nginx as a plain process beside redis-server and the api,
 * all on loopback.
 */
export function nativeTarget(params: NativeParams): Target {
  const only = accessLogOnly(params.logLevel);
  return {
    name: 'native',
    listen: `${params.listenHost}:${params.edgePort}`,
    upstream: {
      kind: 'static',
      servers: Array.from({ length: params.apiInstances ?? 1 }, (_, index) => `127.0.0.1:${params.apiPort + index}`),
      // Each port is one api process the runner started.
      oneInstancePerServer: true,
    },
    pidFile: `${params.prefix}/nginx.pid`,
    tempDir: `${params.prefix}/tmp`,
    workerProcesses: 'auto',
    accessLog: params.accessLogPath,
    accessLogBuffer: accessLogBuffer,
    ...(only ? { accessLogOnly: only } : {}),
    trustedProxies: [],
  };
}

/** The parameters the golden file of the native target is rendered with. */
export const nativeExample: NativeParams = {
  listenHost: '127.0.0.1',
  edgePort: ports.edge,
  apiPort: ports.api,
  prefix: '/run/three-tier/nginx',
  accessLogPath: '/run/three-tier/nginx/access.log',
};
