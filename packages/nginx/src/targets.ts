import { ports } from '@three-tier/shared';

/**
 * Where a generated config will run. The route table decides what each location does; the target
 * decides where nginx listens, where the api is, where nginx may write, and which nginx it is.
 */
export interface Target {
  readonly name: string;
  /** `address:port` or a bare port. */
  readonly listen: string;
  /** The api instances, `host:port`. */
  readonly upstreams: readonly string[];
  /** nginx writes its pid here and keeps request bodies and buffers under `tempDir`. */
  readonly pidFile: string;
  readonly tempDir: string;
  /** `auto`, or a count where the CPUs nginx sees are not the CPUs it may use. */
  readonly workerProcesses: 'auto' | number;
  /** Where JSON access log lines go: a path such as /dev/stdout, or a `syslog:` destination. */
  readonly accessLog: string;
}

export interface NativeParams {
  readonly listenHost: string;
  readonly edgePort: number;
  readonly apiPort: number;
  /** nginx's prefix for this run: holds the pid file and temp paths. */
  readonly prefix: string;
  /**
   * A loopback UDP port the runner reads access log lines from. Node hands a child sockets, not
   * pipes, for stdout, and nginx cannot open /dev/stdout on a socket; syslog over loopback can.
   */
  readonly accessLogPort: number;
}

/**
 * `npm start` and the integration tests: nginx as a plain process beside redis-server and the api,
 * all on loopback.
 */
export function nativeTarget(params: NativeParams): Target {
  return {
    name: 'native',
    listen: `${params.listenHost}:${params.edgePort}`,
    upstreams: [`127.0.0.1:${params.apiPort}`],
    pidFile: `${params.prefix}/nginx.pid`,
    tempDir: `${params.prefix}/tmp`,
    workerProcesses: 'auto',
    accessLog: `syslog:server=127.0.0.1:${params.accessLogPort},tag=nginx,nohostname`,
  };
}

/** The parameters the golden file of the native target is rendered with. */
export const nativeExample: NativeParams = {
  listenHost: '127.0.0.1',
  edgePort: ports.edge,
  apiPort: ports.api,
  prefix: '/run/three-tier/nginx',
  accessLogPort: 5514,
};
