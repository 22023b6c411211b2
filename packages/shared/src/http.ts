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
