import { appendFile, readFile } from 'node:fs/promises';

/** The file in the run folder that lists the edge's retries, one line each: `<ISO time> <upstreams>`. */
export const retryLogName = 'retries.log';

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

/**
 * The edge's retries, kept in the run folder: the runner prints nginx's access log on its own
 * output only, and `npm run chaos` must count retries from another process. Only retried requests
 * are written, so the file stays small however long the stack runs.
 */
export class RetryLog {
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  /** Notes the line if it shows a retry; writes are queued, in order, and a failed one is dropped. */
  note(line: string): void {
    const upstreams = retryIn(line);
    if (upstreams === undefined) return;
    const entry = `${new Date().toISOString()} ${upstreams}\n`;
    this.writing = this.writing.then(() => appendFile(this.path, entry)).catch(() => undefined);
  }

  /** How many retries the file at `path` lists at or after `since` (0 when there is no file yet). */
  static async countSince(path: string, since: Date): Promise<number> {
    const text = await readFile(path, 'utf8').catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    });
    return text.split('\n').filter((entry) => {
      const time = Date.parse(entry.slice(0, entry.indexOf(' ')));
      return Number.isFinite(time) && time >= since.getTime();
    }).length;
  }
}
