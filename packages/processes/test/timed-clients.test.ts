/**
 * The load driver of the stack-change tests, against a plain HTTP server that can be made slow or
 * wrong on demand: it times every request, keeps one connection per client, tells what failed,
 * resends only when asked, and names what broke a latency budget.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { changeProblems, describeLatency, failureKind, quantile, summarize, TimedClients, waitFor, worstWindowP99, type TimedRequest } from '../src/index.js';

/** What the server does with the next requests: answer at once, late, or with a status of its choosing. */
interface Behaviour {
  delayMs: number;
  status: number;
  /** The body of a wrong answer. */
  body: string;
}

describe('TimedClients', () => {
  let server: Server;
  let url: string;
  let connections = 0;
  const keys: string[] = [];
  const behaviour: Behaviour = { delayMs: 0, status: 200, body: 'not now' };

  before(async () => {
    server = createServer((req, res) => {
      keys.push(String(req.headers['idempotency-key']));
      const { delayMs, status, body } = behaviour;
      setTimeout(() => res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'counted' : body), delayMs);
    });
    server.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('quantiles by nearest rank, and a summary of count, failures, p50, p99 and max', () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    assert.equal(quantile(values, 0.5), 50);
    assert.equal(quantile(values, 0.99), 99);
    assert.equal(quantile([], 0.99), 0);
    const summary = summarize([
      { client: 0, atMs: 0, ms: 3, status: 200, reused: false },
      { client: 0, atMs: 3, ms: 40, status: 502, error: '502 bad', reused: true },
    ]);
    assert.deepEqual(summary, { requests: 2, failures: 1, p50Ms: 3, p99Ms: 40, maxMs: 40 });
    assert.equal(describeLatency(summary), '2 requests, 1 failed, p50 3 ms, p99 40 ms, max 40 ms');
  });

  test('the worst p99 of windows as long as the change: a burst in one window counts, though the whole hides it', () => {
    const sample = (atMs: number, ms: number): TimedRequest => ({ client: 0, atMs, ms, status: 200, reused: true });
    const calm = Array.from({ length: 100 }, (_, index) => sample(1_000 + index, 5));
    const burst = Array.from({ length: 100 }, (_, index) => sample(1_100 + index, index < 2 ? 300 : 5));
    const requests = [...calm, ...burst];
    assert.equal(summarize(requests).p99Ms, 5, 'over the whole, two slow requests of 200 are under 1%');
    assert.equal(worstWindowP99(requests, 100, 1_000), 300, 'in the second window, two of 100 are past 1%');
    assert.equal(worstWindowP99(requests, 200, 1_000), 5, 'one window as long as the whole is the whole');
    assert.equal(worstWindowP99([], 100, 0), 0);
  });

  test('a quiet window of several windows lasts that many times as long as the change, and ends with a mark', async () => {
    const clients = new TimedClients({ url, clients: 2 });
    try {
      await clients.acknowledge(5, 'before');
      clients.mark('change');
      await clients.acknowledge(20, 'during the change');
      await clients.quietWindow('change', 'quiet', (changeMs) => 3 * changeMs);
    } finally {
      await clients.stop();
    }
    const at = (what: string): number => clients.marks.find((mark) => mark.what === what)?.atMs ?? Number.NaN;
    const change = at('quiet') - at('change');
    assert.ok(at('quiet: end') - at('quiet') >= 3 * change, `quiet ${Math.round(at('quiet: end') - at('quiet'))} ms against a change of ${Math.round(change)} ms`);
    const verdict = clients.judgeChange('change', 'quiet', (quiet) => ({ maxMs: 10_000, p99Ms: 10_000 + quiet.worstP99Ms }));
    assert.equal(verdict.quiet.requests, clients.between('quiet', 'quiet: end').length, 'the quiet window ends at its mark');
    assert.equal(verdict.budget.p99Ms, 10_000 + verdict.quiet.worstP99Ms);
    assert.ok(verdict.quiet.worstP99Ms >= verdict.quiet.p50Ms);
  });

  test('each client keeps one connection, and a slow answer is timed as slow and named in the breaches', async () => {
    const before = connections;
    const clients = new TimedClients({ url, clients: 3 });
    await clients.acknowledge(30, 'at full speed');
    clients.mark('the server slowed down');
    behaviour.delayMs = 300;
    // Twice round: the first slow answers may be of requests that left before the mark.
    await clients.acknowledge(6, 'slowly');
    behaviour.delayMs = 0;
    await clients.acknowledge(30, 'at full speed again');
    const summary = await clients.stop();
    assert.equal(connections - before, 3, 'one connection per client, kept alive');
    assert.deepEqual(clients.failures, []);
    assert.ok(summary.maxMs >= 300 && summary.maxMs < 2_000, `the slowest took ${summary.maxMs} ms`);
    assert.ok(summary.p50Ms < 300, `p50 ${summary.p50Ms} ms`);
    assert.ok(clients.requests.filter((sample) => sample.reused).length >= clients.requests.length - 3, 'all but the first request of each client reused its connection');
    const [breach] = clients.budgetBreaches({ maxMs: 250, p99Ms: 10_000 });
    assert.match(breach ?? '', /^a request took \d+ ms, past 250 ms; the slowest: \d+ ms at [\d.]+ s \(client \d, 200\)/);
    assert.match(breach ?? '', /\d+ ms at [\d.]+ s \(client \d, 200\), [\d.]+ s after the server slowed down/, 'the slow requests are read against the mark before them');
    assert.deepEqual(clients.budgetBreaches({ maxMs: 10_000, p99Ms: 10_000 }), []);
    const steady = clients.steady();
    assert.ok(steady.requests >= 30 && steady.requests < summary.requests, `${steady.requests} requests before the mark`);
    // Only a request in flight at the mark (one per client) may have met the delay.
    const slowBefore = clients.requests.filter((sample) => sample.atMs < (clients.marks[0]?.atMs ?? 0) && sample.ms >= 300).length;
    assert.ok(slowBefore <= 3 && steady.p50Ms < 300, `before the mark: ${describeLatency(steady)}, ${slowBefore} slowed`);
  });

  test('passed(mark) waits for the requests already on their way at the mark, and for every client to send again', async () => {
    behaviour.delayMs = 200;
    const clients = new TimedClients({ url, clients: 3 });
    try {
      await clients.acknowledge(3, 'slowly');
      clients.mark('switch');
      const markAt = clients.marks[0]?.atMs ?? 0;
      await clients.passed('switch');
      const leftBefore = clients.requests.filter((sample) => sample.atMs < markAt).length;
      for (let client = 0; client < 3; client += 1) {
        assert.ok(clients.requests.some((sample) => sample.client === client && sample.atMs >= markAt), `client ${client} sent after the mark`);
      }
      await clients.stop();
      assert.equal(clients.requests.filter((sample) => sample.atMs < markAt).length, leftBefore, 'no request that left before the mark ended after passed()');
      await assert.rejects(clients.passed('no such mark'), /no mark "no such mark"/);
    } finally {
      behaviour.delayMs = 0;
      await clients.stop();
    }
  });

  test('without keep-alive, a connection per request', async () => {
    const before = connections;
    const clients = new TimedClients({ url, clients: 2, keepAlive: false });
    await clients.acknowledge(20, 'on fresh connections');
    const summary = await clients.stop();
    assert.equal(connections - before, summary.requests);
    assert.ok(clients.requests.every((sample) => !sample.reused));
  });

  test('a wrong answer is a failure, described by its status and body; without resending, each visit is sent once', async () => {
    keys.length = 0;
    let visit = 0;
    const clients = new TimedClients({ url, clients: 2, headers: () => ({ 'idempotency-key': `visit-${(visit += 1)}` }) });
    await clients.acknowledge(10, 'before the failures');
    behaviour.status = 503;
    await new Promise((resolve) => setTimeout(resolve, 100));
    behaviour.status = 200;
    await clients.acknowledge(10, 'after the failures');
    await clients.stop();
    assert.ok(clients.failures.length > 0);
    assert.ok(clients.failures.every((failure) => failure === '503 not now'), clients.failures.join(', '));
    assert.equal(new Set(keys).size, keys.length, 'no key was sent twice');
  });

  test('a failure is known by its status and the first sentence of its problem, or its network error', () => {
    const problem = (detail: string): string => `503 {"type":"about:blank","title":"Service Unavailable","status":503,"detail":"${detail}","visit":"not-counted"}`;
    assert.equal(failureKind({ client: 0, atMs: 0, ms: 1, status: 503, reused: true, error: problem('Redis is not answering. Try again.') }), '503 Redis is not answering');
    assert.equal(failureKind({ client: 0, atMs: 0, ms: 1, status: 502, reused: true, error: '502 <html>' }), '502');
    assert.equal(failureKind({ client: 0, atMs: 0, ms: 1, status: undefined, reused: true, error: 'ECONNRESET' }), 'ECONNRESET');
  });

  test('a change is held against as long again with no change: a failure the quiet window shows too is the machine, one only the change shows is the change', async () => {
    const problem = (detail: string): string => JSON.stringify({ status: 503, detail });
    const clients = new TimedClients({ url, clients: 2 });
    let quietMs: number | undefined;
    /**
     * Answers `status` with `body` until `count` requests that left after this call have failed (a
     * request already on its way may fail too, but it belongs to the window before).
     */
    const failFor = async (count: number, status: number, body: string): Promise<void> => {
      const what = `failing with ${status} from ${clients.marks.length}`;
      clients.mark(what);
      Object.assign(behaviour, { status, body });
      await waitFor(() => (clients.between(what).filter((sample) => sample.error !== undefined).length >= count ? true : undefined), { what: `${count} failures`, intervalMs: 5 });
      Object.assign(behaviour, { status: 200, body: 'not now' });
    };
    try {
      await clients.acknowledge(10, 'before the change');
      clients.mark('change');
      await failFor(2, 502, problem('No instance answered. Try again.'));
      await failFor(2, 503, problem('Redis stalled. Try again.'));
      await clients.acknowledge(10, 'after the change');
      const quietFrom = performance.now();
      const quiet = clients.quietWindow('change', 'quiet');
      await failFor(1, 503, problem('Redis stalled. Try again.'));
      await quiet;
      quietMs = performance.now() - quietFrom;
    } finally {
      await clients.stop();
    }
    const verdict = clients.judgeChange('change', 'quiet', (calm) => ({ maxMs: 10_000, p99Ms: 10_000 + calm.p99Ms }));
    assert.deepEqual([...new Set(verdict.unexplained.map(failureKind))], ['502 No instance answered']);
    assert.match(verdict.machine.join(), /^503 Redis stalled: change [1-9]\d*, quiet [1-9]\d*$/);
    assert.ok(verdict.quiet.requests > 0 && verdict.change.requests > 0);
    assert.deepEqual(verdict.breaches, []);
    assert.equal(verdict.budget.p99Ms, 10_000 + verdict.quiet.p99Ms, 'the budget is made from the quiet window');
    // Reported figures first: the budget and what both windows saw, then each breach and failure.
    assert.deepEqual(changeProblems(verdict, []), [], 'nothing to report when the change held');
    const [head, ...rest] = changeProblems(verdict, ['a 502']);
    assert.match(head ?? '', /^budget max 10000 ms, p99 \d+ ms \(the change: p99 \d+ ms, max \d+ ms; with no change: worst p99 \d+ ms, max \d+ ms\)$/);
    assert.deepEqual(rest, ['failed: a 502']);
    const strict = clients.judgeChange('change', 'quiet', () => ({ maxMs: 0, p99Ms: 0 }));
    assert.deepEqual(changeProblems(strict, []).slice(1), strict.breaches);
    assert.match(strict.breaches.join('; '), /^a request took \d+ ms, past 0 ms; .*; p99 \d+ ms, past 0 ms$/);
    // By chance: up to 2 of a kind the quiet window never showed; more is the change's.
    const chance = (count: number) => clients.judgeChange('change', 'quiet', (calm) => ({ maxMs: 10_000, p99Ms: 10_000 + calm.p99Ms }), { kind: /^502 /, count });
    assert.deepEqual(chance(verdict.unexplained.length).unexplained, []);
    assert.equal(chance(verdict.unexplained.length - 1).unexplained.length, verdict.unexplained.length);
    const quietStart = clients.marks.find((mark) => mark.what === 'quiet')?.atMs ?? 0;
    const changeStart = clients.marks.find((mark) => mark.what === 'change')?.atMs ?? 0;
    assert.ok((quietMs ?? 0) >= quietStart - changeStart, `the quiet window (${Math.round(quietMs ?? 0)} ms) lasted as long as the change (${Math.round(quietStart - changeStart)} ms)`);
  });

  test('with resendAfterMs, a failed visit goes again with the same headers until it succeeds', async () => {
    keys.length = 0;
    let visit = 0;
    const clients = new TimedClients({ url, clients: 1, resendAfterMs: 20, headers: () => ({ 'idempotency-key': `visit-${(visit += 1)}` }) });
    await clients.acknowledge(5, 'before the failures');
    behaviour.status = 503;
    await new Promise((resolve) => setTimeout(resolve, 150));
    behaviour.status = 200;
    await clients.acknowledge(5, 'after the failures');
    await clients.stop();
    assert.ok(clients.failures.length >= 2, `${clients.failures.length} failures`);
    const resent = keys.filter((key, index) => keys.indexOf(key) !== index);
    assert.equal(resent.length, clients.failures.length, 'each failure was followed by a resend under the same key');
    assert.equal(new Set(keys).size, clients.acknowledged, 'every visit was acknowledged once, however often it was sent');
  });
});
