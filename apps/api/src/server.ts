import { createServer, type RequestListener, type Server } from 'node:http';
import { answerClientErrors } from '@three-tier/service-kit';
import { apiServer, budgets } from '@three-tier/shared';

/**
 * The api's HTTP server: limits from the shared contract, and a problem+json answer (not Node's bare
 * status line) when a request cannot even be parsed.
 */
export function createHttpServer(app: RequestListener): Server {
  const server = createServer(
    { maxHeaderSize: apiServer.maxHeaderBytes, requestTimeout: budgets.apiRequestTimeoutMs, headersTimeout: apiServer.headersTimeoutMs },
    app,
  );
  server.keepAliveTimeout = apiServer.keepAliveTimeoutMs;
  answerClientErrors(server);
  return server;
}
