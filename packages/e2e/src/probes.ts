/**
 * The probe suite: what every edge in front of the api must show, checked over real HTTP. The same
 * probes run against nginx and the http-proxy edge natively (and against `docker compose up`).
 * Each route of the table has a probe (the type makes a missing one a compile error), and a run
 * records which paths it requested, so a route that goes unprobed fails the suite.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import {
  counterMessage,
  edge,
  edgeProblems,
  headerNames,
  internalRouteDetail,
  load,
  problemContentType,
  routeList,
  routes,
  securityHeaders,
  tokenRegExp,
  type CounterBody,
  type LoadBody,
  type Problem,
  type ReadyBody,
  type RouteId,
  type ServiceInfo,
} from '@three-tier/shared';

export interface ProbeTarget {
  /** The edge, e.g. http://127.0.0.1:8080. */
  readonly baseUrl: string;
  /** The address the api should see for this client: the edge replaces whatever the client claims. */
  readonly clientAddress: RegExp;
  /** Paths requested so far. */
  readonly probed: Set<string>;
}

export type Probe = (target: ProbeTarget) => Promise<void>;

/** A client on this machine, as the api sees it natively. */
export const loopbackClient = /^(::ffff:)?127\.0\.0\.1$/;

/** A client on this machine reaching a published container port: Docker's NAT shows a private gateway address. */
export const dockerBridgeClient = /^(::ffff:)?(10\.\d+|172\.\d+|192\.168)\.\d+\.\d+$/;

export function probeTarget(baseUrl: string, clientAddress: RegExp = loopbackClient): ProbeTarget {
  return { baseUrl, clientAddress, probed: new Set() };
}

/** Routes of the table no probe has requested yet. */
export function unprobedRoutes(target: ProbeTarget): RouteId[] {
  return routeList.filter((route) => !target.probed.has(route.path)).map((route) => route.id);
}

async function send(target: ProbeTarget, path: string, init: RequestInit = {}): Promise<Response> {
  target.probed.add(path.split('?', 1)[0] ?? path);
  return fetch(`${target.baseUrl}${path}`, { redirect: 'manual', signal: AbortSignal.timeout(20_000), ...init });
}

/** Every answer, proxied or the edge's own, carries the edge's headers. */
function assertEdgeHeaders(res: Response, requestId?: string): void {
  for (const [name, value] of Object.entries(securityHeaders)) {
    assert.equal(res.headers.get(name), value, `${name} on ${res.url}`);
  }
  const id = res.headers.get(headerNames.requestId) ?? '';
  assert.match(id, tokenRegExp, 'X-Request-ID on every answer');
  if (requestId !== undefined) assert.equal(id, requestId, 'X-Request-ID passed through');
  const server = res.headers.get('server');
  assert.ok(server === null || !/\d/.test(server), `no version in Server: ${server ?? ''}`);
}

function assertJson(res: Response): void {
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/, `JSON from ${res.url}`);
}

async function assertProblem(res: Response, status: number, detail?: string | RegExp): Promise<Problem> {
  assert.equal(res.status, status, `status of ${res.url}`);
  assert.equal((res.headers.get('content-type') ?? '').split(';')[0], problemContentType);
  assertEdgeHeaders(res);
  const body = (await res.json()) as Problem;
  assert.equal(body.status, status);
  assert.equal(typeof body.title, 'string');
  assert.equal(body.requestId, res.headers.get(headerNames.requestId), 'the problem names the request id');
  if (typeof detail === 'string') assert.equal(body.detail, detail);
  else if (detail) assert.match(body.detail, detail);
  assert.doesNotMatch(JSON.stringify(body), /\n\s+at |node_modules/, 'no stack trace');
  return body;
}

async function counted(target: ProbeTarget, init?: RequestInit): Promise<CounterBody> {
  const res = await send(target, routes.redis.path, init);
  assert.equal(res.status, 200);
  assertJson(res);
  assertEdgeHeaders(res);
  return (await res.json()) as CounterBody;
}

export const routeProbes: { readonly [Id in RouteId]: Probe } = {
  async info(target) {
    const res = await send(target, routes.info.path, {
      headers: { [headerNames.requestId]: 'probe-info-1', 'X-Forwarded-For': '203.0.113.9' },
    });
    assert.equal(res.status, 200);
    assertJson(res);
    assertEdgeHeaders(res, 'probe-info-1');
    const body = (await res.json()) as ServiceInfo;
    assert.equal(body.name, '@three-tier/api');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.ok(body.hostname.length > 0);
    assert.equal(typeof body.uptimeSeconds, 'number');
    assert.equal(body.request.id, 'probe-info-1', 'the api saw the request id the edge passed');
    assert.match(body.request.ip, target.clientAddress, 'the api sees the real client, not a claimed X-Forwarded-For');
    assert.equal(body.request.protocol, 'http');
  },

  async redis(target) {
    const first = await counted(target);
    const second = await counted(target);
    assert.equal(second.hits, first.hits + 1);
    assert.equal(second.message, counterMessage(second.hits));
    assert.equal(second.message, `This page has been viewed ${second.hits} times!`);
    // An Idempotency-Key passes through the edge: a replay gets the first count.
    const key = `probe-${Date.now()}`;
    const once = await counted(target, { headers: { [headerNames.idempotencyKey]: key } });
    const replay = await counted(target, { headers: { [headerNames.idempotencyKey]: key } });
    assert.equal(replay.hits, once.hits);
    const head = await send(target, routes.redis.path, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  },

  async html(target) {
    const res = await send(target, routes.html.path);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assertEdgeHeaders(res);
    const html = await res.text();
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /This page has been viewed \d+ times!/);
    assert.match(html, /<code id="hostname">[^<]+<\/code>/);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    for (const [, kind, code] of html.matchAll(/<(script|style)>([\s\S]*?)<\/\1>/g)) {
      const hash = createHash('sha256').update(code ?? '').digest('base64');
      assert.ok(csp.includes(`'sha256-${hash}'`), `inline ${kind ?? ''} allowed by hash`);
    }
  },

  async load(target) {
    const res = await send(target, `${routes.load.path}?ms=25`);
    assert.equal(res.status, 200);
    assertJson(res);
    assertEdgeHeaders(res);
    const body = (await res.json()) as LoadBody;
    assert.equal(body.requestedMs, 25);
    assert.ok(body.cpuMs >= 25, `cpuMs ${body.cpuMs}`);
    assert.ok(body.hostname.length > 0);
    const bad = await send(target, `${routes.load.path}?ms=${load.maxMs + 1}`);
    await assertProblem(bad, 400, /ms must be an integer from 1 to 5000/);
  },

  async healthz(target) {
    const res = await send(target, routes.healthz.path);
    assert.equal(res.status, 200);
    assertJson(res);
    assertEdgeHeaders(res);
    assert.equal(((await res.json()) as { status: string }).status, 'ok');
  },

  async readyz(target) {
    const res = await send(target, routes.readyz.path);
    assert.equal(res.status, 200);
    assertJson(res);
    assertEdgeHeaders(res);
    const body = (await res.json()) as ReadyBody;
    assert.equal(body.status, 'ready');
    assert.equal(body.checks.redis.status, 'pass');
    assert.equal(body.checks.shutdown.status, 'pass');
  },

  async metrics(target) {
    // Internal: the edge answers 404 itself, so scrapers must come to the api's port.
    const res = await send(target, routes.metrics.path);
    const body = await assertProblem(res, 404, internalRouteDetail(routes.metrics.path));
    assert.doesNotMatch(JSON.stringify(body), /process_cpu|http_request_duration/);
  },
};

/** What the edge itself must do, whatever the route. */
/** Sends `text` as it is on a fresh connection to the edge; the one answer that comes back, parsed. */
async function sendRaw(target: ProbeTarget, text: string): Promise<{ status: number; headers: Headers; body: string }> {
  const { hostname, port } = new URL(target.baseUrl);
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(text, 'latin1'));
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
  });
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers = new Headers(lines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: raw.slice(end + 4) };
}

/** Requests nginx refuses while parsing, and the answer every tier gives them. */
export const unparsableRequests: readonly { readonly what: string; readonly text: string; readonly status: number }[] = [
  { what: 'a request line without a target', text: 'GET\r\n\r\n', status: 400 },
  { what: 'an invalid method token', text: 'G@T / HTTP/1.1\r\nHost: x\r\n\r\n', status: 400 },
  { what: 'a bad percent-escape', text: 'GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n', status: 400 },
  { what: 'dot segments above the root', text: 'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n', status: 400 },
  { what: 'escaped dot segments above the root', text: 'GET /a/%2e%2e/%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n', status: 400 },
  { what: 'an HTTP version other than 1.x', text: 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', status: 505 },
];

export const edgeProbes: Readonly<Record<string, Probe>> = {
  async 'answers what it cannot parse with problem+json and a request id, never an HTML page'(target) {
    for (const { what, text, status } of unparsableRequests) {
      const res = await sendRaw(target, text);
      assert.equal(res.status, status, what);
      assert.equal((res.headers.get('content-type') ?? '').split(';')[0], problemContentType, what);
      const body = JSON.parse(res.body) as Problem;
      assert.equal(body.status, status, what);
      assert.equal(body.requestId, res.headers.get(headerNames.requestId), `${what}: the problem names the request id`);
    }
  },

  async 'refuses a malformed Idempotency-Key with 400 instead of replacing it, and counts nothing'(target) {
    const before = ((await (await send(target, routes.redis.path)).json()) as CounterBody).hits;
    await assertProblem(
      await send(target, routes.redis.path, { headers: { [headerNames.idempotencyKey]: 'not a key!' } }),
      400,
      edgeProblems.badIdempotencyKey.detail,
    );
    const head = await send(target, routes.redis.path, { method: 'HEAD' });
    assert.equal(head.status, 200, 'HEAD answers like GET');
    const after = ((await (await send(target, routes.redis.path)).json()) as CounterBody).hits;
    assert.equal(after, before + 1, 'neither the refused request nor the HEAD counted a visit');
  },

  async 'answers its own health check'(target) {
    const res = await send(target, edge.healthPath);
    assert.equal(res.status, 200);
    assertJson(res);
    assertEdgeHeaders(res);
    assert.deepEqual(await res.json(), { status: 'ok' });
  },

  async 'answers 404 problem+json for a path outside the table'(target) {
    await assertProblem(await send(target, '/no-such-route'), 404, edgeProblems.notFound.detail);
    await assertProblem(await send(target, '/redis/'), 404, edgeProblems.notFound.detail);
  },

  async 'passes other methods to the api, which answers 405 with Allow'(target) {
    const res = await send(target, routes.redis.path, { method: 'POST', body: 'x=1' });
    await assertProblem(res, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
  },

  async 'generates a request id when there is none or it is malformed'(target) {
    const none = await send(target, routes.info.path);
    const generated = none.headers.get(headerNames.requestId) ?? '';
    assert.match(generated, tokenRegExp);
    assert.equal(((await none.json()) as ServiceInfo).request.id, generated, 'the api got the same id');
    const bad = await send(target, routes.info.path, { headers: { [headerNames.requestId]: 'not valid!' } });
    assert.notEqual(bad.headers.get(headerNames.requestId), 'not valid!');
    assert.match(bad.headers.get(headerNames.requestId) ?? '', tokenRegExp);
    await bad.body?.cancel();
  },

  async 'refuses oversized headers with 431'(target) {
    const res = await send(target, routes.info.path, { headers: { 'X-Padding': 'a'.repeat(edge.maxHeaderBytes + 1_000) } });
    assert.equal(res.status, edgeProblems.headersTooLarge.status);
    assert.equal((res.headers.get('content-type') ?? '').split(';')[0], problemContentType);
    assert.equal(((await res.json()) as Problem).detail, edgeProblems.headersTooLarge.detail);
  },

  async 'refuses oversized bodies with 413'(target) {
    const res = await send(target, routes.redis.path, { method: 'POST', body: 'x'.repeat(edge.maxBodyBytes + 1) });
    await assertProblem(res, 413, edgeProblems.payloadTooLarge.detail);
  },

  async 'rate limits /load per client with 429 and Retry-After'(target) {
    const { burst } = edge.rateLimits.expensive;
    const answers = await Promise.all(
      Array.from({ length: burst + 10 }, () => send(target, `${routes.load.path}?ms=${load.minMs}`)),
    );
    const limited = answers.filter((res) => res.status === 429);
    assert.ok(limited.length >= 5, `${limited.length} of ${answers.length} limited`);
    assert.ok(answers.some((res) => res.status === 200));
    const [first] = limited;
    assert.ok(first);
    assert.equal(first.headers.get('retry-after'), '1');
    await assertProblem(first, 429, edgeProblems.tooManyRequests.detail);
    for (const res of answers) if (res !== first) await res.body?.cancel();
  },
};
