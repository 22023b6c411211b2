import { createServer, type RequestListener, type Server } from 'node:http';
import { answerClientErrors } from '@three-tier/service-kit';
import { edge, routeList, upstreamReadTimeoutMs } from '@three-tier/shared';

/** The longest a request may take through the edge, retries included. */
export const longestRequestMs = Math.max(...routeList.map(upstreamReadTimeoutMs)) * edge.upstreamTries + 5_000;

/** The edge's HTTP server, with nginx's client limits: header size, timeouts, keep-alive. */
export function createEdgeServer(listener: RequestListener): Server {
  const server = createServer(
    {
      maxHeaderSize: edge.maxHeaderBytes,
      headersTimeout: edge.clientTimeoutMs,
      requestTimeout: longestRequestMs,
    },
    listener,
  );
  server.keepAliveTimeout = edge.clientKeepaliveTimeoutMs;
  answerClientErrors(server);
  return server;
}
