import { createServer, type RequestListener, type Server } from 'node:http';
import { answerClientErrors } from '@three-tier/service-kit';
import { apiServer, routeList } from '@three-tier/shared';

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
  answerClientErrors(server);
  return server;
}
