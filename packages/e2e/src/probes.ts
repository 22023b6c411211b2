/**
 * The probe suite: what every edge in front of the api must show, checked over real HTTP. The same
 * probes run against nginx and the http-proxy edge natively (and against `docker compose up`).
 * Each route of the table has its own probe (the type makes a missing one a compile error); a route
 * counts as probed only when that probe finished having asserted something on the route's answers.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import {
  counterMessage,
  edge,
  edgeProblems,
  faultRoutes,
  headerNames,
  instanceAlias,
  instanceHue,
  internalRouteDetail,
  load,
  noFaults,
  problemContentType,
  routeIds,
  routeList,
  routes,
  securityHeaders,
  tokenRegExp,
  type CounterBody,
  type InstanceBody,
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
  /** Per route: the assertions its own probe made on that route's answers, counted when the probe finished. */
  readonly asserted: Map<RouteId, number>;
  /**
   * A local address the edge sees as a client of its own, new on each call (natively: one of
   * 127.0.0.0/8, all of which reach loopback listeners on Linux); undefined where every client
   * reaches the edge as one address (through Docker's NAT).
   */
  readonly freshClient: (() => string) | undefined;
}

export type Probe = (target: ProbeTarget) => Promise<void>;

/**
 * The assertions probes make. `node:assert/strict` is one; a route's probe gets one that counts,
 * for its route, every assertion that held.
 */
export interface Check {
  ok(value: unknown, message?: string): void;
  equal(actual: unknown, expected: unknown, message?: string): void;
  notEqual(actual: unknown, expected: unknown, message?: string): void;
  deepEqual(actual: unknown, expected: unknown, message?: string): void;
  match(value: string, pattern: RegExp, message?: string): void;
  doesNotMatch(value: string, pattern: RegExp, message?: string): void;
}

/** What a route's probe works with: requests to its own route, and checks that count for it. */
export interface RouteProbeContext {
  readonly target: ProbeTarget;
  /** Requests the probe's route, with `query` (e.g. `?ms=25`) appended. */
  request(init?: RequestInit & { query?: string }): Promise<Response>;
  /** Checks on `res`, which must be an answer `request` gave; each assertion that holds counts for the route. */
  on(res: Response): Check;
}

export type RouteProbeBody = (probe: RouteProbeContext) => Promise<void>;

/** A client on this machine, as the api sees it natively. */
export const loopbackClient = /^(::ffff:)?127\.0\.0\.1$/;

/** A client on this machine reaching a published container port: Docker's NAT shows a private gateway address. */
export const dockerBridgeClient = /^(::ffff:)?(10\.\d+|172\.\d+|192\.168)\.\d+\.\d+$/;

let loopbackClients = 0;

/** A loopback address no probe of this process has used: 127.1.0.1, 127.1.0.2, ... */
export function freshLoopbackClient(): string {
  loopbackClients += 1;
  return `127.1.${Math.floor(loopbackClients / 250) % 250}.${(loopbackClients % 250) + 1}`;
}

export function probeTarget(baseUrl: string, clientAddress: RegExp = loopbackClient): ProbeTarget {
  return { baseUrl, clientAddress, asserted: new Map(), freshClient: clientAddress === loopbackClient ? freshLoopbackClient : undefined };
}

/** A GET from `localAddress` (the edge's view of who asks), on a connection of its own, as a Response. */
export async function getFrom(target: ProbeTarget, path: string, localAddress: string | undefined): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${target.baseUrl}${path}`, { agent: false, ...(localAddress ? { localAddress } : {}), timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) for (const one of [value ?? []].flat()) headers.append(name, one);
        resolve(new Response(chunks.length > 0 ? Buffer.concat(chunks) : null, { status: res.statusCode ?? 0, headers }));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${path} within 20 s`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * `count` GETs of /load at once from one client: the answers, and how many tokens the limiter can
 * have refilled while it decided them. An edge answers 429 the moment it decides, and a request let
 * through waits for the api; so the decisions were made by the time the last 429 came back, and
 * the refill is the rate times that (the last answer's time when none was limited), rounded up.
 */
export async function loadBurst(target: ProbeTarget, count: number, localAddress: string | undefined): Promise<{ answers: Response[]; refill: number }> {
  const started = performance.now();
  let decided = started;
  const answers = await Promise.all(
    Array.from({ length: count }, async () => {
      const res = await getFrom(target, `${routes.load.path}?ms=${load.minMs}`, localAddress);
      if (res.status === 429) decided = Math.max(decided, performance.now());
      return res;
    }),
  );
  if (!answers.some((res) => res.status === 429)) decided = performance.now();
  const refill = Math.ceil(((decided - started) / 1_000) * edge.rateLimits.expensive.perSecond);
  return { answers, refill };
}

/** Routes of the table whose own probe has not finished with at least one assertion on that route's answers. */
export function unprobedRoutes(target: ProbeTarget): RouteId[] {
  return routeList.filter((route) => (target.asserted.get(route.id) ?? 0) === 0).map((route) => route.id);
}

async function send(target: ProbeTarget, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${target.baseUrl}${path}`, { redirect: 'manual', signal: AbortSignal.timeout(20_000), ...init });
}

/** `check`, counting each assertion that holds. */
function counting(check: Check, count: () => void): Check {
  return {
    ok: (value, message) => (check.ok(value, message), count()),
    equal: (actual, expected, message) => (check.equal(actual, expected, message), count()),
    notEqual: (actual, expected, message) => (check.notEqual(actual, expected, message), count()),
    deepEqual: (actual, expected, message) => (check.deepEqual(actual, expected, message), count()),
    match: (value, pattern, message) => (check.match(value, pattern, message), count()),
    doesNotMatch: (value, pattern, message) => (check.doesNotMatch(value, pattern, message), count()),
  };
}

/**
 * The probe of route `id`: `body` may request only that route, and its assertions on those answers
 * are what count. They are recorded once it finishes, so a probe that throws probed nothing.
 */
export function routeProbe(id: RouteId, body: RouteProbeBody): Probe {
  return async (target) => {
    let assertions = 0;
    const answers = new WeakSet<Response>();
    const context: RouteProbeContext = {
      target,
      async request({ query = '', ...init } = {}) {
        const res = await send(target, `${routes[id].path}${query}`, init);
        answers.add(res);
        return res;
      },
      on(res) {
        if (!answers.has(res)) throw new Error(`the ${id} probe checked an answer that is not from ${routes[id].path}`);
        return counting(assert, () => assertions++);
      },
    };
    await body(context);
    target.asserted.set(id, (target.asserted.get(id) ?? 0) + assertions);
  };
}

/** Every answer, proxied or the edge's own, carries the edge's headers. */
function assertEdgeHeaders(check: Check, res: Response, requestId?: string): void {
  for (const [name, value] of Object.entries(securityHeaders)) {
    check.equal(res.headers.get(name), value, `${name} on ${res.url}`);
  }
  const id = res.headers.get(headerNames.requestId) ?? '';
  check.match(id, tokenRegExp, 'X-Request-ID on every answer');
  if (requestId !== undefined) check.equal(id, requestId, 'X-Request-ID passed through');
  const server = res.headers.get('server');
  check.ok(server === null || !/\d/.test(server), `no version in Server: ${server ?? ''}`);
}

function assertJson(check: Check, res: Response): void {
  check.match(res.headers.get('content-type') ?? '', /^application\/json\b/, `JSON from ${res.url}`);
}

async function assertProblem(check: Check, res: Response, status: number, detail?: string | RegExp): Promise<Problem> {
  check.equal(res.status, status, `status of ${res.url}`);
  check.equal((res.headers.get('content-type') ?? '').split(';')[0], problemContentType);
  assertEdgeHeaders(check, res);
  const body = (await res.json()) as Problem;
  check.equal(body.status, status);
  check.equal(typeof body.title, 'string');
  check.equal(body.requestId, res.headers.get(headerNames.requestId), 'the problem names the request id');
  if (typeof detail === 'string') check.equal(body.detail, detail);
  else if (detail) check.match(body.detail, detail);
  check.doesNotMatch(JSON.stringify(body), /\n\s+at |node_modules/, 'no stack trace');
  return body;
}

/**
 * The probe's route answered 200 in JSON with the edge's headers (and `requestId` passed through,
 * when given): the answer, and the checks that count for the route.
 */
async function okJson(
  probe: RouteProbeContext,
  init?: Parameters<RouteProbeContext['request']>[0],
  requestId?: string,
): Promise<{ res: Response; check: Check }> {
  const res = await probe.request(init);
  const check = probe.on(res);
  check.equal(res.status, 200);
  assertJson(check, res);
  assertEdgeHeaders(check, res, requestId);
  return { res, check };
}

/** A counted visit: its body, and the checks that count for /redis. */
async function counted(probe: RouteProbeContext, init?: RequestInit): Promise<CounterBody & { check: Check }> {
  const { res, check } = await okJson(probe, init);
  return { ...((await res.json()) as CounterBody), check };
}

const routeProbeBodies: { readonly [Id in RouteId]: RouteProbeBody } = {
  async info(probe) {
    const headers = { [headerNames.requestId]: 'probe-info-1', 'X-Forwarded-For': '203.0.113.9' };
    const { res, check } = await okJson(probe, { headers }, 'probe-info-1');
    const body = (await res.json()) as ServiceInfo;
    check.equal(body.name, '@three-tier/api');
    check.match(body.version, /^\d+\.\d+\.\d+/);
    check.ok(body.hostname.length > 0);
    check.equal(typeof body.uptimeSeconds, 'number');
    check.equal(body.request.id, 'probe-info-1', 'the api saw the request id the edge passed');
    check.match(body.request.ip, probe.target.clientAddress, 'the api sees the real client, not a claimed X-Forwarded-For');
    check.equal(body.request.protocol, 'http');
  },

  async redis(probe) {
    const first = await counted(probe);
    const second = await counted(probe);
    second.check.equal(second.hits, first.hits + 1);
    second.check.equal(second.message, counterMessage(second.hits));
    second.check.equal(second.message, `This page has been viewed ${second.hits} times!`);
    // An Idempotency-Key passes through the edge: a replay gets the first count.
    const key = `probe-${Date.now()}`;
    const once = await counted(probe, { headers: { [headerNames.idempotencyKey]: key } });
    const replay = await counted(probe, { headers: { [headerNames.idempotencyKey]: key } });
    replay.check.equal(replay.hits, once.hits);
    const head = await probe.request({ method: 'HEAD' });
    probe.on(head).equal(head.status, 200);
    probe.on(head).equal(await head.text(), '');
  },

  async html(probe) {
    const res = await probe.request();
    const check = probe.on(res);
    check.equal(res.status, 200);
    check.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assertEdgeHeaders(check, res);
    const html = await res.text();
    check.match(html, /^<!doctype html>/);
    check.match(html, /This page has been viewed \d+ times!/);
    check.match(html, /<code id="hostname">[^<]+<\/code>/);
    const csp = res.headers.get('content-security-policy') ?? '';
    check.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    for (const [, kind, code] of html.matchAll(/<(script|style)>([\s\S]*?)<\/\1>/g)) {
      const hash = createHash('sha256').update(code ?? '').digest('base64');
      check.ok(csp.includes(`'sha256-${hash}'`), `inline ${kind ?? ''} allowed by hash`);
    }
  },

  async load(probe) {
    const { res, check } = await okJson(probe, { query: '?ms=25' });
    const body = (await res.json()) as LoadBody;
    check.equal(body.requestedMs, 25);
    check.ok(body.cpuMs >= 25, `cpuMs ${body.cpuMs}`);
    check.ok(body.hostname.length > 0);
    const bad = await probe.request({ query: `?ms=${load.maxMs + 1}` });
    await assertProblem(probe.on(bad), bad, 400, /ms must be an integer from 1 to 5000/);
  },

  async instance(probe) {
    const { res, check } = await okJson(probe);
    const body = (await res.json()) as InstanceBody;
    check.ok(body.hostname.length > 0);
    check.equal(body.alias, instanceAlias(body.hostname));
    check.equal(body.hue, instanceHue(body.hostname));
    check.equal(body.state, 'ready');
    check.equal(body.redis.state, 'up');
    check.equal(typeof body.hits, 'number');
    check.deepEqual(body.faults, noFaults);
    // Polling counts nothing: the count stays put, whichever instance answers.
    const again = await probe.request();
    const body2 = (await again.json()) as InstanceBody;
    probe.on(again).equal(body2.hits, body.hits);
  },

  async healthz(probe) {
    const { res, check } = await okJson(probe);
    check.equal(((await res.json()) as { status: string }).status, 'ok');
  },

  async readyz(probe) {
    const { res, check } = await okJson(probe);
    const body = (await res.json()) as ReadyBody;
    check.equal(body.status, 'ready');
    check.equal(body.checks.redis.status, 'pass');
    check.equal(body.checks.shutdown.status, 'pass');
  },

  async metrics(probe) {
    // Internal: the edge answers 404 itself, so scrapers must come to the api's port.
    const res = await probe.request();
    const check = probe.on(res);
    const body = await assertProblem(check, res, 404, internalRouteDetail(routes.metrics.path));
    check.doesNotMatch(JSON.stringify(body), /process_cpu|http_request_duration/);
  },
};

/** One probe per route of the table (the type makes a missing one a compile error). */
export const routeProbes = Object.fromEntries(
  routeIds.map((id) => [id, routeProbe(id, routeProbeBodies[id])]),
) as { readonly [Id in RouteId]: Probe };

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
    await assertProblem(assert, 
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
    assertJson(assert, res);
    assertEdgeHeaders(assert, res);
    assert.deepEqual(await res.json(), { status: 'ok' });
  },

  async 'answers 404 problem+json for a path outside the table'(target) {
    await assertProblem(assert, await send(target, '/no-such-route'), 404, edgeProblems.notFound.detail);
    await assertProblem(assert, await send(target, '/redis/'), 404, edgeProblems.notFound.detail);
  },

  async 'passes other methods to the api, which answers 405 with Allow'(target) {
    const res = await send(target, routes.redis.path, { method: 'POST', body: 'x=1' });
    await assertProblem(assert, res, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
  },

  async 'refuses every fault route with 404, whatever the method: faults never reach an instance from outside'(target) {
    for (const route of Object.values(faultRoutes)) {
      for (const method of route.methods) {
        const query = route === faultRoutes.latency ? '?ms=500' : route === faultRoutes.errors ? '?rate=1' : '';
        const res = await send(target, `${route.path}${query}`, { method });
        assert.equal(res.status, 404, `${method} ${route.path}`);
        if (method !== 'HEAD') await assertProblem(assert, res, 404);
        else await res.body?.cancel();
      }
    }
    const seen = (await (await send(target, routes.instance.path)).json()) as InstanceBody;
    assert.deepEqual(seen.faults, noFaults, 'the instance behind the edge was switched to nothing');
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
    await assertProblem(assert, res, 413, edgeProblems.payloadTooLarge.detail);
  },

  async 'rate limits /load per client with 429 and Retry-After'(target) {
    const { burst, perSecond } = edge.rateLimits.expensive;
    const client = target.freshClient?.();
    if (client === undefined) {
      // Every client is one address here, the other probes' /load included: the bucket is full
      // again (burst + 1) / perSecond after the last of them. No answer shows its level, so wait that.
      await new Promise((resolve) => setTimeout(resolve, ((burst + 1) / perSecond) * 1_000));
    }
    // A full bucket lets burst + 1 through at once (nginx's burst=N nodelay), and one more for each
    // token refilled while the requests arrived; everything else is 429. What it lets through the
    // api answers 200, or 503 once its workers and queue are full.
    const sent = burst + 1 + 20;
    const { answers, refill } = await loadBurst(target, sent, client);
    const statuses = answers.map((res) => res.status);
    assert.ok(statuses.every((status) => status === 200 || status === 503 || status === 429), `only 200, 503 and 429: ${statuses.join(', ')}`);
    const passed = statuses.filter((status) => status !== 429).length;
    const limited = answers.filter((res) => res.status === 429);
    assert.ok(passed >= burst + 1 && passed <= burst + 1 + refill, `${passed} of ${sent} let through; a full bucket lets ${burst + 1} through, plus up to ${refill} refilled meanwhile`);
    const [first] = limited;
    assert.ok(first);
    assert.equal(first.headers.get('retry-after'), '1');
    await assertProblem(assert, first, 429, edgeProblems.tooManyRequests.detail);
    for (const res of answers) if (res !== first) await res.body?.cancel();
  },
};
