/**
 * The edge's listener on a real socket: what it answers itself, what it refuses before any api
 * instance is tried, the headers it owns, and its access log.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { freePort, waitFor } from '@three-tier/processes';
import { once } from 'node:events';
import { connect } from 'node:net';
import { edge, edgeProblems, headerNames, internalRouteDetail, problemContentType, routes, securityHeaders, type RateLimitClass } from '@three-tier/shared';
import type { EdgeOptions } from '../src/edge.js';
import { memoryLogger, send, sendRaw, startEdge, startUpstream, type RunningEdge, type Upstream } from './helpers.js';

describe('the edge listener', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((item) => item.close()));
  });

  /** An answering api stand-in and the edge in front of it. */
  async function edgeWithApi(options: Partial<EdgeOptions> = {}, apiHeaders: Record<string, string> = {}): Promise<{ api: Upstream; port: number; running: RunningEdge }> {
    const api = await startUpstream('api', 'answer', apiHeaders);
    open.push(api);
    const running = await startEdge({ ...options, upstreams: [api.url] });
    open.push(running);
    return { api, port: running.port, running };
  }

  describe('refuses before any api instance is tried', () => {
    test('an invalid Idempotency-Key: 400, and the api never sees the request', async () => {
      const { api, port } = await edgeWithApi();
      const res = await send(port, routes.redis.path, { headers: { [headerNames.idempotencyKey]: 'not a key!' } });
      assert.equal(res.status, 400);
      assert.equal(JSON.parse(res.body).detail, edgeProblems.badIdempotencyKey.detail);
      assert.equal(api.seen.length, 0);
    });

    test('a malformed request, even to the health path: TRACE is a 405', async () => {
      const { api, port } = await edgeWithApi();
      const res = await send(port, edge.healthPath, { method: 'TRACE' });
      assert.equal(res.status, 405);
      assert.equal(res.headers['content-type'], problemContentType);
      assert.equal(api.seen.length, 0);
    });

    test('HTTP/1.1 without Host: a 400 problem carrying its request id, as nginx answers it', async () => {
      const { api, port } = await edgeWithApi();
      const res = await sendRaw(port, `GET ${routes.redis.path} HTTP/1.1\r\n\r\n`);
      assert.equal(res.status, 400);
      assert.equal(res.headers['content-type'], problemContentType);
      assert.equal(JSON.parse(res.body).requestId, res.headers[headerNames.requestId.toLowerCase()]);
      assert.equal(api.seen.length, 0);
    });

    test('two Transfer-Encoding lines, which read as one once joined: 400, as nginx refuses them', async () => {
      const { api, port } = await edgeWithApi();
      const res = await sendRaw(port, `GET ${routes.redis.path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`);
      assert.equal(res.status, 400);
      assert.equal(res.headers['content-type'], problemContentType);
      assert.equal(api.seen.length, 0);
    });

    test('CONNECT: 405 to a path, 400 to an authority, as nginx answers it, never a silent close', async () => {
      const { api, port } = await edgeWithApi();
      const path = await sendRaw(port, `CONNECT ${routes.redis.path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(path.status, 405);
      assert.equal(JSON.parse(path.body).requestId, path.headers[headerNames.requestId.toLowerCase()]);
      assert.equal((await sendRaw(port, 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n')).status, 400);
      assert.equal(api.seen.length, 0);
    });

    test('a body larger than edge.maxBodyBytes: 413; one within it reaches the api whole', async () => {
      const { api, port } = await edgeWithApi();
      const tooLarge = await send(port, routes.redis.path, { method: 'POST', body: 'x'.repeat(edge.maxBodyBytes + 1), headers: { 'transfer-encoding': 'chunked' } });
      assert.equal(tooLarge.status, 413);
      assert.equal(JSON.parse(tooLarge.body).detail, edgeProblems.payloadTooLarge.detail);
      assert.equal(api.seen.length, 0);
      const fits = await send(port, routes.redis.path, { method: 'POST', body: 'y'.repeat(edge.maxBodyBytes), headers: { 'transfer-encoding': 'chunked' } });
      assert.equal(fits.status, 200);
      assert.equal(api.seen[0]?.body.length, edge.maxBodyBytes);
    });

    test('unknown and internal paths: 404 naming nothing or the path, HEAD without the body', async () => {
      const { api, port } = await edgeWithApi();
      assert.equal(JSON.parse((await send(port, '/nope')).body).detail, edgeProblems.notFound.detail);
      const internal = await send(port, routes.metrics.path);
      assert.equal(internal.status, 404);
      assert.equal(JSON.parse(internal.body).detail, internalRouteDetail(routes.metrics.path));
      const head = await send(port, routes.metrics.path, { method: 'HEAD' });
      assert.equal(head.status, 404);
      assert.equal(head.body, '');
      assert.equal(api.seen.length, 0);
    });

    test('the rate limit is per client address: past the burst one address gets 429, another is served', async () => {
      const clock = { now: 0 };
      const { api, port } = await edgeWithApi({ now: () => clock.now });
      const { burst } = edge.rateLimits.expensive;
      // nginx's burst=N nodelay: N + 1 at once.
      for (let i = 0; i <= burst; i += 1) assert.equal((await send(port, routes.load.path)).status, 200, `request ${i + 1}`);
      const refused = await send(port, routes.load.path);
      assert.equal(refused.status, 429);
      assert.equal(refused.headers['retry-after'], '1');
      assert.equal(JSON.parse(refused.body).detail, edgeProblems.tooManyRequests.detail);
      assert.equal(api.seen.length, burst + 1, 'the refused one never reached the api');
      assert.equal((await send(port, routes.load.path, { localAddress: '127.0.0.2' })).status, 200, 'another client has its own bucket');
      assert.equal((await send(port, routes.redis.path)).status, 200, 'routes without a limit are not limited');
    });
  });

  describe('answers by itself', () => {
    test('its health path, with no api instance up, HEAD without the body', async () => {
      const running = await startEdge({ upstreams: [`http://127.0.0.1:${await freePort()}`] });
      open.push(running);
      const res = await send(running.port, edge.healthPath);
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.body), { status: 'ok' });
      assert.equal(res.headers['content-type'], 'application/json');
      const head = await send(running.port, edge.healthPath, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
    });
  });

  describe('routes', () => {
    test('a route table of its own replaces the shared one', async () => {
      const { api, port } = await edgeWithApi({ routes: [{ ...routes.redis, path: '/count' }] });
      assert.equal((await send(port, '/count')).status, 200);
      assert.equal((await send(port, routes.redis.path)).status, 404, 'a path only the shared table has');
      assert.deepEqual(
        api.seen.map(({ url }) => url),
        ['/count'],
      );
    });
  });

  describe('when a step fails', () => {
    test('a bug in a step (a rate-limit class with no limiter): a 500 problem, logged under err, and the next request is served', async () => {
      const { logger, lines } = memoryLogger();
      const unlimited = { ...routes.load, rateLimit: 'unlisted' as RateLimitClass };
      const { port } = await edgeWithApi({ logger, routes: [unlimited, routes.redis] });
      const res = await send(port, routes.load.path);
      assert.equal(res.status, 500);
      assert.equal(res.headers['content-type'], problemContentType);
      assert.equal(JSON.parse(res.body).detail, edgeProblems.internalError.detail);
      const failed = lines().find((line) => line.msg === 'edge failed');
      assert.equal((failed?.err as { type?: unknown } | undefined)?.type, 'TypeError');
      assert.equal((await send(port, routes.redis.path)).status, 200);
    });

    test('a client that leaves in the middle of its body: logged under err, and the api never hears of it', async () => {
      const { logger, lines } = memoryLogger();
      const { api, port, running } = await edgeWithApi({ logger });
      const headRead = once(running.server, 'request');
      const client = connect(port, '127.0.0.1');
      client.write(`POST ${routes.redis.path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789`);
      await headRead;
      client.destroy();
      const failed = await waitFor(() => lines().find((line) => line.msg === 'edge failed'), { what: 'the failure line' });
      assert.equal((failed.err as { code?: unknown } | undefined)?.code, 'ECONNRESET');
      assert.equal(api.seen.length, 0);
    });
  });

  describe('headers', () => {
    test("the api's request id and security headers are replaced by the edge's, hop-by-hop ones dropped", async () => {
      const { port } = await edgeWithApi({}, { 'X-Request-ID': 'from-the-api', 'X-Frame-Options': 'SAMEORIGIN', 'Keep-Alive': 'timeout=99' });
      const res = await send(port, routes.redis.path, { headers: { [headerNames.requestId]: 'client-1', connection: 'keep-alive' } });
      assert.equal(res.headers['x-request-id'], 'client-1', "the client's valid request id is kept");
      for (const [name, value] of Object.entries(securityHeaders)) assert.equal(res.headers[name.toLowerCase()], value, name);
      assert.notEqual(res.headers['keep-alive'], 'timeout=99');
      assert.equal(res.headers.connection, 'keep-alive');
    });

    test('a request id that is not a token is replaced', async () => {
      const { api, port } = await edgeWithApi();
      const res = await send(port, routes.redis.path, { headers: { [headerNames.requestId]: 'has spaces' } });
      const id = res.headers['x-request-id'];
      assert.ok(typeof id === 'string' && id !== 'has spaces');
      assert.equal(api.seen[0]?.headers['x-request-id'], id, 'the api gets the id the client gets');
    });

    test('the api hears who connected, whatever the client claims, and the target in origin form', async () => {
      const { api, port } = await edgeWithApi();
      await send(port, 'http://edge.test/redis?x=1', { headers: { 'x-forwarded-for': '203.0.113.9', host: 'edge.test' } });
      const seen = api.seen[0];
      assert.equal(seen?.url, '/redis?x=1');
      assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
      assert.equal(seen.headers['x-forwarded-host'], 'edge.test');
    });

    test("the answer's Connection is the edge's own, whatever the client listed in its", async () => {
      const { port } = await edgeWithApi();
      const res = await send(port, routes.redis.path, { headers: { connection: 'keep-alive, x-client-hop' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.connection, 'keep-alive');
    });

    test('HTTP/1.0 without Host: the api hears an empty X-Forwarded-Host, never a made-up one', async () => {
      const { api, port } = await edgeWithApi();
      const res = await sendRaw(port, `GET ${routes.redis.path} HTTP/1.0\r\n\r\n`);
      assert.equal(res.status, 200);
      assert.equal(api.seen[0]?.headers['x-forwarded-host'], '');
    });

    test("a head larger than one of nginx's header buffers but within all of them is served", async () => {
      const { api, port } = await edgeWithApi();
      const line = 'v'.repeat(edge.maxHeaderBytes - 1_024);
      const headers = Object.fromEntries(Array.from({ length: edge.headerBuffers - 1 }, (_, i) => [`x-long-${i}`, line]));
      const res = await send(port, routes.redis.path, { headers });
      assert.equal(res.status, 200);
      assert.equal(api.seen[0]?.headers['x-long-0'], line);
    });

    test('while draining, every answer closes its connection: proxied or its own', async () => {
      let draining = false;
      const { port } = await edgeWithApi({ isDraining: () => draining });
      const keepAlive = { headers: { connection: 'keep-alive' } };
      assert.equal((await send(port, routes.redis.path, keepAlive)).headers.connection, 'keep-alive');
      assert.equal((await send(port, '/nope', keepAlive)).headers.connection, 'keep-alive', 'its own answers too, before the drain');
      draining = true;
      assert.equal((await send(port, routes.redis.path, keepAlive)).headers.connection, 'close');
      assert.equal((await send(port, '/nope', keepAlive)).headers.connection, 'close');
      assert.equal((await send(port, edge.healthPath, keepAlive)).headers.connection, 'close');
    });
  });

  describe('the access log', () => {
    test('one line per exchange with the fields nginx logs; quiet routes and the health path left out', async () => {
      const { logger, lines } = memoryLogger();
      const { api, port } = await edgeWithApi({ logger });
      await send(port, edge.healthPath);
      await send(port, routes.instance.path);
      const proxied = await send(port, 'http://edge.test/redis?x=1', { headers: { host: 'edge.test' } });
      const refused = await send(port, '/nope', { method: 'HEAD' });

      // Lines are written as responses close, in order: once the last request's is there, all are.
      await waitFor(() => lines().find((line) => line.requestId === refused.headers['x-request-id']), { what: "the last request's line" });
      const access = lines().filter((line) => line.requestId !== undefined);
      assert.equal(access.length, 2, 'nothing for the health path or the quiet /instance');
      const [first, second] = [access[0]!, access[1]!];
      const { requestId, remoteAddr, method, uri, status, seconds, upstream } = first;
      assert.deepEqual(
        { requestId, remoteAddr, method, uri, status, upstream },
        { requestId: proxied.headers['x-request-id'], remoteAddr: '127.0.0.1', method: 'GET', uri: '/redis?x=1', status: 200, upstream: api.url },
      );
      assert.ok(typeof seconds === 'number' && seconds >= 0 && seconds < 20, `seconds: ${String(seconds)}`);
      assert.equal(second.requestId, refused.headers['x-request-id']);
      assert.equal(second.status, 404);
      assert.equal(second.method, 'HEAD');
      assert.equal('upstream' in second, false, 'answered by the edge: no upstream');
    });
  });
});
