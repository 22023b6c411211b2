import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, type AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { counterMessage, lockedDownCsp, problemContentType, routeList, securityHeaders } from '@three-tier/shared';
import request from 'supertest';
import { appOnRedisSuite, buildApp, rawRequest, redisReady, testInstance, type TestApp, type TestRedis } from './helpers.js';

let redis: TestRedis;
let api: TestApp;
appOnRedisSuite((started) => ({ redis, api } = started));

function assertProblem(res: request.Response, status: number): void {
  assert.equal(res.status, status);
  assert.equal(res.type, problemContentType);
  assert.equal(res.body.status, status);
  assert.equal(typeof res.body.title, 'string');
  assert.equal(typeof res.body.detail, 'string');
  assert.equal(res.body.requestId, res.headers['x-request-id']);
  assert.doesNotMatch(res.text, /\n\s+at /, 'no stack trace');
}

describe('the route table', () => {
  test('every route is mounted and answers GET', async () => {
    for (const route of routeList) {
      const res = await request(api.server).get(route.path);
      assert.notEqual(res.status, 404, `${route.path} is not mounted`);
      assert.ok(res.status < 500, `${route.path} answered ${res.status}`);
    }
  });

  test('every route answers HEAD like GET, without a body', async () => {
    for (const route of routeList) {
      const res = await request(api.server).head(route.path);
      assert.equal(res.status, 200, route.path);
      assert.equal(res.text, undefined);
    }
  });

  test('other methods get 405 with Allow, as problem+json', async () => {
    for (const route of routeList) {
      for (const method of ['post', 'put', 'delete', 'patch', 'options'] as const) {
        const res = await request(api.server)[method](route.path);
        assertProblem(res, 405);
        assert.equal(res.headers.allow, 'GET, HEAD');
        assert.equal(res.body.detail, `${route.path} answers GET, HEAD only.`);
      }
    }
  });
});

describe('GET /', () => {
  test('names the service, its version and the instance', async () => {
    const res = await request(api.server).get('/').expect(200).expect('content-type', /^application\/json/);
    assert.equal(res.body.name, testInstance.name);
    assert.equal(res.body.version, testInstance.version);
    assert.equal(res.body.hostname, testInstance.hostname);
    assert.ok(Number.isInteger(res.body.uptimeSeconds) && res.body.uptimeSeconds >= 0);
    assert.equal(res.body.node, process.version);
    assert.equal(res.body.request.protocol, 'http');
  });

  test('believes X-Forwarded-For only from a trusted proxy', async () => {
    const trusted = await request(api.server).get('/').set('X-Forwarded-For', '203.0.113.7');
    assert.equal(trusted.body.request.ip, '203.0.113.7');
    const strict = await buildApp({ redisUrl: redis.url, trustProxy: false });
    try {
      const untrusted = await request(strict.server).get('/').set('X-Forwarded-For', '203.0.113.7');
      assert.match(untrusted.body.request.ip, /127\.0\.0\.1$/);
    } finally {
      await strict.close();
    }
  });
});

describe('request ids', () => {
  test('a well-formed X-Request-ID is echoed and reported', async () => {
    const res = await request(api.server).get('/').set('X-Request-ID', 'edge-abc.123');
    assert.equal(res.headers['x-request-id'], 'edge-abc.123');
    assert.equal(res.body.request.id, 'edge-abc.123');
  });

  test('a missing or malformed one is replaced by a UUID', async () => {
    for (const given of [undefined, 'has space', 'x'.repeat(200)]) {
      const req = request(api.server).get('/');
      const res = await (given === undefined ? req : req.set('X-Request-ID', given));
      assert.match(res.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
    }
  });
});

describe('every response', () => {
  test('carries the security headers, no caching and no X-Powered-By', async () => {
    for (const path of ['/', '/redis', '/nope']) {
      const res = await request(api.server).get(path);
      for (const [name, value] of Object.entries(securityHeaders)) assert.equal(res.headers[name.toLowerCase()], value);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.headers['x-powered-by'], undefined);
    }
    const json = await request(api.server).get('/');
    assert.equal(json.headers['content-security-policy'], lockedDownCsp);
  });
});

describe('GET /redis', () => {
  test('counts each visit, in the course’s words', async () => {
    const first = await request(api.server).get('/redis').expect(200).expect('content-type', /^application\/json/);
    const second = await request(api.server).get('/redis').expect(200);
    assert.equal(second.body.hits, first.body.hits + 1);
    assert.deepEqual(second.body, {
      hits: second.body.hits,
      hostname: testInstance.hostname,
      message: counterMessage(second.body.hits),
    });
    assert.equal(second.body.message, `This page has been viewed ${second.body.hits} times!`);
    assert.equal(await api.redis.get('hits'), String(second.body.hits));
  });

  test('a replayed Idempotency-Key gets the first count, not a second increment', async () => {
    const first = await request(api.server).get('/redis').set('Idempotency-Key', 'retry-1').expect(200);
    const replay = await request(api.server).get('/redis').set('Idempotency-Key', 'retry-1').expect(200);
    assert.equal(replay.body.hits, first.body.hits);
    const other = await request(api.server).get('/redis').set('Idempotency-Key', 'retry-2').expect(200);
    assert.equal(other.body.hits, first.body.hits + 1);
    assert.equal(await api.redis.get('hits'), String(other.body.hits));
  });

  test('concurrent replays of one key count once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => request(api.server).get('/redis').set('Idempotency-Key', 'race')),
    );
    assert.deepEqual(new Set(answers.map((res) => res.body.hits)), new Set([1]));
    assert.equal(await api.redis.get('hits'), '1');
  });

  test('an empty Idempotency-Key is none at all, as nginx reads it: each visit counts', async () => {
    const first = await rawRequest(api.server, 'GET /redis HTTP/1.1\r\nHost: x\r\nIdempotency-Key: \r\n\r\n');
    const second = await rawRequest(api.server, 'GET /redis HTTP/1.1\r\nHost: x\r\nIdempotency-Key: \r\n\r\n');
    assert.deepEqual([first.status, second.status], [200, 200]);
    assert.equal(JSON.parse(second.body).hits, JSON.parse(first.body).hits + 1);
  });

  test('of repeated keys, the first is the one, as nginx reads it', async () => {
    const twice = (first: string, second: string) =>
      rawRequest(api.server, `GET /redis HTTP/1.1\r\nHost: x\r\nIdempotency-Key: ${first}\r\nIdempotency-Key: ${second}\r\n\r\n`);
    const counted = await twice('same-1', 'bad key');
    assert.equal(counted.status, 200);
    const replayed = await twice('same-1', 'other-2');
    assert.equal(JSON.parse(replayed.body).hits, JSON.parse(counted.body).hits, 'the same first key: the same count');
    assert.equal((await twice('bad key', 'same-1')).status, 400);
  });

  test('a malformed Idempotency-Key is refused and counts nothing', async () => {
    const res = await request(api.server).get('/redis').set('Idempotency-Key', 'no spaces allowed');
    assertProblem(res, 400);
    assert.match(res.body.detail, /Idempotency-Key/);
    assert.equal(await api.redis.get('hits'), null);
  });
});

describe('a visit is counted only once the request has arrived whole', () => {
  /** Sends `text`, ends the connection, and returns all that came back. */
  async function sendAndEnd(text: string): Promise<string> {
    const { port } = api.server.address() as AddressInfo;
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(text, 'latin1'));
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
      socket.setTimeout(5_000, () => socket.destroy(new Error('not closed within 5 s')));
    });
  }

  /** The count the next visit shows: a visit the request before it counted comes first on the api's connection to Redis. */
  async function nextHits(): Promise<number> {
    const res = await request(api.server).get('/redis').expect(200);
    return res.body.hits as number;
  }

  for (const path of ['/redis', '/html']) {
    test(`GET ${path} with a chunked body that does not parse: 400, and no visit counted`, async () => {
      const res = await rawRequest(api.server, `GET ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`);
      assert.equal(res.status, 400);
      assert.equal(await nextHits(), 1);
    });
  }

  test('GET /redis with a body the client stops sending: no 200, and no visit counted', async () => {
    const answer = await sendAndEnd('GET /redis HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel');
    assert.doesNotMatch(answer, /^HTTP\/1\.1 200 /);
    assert.equal(await nextHits(), 1);
  });

  test('GET /redis with a whole body, which no route reads: counted as without one', async () => {
    const res = await rawRequest(api.server, 'GET /redis HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).hits, 1);
    assert.equal(await nextHits(), 2);
  });
});

describe('GET /html', () => {
  test('is a page showing the count, the instance and the version', async () => {
    const res = await request(api.server).get('/html').expect(200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(res.text, /^<!doctype html>/);
    assert.match(res.text, /This page has been viewed 1 times!/);
    assert.match(res.text, /<code id="hostname">test-host<\/code>/);
    assert.match(res.text, /9\.9\.9-test/);
    assert.match(res.text, /href="\.\/redis"/);
    assert.match(res.text, /href="\.\/load\?ms=500"/);
  });

  test('loads nothing from elsewhere and allows its inline code by hash only', async () => {
    const res = await request(api.server).get('/html').expect(200);
    const csp = res.headers['content-security-policy'] ?? '';
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(res.text, /(src|href)="(https?:)?\/\//, 'no external resource');
    const inline = [...res.text.matchAll(/<(script|style)>([\s\S]*?)<\/\1>/g)];
    assert.equal(inline.length, 2);
    for (const [, kind, code] of inline) {
      const hash = createHash('sha256').update(code ?? '').digest('base64');
      assert.ok(csp.includes(`${kind}-src 'sha256-${hash}'`), `${kind ?? ''} is allowed by its hash`);
    }
  });

  test('escapes what it shows', async () => {
    const hostile = await buildApp({
      redisUrl: redis.url,
      instance: { ...testInstance, hostname: '<img src=x onerror=alert(1)>' },
    });
    try {
      await redisReady(hostile.redis);
      const res = await request(hostile.server).get('/html').expect(200);
      assert.doesNotMatch(res.text, /<img src=x/);
      assert.match(res.text, /&lt;img src=x onerror=alert\(1\)&gt;/);
    } finally {
      await hostile.close();
    }
  });
});

describe('errors', () => {
  test('an unknown path is a 404 problem naming it', async () => {
    const res = await request(api.server).get('/nope');
    assertProblem(res, 404);
    assert.equal(res.body.instance, '/nope');
    assert.match(res.body.detail, /GET \/nope/);
  });

  test('paths match exactly, as at the edge', async () => {
    for (const path of ['/redis/', '/REDIS', '/redis/x', '//redis']) assertProblem(await request(api.server).get(path), 404);
  });

  test('a malformed percent-encoding is a 400 problem, as nginx answers it, not a crash', async () => {
    assertProblem(await request(api.server).get('/%E0%A4%A'), 400);
  });
});

describe('refused before any route, the way nginx refuses them', () => {
  const cases: readonly [string, string, number][] = [
    ['an HTTP version other than 1.x', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
    ['a bad percent-escape', 'GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['an escaped NUL', 'GET /redis%00 HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['dot segments above the root', 'GET /a/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['escaped dot segments above the root', 'GET /%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['the asterisk form', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['a malformed Idempotency-Key, on any route', 'GET /healthz HTTP/1.1\r\nHost: x\r\nIdempotency-Key: no spaces\r\n\r\n', 400],
    ['HTTP/1.1 without Host', 'GET /redis HTTP/1.1\r\n\r\n', 400],
    ['CONNECT to a path', 'CONNECT /redis HTTP/1.1\r\nHost: x\r\n\r\n', 405],
    ['CONNECT to an authority', 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n', 400],
    ['two Transfer-Encoding lines', 'GET /redis HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ];
  for (const [what, text, status] of cases) {
    test(`${what}: ${status}, problem+json with the request id, nothing counted`, async () => {
      const res = await rawRequest(api.server, text);
      assert.equal(res.status, status);
      assert.equal(res.headers['content-type']?.split(';')[0], problemContentType);
      const body = JSON.parse(res.body) as { status: number; requestId: string };
      assert.equal(body.status, status);
      assert.equal(body.requestId, res.headers['x-request-id']);
      assert.equal(await api.redis.get('hits'), null);
    });
  }

  test('the absolute form is routed by its path, as nginx routes it', async () => {
    const res = await rawRequest(api.server, 'GET http://example.test/healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(res.status, 200);
  });
});

describe('HEAD', () => {
  test('shows the count without counting a visit: safe, as HTTP says, and what uptime checkers send', async () => {
    await request(api.server).get('/redis').expect(200);
    for (const path of ['/redis', '/html']) {
      const head = await request(api.server).head(path);
      assert.equal(head.status, 200);
      assert.equal(head.text ?? '', '');
    }
    assert.equal(await api.redis.get('hits'), '1');
    assert.equal((await request(api.server).get('/redis').expect(200)).body.hits, 2);
  });
});

describe('GET /healthz and /readyz', () => {
  test('liveness is a plain ok, with the uptime in whole seconds', async () => {
    const res = await request(api.server).get('/healthz').expect(200);
    assert.deepEqual(Object.keys(res.body), ['status', 'uptimeSeconds']);
    assert.equal(res.body.status, 'ok');
    // The app runs in this process: its uptime is ours, to the second.
    assert.ok(Number.isInteger(res.body.uptimeSeconds) && Math.abs(res.body.uptimeSeconds - process.uptime()) < 2, `${res.body.uptimeSeconds} s`);
  });

  test('readiness reports each check, Redis with the round trip it measured', async () => {
    const started = performance.now();
    const res = await request(api.server).get('/readyz').expect(200);
    const wallMs = performance.now() - started;
    assert.equal(res.body.status, 'ready');
    assert.deepEqual(res.body.checks, {
      redis: { status: 'pass', latencyMs: res.body.checks.redis.latencyMs },
      shutdown: { status: 'pass' },
      faults: { status: 'pass' },
    });
    const { latencyMs } = res.body.checks.redis;
    assert.ok(latencyMs > 0 && latencyMs <= wallMs, `latency ${latencyMs} ms within a request of ${wallMs} ms`);
  });

  test('every check that fails is named in the detail, with Retry-After', async () => {
    api.draining = true;
    api.faults.set({ unready: true });
    try {
      const ready = await request(api.server).get('/readyz');
      assertProblem(ready, 503);
      assert.equal(ready.headers['retry-after'], '1');
      assert.equal(
        ready.body.detail,
        'Not ready: shutdown (draining: this instance is shutting down), faults (switched to unready on demand (DELETE /faults/unready)).',
      );
    } finally {
      api.draining = false;
      api.faults.clear();
    }
  });

  test('while draining, readiness fails naming the shutdown, liveness holds, and connections close', async () => {
    api.draining = true;
    try {
      const ready = await request(api.server).get('/readyz');
      assertProblem(ready, 503);
      assert.equal(ready.body.checks.shutdown.status, 'fail');
      assert.equal(ready.body.checks.redis.status, 'pass');
      assert.match(ready.body.detail, /shutdown/);
      // A keep-alive client (supertest asks for close itself, so it cannot tell).
      const live = await fetch(`http://127.0.0.1:${(api.server.address() as AddressInfo).port}/healthz`);
      assert.equal(live.status, 200);
      assert.equal(live.headers.get('connection'), 'close');
    } finally {
      api.draining = false;
    }
    const kept = await fetch(`http://127.0.0.1:${(api.server.address() as AddressInfo).port}/healthz`);
    assert.equal(kept.headers.get('connection'), 'keep-alive', 'and stay open otherwise');
  });
});

describe('GET /metrics', () => {
  test('is Prometheus text with request, Redis, load and process metrics', async () => {
    await request(api.server).get('/redis');
    await request(api.server).get('/nope?token=secret');
    const res = await request(api.server).get('/metrics').expect(200);
    assert.match(res.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(res.text, /^http_request_duration_seconds_count\{method="GET",route="\/redis",status_code="200"\} \d+$/m);
    assert.match(res.text, /^http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} \d+$/m);
    assert.doesNotMatch(res.text, /nope|secret/, 'raw URLs never become labels');
    assert.match(res.text, /^redis_command_duration_seconds_count\{command="incr",outcome="ok"\} \d+$/m);
    assert.match(res.text, /^redis_connected 1$/m);
    assert.match(res.text, /^load_cpu_seconds_total /m);
    assert.match(res.text, /^load_workers 2$/m);
    assert.match(res.text, /^process_cpu_user_seconds_total /m);
  });

  test('times each Redis command under its own name: a count with and without a key, a read, a round trip', async () => {
    await request(api.server).get('/redis').expect(200);
    await request(api.server).get('/redis').set('Idempotency-Key', 'timed-1').expect(200);
    await request(api.server).head('/redis').expect(200);
    await request(api.server).get('/readyz').expect(200);
    const res = await request(api.server).get('/metrics').expect(200);
    for (const command of ['incr', 'increment_once', 'get', 'time']) {
      assert.match(res.text, new RegExp(`^redis_command_duration_seconds_count\\{command="${command}",outcome="ok"\\} [1-9]\\d*$`, 'm'), command);
    }
  });

  test('with a single Redis: no replica required or in sync, the Redis it writes to named, no failover seen', async () => {
    const res = await request(api.server).get('/metrics').expect(200);
    assert.match(res.text, /^redis_replicas_required 0$/m);
    assert.match(res.text, /^redis_replicas_in_sync 0$/m);
    assert.match(res.text, /^redis_master_info\{address="127\.0\.0\.1:\d+"\} 1$/m);
    assert.match(res.text, /^redis_failovers_seen_total 0$/m);
  });
});
