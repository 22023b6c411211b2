import type { Readable } from 'node:stream';

/**
 * Calls back once per line of a stream, a chunk at a time: a busy child writes many lines per
 * chunk, and splitting them here costs far less than readline's per-line events.
 */
export function splitLines(stream: Readable, onLine: (line: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  });
  stream.on('end', () => {
    if (partial !== '') onLine(partial);
    partial = '';
  });
}
