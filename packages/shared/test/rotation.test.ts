import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { pollsToLeave, Rotation, rotationRule, type Arrival } from '../src/index.js';

/** Feeds `rotation` the answers of a round robin over `hosts`, one every `everyMs` from `from`; returns the time after. */
function roundRobin(rotation: Rotation, hosts: readonly string[], polls: number, from: number, everyMs: number): number {
  let at = from;
  for (let index = 0; index < polls; index += 1) {
    at += everyMs;
    rotation.answer(hosts[index % hosts.length]!, at);
  }
  return at;
}

const gone = (rotation: Rotation, now: number): string[] => rotation.sweep(now).map((member) => member.hostname);

describe('the rotation rule', () => {
  test('an instance that stops answering is gone once the others answered 8 times each, and not one poll sooner', () => {
    const rotation = new Rotation(0, ['a', 'b', 'c']);
    const needed = pollsToLeave(3);
    assert.equal(needed, 16, 'two others, 8 answers each');
    // c stops: a and b take every poll, one every 250 ms (so time is never what holds it back).
    let at = roundRobin(rotation, ['a', 'b'], needed - 1, 0, 250);
    assert.deepEqual(gone(rotation, at), []);
    at = roundRobin(rotation, ['a', 'b'], 1, at, 250);
    assert.deepEqual(gone(rotation, at), ['c']);
    assert.deepEqual(gone(rotation, at), [], 'said once');
    assert.deepEqual(rotation.present(), ['a', 'b']);
  });

  test('never in less than 2.5 s, however fast the answers come', () => {
    const rotation = new Rotation(0, ['a', 'b']);
    const at = roundRobin(rotation, ['a'], 100, 0, 10);
    assert.equal(at, 1_000);
    assert.deepEqual(gone(rotation, at), []);
    assert.deepEqual(gone(rotation, rotationRule.minSilentMs - 1), []);
    assert.deepEqual(gone(rotation, rotationRule.minSilentMs), ['b']);
  });

  test('never on time alone: on a loaded machine, a silence of many seconds with few polls is not a departure', () => {
    // chaos kill on a loaded machine: c killed (its probe said so), then a slow poller gets a few
    // answers in 4 s, all from a. b was never asked: it has not left.
    const rotation = new Rotation(0, ['a', 'b', 'c']);
    assert.ok(rotation.leave('c'));
    const at = roundRobin(rotation, ['a'], 5, 0, 800);
    assert.deepEqual(gone(rotation, at), []);
    assert.deepEqual(rotation.present(), ['a', 'b']);
  });

  test('a gap in the round robin of five is not a departure; a longer one is', () => {
    const hosts = ['a', 'b', 'c', 'd', 'e'];
    const rotation = new Rotation(0, hosts);
    // a is passed over for 26 polls (6 or 7 of its turns), then answers again.
    let at = roundRobin(rotation, hosts.slice(1), 26, 0, 100);
    assert.deepEqual(gone(rotation, at), []);
    at = roundRobin(rotation, hosts, 5, at, 100);
    assert.deepEqual(gone(rotation, at), []);
    // Then 32 polls without it: 8 turns of each of the other four.
    at = roundRobin(rotation, hosts.slice(1), pollsToLeave(5), at, 100);
    assert.deepEqual(gone(rotation, at), ['a']);
  });

  test('polls nobody answered count as turns missed: with every instance down, all are gone', () => {
    const rotation = new Rotation(0, ['a', 'b']);
    let at = 0;
    for (let index = 0; index < rotationRule.minPolls; index += 1) rotation.miss((at += 250));
    assert.deepEqual(gone(rotation, at), ['a', 'b']);
    assert.deepEqual(rotation.present(), []);
  });

  test('a gone instance that answers again is back, with its turns counted afresh', () => {
    const rotation = new Rotation(0, ['a', 'b']);
    const at = roundRobin(rotation, ['a'], 12, 0, 250);
    assert.deepEqual(gone(rotation, at), ['b']);
    assert.equal(rotation.answer('b', at + 1), 'back');
    assert.equal(rotation.answer('b', at + 2), undefined);
    assert.deepEqual(rotation.member('b'), { hostname: 'b', firstAnswerAt: 0, lastAnswerAt: at + 2, missed: 0, isNew: false, gone: false });
    assert.equal(rotation.member('a')?.missed, 2);
  });

  test('an instance taken out by a probe stays out until it answers, and is said gone once', () => {
    const rotation = new Rotation(0, ['a', 'b']);
    assert.ok(rotation.leave('b'));
    assert.equal(rotation.leave('b'), false);
    const at = roundRobin(rotation, ['a'], 40, 0, 250);
    assert.deepEqual(gone(rotation, at), []);
    assert.equal(rotation.answer('b', at), 'back');
  });
});

describe('the baseline: who was there all along, and who is new', () => {
  test('every instance answering before the rotation settled is one of the baseline; one after is new', () => {
    const rotation = new Rotation(0);
    assert.equal(rotation.settled, false);
    let at = roundRobin(rotation, ['a', 'b'], 4, 0, 100);
    assert.deepEqual(rotation.members().map((member) => member.isNew), [false, false]);
    // Two instances: settled after 8 answers of each of them, and 2.5 s.
    at = roundRobin(rotation, ['a', 'b'], pollsToLeave(3) - 4, at, 100);
    assert.equal(rotation.settled, false, 'not before 2.5 s');
    at = roundRobin(rotation, ['a', 'b'], 10, at, 100);
    assert.equal(rotation.settled, true);
    assert.equal(rotation.answer('c', at + 1), 'new');
    assert.deepEqual(rotation.baseline(), ['a', 'b']);
    assert.equal(rotation.member('c')?.isNew, true);
  });

  test('on a loaded machine, an instance the first 3 s missed is still one of the baseline, not new', () => {
    // npm run load: a few answers in the first seconds, all from a; b was up all along.
    const rotation = new Rotation(0);
    const arrivals: (Arrival | undefined)[] = [];
    let at = 0;
    for (let index = 0; index < 6; index += 1) arrivals.push(rotation.answer('a', (at += 600)));
    arrivals.push(rotation.answer('b', (at += 600)));
    assert.ok(at > 3_000);
    assert.deepEqual(arrivals, ['baseline', undefined, undefined, undefined, undefined, undefined, 'baseline']);
  });

  test('with nobody answering, it settles on the failed polls: the first to answer later is new', () => {
    const rotation = new Rotation(0);
    let at = 0;
    for (let index = 0; index < rotationRule.minPolls; index += 1) rotation.miss((at += 250));
    assert.equal(rotation.answer('a', at + 250), 'new');
  });

  test('a forgotten instance that answers again is new', () => {
    const rotation = new Rotation(0, ['a', 'b']);
    rotation.forget('b');
    assert.deepEqual(rotation.present(), ['a']);
    assert.equal(rotation.answer('b', 10), 'new');
  });

  test('property: in any round robin, at any pace, nobody leaves and nobody is new', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 300 }), (count, gaps) => {
        const hosts = Array.from({ length: count }, (_, index) => `host-${index}`);
        const rotation = new Rotation(0);
        let at = 0;
        for (const [index, gap] of gaps.entries()) {
          at += gap;
          const arrival = rotation.answer(hosts[index % count]!, at);
          if (arrival === 'new' || arrival === 'back') return false;
          if (rotation.sweep(at).length > 0) return false;
        }
        return true;
      }),
    );
  });
});

describe('when the rotation settles, and what a departure is measured from', () => {
  // A clock far from zero, as performance.now() is after a while: times are differences, never sums.
  const origin = 1_000_000;

  test('not before rotationRule.minSilentMs from the start, however many polls came first; at it, on enough polls', () => {
    const early = new Rotation(origin);
    const at = roundRobin(early, ['a'], 3 * rotationRule.minPolls, origin, 10);
    assert.equal(early.answer('b', at + 10), 'baseline', 'many polls, but not 2.5 s yet');

    const onTime = new Rotation(origin);
    roundRobin(onTime, ['a'], rotationRule.minPolls, origin, 10);
    onTime.sweep(origin + rotationRule.minSilentMs - 1);
    assert.equal(onTime.settled, false);
    onTime.sweep(origin + rotationRule.minSilentMs);
    assert.equal(onTime.settled, true);
  });

  test('the polls it waits for are those that would make one more instance than it knows gone', () => {
    const rotation = new Rotation(origin);
    // a and b known: one more makes three, and 8 turns of each of the two others is 16 polls.
    const needed = pollsToLeave(3);
    assert.ok(needed > pollsToLeave(1), 'more than for one instance fewer');
    let at = roundRobin(rotation, ['a', 'b'], needed - 1, origin, 250);
    assert.ok(at - origin >= rotationRule.minSilentMs, 'time is not what holds it back');
    rotation.sweep(at);
    assert.equal(rotation.settled, false);
    at = roundRobin(rotation, ['a', 'b'], 1, at, 250);
    rotation.sweep(at);
    assert.equal(rotation.settled, true);
  });

  test("an instance's silence is measured from its own last answer", () => {
    const rotation = new Rotation(origin, ['a', 'b']);
    const at = roundRobin(rotation, ['a'], pollsToLeave(2), origin, 10);
    assert.deepEqual(gone(rotation, at), [], 'enough polls, but b was silent for less than 2.5 s');
    assert.deepEqual(gone(rotation, origin + rotationRule.minSilentMs), ['b']);
  });

  test("a gone instance's missed turns stop counting where they made it gone", () => {
    const rotation = new Rotation(origin, ['a', 'b']);
    let at = roundRobin(rotation, ['a'], pollsToLeave(2), origin, 250);
    assert.deepEqual(gone(rotation, at), ['b']);
    const missed = rotation.member('b')?.missed;
    assert.equal(missed, pollsToLeave(2));
    at = roundRobin(rotation, ['a'], 3, at, 250);
    rotation.miss(at + 250);
    assert.equal(rotation.member('b')?.missed, missed);
    assert.equal(rotation.member('a')?.missed, 1, 'while a present one counts the failed poll');
  });
});
