import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { waitFor } from '@three-tier/processes';
import request from 'supertest';
import { buildApp, redisReady, startRedis, type TestApp } from './helpers.js';

describe('request logs', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let api: TestApp;
  const lines: Record<string, unknown>[] = [];

  before(async () => {
    redis = await startRedis();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    api = await buildApp({ redisUrl: redis.url, logger: pino({ level: 'info' }, sink) });
    await redisReady(api.redis);
  });
  after(async () => {
    await api.close();
    await redis.cleanup();
  });

  const requestLines = () => lines.filter((line) => 'req' in line || 'reqId' in line);
  /** Log lines are written when a response closes, just after the client has it. */
  const logged = (count: number) =>
    waitFor(() => (requestLines().length >= count ? true : undefined), { what: `${count} request log lines` });

  test('one JSON line per request, with the request id, status and timing', async () => {
    lines.length = 0;
    await request(api.server).get('/redis').set('X-Request-ID', 'log-1').expect(200);
    await logged(1);
    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.equal(line?.level, 30);
    assert.equal(line?.msg, 'GET /redis 200');
    assert.deepEqual((line?.req as { id: string }).id, 'log-1');
    assert.deepEqual(line?.res, { statusCode: 200 });
    assert.equal(typeof line?.responseTime, 'number');
  });

  test('4xx log as warnings, 5xx as errors, with the reason on its own line', async () => {
    lines.length = 0;
    await request(api.server).get('/nope').expect(404);
    await redis.server.stop();
    await request(api.server).get('/redis').set('X-Request-ID', 'log-2').expect(503);
    await logged(3);
    const aboutRequests = requestLines();
    assert.deepEqual(
      aboutRequests.map((line) => [line.level, line.msg]),
      [
        [40, 'GET /nope 404'],
        [40, 'visit not counted: redis unavailable'],
        [50, 'GET /redis 503'],
      ],
    );
    assert.equal(aboutRequests[1]?.reqId, 'log-2', 'the reason carries the request id');
    await redis.server.start();
    await waitFor(() => (api.redis.status === 'ready' ? true : undefined), { what: 'the client to reconnect' });
  });

  test('probes and scrapes are not logged', async () => {
    lines.length = 0;
    await request(api.server).get('/healthz');
    await request(api.server).get('/readyz');
    await request(api.server).get('/metrics');
    // A request that is logged, after them: once its line is here, theirs would be too.
    await request(api.server).get('/').set('X-Request-ID', 'marker');
    await logged(1);
    assert.deepEqual(
      requestLines().map((line) => (line.req as { id: string }).id),
      ['marker'],
    );
  });
});
