import type { Target } from '@three-tier/nginx';
import { nginxStatus } from '@three-tier/observability';
import { accessLogBuffer, ports, services } from '@three-tier/shared';

/** Docker's embedded DNS server, on every user-defined network. */
export const dockerDnsResolver = '127.0.0.11';

/**
 * How long nginx in compose keeps Docker's DNS answer for the api's name (nginx's least: whole
 * seconds). A new replica is in the rotation within this; a stopped one stays in it as long after
 * it exits (Docker's DNS lists a container until it has exited, drain included), and each request
 * that tries its address pays composeConnectTimeoutMs.
 */
export const composeDnsValidSeconds = 1;

/**
 * How long nginx in compose waits for a replica to accept a connection before it tries the next
 * address. A replica that exited stays in nginx's DNS cache for up to composeDnsValidSeconds, and
 * on the bridge network its address answers nothing (no RST): each connect to it waits this out.
 * At 1 s each client waited a second once per stopped replica; at 100 ms, scaling 3 to 1 put p99
 * at 200 ms on a quiet machine (two dead addresses tried first). A live replica cannot time out
 * this short: its kernel answers the SYN on the same host within the connect call (the bridge
 * hands it over in the sender's own softirq), and nginx handles a ready connection before it
 * expires its timers, so a worker that the scheduler kept waiting does not time it out either.
 */
export const composeConnectTimeoutMs = 25;

/**
 * `docker compose up`: nginx in its container, unprivileged on the edge port, the api found by
 * Docker's DNS (127.0.0.11 on a user-defined network) under its service name, however many
 * replicas there are. Writes only to /tmp (a tmpfs under a read-only root); logs to stdout/stderr.
 */
export function composeTarget(): Target {
  return {
    name: 'compose',
    listen: String(ports.edge),
    upstream: {
      kind: 'dns',
      host: services.api,
      port: ports.api,
      resolver: dockerDnsResolver,
      validSeconds: composeDnsValidSeconds,
      connectTimeoutMs: composeConnectTimeoutMs,
    },
    pidFile: '/tmp/nginx.pid',
    tempDir: '/tmp',
    workerProcesses: 'auto',
    accessLog: '/dev/stdout',
    accessLogBuffer,
    trustedProxies: [],
    // For the nginx exporter of the compose profile `observability`; compose never publishes it.
    status: { listen: String(nginxStatus.port), path: nginxStatus.path },
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
    accessLogBuffer,
    trustedProxies: privateNetworks,
  };
}
