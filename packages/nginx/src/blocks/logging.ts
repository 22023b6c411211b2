import { directive, type Node } from '../ast.js';
import type { Target } from '../target.js';
import { ms, size } from '../units.js';
import { vars } from '../variables.js';

/** One JSON object per request, its fields named as the http-proxy edge names them in its own lines. */
const logFields = {
  time: '$time_iso8601',
  requestId: vars.requestId,
  remoteAddr: '$remote_addr',
  method: '$request_method',
  uri: '$request_uri',
  status: '$status',
  bytes: '$body_bytes_sent',
  seconds: '$request_time',
  upstream: '$upstream_addr',
  upstreamStatus: '$upstream_status',
  upstreamSeconds: '$upstream_response_time',
  userAgent: '$http_user_agent',
} as const;

/** The access log: JSON lines to the target's destination, buffered where the target asks. */
export function accessLogging(target: Target): Node[] {
  const buffer = target.accessLogBuffer;
  return [
    directive('log_format', 'json', 'escape=json', JSON.stringify(logFields)),
    directive(
      'access_log',
      target.accessLog,
      'json',
      ...(buffer ? [`buffer=${size(buffer.bytes)}`, `flush=${ms(buffer.flushMs)}`] : []),
    ),
  ];
}
