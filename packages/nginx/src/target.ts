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
  | {
      readonly kind: 'static';
      readonly servers: readonly string[];
      /**
       * Each server is one api process (a native stack), not an address that spreads connections
       * over several (a Kubernetes Service). Only then does one server mean nginx can never reach a
       * second instance (see retriesElsewhere); unset, it is assumed it can.
       */
      readonly oneInstancePerServer?: boolean;
    }
  | {
      readonly kind: 'dns';
      readonly host: string;
      readonly port: number;
      readonly resolver: string;
      readonly validSeconds: number;
      /**
       * How long a connect may take before nginx tries the next address. A replica that stopped
       * leaves its address in nginx's cache for up to `validSeconds`, and on a container network
       * that address answers nothing (no RST): each request that tries it waits this long.
       */
      readonly connectTimeoutMs: number;
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
  /** Lines gathered and written a chunk at a time, at least every `flushMs`; unbuffered without. */
  readonly accessLogBuffer?: { readonly bytes: number; readonly flushMs: number };
  /**
   * Log only answers with a status of `statusFrom` or more (400: what the api logs at LOG_LEVEL
   * warn), and every request tried on more than one instance (a retry is worth a warning, and the
   * runner lists retries from these lines). Unset: every request.
   */
  readonly accessLogOnly?: { readonly statusFrom: 400 | 500 };
  /**
   * Proxies in front of nginx whose X-Forwarded-For and X-Forwarded-Proto are believed (an ingress
   * controller). Empty: nginx is the first hop and the client is whoever connected.
   */
  readonly trustedProxies: readonly string[];
  /**
   * nginx's stub_status for a Prometheus exporter: a server of its own on a port that is never
   * published, so the public server never answers it. Absent: no status at all.
   */
  readonly status?: { readonly listen: string; readonly path: `/${string}` };
}
