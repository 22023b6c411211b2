import { headerNames, securityHeaders } from '@three-tier/shared';
import { directive, type Arg, type Node } from '../ast.js';
import { vars } from '../variables.js';

/** A response header as nginx adds it: name and value. */
export type Header = readonly [name: string, value: Arg];

/**
 * The headers every answer carries: the request id and the security headers. They are listed here
 * only; the add_header sets and the proxy_hide_header list are all read from this.
 */
export const responseHeaderSet: readonly Header[] = [
  [headerNames.requestId, vars.requestId],
  ...Object.entries(securityHeaders),
];

const addHeader = ([name, value]: Header): Node => directive('add_header', name, value, 'always');

/** The set, for the server block: every location without add_header of its own inherits it. */
export function responseHeaders(): Node[] {
  return responseHeaderSet.map(addHeader);
}

/**
 * add_header for a location with headers of its own. nginx inherits add_header from the level above
 * only where a level has none, so one header of the location's own would drop the whole set: the
 * set is repeated first, then the extras. Without extras, nothing: the location inherits.
 */
export function locationHeaders(extra: readonly Header[]): Node[] {
  return extra.length === 0 ? [] : [...responseHeaders(), ...extra.map(addHeader)];
}

/** The api sends the same headers; hiding its copies leaves the edge's as the one clients get. */
export function hiddenUpstreamHeaders(): Node[] {
  return responseHeaderSet.map(([name]) => directive('proxy_hide_header', name));
}
