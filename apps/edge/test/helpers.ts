/**
 * Real sockets for the edge's tests: api stand-ins that answer, reset or keep silent, one that never
 * accepts a connection, the edge on an ephemeral port, a client that can choose its source address,
 * one that writes raw bytes, and a logger that keeps lines.
 */
import { request, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { Child, rawHttpRequest, readyOrDead } from '@three-tier/processes';
import { apiServer, headerNames } from '@three-tier/shared';
import { pino, type Logger } from 'pino';
import { createEdge, type Edge, type EdgeOptions } from '../src/edge.js';
import { createEdgeServer } from '../src/server.js';

/** What an api stand-in saw of one request. */
export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * - `answer`: 200 with JSON naming itself, after reading the whole request.
 * - `reset`: reads the request, then resets the connection: it may have been counted.
 * - `silent`: reads the request and never answers.
 */
export type Behaviour = 'answer' | 'reset' | 'silent';

export interface Upstream {
  readonly url: string;
  readonly seen: Seen[];
  /** Connections it accepted, in all. */
  readonly connections: () => number;
  /** Connections still open. */
  readonly openConnections: () => number;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/**
 * An api stand-in on an ephemeral loopback port; `extraHeaders` go on its answers. Given a list of
 * behaviours, its n-th request gets the n-th (the last one for the rest).
 */
export async function startUpstream(
  name: string,
  behaviours: Behaviour | readonly Behaviour[],
  extraHeaders: Record<string, string> = {},
): Promise<Upstream> {
  const seen: Seen[] = [];
  const sequence = typeof behaviours === 'string' ? [behaviours] : behaviours;
  const sockets = new Set<Socket>();
  let connections = 0;
  // The api's own limit on a request's head: Node's default (16 KiB) is less than the edge passes on.
  const server = createServer({ maxHeaderSize: apiServer.maxHeaderBytes }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const behaviour = sequence[Math.min(seen.length, sequence.length - 1)];
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (behaviour === 'reset') req.socket.resetAndDestroy();
      if (behaviour !== 'answer') return;
      const body = JSON.stringify({ upstream: name });
      res.writeHead(200, { ...extraHeaders, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  // As the api keeps them: longer than the edge keeps its idle connections (Node's default is 5 s).
  server.keepAliveTimeout = apiServer.keepAliveTimeoutMs;
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const url = await listen(server);
  return { url, seen, connections: () => connections, openConnections: () => sockets.size, close: () => closeServer(server) };
}

/** What a never-accepting listener runs: a backlog of one, and an event loop that never turns again. */
const neverAccepts = `
const server = require('node:net').createServer();
server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
  process.stdout.write(server.address().port + '\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});`;

/**
 * An api instance that never completes a connection: a listener (in a child process, whose event
 * loop stops once it listens) that never accepts, its queue filled by two connections of ours
 * (Linux queues backlog + 1), so the kernel drops every further SYN and a connect to it hangs, as
 * to an instance whose host is gone. On loopback, where nothing else can make a connect hang.
 */
export async function startUnacceptingUpstream(): Promise<{ readonly url: string; close(): Promise<void> }> {
  let portSeen: (line: string) => void = () => undefined;
  const port = new Promise<string>((resolve) => (portSeen = resolve));
  const child = new Child({
    name: 'never-accepting listener',
    command: process.execPath,
    args: ['-e', neverAccepts],
    onLine: (line, stream) => {
      if (stream === 'stdout') portSeen(line);
    },
  });
  const url = `http://127.0.0.1:${await readyOrDead(child, port)}`;
  const fillers = await Promise.all(
    [1, 2].map(
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(Number(new URL(url).port), '127.0.0.1', () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
  return {
    url,
    close: async () => {
      for (const socket of fillers) socket.destroy();
      await child.stop('SIGKILL', 5_000);
    },
  };
}

/** A logger whose JSON lines the test reads. */
export function memoryLogger(level = 'info'): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const text: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level }, sink);
  return {
    logger,
    lines: () =>
      text
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

export interface RunningEdge {
  readonly url: string;
  readonly port: number;
  readonly edge: Edge;
  readonly server: Server;
  close(): Promise<void>;
}

/** The edge as index.ts runs it, on an ephemeral loopback port. */
export async function startEdge(options: Partial<EdgeOptions> & Pick<EdgeOptions, 'upstreams'>): Promise<RunningEdge> {
  const edge = createEdge({ logger: pino({ level: 'silent' }), isDraining: () => false, ...options });
  const server = createEdgeServer(edge.listener);
  const url = await listen(server);
  return {
    url,
    port: Number(new URL(url).port),
    edge,
    server,
    close: async () => {
      await closeServer(server);
      edge.close();
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface SendOptions {
  readonly method?: string;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string;
  /** The client's source address (any of 127.0.0.0/8). */
  readonly localAddress?: string;
}

/** One request on a fresh connection; `path` is sent as written (absolute form included). */
export async function send(port: number, path: string, options: SendOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false, localAddress: options.localAddress },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error(`no answer to ${path} in 20 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The Idempotency-Key each request that reached `upstream` carried. */
export function keysSeen(upstream: Upstream): (string | string[] | undefined)[] {
  return upstream.seen.map((seen) => seen.headers[headerNames.idempotencyKey.toLowerCase()]);
}

/**
 * Writes `text` as it is on a fresh connection and returns the first answer's status, headers and
 * body: what no HTTP client would send (no Host, CONNECT to a path, repeated Transfer-Encoding).
 * Fails when the edge closes without answering.
 */
export async function sendRaw(port: number, text: string): Promise<Answer> {
  const { status, headers, body, empty } = await rawHttpRequest(port, text);
  if (empty) throw new Error(`the edge closed without an answer to ${JSON.stringify(text)}`);
  return { status, headers, body };
}
