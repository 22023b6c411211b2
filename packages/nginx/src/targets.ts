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
  /**
   * Proxies in front of nginx whose X-Forwarded-For and X-Forwarded-Proto are believed (an ingress
   * controller). Empty: nginx is the first hop and the client is whoever connected.
   */
  readonly trustedProxies: readonly string[];
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
    trustedProxies: [],
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
    trustedProxies: [],
  };
}

/** Private address ranges: where an ingress controller's pods live in any cluster. */
export const privateNetworks = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'] as const;

/**
 * Kubernetes: nginx pods behind an ingress controller, the api behind its Service. The Service's
 * name is resolved once, at start, by the system resolver (so the namespace's search domain
 * applies and the manifests may go to any namespace); its ClusterIP never changes, and
 * keepalive_requests makes connections rotate so new api pods get their share. The client address
 * comes from the ingress controller's X-Forwarded-For.
 */
export function kubernetesTarget(): Target {
  return {
    name: 'kubernetes',
    listen: String(ports.edge),
    upstream: { kind: 'static', servers: [`${services.api}:${ports.api}`] },
    pidFile: '/tmp/nginx.pid',
    tempDir: '/tmp',
    workerProcesses: 2,
    accessLog: '/dev/stdout',
    trustedProxies: privateNetworks,
  };
}
