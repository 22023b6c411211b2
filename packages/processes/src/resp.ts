import { connect } from 'node:net';

/** An error reply (`-ERR ...`, `-NOREPLICAS ...`): an answer, not a failure to get one. */
export class RespError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RespError';
  }
}

/** A RESP2 reply: simple and bulk strings, integers, nil, arrays, and error replies as values. */
export type RespValue = string | number | null | RespError | readonly RespValue[];

/** RESP encoding of one command. */
export function encodeCommand(args: readonly string[]): string {
  return `*${String(args.length)}\r\n${args.map((arg) => `$${String(Buffer.byteLength(arg))}\r\n${arg}\r\n`).join('')}`;
}

/** The reply at `offset` and where the next begins, or undefined while it is incomplete. */
function parseReply(buffer: Buffer, offset: number): [RespValue, number] | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[offset] ?? 0);
  const line = buffer.toString('latin1', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new RespError(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buffer.length < next + length + 2) return undefined;
      return [buffer.toString('utf8', next, next + length), next + length + 2];
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: RespValue[] = [];
      let at = next;
      for (let index = 0; index < count; index += 1) {
        const item = parseReply(buffer, at);
        if (!item) return undefined;
        items.push(item[0]);
        at = item[1];
      }
      return [items, at];
    }
    default:
      throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
  }
}

export interface RespRequestOptions {
  readonly host?: string;
  /** Sent with AUTH first; a refused AUTH rejects. */
  readonly password?: string | undefined;
  readonly timeoutMs?: number;
}

/**
 * Sends one command on a connection of its own and resolves with the whole reply, parsed (an
 * error reply resolves as a RespError). Dependency-free, like `redisCall`, which reads only the
 * first line of a reply: Sentinel's answers are arrays.
 */
export function respRequest(port: number, args: readonly string[], options: RespRequestOptions = {}): Promise<RespValue> {
  const { host = '127.0.0.1', password, timeoutMs = 1_000 } = options;
  const expected = password ? 2 : 1;
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from ${host}:${String(port)} in ${String(timeoutMs)} ms`)));
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const replies: RespValue[] = [];
      let at = 0;
      try {
        while (replies.length < expected) {
          const reply = parseReply(received, at);
          if (!reply) return;
          replies.push(reply[0]);
          at = reply[1];
        }
      } catch (error) {
        socket.destroy(error as Error);
        return;
      }
      socket.end();
      const [auth, answer] = password ? replies : [undefined, replies[0]];
      if (auth instanceof RespError) reject(new Error(`AUTH refused by ${host}:${String(port)}: ${auth.message}`));
      else resolve(answer ?? null);
    });
    socket.write((password ? encodeCommand(['AUTH', password]) : '') + encodeCommand(args));
  });
}

/** Field-value pairs of a flat array reply (SENTINEL MASTER, SENTINEL REPLICAS' entries) as a map. */
export function respFields(reply: RespValue): Map<string, string> {
  const fields = new Map<string, string>();
  if (!Array.isArray(reply)) return fields;
  const items = reply as readonly RespValue[];
  for (let index = 0; index + 1 < items.length; index += 2) {
    const name = items[index];
    const value = items[index + 1];
    if (typeof name === 'string' && (typeof value === 'string' || typeof value === 'number')) fields.set(name, String(value));
  }
  return fields;
}
