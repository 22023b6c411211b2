/**
 * A request body, read ahead once so that every try of the request can send it again.
 */
import type { IncomingMessage } from 'node:http';
import { Stream } from 'node:stream';

/** Whether the request says it has a body: without either header, HTTP/1.1 says it has none. */
export function hasBody(req: IncomingMessage): boolean {
  return req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
}

/** Reads a request body up to `limit` bytes; undefined when it is larger. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * What http-proxy sends upstream instead of the request itself, which can be read only once: the
 * body read ahead, given again to every try. http-proxy only ever calls `pipe` on it, so a legacy
 * Stream that hands its buffer over is all it needs; a Readable (Readable.from) cost more than
 * the rest of the hop's own work. It keeps no state, so one serves every try.
 */
export class BodySource extends Stream {
  constructor(private readonly body: Buffer) {
    super();
  }

  override pipe<Destination extends NodeJS.WritableStream>(destination: Destination): Destination {
    destination.end(this.body);
    return destination;
  }
}

/** The body of every request that has none: shared, since a BodySource keeps no state. */
export const noBody = new BodySource(Buffer.alloc(0));
