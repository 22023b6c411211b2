import { connect } from 'node:net';

/** The first answer on a raw connection: its status, headers (names lowercased) and body. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Nothing came back before the connection closed. */
  readonly empty: boolean;
}

/**
 * Writes `text` as it is on a fresh connection to 127.0.0.1:`port` and reads the first answer:
 * what no HTTP client would send (no Host, CONNECT to a path, repeated Transfer-Encoding). Stops at
 * the end of that answer's body, whatever the connection does next; fails after 5 s of silence.
 */
export async function rawHttpRequest(port: number, text: string): Promise<RawAnswer> {
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text, 'latin1'));
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(received.slice(0, end))?.[1];
      if (end >= 0 && length !== undefined && received.length >= end + 4 + Number(length)) socket.destroy();
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
  });
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: raw.slice(end + 4), empty: raw === '' };
}
