/**
 * HTTP conventions shared by the api and both edges: problem+json bodies and security headers.
 */
import { STATUS_CODES } from 'node:http';

export const problemContentType = 'application/problem+json';

/** RFC 9457 problem details, with the request id as an extension member. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  readonly requestId?: string;
  readonly [extension: string]: unknown;
}

/**
 * JSON for a body that may quote the request (a path in a problem's detail): <, > and & escaped
 * as \u003c and so on, so that nothing a client sent comes back as markup, whatever reads it.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A problem with the status's standard reason phrase as its title. */
export function problem(status: number, detail: string, extensions: Record<string, unknown> = {}): Problem {
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...extensions,
  };
}

/**
 * Sent by both edges and by the api on every response. No Content-Security-Policy here: the api sets
 * one per response (the HTML page's differs), and two CSP headers would be enforced together.
 */
export const securityHeaders = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
} as const;

/** The api's CSP for everything but the HTML page: nothing may load, nothing may frame it. */
export const lockedDownCsp = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";


/** nginx's code for a client that hung up before its answer; logs and metrics of every tier use it. */
export const clientClosedRequest = 499;

/** The status a finished exchange is recorded with: the one sent, or 499 if the client left first. */
export function recordedStatus(res: { readonly writableFinished: boolean; readonly statusCode: number }): number {
  return res.writableFinished ? res.statusCode : clientClosedRequest;
}

/** Problems a request can have before any route is looked at, the same for every tier. */
export type MalformedRequest = 'badRequest' | 'versionNotSupported' | 'payloadTooLarge' | 'methodNotAllowed' | 'uriTooLong' | 'headersTooLarge';

/** What `malformedRequest` reads of a request: Node's IncomingMessage has all of it. */
export interface RequestHead {
  readonly method?: string | undefined;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly url?: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly rawHeaders: readonly string[];
}

const hexPair = /^[0-9A-Fa-f]{2}$/;

/** Where the path of an origin-form target ends: at its query or its fragment, whichever is first. */
function pathEnd(url: string): number {
  const query = url.indexOf('?');
  const fragment = url.indexOf('#');
  if (fragment < 0) return query < 0 ? url.length : query;
  return query < 0 || fragment < query ? fragment : query;
}

/**
 * The path of a request target in origin form (/path?query) or absolute form (http://host/path),
 * or undefined for anything else (`*`, garbage). nginx routes both forms by their path, which ends
 * at a #fragment as at a query: no client sends one, and nginx neither routes nor checks it.
 */
export function targetPath(url: string): string | undefined {
  if (url.startsWith('/')) return url.slice(0, pathEnd(url));
  const absolute = /^https?:\/\/[^/?#]+(\/[^?#]*)?/i.exec(url);
  if (!absolute) return undefined;
  return absolute[1] ?? '/';
}

/** A Host value nginx accepts: not empty, no slash, backslash, control byte or "..". */
function validHost(host: string): boolean {
  // eslint-disable-next-line no-control-regex
  return host.length > 0 && !/[/\\\u0000-\u0020\u007f]|\.\./.test(host);
}

/**
 * Why nginx would refuse this request before routing it, or undefined. The Node tiers ask the same
 * question so that every tier refuses the same requests the same way: an HTTP version other than
 * 1.x (505); a request line or a header line longer than nginx's buffer (414, 431); TRACE (405);
 * a body declared larger than the edge takes (413); HTTP/1.1 without Host, two Host headers, or
 * one nginx finds invalid (empty, a slash, "..", a control byte); a transfer coding in HTTP/1.0, or
 * other than chunked, or two Transfer-Encoding lines; a target that is neither origin nor absolute
 * form; a percent sign not followed by two hex digits; an escaped NUL or control byte; dot
 * segments, plain or escaped, that climb above the root (400); CONNECT to a path (405).
 */
export function malformedRequest(req: RequestHead, limits: { readonly maxBodyBytes: number; readonly maxHeaderBytes: number }): MalformedRequest | undefined {
  if (req.httpVersionMajor !== 1) return 'versionNotSupported';
  // nginx's limits are per line: the request line, and each header line, in one buffer.
  if ((req.url ?? '').length + 16 > limits.maxHeaderBytes) return 'uriTooLong';
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if ((req.rawHeaders[i] ?? '').length + (req.rawHeaders[i + 1] ?? '').length + 4 > limits.maxHeaderBytes) return 'headersTooLarge';
  }
  // RFC 9112: HTTP/1.1 without Host, more than one Host, or a transfer coding that does not end
  // in chunked, is a 400. nginx refuses a repeated Transfer-Encoding line too: lines that one
  // reader joins and another reads apart are how requests get smuggled.
  let hosts = 0;
  let codingLines = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]?.toLowerCase();
    if (name === 'transfer-encoding') codingLines += 1;
    if (name !== 'host') continue;
    hosts += 1;
    if (!validHost(req.rawHeaders[i + 1] ?? '')) return 'badRequest';
  }
  if (hosts > 1 || (hosts === 0 && req.httpVersionMinor === 1) || codingLines > 1) return 'badRequest';
  // nginx answers TRACE with 405 whatever the path.
  if (req.method === 'TRACE') return 'methodNotAllowed';
  const codings = req.headers['transfer-encoding'];
  // HTTP/1.0 has no transfer codings; nginx refuses one there.
  if (codings !== undefined && (req.httpVersionMinor === 0 || !/(^|,)\s*chunked\s*$/i.test(String(codings)))) return 'badRequest';
  if (Number(req.headers['content-length'] ?? 0) > limits.maxBodyBytes) return 'payloadTooLarge';
  const path = targetPath(req.url ?? '');
  if (path === undefined) return 'badRequest';
  let depth = 0;
  for (const segment of path.split('/').slice(1)) {
    let decoded = '';
    for (let i = 0; i < segment.length; i++) {
      const char = segment.charAt(i);
      if (char !== '%') {
        decoded += char;
        continue;
      }
      const pair = segment.slice(i + 1, i + 3);
      if (!hexPair.test(pair)) return 'badRequest';
      const code = Number.parseInt(pair, 16);
      if (code < 0x20 || code === 0x7f) return 'badRequest';
      decoded += String.fromCharCode(code);
      i += 2;
    }
    if (decoded === '..') depth -= 1;
    else if (decoded !== '.' && decoded !== '') depth += 1;
    if (depth < 0) return 'badRequest';
  }
  // nginx refuses CONNECT once its target has parsed. (Node hands CONNECT to no request handler:
  // the Node tiers answer it in service-kit's answerClientErrors.)
  if (req.method === 'CONNECT') return 'methodNotAllowed';
  return undefined;
}
