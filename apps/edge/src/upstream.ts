/**
 * An api instance as the proxy sends to it: its URL, parsed once at start.
 */

/** The fields of a target that http-proxy reads, in the shape its own url.parse would give. */
export interface UpstreamTarget {
  readonly protocol: string;
  readonly host: string;
  readonly hostname: string;
  readonly port: string;
  readonly path: string;
}

export interface Upstream {
  /** As configured (API_UPSTREAM), and as logs name it. */
  readonly url: string;
  /** Given a string instead, http-proxy would parse it again on every try. */
  readonly target: UpstreamTarget;
}

/** An http:// URL as an upstream. */
export function upstreamOf(url: string): Upstream {
  const parsed = new URL(url);
  return {
    url,
    target: {
      protocol: parsed.protocol,
      host: parsed.host,
      // An IPv6 literal without its brackets, as a socket wants it.
      hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: parsed.port,
      path: parsed.pathname + parsed.search,
    },
  };
}
