import { createServer, type Server } from 'node:http';
import { answerClientErrors } from '@three-tier/service-kit';
import { budgets, edge } from '@three-tier/shared';
import { EdgeRequest } from './edge-request.js';
import type { Edge } from './edge.js';

/**
 * The edge's HTTP server, with nginx's client limits: header size, timeouts, keep-alive. Its
 * requests are EdgeRequests, which carry the edge's state for each.
 */
export function createEdgeServer(listener: Edge['listener']): Server<typeof EdgeRequest> {
  const server = createServer(
    {
      IncomingMessage: EdgeRequest,
      // All of a request's head as nginx's buffers bound it; each line is checked after parsing.
      maxHeaderSize: edge.maxHeaderBytes * edge.headerBuffers,
      headersTimeout: edge.clientTimeoutMs,
      requestTimeout: budgets.edgeRequestTimeoutMs,
      // Node's own Host check answers a bare 400; malformedRequest refuses it as problem+json instead.
      requireHostHeader: false,
    },
    listener,
  );
  server.keepAliveTimeout = edge.clientKeepaliveTimeoutMs;
  answerClientErrors(server);
  return server;
}
