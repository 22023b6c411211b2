/**
 * The verdict on visits that failed while a member of the replicated Redis was killed: which of
 * them the fault explains, and which the machine does. Pure: it reads the timed tries of a
 * VisitLoad and what the api logged under each request id, so its rules are tested without a set.
 */
import type { ApiFailure, Attempt } from './replicated-redis.js';

/**
 * Reasons that say the master answered late, which a replica's or a Sentinel's death cannot cause:
 * Redis ran the count past its deadline (half of REDIS_TIMEOUT_MS after it was sent), or the count
 * and its WAIT took longer than REDIS_TIMEOUT_MS together (WAIT gives up after 200 ms, so only a
 * master that stalled takes that long), which drops the connection. Matched whole, as the api
 * logs them (`type: message`): a replica that failed to confirm says so in other words
 * (`N of N replicas`), and is judged below.
 */
const late = /^TooLateError: |^\w+Error: (?:.*: )?Command timed out$/;
/**
 * What a connection the api dropped leaves behind: commands in flight on it (max retries), and
 * counts refused while it reconnects through the Sentinels. Late too, within this long after a late
 * answer on the same instance (a reconnect took over 2 s on a host at load average 28).
 */
const reconnecting = /^NotCountedError: the visit was not counted: not connected to the master|Reached the max retries per request limit|Stream isn't writeable/;
const reconnectMs = 5_000;
/** No replica confirmed the count within WAIT's timeout, in the api's words (digits as N). */
const replicaLate = /^UnconfirmedCountError: .*: N of N replicas within N ms$/;
/**
 * A replica that paused once (its fsync behind another container's writes, its CPU taken) fails
 * the tries in flight during the pause, all started within this of each other, and each visit's
 * next try, 25 ms later, gets its 200. A replica the count still waits for while it is away fails
 * every try of every visit for as long as it is away: retries included, for seconds.
 */
const oneReplicaPauseMs = 1_000;

/** What `unexplainedFailures` found: the tries nothing explains, and a line for the report. */
export interface FailoverVerdict {
  readonly unexplained: string[];
  readonly summary: string;
}

/**
 * The tries that failed from `since` on (performance.now) that neither the machine nor the same
 * load before it, with no fault, explains. A loaded machine fails a few visits with no fault at
 * all: the master answers late (`late`, as the api logged it) and the api drops the connection and
 * refuses counts until it is back. Those are the machine's wherever they fall. So is one pause of a
 * replica (`oneReplicaPauseMs`): a few tries of distinct visits, each retried with a 200. Any other
 * failure is explained only if one of its reason failed before `since`, and only as many as three
 * times the earlier rate predicts for the later tries: a member's death that failed visits would
 * fail every try for the seconds it lasts, far more. With no such failure before `since`, none is
 * allowed.
 */
export function unexplainedFailures(
  attempts: readonly Attempt[],
  since: number,
  events: readonly { what: string; at: number }[],
  logged: ReadonlyMap<string, ApiFailure>,
): FailoverVerdict {
  const loggedValues = [...logged.values()];
  const reason = (attempt: Attempt): string => {
    const failure = attempt.requestId === undefined ? undefined : logged.get(attempt.requestId);
    // No log line under its id (no answer from the api, or nginx's own): its status and words.
    if (!failure) return `${String(attempt.status)} ${attempt.detail.replace(/\d+/g, 'N')}`;
    const afterLate = reconnecting.test(failure.reason) && loggedValues.some((other) => other.instance === failure.instance && late.test(other.reason) && other.at <= failure.at && failure.at - other.at <= reconnectMs);
    const kind = failure.reason.replace(/\d+/g, 'N');
    return late.test(failure.reason) || afterLate ? `late (${kind})` : kind;
  };
  const failed = (attempt: Attempt) => attempt.status !== 200 && !reason(attempt).startsWith('late');
  const ended = (attempt: Attempt) => attempt.startedAt + attempt.ms;
  const calm = attempts.filter((attempt) => ended(attempt) < since);
  const faulty = attempts.filter((attempt) => ended(attempt) >= since);
  const calmFailed = calm.filter(failed);
  const kinds = new Set(calmFailed.map(reason));
  const pause = replicaPause(faulty, (attempt) => failed(attempt) && replicaLate.test(reason(attempt)));
  const faultyFailed = faulty.filter((attempt) => failed(attempt) && !pause.includes(attempt));
  const allowed = calm.length === 0 ? 0 : Math.ceil((3 * calmFailed.length * faulty.length) / calm.length);
  const ofKnownKind = faultyFailed.filter((attempt) => kinds.has(reason(attempt)));
  const unexplainedAttempts = [...faultyFailed.filter((attempt) => !kinds.has(reason(attempt))), ...ofKnownKind.slice(allowed)];
  const when = (at: number) => events.map((event) => `${(at - event.at).toFixed(0)} ms after ${event.what}`).join(', ');
  const count = (some: readonly Attempt[]) => {
    const byKind = new Map<string, number>();
    for (const attempt of some.filter((candidate) => candidate.status !== 200)) byKind.set(reason(attempt), (byKind.get(reason(attempt)) ?? 0) + 1);
    return [...byKind].map(([kind, times]) => `${String(times)}x ${kind}`).join('; ') || 'none';
  };
  const paused = pause.length === 0 ? '' : `; one replica pause excused: ${String(pause.length)} tries within ${String(oneReplicaPauseMs)} ms, each visit's next try a 200`;
  return {
    unexplained: unexplainedAttempts.map((attempt) => `${logged.has(attempt.requestId ?? '') ? `${String(attempt.status)} ` : ''}${reason(attempt)} (${attempt.ms.toFixed(0)} ms long, started ${when(attempt.startedAt)})`),
    summary:
      `with no fault ${String(calm.filter((attempt) => attempt.status !== 200).length)} of ${String(calm.length)} tries failed (${count(calm)}); ` +
      `with the faults ${String(faulty.filter((attempt) => attempt.status !== 200).length)} of ${String(faulty.length)} (${count(faulty)}); ` +
      `${String(allowed)} of the kinds seen with no fault allowed, besides the late ones${paused}`,
  };
}

/**
 * The tries `isReplicaLate` picks out of `faulty`, if they are one pause of a replica: all started
 * within `oneReplicaPauseMs` of the first, and each the only failed try of its visit, the visit's
 * next try a 200. Otherwise none: they are judged like any other failure.
 */
function replicaPause(faulty: readonly Attempt[], isReplicaLate: (attempt: Attempt) => boolean): Attempt[] {
  const picked = faulty.filter(isReplicaLate);
  const first = Math.min(...picked.map((attempt) => attempt.startedAt));
  const withinOnePause = picked.every((attempt) => attempt.startedAt - first <= oneReplicaPauseMs);
  const retriedOnce = picked.every((attempt) => {
    const tries = faulty.filter((other) => other.key === attempt.key).sort((a, b) => a.startedAt - b.startedAt);
    const next = tries[tries.indexOf(attempt) + 1];
    return tries.filter((other) => other.status !== 200).length === 1 && next?.status === 200;
  });
  return withinOnePause && retriedOnce ? picked : [];
}
