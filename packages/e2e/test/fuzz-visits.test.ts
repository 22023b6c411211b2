import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Answer, FuzzCase, Outcome } from '../src/fuzz.js';
import { countsShown, visitAccount } from '../src/fuzz-visits.js';

const fuzzCase = (text: string): FuzzCase => ({ kind: 'test', bytes: Buffer.from(text, 'latin1') });
const get = fuzzCase('GET /redis HTTP/1.1\r\nHost: x\r\n\r\n');
const keyed = fuzzCase('GET /redis HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k1\r\n\r\n');
const json = (hits: number): Answer => ({ status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: `{"hits":${hits},"hostname":"h","message":"m"}` });
const page = (hits: number): Answer => ({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: `<!doctype html>\n<p class="big" id="hits">${hits}</p>` });
const answered = (...answers: Answer[]): Outcome => ({ answers, silent: false, unparsed: '' });

describe('countsShown', () => {
  test("the count of each 200 from the counter or the page, and of nginx's HTTP/0.9 reply; none from anything else", () => {
    assert.deepEqual(countsShown(answered(json(3), page(4))), [3, 4]);
    assert.deepEqual(countsShown({ answers: [], silent: false, unparsed: '{"hits":7,"hostname":"h","message":"m"}' }), [7]);
    assert.deepEqual(countsShown(answered({ status: 400, headers: { 'content-type': 'application/json' }, body: '{"hits":1,' }, { status: 200, headers: { 'content-type': 'application/json' }, body: '' })), []);
  });
});

describe('visitAccount', () => {
  test('every count made and shown once: exact', () => {
    assert.deepEqual(visitAccount([get, get], [answered(json(11)), answered(page(12))], 10, 12), { unacknowledged: [], unexplained: [], acknowledged: 2, replays: 0 });
  });

  test('a count made whose request was answered otherwise (a 400 after the count) is unacknowledged', () => {
    const refused = answered({ status: 400, headers: { 'content-type': 'application/problem+json' }, body: '{}' });
    assert.deepEqual(visitAccount([get, get], [answered(json(11)), refused], 10, 12).unacknowledged, [12]);
  });

  test("a count nginx showed over HTTP/0.9 is acknowledged", () => {
    const http09: Outcome = { answers: [], silent: false, unparsed: '{"hits":11,"hostname":"h","message":"m"}' };
    assert.deepEqual(visitAccount([fuzzCase('GET /redis\r\n\r\n')], [http09], 10, 11).unacknowledged, []);
  });

  test('a replayed Idempotency-Key may show the count its first use made, before the run or in it; without a key, no answer may', () => {
    assert.deepEqual(visitAccount([keyed, keyed, get], [answered(json(4)), answered(json(11)), answered(json(11))], 10, 11), { unacknowledged: [], unexplained: [], acknowledged: 1, replays: 2 });
    const stale = visitAccount([get], [answered(json(4))], 10, 10);
    assert.match(stale.unexplained[0] ?? '', /shows 4, made before the run/);
    const twice = visitAccount([get, get], [answered(json(11)), answered(json(11))], 10, 12);
    assert.match(twice.unexplained[0] ?? '', /as another answer does/);
    assert.deepEqual(twice.unacknowledged, [12]);
  });

  test('a count beyond what Redis made is unexplained', () => {
    assert.match(visitAccount([get], [answered(json(12))], 10, 11).unexplained[0] ?? '', /had not made/);
  });
});
