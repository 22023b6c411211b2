/**
 * The edge's tries against real api stand-ins on real sockets: where a retry lands, what it
 * carries, when a request is not replayed, and how long a failed instance is passed over.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { freePort, waitFor } from '@three-tier/processes';
import { edge, edgeProblems, headerNames, routes, tokenRegExp, type Route } from '@three-tier/shared';
import type { EdgeOptions } from '../src/edge.js';
import { keysSeen, memoryLogger, send, startEdge, startUnacceptingUpstream, startUpstream, type RunningEdge, type Upstream } from './helpers.js';

describe('the edge in front of two api instances, one of them failing', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((item) => item.close()));
  });

  async function upstream(...args: Parameters<typeof startUpstream>): Promise<Upstream> {
    const started = await startUpstream(...args);
    open.push(started);
    return started;
  }

  async function edgeOver(upstreams: readonly string[], options: Partial<EdgeOptions> = {}): Promise<RunningEdge> {
    const running = await startEdge({ ...options, upstreams });
    open.push(running);
    return running;
  }

  /** A port nothing listens on: a connection there is refused. */
  const closedUpstream = async (): Promise<string> => `http://127.0.0.1:${await freePort()}`;

  /** An instance whose connections never complete. */
  async function unaccepting(): Promise<string> {
    const started = await startUnacceptingUpstream();
    open.push(started);
    return started.url;
  }

  test('a GET whose instance resets is retried on the other, with the same fresh Idempotency-Key on both tries', async () => {
    const dying = await upstream('dying', 'reset');
    const healthy = await upstream('healthy', 'answer');
    const { port } = await edgeOver([dying.url, healthy.url]);

    const res = await send(port, routes.redis.path);

    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { upstream: 'healthy' });
    assert.equal(dying.seen.length, 1, 'the first try went to the dying instance');
    const [first] = keysSeen(dying);
    const [second] = keysSeen(healthy);
    assert.match(String(first), tokenRegExp, 'the edge gave the request a key of its own');
    assert.equal(second, first, 'the retry carries the key of the first try: the api counts the visit once');
    assert.equal(healthy.seen[0]?.headers['x-request-id'], res.headers['x-request-id'], 'and the request id');
  });

  test('two requests get two keys', async () => {
    const healthy = await upstream('healthy', 'answer');
    const { port } = await edgeOver([healthy.url]);
    await send(port, routes.redis.path);
    await send(port, routes.redis.path);
    const [first, second] = keysSeen(healthy);
    assert.notEqual(first, second);
  });

  test("a client's own Idempotency-Key goes to every try as it was given", async () => {
    const dying = await upstream('dying', 'reset');
    const healthy = await upstream('healthy', 'answer');
    const { port } = await edgeOver([dying.url, healthy.url]);
    const res = await send(port, routes.redis.path, { headers: { [headerNames.idempotencyKey]: 'visit-7' } });
    assert.equal(res.status, 200);
    assert.deepEqual([...keysSeen(dying), ...keysSeen(healthy)], ['visit-7', 'visit-7']);
  });

  test('a POST whose connection was established is not replayed: 502, and the other instance never sees it', async () => {
    const dying = await upstream('dying', 'reset');
    const healthy = await upstream('healthy', 'answer');
    const { port } = await edgeOver([dying.url, healthy.url]);

    const res = await send(port, routes.redis.path, { method: 'POST', body: 'x=1' });

    assert.equal(res.status, 502);
    assert.equal(JSON.parse(res.body).detail, edgeProblems.badGateway.detail);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(dying.seen.length, 1);
    assert.equal(healthy.seen.length, 0);
  });

  test('a POST that never reached an instance (connection refused) goes to another, body and all', async () => {
    const healthy = await upstream('healthy', 'answer');
    const { port } = await edgeOver([await closedUpstream(), healthy.url]);

    const res = await send(port, routes.redis.path, { method: 'POST', body: 'x=1' });

    assert.equal(res.status, 200);
    assert.deepEqual(
      healthy.seen.map(({ method, body }) => ({ method, body })),
      [{ method: 'POST', body: 'x=1' }],
    );
  });

  test('a POST that fails on a connection kept alive from an earlier answer is not replayed: it may have reached the api', async () => {
    // A single instance: a replay would go to it again, and this time be answered.
    const api = await upstream('api', ['answer', 'reset', 'answer']);
    const { port } = await edgeOver([api.url]);
    assert.equal((await send(port, routes.redis.path)).status, 200);

    const res = await send(port, routes.redis.path, { method: 'POST', body: 'x=1' });

    assert.equal(res.status, 502);
    assert.equal(api.connections(), 1, 'the POST went on the connection the GET left open');
    assert.deepEqual(
      api.seen.map(({ method }) => method),
      ['GET', 'POST'],
      'and was never sent again',
    );
  });

  test('a POST with Expect: 100-continue that reached an instance is not replayed either: Expect stops at the edge, as at nginx', async () => {
    const dying = await upstream('dying', 'reset');
    const healthy = await upstream('healthy', 'answer');
    const { port } = await edgeOver([dying.url, healthy.url]);

    const res = await send(port, routes.redis.path, { method: 'POST', body: 'x=1', headers: { expect: '100-continue' } });

    assert.equal(res.status, 502);
    assert.equal(healthy.seen.length, 0);
    assert.equal(dying.seen[0]?.headers.expect, undefined, 'the api is not asked to continue: the edge has the body already');
  });

  test('an instance that never accepts the connection: after edge.upstreamConnectTimeoutMs even a POST goes to the other', async () => {
    const hanging = await unaccepting();
    const healthy = await upstream('healthy', 'answer');
    const { logger, lines } = memoryLogger('warn');
    const { port } = await edgeOver([hanging, healthy.url], { logger });

    const res = await send(port, routes.redis.path, { method: 'POST', body: 'x=1' });

    assert.equal(res.status, 200);
    assert.deepEqual(
      healthy.seen.map(({ method, body }) => ({ method, body })),
      [{ method: 'POST', body: 'x=1' }],
    );
    const retry = lines().find((line) => line.msg === 'upstream failed; retrying');
    assert.equal(retry?.upstream, hanging);
    assert.equal((retry.err as { message?: unknown } | undefined)?.message, `connect to ${hanging} timed out`);
  });

  test('every instance never accepting: 504, as nginx answers a connect timeout, and the failure logged', async () => {
    const hanging = [await unaccepting(), await unaccepting()];
    const { logger, lines } = memoryLogger('warn');
    const { port } = await edgeOver(hanging, { logger });

    const res = await send(port, routes.redis.path);

    assert.equal(res.status, 504);
    assert.equal(JSON.parse(res.body).detail, edgeProblems.gatewayTimeout.detail);
    const failed = await waitFor(() => lines().find((line) => line.msg === 'upstream failed'), { what: 'the failure line' });
    assert.equal(failed.upstream, hanging[1]);
    assert.equal((failed.err as { message?: unknown } | undefined)?.message, `connect to ${hanging[1]} timed out`);
  });

  test('a refused try leaves no connect deadline armed behind it', async () => {
    const { port } = await edgeOver([await closedUpstream(), await closedUpstream()]);
    const timers = (): number => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = timers();
    const answers = await Promise.all(Array.from({ length: 5 }, () => send(port, routes.redis.path)));
    assert.deepEqual(
      answers.map(({ status }) => status),
      [502, 502, 502, 502, 502],
    );
    // Each request made two tries; a deadline left armed by each would be ten more timers.
    assert.ok(timers() - before < 5, `${timers() - before} more timers than before the requests`);
  });

  test('every instance resetting: 502 after edge.upstreamTries tries, never more', async () => {
    const dying = [await upstream('a', 'reset'), await upstream('b', 'reset'), await upstream('c', 'reset')];
    const { port } = await edgeOver(dying.map(({ url }) => url));

    const res = await send(port, routes.redis.path);

    assert.equal(res.status, 502);
    assert.deepEqual(
      dying.map(({ seen }) => seen.length),
      [1, 1, 0],
      `${edge.upstreamTries} tries, each on another instance`,
    );
  });

  test('a GET whose instance never answers is retried on the other after its read timeout, with the same key', async () => {
    const quick: Route[] = [{ ...routes.redis, timeoutMs: 100 }];
    const silent = await upstream('silent', 'silent');
    const healthy = await upstream('healthy', 'answer');
    const { port } = await edgeOver([silent.url, healthy.url], { routes: quick });

    const res = await send(port, routes.redis.path);

    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { upstream: 'healthy' });
    const [first] = keysSeen(silent);
    assert.match(String(first), tokenRegExp);
    assert.deepEqual(keysSeen(healthy), [first]);
  });

  test('connections refused everywhere: 502', async () => {
    const { port } = await edgeOver([await closedUpstream(), await closedUpstream()]);
    const res = await send(port, routes.redis.path, { method: 'POST' });
    assert.equal(res.status, 502);
    assert.equal(JSON.parse(res.body).detail, edgeProblems.badGateway.detail);
  });

  test('tries that time out: 504 once the last one did', async () => {
    // A table whose /redis gives up quickly, so the test waits two short read timeouts, not two of 3 s.
    const quick: Route[] = [{ ...routes.redis, timeoutMs: 100 }];
    const silent = [await upstream('a', 'silent'), await upstream('b', 'silent')];
    const { port } = await edgeOver(silent.map(({ url }) => url), { routes: quick });

    const res = await send(port, routes.redis.path);

    assert.equal(res.status, 504);
    assert.equal(JSON.parse(res.body).detail, edgeProblems.gatewayTimeout.detail);
    assert.deepEqual(silent.map(({ seen }) => seen.length), [1, 1], 'a GET that timed out is tried once more elsewhere');
  });

  test('a failed instance is passed over by the next requests until edge.upstreamFailTimeoutMs passes', async () => {
    const clock = { now: 0 };
    const dying = await upstream('dying', 'reset');
    const healthy = await upstream('healthy', 'answer');
    const { port } = await edgeOver([dying.url, healthy.url], { now: () => clock.now });

    assert.equal((await send(port, routes.redis.path)).status, 200);
    assert.equal(dying.seen.length, 1);
    // Round robin would send every other one of these to the dying instance.
    for (let i = 0; i < 4; i += 1) assert.equal((await send(port, routes.redis.path)).status, 200);
    assert.equal(dying.seen.length, 1, 'passed over while it failed lately');

    clock.now += edge.upstreamFailTimeoutMs;
    for (let i = 0; i < 2; i += 1) assert.equal((await send(port, routes.redis.path)).status, 200);
    assert.equal(dying.seen.length, 2, 'tried again once the fail timeout passed (and the GET retried elsewhere)');
  });

  test('a retry is logged as the runner reads it: "upstream failed; retrying" with the upstream it leaves', async () => {
    const dying = await upstream('dying', 'reset');
    const healthy = await upstream('healthy', 'answer');
    const { logger, lines } = memoryLogger('warn');
    const { port } = await edgeOver([dying.url, healthy.url], { logger });

    const res = await send(port, routes.redis.path);

    const retry = await waitFor(() => lines().find((line) => line.msg === 'upstream failed; retrying'), { what: 'the retry line' });
    assert.equal(retry.upstream, dying.url);
    assert.equal(retry.requestId, res.headers['x-request-id']);
    assert.ok(retry.err, 'the error is logged under err');
  });
});
