import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import { respRequest, waitFor } from '@three-tier/processes';
import { countDeadlineMs } from '@three-tier/shared';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import request from 'supertest';
import { HeldReplies } from './held-replies.js';
import { buildApp, metricValue, redisReady, startRedis, type TestApp, type TestRedis } from './helpers.js';
import { sentinelApp, visit, type ReplicatedTestApp } from './replicated.js';

/** REDIS_TIMEOUT_MS here: long enough that a count held past its deadline is answered before it. */
const redisTimeoutMs = 1_600;

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly reqId?: string;
  readonly err?: { readonly message?: string; readonly name?: string };
}

// One Redis behind a relay that can hold what goes either way: each way a visit can fail, the
// answer a client gets and the reason an operator reads.
describe('GET and HEAD /redis when Redis fails them: the 503 and its log line', () => {
  let redis: TestRedis;
  let relay: HeldReplies;
  let api: TestApp;
  const lines: LogLine[] = [];

  before(async () => {
    redis = await startRedis();
    relay = await HeldReplies.start(redis.server.port);
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    api = await buildApp({ redisUrl: relay.url, redisTimeoutMs, logger: pino({ level: 'warn' }, sink) });
    await redisReady(api.redis);
  });
  after(async () => {
    await api.close();
    await relay.close();
    await redis.cleanup();
  });
  beforeEach(async () => {
    await waitFor(async () => ((await request(api.server).get('/readyz')).status === 200 ? true : undefined), { what: 'the api ready' });
    // A first count samples Redis's clock on this connection, so the next one sends the count alone.
    await request(api.server).get('/redis').expect(200);
    lines.length = 0;
  });

  /** The reason logged for the request `id`, once it is there. */
  function reasonFor(id: string): Promise<LogLine> {
    return waitFor(() => lines.find((line) => line.reqId === id), { what: `the reason logged for ${id}` });
  }

  test('Redis stopped: GET is 503 not-counted with Retry-After, logged as not counted with the error', async () => {
    await redis.server.stop();
    try {
      const answer = await request(api.server).get('/redis').set('X-Request-ID', 'down-get');
      assert.equal(answer.status, 503);
      assert.equal(answer.headers['retry-after'], '1');
      assert.equal(answer.body.visit, 'not-counted');
      const reason = await reasonFor('down-get');
      assert.equal(reason.level, 40);
      assert.equal(reason.msg, 'visit not counted: redis unavailable');
      assert.equal(typeof reason.err?.message, 'string', 'the error is logged under err');
      const text = await api.metrics.registry.metrics();
      assert.equal(metricValue(text, 'redis_command_duration_seconds_count{command="incr",outcome="error"}'), 1, 'the refused count is timed as an error');
    } finally {
      await redis.server.start();
    }
  });

  test('Redis stopped: HEAD is 503 with Retry-After, logged as a count not read (HEAD counts nothing)', async () => {
    await redis.server.stop();
    try {
      const answer = await request(api.server).head('/redis').set('X-Request-ID', 'down-head');
      assert.equal(answer.status, 503);
      assert.equal(answer.headers['retry-after'], '1');
      const reason = await reasonFor('down-head');
      assert.equal(reason.level, 40);
      assert.equal(reason.msg, 'count not read: redis unavailable');
      assert.equal(typeof reason.err?.message, 'string', 'the error is logged under err');
    } finally {
      await redis.server.start();
    }
  });

  test('Redis ran the count but its answer did not come in time: 503 unconfirmed with Retry-After, logged as maybe counted', async () => {
    relay.hold();
    const answer = await request(api.server).get('/redis').set('X-Request-ID', 'held-reply');
    relay.release();
    assert.equal(answer.status, 503);
    assert.equal(answer.headers['retry-after'], '1');
    assert.equal(answer.body.visit, 'unconfirmed');
    const reason = await reasonFor('held-reply');
    assert.equal(reason.msg, 'visit may have been counted: no confirmed answer');
    assert.match(reason.err?.message ?? '', /Redis did not answer: Command timed out/);
    assert.equal(reason.err?.name, 'UnansweredCountError');
  });

  test('Redis got the count only after its deadline: it counts nothing; 503 not-counted, logged as run too late', async () => {
    const hits = Number(await api.redis.get('hits'));
    relay.holdCommands();
    // then() sends it: supertest sends nothing until asked for the answer.
    const answering = request(api.server).get('/redis').set('X-Request-ID', 'too-late').then((answer) => answer);
    try {
      // The api set the deadline just before it sent the count: once that much time has passed
      // since the count got here, Redis runs it past the deadline (its clock is this machine's).
      const arrived = await waitFor(() => relay.firstHeldCommandAt, { what: 'the count held on its way to Redis' });
      await waitFor(() => (performance.now() > arrived + countDeadlineMs(redisTimeoutMs) + 50 ? true : undefined), { what: 'the count deadline passed' });
    } finally {
      relay.releaseCommands();
    }
    const answer = await answering;
    assert.equal(answer.status, 503);
    assert.equal(answer.body.visit, 'not-counted');
    assert.equal(answer.headers['retry-after'], '1');
    const reason = await reasonFor('too-late');
    assert.equal(reason.msg, 'visit not counted: redis ran it too late');
    assert.equal(reason.err?.message, 'redis ran the count after its deadline and counted nothing');
    assert.equal(reason.err?.name, 'TooLateError');
    assert.equal(Number(await api.redis.get('hits')), hits, 'nothing counted');
  });

  test('HEAD does not wait for a body still arriving: it counts nothing, so it answers at once', async () => {
    const { port } = api.server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    try {
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.on('error', () => undefined);
      // Five bytes announced, three sent, and the connection kept open.
      socket.write('HEAD /redis HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel', 'latin1');
      const head = await waitFor(() => (received.includes('\r\n\r\n') ? received : undefined), { what: 'the answer to HEAD' });
      assert.match(head, /^HTTP\/1\.1 200 /);
    } finally {
      socket.destroy();
    }
  });
});

describe('Sentinel mode: a count the master got only after its deadline', () => {
  let redis: TestRedis;
  let relay: HeldReplies;
  let api: ReplicatedTestApp;

  before(async () => {
    redis = await startRedis();
    relay = await HeldReplies.start(redis.server.port);
    // The counter's replicated path over a client the test made: the deadline is checked by the
    // count itself, before WAIT or any replica plays a part, so one Redis behind the relay will do.
    const client = new Redis(relay.url, { commandTimeout: redisTimeoutMs, enableOfflineQueue: false });
    client.on('error', () => undefined);
    // WAIT gives up after 1 ms (there is no replica): the late count's answer then leaves as much
    // room before the client's timeout as in one-Redis mode.
    api = await sentinelApp(client, redisTimeoutMs, 1);
  });
  after(async () => {
    await api.close();
    await relay.close();
    await redis.cleanup();
  });

  test('counts nothing, and the 503 says not-counted (not "unconfirmed")', async () => {
    // A first count samples the master's clock on this connection (WAIT then finds no replica).
    await visit(api.url, 'clock');
    const hits = Number(await respRequest(redis.server.port, ['GET', 'hits']));
    relay.holdCommands();
    const answering = visit(api.url, 'late-1');
    try {
      const arrived = await waitFor(() => relay.firstHeldCommandAt, { what: 'the count held on its way to the master' });
      await waitFor(() => (performance.now() > arrived + countDeadlineMs(redisTimeoutMs) + 50 ? true : undefined), { what: 'the count deadline passed' });
    } finally {
      relay.releaseCommands();
    }
    const answer = await answering;
    assert.equal(answer.status, 503);
    assert.equal(answer.body.visit, 'not-counted');
    assert.match(answer.body.detail ?? '', /^The visit was not counted/);
    assert.equal(Number(await respRequest(redis.server.port, ['GET', 'hits'])), hits, 'nothing counted');
  });
});
