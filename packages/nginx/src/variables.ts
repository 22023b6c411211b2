/**
 * nginx variables the generated config defines: each is set by one builder and read by others, so
 * its name is written here once.
 */
export const vars = {
  /** The client's well-formed X-Request-ID, or nginx's own id (request-maps). */
  requestId: '$request_id_out',
  /** The client's Idempotency-Key, or one per request; empty when malformed (request-maps). */
  idempotencyKey: '$idempotency_key_out',
  /** 1 when the client's Idempotency-Key is absent or well-formed, empty when malformed (request-maps). */
  idempotencyKeyAccepted: '$idempotency_key_accepted',
  /** 1 when an answer's status is one the access log keeps (logging). */
  accessLogStatus: '$access_log_status',
  /** 1 when a request's access log line is written (logging). */
  accessLogged: '$access_logged',
  /** The scheme the trusted proxy reported (client-identity). */
  forwardedProto: '$forwarded_proto',
  /** `host:port` of a `dns` upstream, resolved per request (upstream). */
  apiUpstream: '$api_upstream',
} as const;

/** The variable nginx gives a request header: `X-Request-ID` is read as `$http_x_request_id`. */
export function headerVariable(name: string): string {
  return `$http_${name.toLowerCase().replaceAll('-', '_')}`;
}
