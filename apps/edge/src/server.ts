import { createServer, type RequestListener, type Server } from 'node:http';
import { answerClientErrors } from '@three-tier/service-kit';
import { budgets, edge } from '@three-tier/shared';

/** The edge's HTTP server, with nginx's client limits: header size, timeouts, keep-alive. */
export function createEdgeServer(listener: RequestListener): Server {
  const server = createServer(
    {
      maxHeaderSize: edge.maxHeaderBytes,
      headersTimeout: edge.clientTimeoutMs,
      requestTimeout: budgets.edgeRequestTimeoutMs,
    },
    listener,
  );
  server.keepAliveTimeout = edge.clientKeepaliveTimeoutMs;
  answerClientErrors(server);
  return server;
}
