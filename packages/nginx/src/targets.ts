import { ports, services } from '@three-tier/shared';

/**
 * How nginx finds the api.
 *
 * - `static`: fixed `host:port` servers in an upstream block with keep-alive (a native stack).
 * - `dns`: a name looked up at request time through `resolver`, every address it returns tried in
 *   turn, so replicas that come and go (`docker compose up --scale api=3`) are followed within
 *   `validSeconds`. Works on every nginx (Debian 12's 1.22 included, which cannot re-resolve an
 *   upstream block), at the price of keep-alive towards the api.
 */
export type UpstreamTarget =
  | { readonly kind: 'static'; readonly servers: readonly string[] }
  | {
      readonly kind: 'dns';
      readonly host: string;
      readonly port: number;
      readonly resolver: string;
      readonly validSeconds: number;
    };

/**
 * Where a generated config will run. The route table decides what each location does; the target
 * decides where nginx listens, where the api is, where nginx may write, and which nginx it is.
 */
export interface Target {
  readonly name: string;
  /** `address:port` or a bare port. */
  readonly listen: string;
  readonly upstream: UpstreamTarget;
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
    upstream: { kind: 'static', servers: [`127.0.0.1:${params.apiPort}`] },
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

/**
 * `docker compose up`: nginx in its container, unprivileged on the edge port, the api found by
 * Docker's DNS (127.0.0.11 on a user-defined network) under its service name, however many
 * replicas there are. Writes only to /tmp (a tmpfs under a read-only root); logs to stdout/stderr.
 */
export function composeTarget(): Target {
  return {
    name: 'compose',
    listen: String(ports.edge),
    upstream: { kind: 'dns', host: services.api, port: ports.api, resolver: '127.0.0.11', validSeconds: 2 },
    pidFile: '/tmp/nginx.pid',
    tempDir: '/tmp',
    workerProcesses: 'auto',
    accessLog: '/dev/stdout',
  };
}
