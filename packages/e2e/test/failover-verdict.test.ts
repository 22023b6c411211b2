import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { unexplainedFailures } from './failover-verdict.js';
import type { ApiFailure, Attempt } from './replicated-redis.js';

const replicaLate = 'UnconfirmedCountError: the visit may have been counted, but no replica confirmed it: 0 of 1 replicas within 200 ms';
const masterLate = 'TooLateError: redis ran the count after its deadline and counted nothing';
const reconnecting = 'NotCountedError: the visit was not counted: not connected to the master (reconnecting)';

/**
 * A load of `clients` clients from 0 to `untilMs`, one visit after another, each try followed by
 * the next 25 ms later: a 200 takes 20 ms, a failure 220 (WAIT's timeout and the trip).
 * `fail(client, at, tries)` names the reason the api logs for a try that fails (`tries`: the
 * client's tries before it), or undefined for a 200; a failed visit is tried again with its key.
 */
function load(clients: number, untilMs: number, fail: (client: number, at: number, tries: number) => string | undefined) {
  const attempts: Attempt[] = [];
  const logged = new Map<string, ApiFailure>();
  for (let client = 0; client < clients; client += 1) {
    let visit = 0;
    let tries = 0;
    for (let at = client; at < untilMs; tries += 1) {
      const reason = fail(client, at, tries);
      const key = `run-${String(client)}-${String(visit)}`;
      const ms = reason === undefined ? 20 : 220;
      if (reason === undefined) {
        attempts.push({ key, startedAt: at, ms, status: 200, detail: '' });
        visit += 1;
      } else {
        const requestId = `req-${String(attempts.length)}`;
        attempts.push({ key, startedAt: at, ms, status: 503, detail: 'Redis did not confirm the visit', requestId });
        logged.set(requestId, { at: at + ms, instance: `api-${String(client % 2)}`, reason });
      }
      at += ms + 25;
    }
  }
  return { attempts, logged };
}
const failures = (attempts: readonly Attempt[]) => attempts.filter((attempt) => attempt.status !== 200).length;

const killedAt = 5_000;
const events = [{ what: 'redis-1 killed', at: killedAt }];

describe('failover verdict: which failed visits the fault explains', () => {
  test('no failure: nothing unexplained', () => {
    const { attempts, logged } = load(4, 10_000, () => undefined);
    const verdict = unexplainedFailures(attempts, killedAt, events, logged);
    assert.deepEqual(verdict.unexplained, []);
    assert.match(verdict.summary, /^with no fault 0 of \d+ tries failed \(none\); with the faults 0 of \d+ \(none\)/);
  });

  test('one pause of a replica (each visit in flight failed once, its retry a 200) is the machine: excused, and said so', () => {
    const { attempts, logged } = load(8, 10_000, (_, at) => (at >= 8_900 && at < 8_945 ? replicaLate : undefined));
    assert.equal(failures(attempts), 8);
    const verdict = unexplainedFailures(attempts, killedAt, events, logged);
    assert.deepEqual(verdict.unexplained, []);
    assert.match(verdict.summary, /; one replica pause excused: 8 tries within 1000 ms, each visit's next try a 200$/);
  });

  test('a replica the count waits for while it is away fails every try, retries too: unexplained', () => {
    const { attempts, logged } = load(8, 10_000, (_, at) => (at >= killedAt && at < killedAt + 3_000 ? replicaLate : undefined));
    const verdict = unexplainedFailures(attempts, killedAt, events, logged);
    assert.ok(failures(attempts) > 80);
    assert.equal(verdict.unexplained.length, failures(attempts));
    assert.match(verdict.unexplained[0] ?? '', /^503 UnconfirmedCountError: .*: N of N replicas within N ms \(220 ms long, started \d+ ms after redis-1 killed\)$/);
    assert.doesNotMatch(verdict.summary, /pause excused/);
  });

  test('replica failures within one second, but a visit whose retry failed too: not one pause', () => {
    const { attempts, logged } = load(1, 10_000, (_, at) => (at >= 9_000 && at < 9_300 ? replicaLate : undefined));
    assert.equal(failures(attempts), 2);
    assert.equal(unexplainedFailures(attempts, killedAt, events, logged).unexplained.length, 2);
  });

  test('two pauses, seconds apart: unexplained', () => {
    const pauses = (_: number, at: number) => ((at >= 6_300 && at < 6_345) || (at >= 8_100 && at < 8_145) ? replicaLate : undefined);
    const { attempts, logged } = load(2, 10_000, pauses);
    assert.equal(failures(attempts), 4);
    assert.equal(unexplainedFailures(attempts, killedAt, events, logged).unexplained.length, 4);
  });

  test('the master answering late, and the reconnect after it on the same instance, are the machine wherever they fall', () => {
    const { attempts, logged } = load(2, 10_000, (client, at) => {
      if (client === 0 && at >= 6_000 && at < 6_200) return masterLate;
      if (client === 0 && at >= 6_200 && at < 7_000) return reconnecting;
      return undefined;
    });
    assert.ok(failures(attempts) >= 3);
    const verdict = unexplainedFailures(attempts, killedAt, events, logged);
    assert.deepEqual(verdict.unexplained, []);
    assert.match(verdict.summary, /1x late \(TooLateError: .*\); \d+x late \(NotCountedError: /);
  });

  test('refusals while reconnecting with no late answer before them on that instance: unexplained', () => {
    const { attempts, logged } = load(2, 10_000, (client, at) => (client === 1 && at >= 6_000 && at < 6_500 ? reconnecting : undefined));
    assert.equal(unexplainedFailures(attempts, killedAt, events, logged).unexplained.length, failures(attempts));
  });

  test('a kind seen with no fault is allowed at three times its rate there, no more', () => {
    const noReplicas = 'ReplyError: NOREPLICAS Not enough good replicas to write.';
    const everyTenth = (_: number, __: number, tries: number) => (tries % 10 === 5 ? noReplicas : undefined);
    const steady = load(1, 10_000, everyTenth);
    assert.deepEqual(unexplainedFailures(steady.attempts, killedAt, events, steady.logged).unexplained, []);
    const worse = load(1, 10_000, (client, at, tries) => (at < killedAt ? everyTenth(client, at, tries) : tries % 2 === 1 ? noReplicas : undefined));
    const verdict = unexplainedFailures(worse.attempts, killedAt, events, worse.logged);
    assert.ok(verdict.unexplained.length > 0, verdict.summary);
    assert.match(verdict.summary, /; \d+ of the kinds seen with no fault allowed/);
  });

  test('tries with no api log line are told apart by status: a calm 502 excuses no later 0 with the same words', () => {
    const attempts: Attempt[] = [
      { key: 'a-0', startedAt: 1_000, ms: 20, status: 502, detail: 'no answer' },
      { key: 'a-0', startedAt: 1_045, ms: 20, status: 200, detail: '' },
      { key: 'a-1', startedAt: 6_000, ms: 20, status: 0, detail: 'no answer' },
      { key: 'a-1', startedAt: 6_045, ms: 20, status: 200, detail: '' },
    ];
    assert.deepEqual(unexplainedFailures(attempts, killedAt, events, new Map()).unexplained, ['0 no answer (20 ms long, started 1000 ms after redis-1 killed)']);
  });

  test('a try with no answer from the api (no request id) is judged by its status and words', () => {
    const attempts: Attempt[] = [
      { key: 'a-0', startedAt: 0, ms: 20, status: 200, detail: '' },
      { key: 'a-1', startedAt: 6_000, ms: 5_000, status: 0, detail: 'The operation was aborted due to timeout' },
      { key: 'a-1', startedAt: 11_025, ms: 20, status: 200, detail: '' },
    ];
    assert.deepEqual(unexplainedFailures(attempts, killedAt, events, new Map()).unexplained, ['0 The operation was aborted due to timeout (5000 ms long, started 1000 ms after redis-1 killed)']);
  });
});
