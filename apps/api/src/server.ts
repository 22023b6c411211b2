import { createServer, IncomingMessage, ServerResponse, type Server, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import { answerClientErrors } from '@three-tier/service-kit';
import { apiServer, budgets } from '@three-tier/shared';
import type { Express } from 'express';

const isClass = (fn: unknown): boolean => Function.prototype.toString.call(fn).startsWith('class');

/**
 * Request and response classes whose objects are born with the app's prototypes. Express gives
 * every request and response its own prototype (`Object.setPrototypeOf` in app.handle), which
 * V8 cannot optimise: the objects drop to slow, dictionary-mode property access, and Node's own
 * HTTP code then runs slowly on them for the rest of the exchange. Born with that prototype,
 * Express's call changes nothing. On a hello world this takes Express from about 150 µs of CPU a
 * request to about 50 (`npm run bench` measures both); Express behaves exactly the same.
 */
export function bornWithPrototypesOf(app: Express): Pick<ServerOptions, 'IncomingMessage' | 'ServerResponse'> {
  // Should Node's constructors ever become classes, they could not be called this way: keep
  // Node's own, slower but correct, rather than fail every request.
  if (isClass(IncomingMessage) || isClass(ServerResponse)) return {};
  // Node's constructors are plain functions, so they can initialise an object made by `new` on
  // a function whose prototype is Express's. (Reflect.construct would also do, but V8 builds
  // such objects on a slow path that costs what this saves.)
  function Request(this: IncomingMessage, socket: Socket): void {
    IncomingMessage.call(this, socket);
  }
  Request.prototype = app.request;
  function Response(this: ServerResponse, req: IncomingMessage, options?: object): void {
    (ServerResponse as unknown as (req: IncomingMessage, options?: object) => void).call(this, req, options);
  }
  Response.prototype = app.response;
  return {
    IncomingMessage: Request as unknown as typeof IncomingMessage,
    ServerResponse: Response as unknown as typeof ServerResponse,
  };
}

/**
 * The api's HTTP server: limits from the shared contract, Express's objects made fast, and a
 * problem+json answer (not Node's bare status line) when a request cannot even be parsed.
 */
export function createHttpServer(app: Express): Server {
  const server = createServer(
    {
      ...bornWithPrototypesOf(app),
      maxHeaderSize: apiServer.maxHeaderBytes,
      requestTimeout: budgets.apiRequestTimeoutMs,
      headersTimeout: apiServer.headersTimeoutMs,
      // Node's own Host check answers a bare 400; malformedRequest refuses it as problem+json instead.
      requireHostHeader: false,
    },
    app,
  );
  server.keepAliveTimeout = apiServer.keepAliveTimeoutMs;
  answerClientErrors(server);
  return server;
}
