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
export type MalformedRequest = 'badRequest' | 'versionNotSupported';

const hexPair = /^[0-9A-Fa-f]{2}$/;

/**
 * The path of a request target in origin form (/path?query) or absolute form (http://host/path),
 * or undefined for anything else (`*`, garbage). nginx routes both forms by their path.
 */
export function targetPath(url: string): string | undefined {
  if (url.startsWith('/')) return url.split('?', 1)[0];
  const absolute = /^https?:\/\/[^/?#]+(\/[^?#]*)?/i.exec(url);
  if (!absolute) return undefined;
  return absolute[1] ?? '/';
}

/**
 * Why nginx would refuse this request before routing it, or undefined. The Node tiers ask the same
 * question so that every tier refuses the same requests the same way: an HTTP version other than
 * 1.x (505); a target that is neither origin nor absolute form; a percent sign not followed by two
 * hex digits; an escaped NUL or control byte; dot segments, plain or escaped, that climb above the
 * root (400).
 */
export function malformedRequest(req: { readonly httpVersionMajor: number; readonly url?: string | undefined }): MalformedRequest | undefined {
  if (req.httpVersionMajor !== 1) return 'versionNotSupported';
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
  return undefined;
}
