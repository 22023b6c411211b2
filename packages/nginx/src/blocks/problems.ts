import { problem, problemContentType } from '@three-tier/shared';
import { directive, type Node } from '../ast.js';
import { vars } from '../variables.js';

/** A problem+json body nginx writes itself, carrying the request id like the api's. */
export function problemBody(status: number, detail: string): string {
  const body = JSON.stringify(problem(status, detail, { requestId: '__ID__' }));
  return body.replace('"__ID__"', `"${vars.requestId}"`);
}

/** A location's answer as problem+json, written by nginx without asking the api. */
export function problemAnswer(status: number, detail: string): Node[] {
  return [directive('default_type', problemContentType), directive('return', status, problemBody(status, detail))];
}
