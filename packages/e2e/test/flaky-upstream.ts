import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * An api instance that dies at a chosen moment, for testing what the edges do about it. It stands
 * for a crashed replica, not for the api: the api behind it is the real one.
 *
 * - `reset`: accepts the connection, reads the request, resets. The api never saw it.
 * - `counted-then-reset`: passes the request to the real api, waits for its answer to begin, then
 *   resets instead of relaying it: the visit was counted, the client never heard.
 */
export class FlakyUpstream {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly seen: { requests: number },
  ) {}

  /** Requests that reached this upstream. */
  get hits(): number {
    return this.seen.requests;
  }

  static async start(mode: 'reset' | 'counted-then-reset', apiPort: number): Promise<FlakyUpstream> {
    const seen = { requests: 0 };
    const server = createServer((client: Socket) => {
      let head = Buffer.alloc(0);
      client.on('error', () => undefined);
      client.on('data', (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        if (!head.includes('\r\n\r\n')) return;
        client.removeAllListeners('data');
        seen.requests += 1;
        if (mode === 'reset') {
          client.resetAndDestroy();
          return;
        }
        const api = connect({ host: '127.0.0.1', port: apiPort }, () => api.write(head));
        api.on('error', () => client.resetAndDestroy());
        api.once('data', () => {
          api.destroy();
          client.resetAndDestroy();
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return new FlakyUpstream(server, typeof address === 'object' && address ? address.port : 0, seen);
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}
