/**
 * The edge's connections to the api, seen from a real api stand-in: kept alive between requests,
 * closed when the edge closes, and the hop-by-hop headers on both sides of them.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { waitFor } from '@three-tier/processes';
import { routes } from '@three-tier/shared';
import { send, startEdge, startUpstream, type RunningEdge, type Upstream } from './helpers.js';

describe("the edge's connections to the api", () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((item) => item.close()));
  });

  async function edgeWithApi(): Promise<{ api: Upstream; running: RunningEdge }> {
    const api = await startUpstream('api', 'answer');
    open.push(api);
    const running = await startEdge({ upstreams: [api.url] });
    open.push(running);
    return { api, running };
  }

  test('requests one after another share one kept-alive connection to the api', async () => {
    const { api, running } = await edgeWithApi();
    for (let i = 0; i < 3; i += 1) assert.equal((await send(running.port, routes.redis.path)).status, 200);
    assert.equal(api.seen.length, 3);
    assert.equal(api.connections(), 1, 'each request went on the connection the one before left open');
    assert.equal(api.seen[2]?.headers.connection, 'keep-alive');
  });

  test('closing the edge closes its idle connections to the api at once, not at their keep-alive timeout', async () => {
    const { api, running } = await edgeWithApi();
    assert.equal((await send(running.port, routes.redis.path)).status, 200);
    assert.equal(api.openConnections(), 1, 'the connection stays open for the next request');
    running.edge.close();
    // Well within edge.upstreamKeepaliveTimeoutMs (30 s), after which it would close by itself.
    await waitFor(() => (api.openConnections() === 0 ? true : undefined), { what: 'the api to see its connection closed', timeoutMs: 10_000 });
  });

  test('a client that asks to close its connection is told so, while the api connection stays', async () => {
    const { api, running } = await edgeWithApi();
    const res = await send(running.port, routes.redis.path, { headers: { connection: 'close' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.connection, 'close');
    assert.equal(api.seen[0]?.headers.connection, 'keep-alive', 'Connection is hop-by-hop: the api hears the edge, not the client');
    const kept = await send(running.port, routes.redis.path, { headers: { connection: 'keep-alive' } });
    assert.equal(kept.headers.connection, 'keep-alive');
  });

  test('the api hears the forwarding headers nginx sets, and no other', async () => {
    const { api, running } = await edgeWithApi();
    await send(running.port, routes.redis.path, { headers: { host: 'edge.test' } });
    const forwarding = Object.keys(api.seen[0]?.headers ?? {})
      .filter((name) => name.startsWith('x-forwarded-'))
      .sort();
    assert.deepEqual(forwarding, ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);
  });
});
