import { createServer, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { apiServer, clientErrorStatus, rawProblemResponse, routeList } from '@three-tier/shared';

/** The longest any route may take, plus slack: no request may hold a connection longer. */
const requestTimeoutMs = Math.max(...routeList.map((route) => route.timeoutMs)) + 5_000;

/**
 * The api's HTTP server: limits from the shared contract, and a problem+json answer (not Node's bare
 * status line) when a request cannot even be parsed.
 */
export function createHttpServer(app: RequestListener): Server {
  const server = createServer(
    { maxHeaderSize: apiServer.maxHeaderBytes, requestTimeout: requestTimeoutMs, headersTimeout: apiServer.headersTimeoutMs },
    app,
  );
  server.keepAliveTimeout = apiServer.keepAliveTimeoutMs;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const { status, detail } = clientErrorStatus(error.code);
    socket.end(rawProblemResponse(status, detail));
  });
  return server;
}

/**
 * Stops accepting, lets in-flight requests finish, and closes keep-alive connections as they go
 * idle. After `timeoutMs`, whatever is still open is cut. Resolves when every connection is gone.
 */
export async function closeServer(server: Server, timeoutMs: number, onTimeout: () => void): Promise<void> {
  await new Promise<void>((resolve) => {
    const sweep = setInterval(() => {
      server.closeIdleConnections();
    }, 100);
    const deadline = setTimeout(() => {
      onTimeout();
      server.closeAllConnections();
    }, timeoutMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
}
