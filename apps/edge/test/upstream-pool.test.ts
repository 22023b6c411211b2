import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { edge } from '@three-tier/shared';
import { Tries, UpstreamPool, type UpstreamPoolOptions } from '../src/upstream-pool.js';

/** A pool of named upstreams on a clock the test moves. */
function poolOf(names: readonly string[], options: Partial<UpstreamPoolOptions> = {}): { pool: UpstreamPool<string>; clock: { now: number } } {
  const clock = { now: 1_000 };
  return { pool: new UpstreamPool(names, { now: () => clock.now, ...options }), clock };
}

/** Where the pool sends a new request's first try. */
function firstTry(pool: UpstreamPool<string>, method = 'GET'): string {
  return pool.next(new Tries<string>(method)).upstream;
}

/** A request whose first try went to `pool.next` and failed; the verdict is returned with its tries. */
function failedOnce(pool: UpstreamPool<string>, method: string, how: { connected: boolean; timedOut?: boolean }) {
  const tries = new Tries<string>(method);
  const attempt = pool.next(tries);
  attempt.connected = how.connected;
  attempt.timedOut = how.timedOut ?? false;
  return { tries, attempt, verdict: pool.failed(tries) };
}

describe('UpstreamPool: which instance a try goes to', () => {
  test('requests take turns, and concurrent requests share the turn', () => {
    const { pool } = poolOf(['a', 'b', 'c']);
    const concurrent = [new Tries<string>('GET'), new Tries<string>('GET'), new Tries<string>('GET'), new Tries<string>('GET')];
    assert.deepEqual(
      concurrent.map((tries) => pool.next(tries).upstream),
      ['a', 'b', 'c', 'a'],
    );
  });

  test('a retry never goes where its request already went, even when the turn and the fail timeout say so', () => {
    const { pool, clock } = poolOf(['a', 'b', 'c']);
    const { tries, verdict } = failedOnce(pool, 'GET', { connected: false });
    assert.equal(tries.last?.upstream, 'a');
    assert.equal(verdict, 'retry');
    // Long after, with a's pass-over over, two other requests bring the turn round to a again.
    clock.now += edge.upstreamFailTimeoutMs + 1;
    assert.deepEqual([firstTry(pool), firstTry(pool)], ['b', 'c']);
    assert.equal(pool.next(tries).upstream, 'b', 'the retry skips a, which this request tried');
    assert.deepEqual(
      tries.attempts.map((attempt) => attempt.upstream),
      ['a', 'b'],
      'the request records every try, in order',
    );
  });

  test('an instance that failed a try is passed over by the next requests until the fail timeout passes', () => {
    const { pool, clock } = poolOf(['a', 'b']);
    failedOnce(pool, 'GET', { connected: true });
    const failedAt = clock.now;
    // The turn lands on a every other request; each time b goes instead.
    assert.deepEqual([firstTry(pool), firstTry(pool), firstTry(pool)], ['b', 'b', 'b']);
    clock.now = failedAt + edge.upstreamFailTimeoutMs - 1;
    assert.deepEqual([firstTry(pool), firstTry(pool)], ['b', 'b'], 'still within the fail timeout');
    clock.now = failedAt + edge.upstreamFailTimeoutMs;
    assert.deepEqual([firstTry(pool), firstTry(pool)], ['a', 'b'], 'a takes its turn again once the timeout passed');
  });

  test('when every instance failed lately, one is still tried: the first in turn', () => {
    const { pool } = poolOf(['a', 'b', 'c']);
    for (let i = 0; i < 3; i += 1) failedOnce(pool, 'POST', { connected: true });
    assert.deepEqual([firstTry(pool), firstTry(pool), firstTry(pool)], ['a', 'b', 'c']);
  });

  test('a retry passes over instances that failed lately, and falls back on one it did not try when no other is left', () => {
    const { pool } = poolOf(['a', 'b', 'c']);
    failedOnce(pool, 'GET', { connected: true });
    const onB = failedOnce(pool, 'GET', { connected: true });
    failedOnce(pool, 'GET', { connected: true });
    assert.equal(onB.tries.last?.upstream, 'b');
    assert.equal(firstTry(pool), 'a', 'all failed lately: the first in turn');
    // The turn is at b now, which this request tried; a and c failed lately: c comes first in turn.
    assert.equal(pool.next(onB.tries).upstream, 'c');
  });

  test('with a single instance, the retry goes to it again: there is no other', () => {
    const { pool } = poolOf(['only']);
    const { tries, verdict } = failedOnce(pool, 'GET', { connected: true });
    assert.equal(verdict, 'retry');
    assert.equal(pool.next(tries).upstream, 'only');
  });
});

describe('UpstreamPool: what a failed try leads to', () => {
  test('a POST whose connection was established is not replayed: 502', () => {
    const { pool } = poolOf(['a', 'b']);
    assert.equal(failedOnce(pool, 'POST', { connected: true }).verdict, 'badGateway');
  });

  test('a request that never reached an instance goes to another, whatever its method', () => {
    const { pool } = poolOf(['a', 'b']);
    for (const method of ['POST', 'PUT', 'DELETE', 'GET']) {
      const { tries, verdict } = failedOnce(pool, method, { connected: false });
      assert.equal(verdict, 'retry', method);
      assert.notEqual(pool.next(tries).upstream, tries.attempts[0]?.upstream, `${method} goes to the other instance`);
    }
  });

  test('a try starts out not connected, and not timed out: until the proxy says otherwise, a failed POST goes elsewhere', () => {
    const { pool } = poolOf(['a', 'b']);
    const tries = new Tries<string>('POST');
    const attempt = pool.next(tries);
    assert.deepEqual({ connected: attempt.connected, timedOut: attempt.timedOut }, { connected: false, timedOut: false });
    assert.equal(pool.failed(tries), 'retry');
  });

  test('a GET or HEAD that reached an instance is replayed on a different one', () => {
    const { pool } = poolOf(['a', 'b']);
    for (const method of ['GET', 'HEAD']) {
      const { tries, verdict } = failedOnce(pool, method, { connected: true });
      assert.equal(verdict, 'retry', method);
      const retry = pool.next(tries);
      assert.notEqual(retry.upstream, tries.attempts[0]?.upstream, method);
    }
  });

  test(`tries never exceed edge.upstreamTries (${edge.upstreamTries}), however many instances there are`, () => {
    const { pool } = poolOf(['a', 'b', 'c', 'd', 'e']);
    const tries = new Tries<string>('GET');
    for (;;) {
      pool.next(tries);
      if (pool.failed(tries) !== 'retry') break;
    }
    assert.equal(tries.attempts.length, edge.upstreamTries);
    assert.equal(new Set(tries.attempts.map((attempt) => attempt.upstream)).size, edge.upstreamTries, 'each try on another instance');
  });

  test('the number of tries is the pool\'s to set', () => {
    const { pool } = poolOf(['a', 'b', 'c', 'd'], { tries: 3 });
    const tries = new Tries<string>('GET');
    do pool.next(tries);
    while (pool.failed(tries) === 'retry');
    assert.equal(tries.attempts.length, 3);
  });

  test('the last try timed out: 504; refused or reset: 502', () => {
    const { pool } = poolOf(['a', 'b']);
    assert.equal(failedOnce(pool, 'POST', { connected: true, timedOut: true }).verdict, 'gatewayTimeout');
    assert.equal(failedOnce(pool, 'POST', { connected: true, timedOut: false }).verdict, 'badGateway');
    const tries = new Tries<string>('GET');
    pool.next(tries);
    assert.equal(pool.failed(tries), 'retry');
    const last = pool.next(tries);
    last.timedOut = true;
    assert.equal(pool.failed(tries), 'gatewayTimeout', 'the last of the tries decides');
  });

  test('failing a request that has no try is a bug, said as such', () => {
    const { pool } = poolOf(['a']);
    assert.throws(() => pool.failed(new Tries<string>('GET')), /no try/);
    assert.throws(() => new UpstreamPool<string>([]), /at least one upstream/);
  });
});
