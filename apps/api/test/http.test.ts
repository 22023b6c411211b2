/**
 * The http layer on its own: the pieces createApp assembles (exchange, routeContext, abortSignal,
 * problemHandler, sendJson), put together in a small app with routes of the test's own, on a real
 * socket. What the full app's routes cannot make happen on demand (a handler that throws a raw
 * value, an answer cut short, a deadline of 100 ms) happens here.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '@three-tier/processes';
import { lockedDownCsp, problemContentType, securityHeaders, type Route } from '@three-tier/shared';
import express, { type RequestHandler } from 'express';
import { pino } from 'pino';
import { exchange } from '../src/http/exchange.js';
import { HttpError, notFound, problemHandler } from '../src/http/problem.js';
import { abortSignal, ClientGoneError, routeContext } from '../src/http/request-context.js';
import { sendJson } from '../src/http/send-json.js';
import { createMetrics } from '../src/metrics.js';
import { createHttpServer } from '../src/server.js';
import { metricValue } from './helpers.js';

type LogLine = Record<string, unknown> & { level: number; msg: string };

/** A route of the table's shape with a deadline short enough to wait for. */
function shortRoute(path: `/${string}`, timeoutMs: number): Route {
  return { path, methods: ['GET', 'HEAD'], exposure: 'public', rateLimit: 'none', timeoutMs, quiet: false, summary: path };
}

/** What a handler saw of its abort signal, for the tests to read. */
const signals = new Map<string, AbortSignal>();
/** The server side of a connection, by test label. */
const sockets = new Map<string, Socket>();
/** Handlers that have started, and the end of their exchange, by test label. */
const arrived = new Map<string, Promise<unknown>>();

const lines: LogLine[] = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  }),
);
const metrics = createMetrics();

function buildLayer(options: { securityHeaders?: boolean; withLogs?: boolean; withMetrics?: boolean; deadlines?: boolean } = {}): express.Express {
  const app = express();
  app.use(
    exchange({
      logger: options.withLogs === false ? undefined : logger,
      metrics: options.withMetrics === false ? undefined : metrics,
      securityHeaders: options.securityHeaders ?? true,
      isDraining: () => false,
    }),
  );
  const deadlines = options.deadlines ?? true;
  const route = (path: `/${string}`, timeoutMs: number, handler: RequestHandler): void => {
    app.get(path, routeContext(shortRoute(path, timeoutMs), deadlines), handler);
  };

  route('/conflict', 2_000, () => {
    throw new HttpError(409, 'That name is taken.', { 'X-Taken-By': 'someone' }, { field: 'name' });
  });
  // What Express or a body parser throws: an object with a status meant for the client.
  route('/client-status/:status', 2_000, (req) => {
    throw Object.assign(new Error('parser said no'), { status: Number(req.params.status) });
  });
  route('/string-status', 2_000, () => {
    throw Object.assign(new Error('odd'), { status: '404' });
  });
  route('/throw-string', 2_000, () => {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- what a careless dependency may do
    throw 'a bare string';
  });
  route('/throw-error', 2_000, () => {
    throw new Error('secret internals: password=hunter2');
  });
  route('/half-sent', 2_000, (req, res) => {
    sockets.set('half-sent', req.socket);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '100' });
    res.write('the first bytes of a hundred');
    throw new Error('failed mid-answer');
  });
  route('/fully-sent', 2_000, async (req, res) => {
    sockets.set('fully-sent', req.socket);
    res.end('complete');
    await once(res, 'finish');
    throw new Error('failed after the answer');
  });
  route('/ended-then-failed', 2_000, (req, res) => {
    sockets.set('ended-then-failed', req.socket);
    // Ended, and handed to the socket whole, in the same turn as the error that follows.
    res.end('complete');
    throw new Error('failed as the answer went out');
  });
  route('/never', 100, (req, res) => {
    signals.set('never', abortSignal(res));
  });
  route('/slow', 100, async (_req, res) => {
    await delay(300);
    if (!res.headersSent) sendJson(res, { late: true });
  });
  route('/streaming', 100, async (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('started; ');
    await delay(300);
    res.end('finished after the deadline');
  });
  route('/ask-twice', 2_000, (_req, res) => {
    sendJson(res, { same: abortSignal(res) === abortSignal(res) });
  });
  route('/ask-after-deadline', 100, async (_req, res) => {
    await once(res, 'finish');
    signals.set('after-deadline', abortSignal(res));
  });
  route('/ask-after-client-left', 2_000, async (_req, res) => {
    const closed = once(res, 'close');
    arrived.set('after-client-left', closed);
    await closed;
    signals.set('after-client-left', abortSignal(res));
  });
  route('/ask-then-leave', 2_000, (_req, res) => {
    signals.set('then-leave', abortSignal(res));
  });
  route('/ask-then-answer', 2_000, (_req, res) => {
    arrived.set('then-answer', once(res, 'close'));
    signals.set('then-answer', abortSignal(res));
    sendJson(res, { ok: true });
  });
  route('/status/:code', 2_000, (req, res) => {
    sendJson(res, { status: Number(req.params.code) }, Number(req.params.code));
  });
  route('/wait/:ms', 60_000, async (req, res) => {
    await delay(Number(req.params.ms));
    sendJson(res, { waited: Number(req.params.ms) });
  });
  route('/unicode', 2_000, (_req, res) => {
    sendJson(res, { city: 'Zürich – Genève' });
  });
  app.use(notFound);
  app.use(problemHandler(logger));
  return app;
}

interface Served {
  readonly server: Server;
  readonly url: string;
}

async function serve(app: express.Express): Promise<Served> {
  const server = createHttpServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function close({ server }: Served): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

let layer: Served;
before(async () => {
  layer = await serve(buildLayer());
});
after(async () => {
  await close(layer);
});
beforeEach(() => {
  lines.length = 0;
});

async function get(path: string, served: Served = layer): Promise<{ status: number; headers: Headers; body: Record<string, unknown>; text: string }> {
  const res = await fetch(`${served.url}${path}`, { headers: { 'X-Request-ID': `test${path.replaceAll('/', '-')}` } });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON: the test looks at the text.
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** Starts a GET and hangs up once the server has started on it. */
async function leaveDuring(path: string, started: () => boolean): Promise<void> {
  const req = httpRequest(`${layer.url}${path}`);
  req.on('error', () => undefined);
  req.end();
  await waitFor(() => (started() ? true : undefined), { what: `${path} to start` });
  req.destroy();
}

const logged = (msg: string) => waitFor(() => lines.find((line) => line.msg === msg), { what: `a log line "${msg}"` });

describe('problemHandler', () => {
  test('an HttpError keeps its status, detail, headers and extensions, as problem+json naming the path and request', async () => {
    const res = await get('/conflict');
    assert.equal(res.status, 409);
    assert.equal(res.headers.get('content-type'), `${problemContentType}; charset=utf-8`);
    assert.equal(res.headers.get('x-taken-by'), 'someone');
    assert.deepEqual(res.body, {
      type: 'about:blank',
      title: 'Conflict',
      status: 409,
      detail: 'That name is taken.',
      field: 'name',
      instance: '/conflict',
      requestId: 'test-conflict',
    });
  });

  test('an HttpError names itself in the logs, and has no headers or extensions unless given', () => {
    const error = new HttpError(400, 'bad');
    assert.equal(String(error), 'HttpError: bad');
    assert.deepEqual([error.status, error.detail, error.message, error.headers, error.extensions], [400, 'bad', 'bad', {}, {}]);
  });

  test('an error carrying a 4xx status keeps it, with a detail that says nothing of the internals', async () => {
    for (const status of [400, 404, 499]) {
      const res = await get(`/client-status/${status}`);
      assert.equal(res.status, status);
      assert.equal(res.body.detail, 'The request could not be understood.');
      assert.doesNotMatch(res.text, /parser said no/);
    }
    assert.deepEqual(lines.filter((line) => line.level >= 50), [], 'a client error is not ours to log as an error');
  });

  test('anything else is a 500 whose detail points to the logs, where the error is, with the request id', async () => {
    for (const path of ['/client-status/399', '/client-status/500', '/string-status', '/throw-string', '/throw-error']) {
      lines.length = 0;
      const res = await get(path);
      assert.equal(res.status, 500, path);
      assert.equal(res.headers.get('content-type'), `${problemContentType}; charset=utf-8`, path);
      assert.equal(res.body.detail, 'Something went wrong on our side; the request id identifies it in the logs.', path);
      assert.doesNotMatch(res.text, /secret|hunter2|bare string|\n\s+at /, path);
      const line = await logged('unhandled error');
      assert.equal(line.level, 50);
      assert.equal(line.reqId, `test${path.replaceAll('/', '-')}`);
    }
    assert.match(String((lines.find((line) => line.msg === 'unhandled error')?.err as { message?: string }).message), /secret internals/);
  });

  test('an answer cut short by an error is cut off, so the client sees it failed', async () => {
    await assert.rejects(get('/half-sent'), (error: Error) => {
      assert.match((error.cause as Error | undefined)?.message ?? error.message, /terminated|closed|socket|aborted/i);
      return true;
    });
    const line = await logged('error after the response started');
    assert.equal(line.level, 40);
    assert.equal((line.err as { message: string }).message, 'failed mid-answer');
    assert.equal(line.reqId, 'test-half-sent');
  });

  test('an error after a complete answer is logged and leaves the connection alone', async () => {
    const res = await get('/fully-sent');
    assert.equal(res.text, 'complete');
    const line = await logged('error after the response started');
    assert.equal((line.err as { message: string }).message, 'failed after the answer');
    assert.equal(sockets.get('fully-sent')?.destroyed, false, 'kept for the next request');
  });

  test('an error in the same turn as a complete answer leaves the connection alone too', async () => {
    const res = await get('/ended-then-failed');
    assert.equal(res.text, 'complete');
    const line = await logged('error after the response started');
    assert.equal((line.err as { message: string }).message, 'failed as the answer went out');
    assert.equal(sockets.get('ended-then-failed')?.destroyed, false, 'kept for the next request');
  });

  test('an unknown path is a 404 naming the method and path', async () => {
    const res = await get('/nowhere');
    assert.equal(res.status, 404);
    assert.equal(res.body.detail, 'No route for GET /nowhere.');
  });
});

describe('routeContext: the deadline', () => {
  test('a handler that has not answered gets a 503 sent for it, with Retry-After, and its signal fires', async () => {
    const res = await get('/never');
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal(res.body.detail, 'No answer within 100 ms.');
    const signal = signals.get('never');
    assert.ok(signal?.aborted);
    assert.ok(signal.reason instanceof HttpError);
    assert.equal(signal.reason.status, 503);
  });

  test('whatever the handler answers after it is dropped', async () => {
    const res = await get('/slow');
    assert.equal(res.status, 503);
    assert.equal(res.body.detail, 'No answer within 100 ms.');
  });

  test('an answer already under way when it passes is left to finish', async () => {
    const res = await get('/streaming');
    assert.equal(res.status, 200);
    assert.equal(res.text, 'started; finished after the deadline');
  });

  test('switched off (the benchmark’s switch), a slow handler answers in its own time', async () => {
    const relaxed = await serve(buildLayer({ deadlines: false }));
    try {
      const res = await get('/slow', relaxed);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { late: true });
    } finally {
      await close(relaxed);
    }
  });

  test('a finished exchange leaves no timer behind', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    // Each of these arms a 60 s deadline; only the exchange's end clears it.
    for (let i = 0; i < 20; i += 1) assert.equal((await get('/wait/1')).status, 200);
    assert.ok(timers() - before < 10, `${timers() - before} timers more than before 20 requests`);
  });

  test('labels the request with its route template, for the metrics', async () => {
    await get('/status/201');
    assert.equal(metricValue(await metrics.registry.metrics(), 'http_request_duration_seconds_count{method="GET",route="/status/:code",status_code="201"}'), 1);
  });
});

describe('abortSignal', () => {
  test('is made once per request: asked twice, the same signal', async () => {
    assert.deepEqual((await get('/ask-twice')).body, { same: true });
  });

  test('asked after the deadline answered, it is born aborted with the deadline’s 503', async () => {
    assert.equal((await get('/ask-after-deadline')).status, 503);
    const signal = await waitFor(() => signals.get('after-deadline'), { what: 'the late signal' });
    assert.ok(signal.aborted);
    assert.ok(signal.reason instanceof HttpError);
    assert.equal(signal.reason.detail, 'No answer within 100 ms.');
  });

  test('asked after the client left, it is born aborted: the client is gone', async () => {
    await leaveDuring('/ask-after-client-left', () => arrived.has('after-client-left'));
    const signal = await waitFor(() => signals.get('after-client-left'), { what: 'the signal asked for late' });
    assert.ok(signal.aborted);
    assert.ok(signal.reason instanceof ClientGoneError);
    assert.equal(signal.reason.message, 'the client closed the connection');
    assert.equal(signal.reason.name, 'ClientGoneError');
  });

  test('asked in time, it fires when the client leaves, and not when the answer is delivered', async () => {
    await leaveDuring('/ask-then-leave', () => signals.has('then-leave'));
    const left = signals.get('then-leave');
    await waitFor(() => (left?.aborted ? true : undefined), { what: 'the signal to fire' });
    assert.ok(left?.reason instanceof ClientGoneError);

    assert.equal((await get('/ask-then-answer')).status, 200);
    const answered = signals.get('then-answer');
    assert.ok(answered);
    // The exchange's end, where a client that left would have aborted it.
    await arrived.get('then-answer');
    assert.equal(answered.aborted, false);
  });
});

describe('exchange', () => {
  test('logs each request at the level of its status: info below 400, warn from 400, error from 500', async () => {
    for (const code of [399, 400, 499, 500]) await get(`/status/${code}`);
    await waitFor(() => (lines.length >= 4 ? true : undefined), { what: 'four log lines' });
    assert.deepEqual(
      lines.map((line) => [line.msg, line.level]),
      [
        ['GET /status/399 399', 30],
        ['GET /status/400 400', 40],
        ['GET /status/499 499', 40],
        ['GET /status/500 500', 50],
      ],
    );
    const [first] = lines;
    assert.deepEqual(first?.req, { id: 'test-status-399', method: 'GET', url: '/status/399', remoteAddress: '127.0.0.1' });
    assert.deepEqual(first?.res, { statusCode: 399 });
  });

  test('times each request in milliseconds in its log line, and in seconds in the histogram', async () => {
    await get('/wait/150');
    const line = await logged('GET /wait/150 200');
    assert.ok(typeof line.responseTime === 'number' && line.responseTime >= 150 && line.responseTime < 10_000, `responseTime ${String(line.responseTime)}`);
    const sum = metricValue(await metrics.registry.metrics(), 'http_request_duration_seconds_sum{method="GET",route="/wait/:ms",status_code="200"}') ?? 0;
    assert.ok(sum >= 0.15 && sum < 10, `histogram sum ${sum} s`);
  });

  test('with logs and metrics switched off (the benchmark’s switches), answers as before and records nothing', async () => {
    const quiet = await serve(buildLayer({ withLogs: false, withMetrics: false }));
    const unmatched = 'http_request_duration_seconds_count{method="GET",route="unmatched",status_code="404"}';
    try {
      const before = metricValue(await metrics.registry.metrics(), unmatched);
      assert.equal((await get('/status/203', quiet)).status, 203);
      assert.equal((await get('/nowhere', quiet)).status, 404);
      assert.deepEqual(lines.filter((line) => 'req' in line), []);
      const text = await metrics.registry.metrics();
      assert.equal(metricValue(text, unmatched), before);
      assert.equal(metricValue(text, 'http_request_duration_seconds_count{method="GET",route="/status/:code",status_code="203"}'), undefined);
    } finally {
      await close(quiet);
    }
  });

  test('every answer carries the security headers and the locked-down CSP; without them (the benchmark’s switch), only no-store', async () => {
    const res = await get('/status/200');
    for (const [name, value] of Object.entries(securityHeaders)) assert.equal(res.headers.get(name), value);
    assert.equal(res.headers.get('content-security-policy'), lockedDownCsp);
    assert.equal(res.headers.get('cache-control'), 'no-store');

    const bare = await serve(buildLayer({ securityHeaders: false }));
    try {
      const plain = await get('/status/200', bare);
      for (const name of [...Object.keys(securityHeaders), 'Content-Security-Policy']) assert.equal(plain.headers.get(name), null, name);
      assert.equal(plain.headers.get('cache-control'), 'no-store');
    } finally {
      await close(bare);
    }
  });
});

describe('sendJson', () => {
  test('sends JSON with its byte length, 200 unless told otherwise', async () => {
    const res = await get('/unicode');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(JSON.stringify({ city: 'Zürich – Genève' }))));
    assert.deepEqual(res.body, { city: 'Zürich – Genève' });
    assert.equal((await get('/status/202')).status, 202);
  });
});
