import { createServer, type RequestListener, type Server } from 'node:http';
import { answerClientErrors } from '@three-tier/service-kit';
import { budgets, edge } from '@three-tier/shared';

/** The edge's HTTP server, with nginx's client limits: header size, timeouts, keep-alive. */
export function createEdgeServer(listener: RequestListener): Server {
  const server = createServer(
    {
      // All of a request's head as nginx's buffers bound it; each line is checked after parsing.
      maxHeaderSize: edge.maxHeaderBytes * edge.headerBuffers,
      headersTimeout: edge.clientTimeoutMs,
      requestTimeout: budgets.edgeRequestTimeoutMs,
    },
    listener,
  );
  server.keepAliveTimeout = edge.clientKeepaliveTimeoutMs;
  answerClientErrors(server);
  return server;
}
