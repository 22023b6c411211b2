import { connect, createServer } from 'node:net';

/** A TCP port free on the loopback interface right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/**
 * Fails when something already answers on a loopback port. Checked before a start, so a health
 * check can never be answered by a stranger (say, the stack of an earlier run).
 */
export async function assertPortFree(port: number, owner: string): Promise<void> {
  const taken = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
  if (taken) throw new Error(`${owner} cannot start: port ${port} is already in use on 127.0.0.1`);
}

/** The port of an http:// URL, defaults included. */
export function portOf(url: string): number {
  const parsed = new URL(url);
  return parsed.port ? Number(parsed.port) : 80;
}
