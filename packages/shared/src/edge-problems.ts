import { edge } from './topology.js';

/**
 * What the edge says when it answers by itself, the same from nginx and from the http-proxy edge:
 * status, detail, and whether the client may retry after a second.
 */
export const edgeProblems = {
  notFound: { status: 404, detail: 'No route for this path.' },
  badRequest: { status: 400, detail: 'The request is not valid HTTP.' },
  payloadTooLarge: { status: 413, detail: `Request bodies are limited to ${edge.maxBodyBytes} bytes.` },
  uriTooLong: { status: 414, detail: 'The request line is too long.' },
  headersTooLarge: { status: 431, detail: 'The request line and headers are too large.' },
  tooManyRequests: { status: 429, detail: 'Too many requests to this route; slow down.', retryAfterSeconds: 1 },
  internalError: { status: 500, detail: 'The edge failed to handle the request.' },
  badGateway: { status: 502, detail: 'No api instance could be reached.', retryAfterSeconds: 1 },
  unavailable: { status: 503, detail: 'No api instance is available.', retryAfterSeconds: 1 },
  gatewayTimeout: { status: 504, detail: 'The api did not answer in time.', retryAfterSeconds: 1 },
  versionNotSupported: { status: 505, detail: 'Only HTTP/1.0 and HTTP/1.1 are served here.' },
  methodNotAllowed: { status: 405, detail: 'This method is not served here.' },
  badIdempotencyKey: { status: 400, detail: 'Idempotency-Key must be 1 to 128 letters, digits or . _ : -' },
} as const satisfies Record<string, { status: number; detail: string; retryAfterSeconds?: number }>;

/** The detail for an internal route asked for at the edge: the same 404 as any unknown path. */
export function internalRouteDetail(path: string): string {
  return `No route for ${path}.`;
}
