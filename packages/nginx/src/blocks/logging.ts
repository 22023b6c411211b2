import { block, comment, directive, type Node } from '../ast.js';
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

/** The access log: JSON lines to the target's destination, buffered where the target asks, filtered where it asks. */
export function accessLogging(target: Target): Node[] {
  const buffer = target.accessLogBuffer;
  return [
    directive('log_format', 'json', 'escape=json', JSON.stringify(logFields)),
    ...accessLogFilter(target),
    directive(
      'access_log',
      target.accessLog,
      'json',
      ...(buffer ? [`buffer=${size(buffer.bytes)}`, `flush=${ms(buffer.flushMs)}`] : []),
      ...(target.accessLogOnly ? [`if=${vars.accessLogged}`] : []),
    ),
  ];
}

/**
 * The condition `accessLogOnly` asks for: a status from `statusFrom` up, or an upstream address
 * list with a comma (nginx lists every instance a request tried). Evaluated once per request, at
 * log time; a request left out costs no formatting and no write.
 */
function accessLogFilter(target: Target): Node[] {
  const only = target.accessLogOnly;
  if (!only) return [];
  const firstDigit = only.statusFrom / 100;
  return [
    comment(`Only answers of ${only.statusFrom} and above, and requests tried on more than one instance.`),
    block('map', ['$status', vars.accessLogStatus], [directive('default', ''), directive(`~^[${firstDigit}-9]`, 1)]),
    block('map', ['$upstream_addr', vars.accessLogged], [directive('default', vars.accessLogStatus), directive('~,', 1)]),
  ];
}
