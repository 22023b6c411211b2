import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { edge, edgeProblems, headerNames, malformedRequest, problem, problemContentType, securityHeaders, tokenRegExp } from '@three-tier/shared';

/**
 * A whole HTTP/1.1 response with a problem body, for the moment Node's parser rejects a request
 * (headers too large, garbage) and there is no response object to use, only the socket. It carries
 * a request id of its own, like every other answer, so a client can quote it.
 */
export function rawProblemResponse(status: number, detail: string, requestId: string = randomUUID()): string {
  const body = JSON.stringify(problem(status, detail, { requestId }));
  const headers = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    `Content-Type: ${problemContentType}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    `${headerNames.requestId}: ${requestId}`,
    ...Object.entries(securityHeaders).map(([name, value]) => `${name}: ${value}`),
    'Connection: close',
  ];
  return `${headers.join('\r\n')}\r\n\r\n${body}`;
}

/** The status for an error Node's HTTP parser reports in 'clientError'. */
export function clientErrorStatus(code: string | undefined): { status: number; detail: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, detail: 'The request line and headers are too large.' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, detail: 'The request took too long to arrive.' };
    default:
      return { status: 400, detail: 'The request is not valid HTTP.' };
  }
}

/** The client's request id when it is a token, as the tiers take it; undefined otherwise. */
function givenRequestId(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && tokenRegExp.test(value) ? value : undefined;
}

/** A parse error as Node reports it in 'clientError': the bytes it failed in, and where. */
export interface ParseError extends NodeJS.ErrnoException {
  readonly rawPacket?: Buffer;
  readonly bytesParsed?: number;
}

const requestIdLine = new RegExp(`^${headerNames.requestId}[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$`, 'im');

/**
 * The request id given in the head Node failed to parse, if it can be read there and is a token.
 * Behind nginx, the api's parser can refuse what nginx took (a method such as `--G-`): nginx puts
 * its own X-Request-ID on the answer, so the problem must name the id nginx sent, not a new one.
 * The head is the one the failure is in: from the blank line before it to the next.
 */
export function requestIdOfFailedHead(error: ParseError): string | undefined {
  if (error.rawPacket === undefined) return undefined;
  const text = error.rawPacket.toString('latin1');
  const failedAt = Math.min(error.bytesParsed ?? 0, text.length);
  const previousEnd = failedAt >= 4 ? text.lastIndexOf('\r\n\r\n', failedAt - 4) : -1;
  const start = previousEnd < 0 ? 0 : previousEnd + 4;
  const end = text.indexOf('\r\n\r\n', start);
  return givenRequestId(requestIdLine.exec(text.slice(start, end < 0 ? undefined : end))?.[1]);
}

/**
 * Answers CONNECT as nginx does. Node hands it to 'connect' listeners, before any request
 * handler, and closes the connection unanswered when there is none. Its target is checked as any
 * other's (an authority is no path: 400), then the method is refused (405).
 */
function answerConnect(server: Server, req: IncomingMessage, socket: Socket): void {
  const { status, detail } = edgeProblems[malformedRequest(req, edge) ?? 'methodNotAllowed'];
  // The socket is ours now, not the server's: what the client sends next is read and dropped,
  // and a client that never hangs up is cut once it has been idle as long as a kept-alive one.
  socket.resume();
  socket.setTimeout(server.keepAliveTimeout, () => socket.destroy());
  socket.end(rawProblemResponse(status, detail, givenRequestId(req.headers[headerNames.requestId.toLowerCase()])));
}

/** The response Node is writing on a socket, if any: the field Node's own clientError default reads. */
function responseInFlight(socket: Socket): ServerResponse | undefined {
  return (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
}

/**
 * Runs `then` once the responses to the requests before the one that failed are out. Node goes on
 * answering a request it parsed while the bytes after it fail (a pipelined request, data after
 * HTTP/1.0 or Connection: close); a problem written at once would go out before that answer, or
 * into the middle of it, and the client would lose an answer to a request that was served (a
 * visit counted, say). A response whose request is not complete answers the request that failed
 * (its body did not parse): unless it has started, the problem goes out at once, in its place.
 */
function afterEarlierResponses(socket: Socket, then: () => void): void {
  const response = responseInFlight(socket);
  if (response === undefined || (!response.req.complete && !response.headersSent)) {
    then();
    return;
  }
  // Node hands the socket to the next queued response before 'close' is emitted.
  response.once('close', () => afterEarlierResponses(socket, then));
}

/** Sockets whose parse error is being answered: Node reports one again for every chunk that follows. */
const answering = new WeakSet<Socket>();

/**
 * Answers requests Node's parser rejects (headers too large, garbage) with problem+json instead of
 * Node's bare status line, after the answers to the requests before them, and CONNECT, which it
 * hands no request handler, as nginx answers it; resets are just closed. Bytes after a request that
 * said it was the last (HTTP/1.0, Connection: close) are dropped unanswered, as nginx drops them.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: ParseError, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    if (answering.has(socket)) return;
    answering.add(socket);
    const { status, detail } = clientErrorStatus(error.code);
    const answer = rawProblemResponse(status, detail, requestIdOfFailedHead(error));
    afterEarlierResponses(socket, () => {
      // After its last answer, Node is closing the socket already.
      if (!socket.writable) return;
      if (error.code === 'HPE_CLOSED_CONNECTION') socket.end();
      else socket.end(answer);
    });
  });
  server.on('connect', (req: IncomingMessage, socket: Socket) => answerConnect(server, req, socket));
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
