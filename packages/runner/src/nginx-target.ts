import type { Target } from '@three-tier/nginx';
import { accessLogBuffer, ports } from '@three-tier/shared';

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
}

/**
 * `npm start` and the integration tests: nginx as a plain process beside redis-server and the api,
 * all on loopback.
 */
export function nativeTarget(params: NativeParams): Target {
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
