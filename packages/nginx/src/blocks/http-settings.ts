import { edge } from '@three-tier/shared';
import { comment, directive, type Node } from '../ast.js';
import type { Target } from '../target.js';
import { ms, size } from '../units.js';

/** Everything nginx writes stays under the target's temp directory. */
export function writablePaths(target: Target): Node[] {
  return [
    comment('Everything nginx writes stays under one directory, so the root file system can be read-only.'),
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => directive(`${kind}_temp_path`, `${target.tempDir}/${kind}`)),
  ];
}

/** No version in answers; a type for whatever nginx serves without one. */
export function httpDefaults(): Node[] {
  return [directive('server_tokens', 'off'), directive('default_type', 'application/octet-stream')];
}

/** Limits and timeouts towards clients, from the contract the http-proxy edge reads too. */
export function clientLimits(): Node[] {
  return [
    comment('Limits and timeouts towards clients (shared with the http-proxy edge).'),
    directive('keepalive_timeout', ms(edge.clientKeepaliveTimeoutMs)),
    directive('client_header_timeout', ms(edge.clientTimeoutMs)),
    directive('client_body_timeout', ms(edge.clientTimeoutMs)),
    directive('send_timeout', ms(edge.clientTimeoutMs)),
    directive('reset_timedout_connection', 'on'),
    directive('client_max_body_size', size(edge.maxBodyBytes)),
    // The whole allowed body fits in memory: nothing is buffered to disk.
    directive('client_body_buffer_size', size(edge.maxBodyBytes)),
    directive('client_header_buffer_size', '1k'),
    directive('large_client_header_buffers', edge.headerBuffers, size(edge.maxHeaderBytes)),
    comment('Paths match the api exactly: //redis is not /redis there, so it is not here either.'),
    directive('merge_slashes', 'off'),
  ];
}
