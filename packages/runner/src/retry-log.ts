import type { RetryLog } from '@three-tier/processes';

/**
 * What a line of the edge says about a retry, or undefined. nginx's access log names every upstream
 * a request tried ("upstream":"127.0.0.1:3001, 127.0.0.1:3002"); the http-proxy edge warns
 * "upstream failed; retrying" with the upstream it leaves.
 */
export function retryIn(line: string): string | undefined {
  const tried = /"upstream":"([^"]*, [^"]*)"/.exec(line);
  if (tried) return tried[1];
  if (!line.includes('upstream failed; retrying')) return undefined;
  return /"upstream":"([^"]*)"/.exec(line)?.[1] ?? 'an upstream';
}

/** Notes the edge's line in the run folder's retry log if it shows a retry. */
export function noteRetry(log: RetryLog, line: string): void {
  const upstreams = retryIn(line);
  if (upstreams !== undefined) log.add(upstreams);
}
