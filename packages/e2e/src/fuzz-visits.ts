/**
 * The fuzz suite's account of visits: every count Redis made during a run must be shown to the
 * client that asked for it, and no answer may show a count that was not made for it. Counting
 * answers alone is not exact: a replayed Idempotency-Key is answered with the count its first use
 * made, without a new one (the tiers share a Redis, and the same keys come back in every tier's
 * run), and nginx answers an HTTP/0.9 GET /redis with the count but without a status line.
 */
import { headerNames, tokenRegExp } from '@three-tier/shared';
import type { FuzzCase, Outcome } from './fuzz.js';
import { requestFacts } from './fuzz-tiers.js';

const jsonCount = /^\{"hits":(\d+),/;
const pageCount = /<p class="big" id="hits">(\d+)<\/p>/;

/** The count a 200 body shows: the counter's JSON, or the page; undefined for any other body. */
function countIn(body: string, contentType: string | undefined): number | undefined {
  const match = contentType?.startsWith('application/json') ? jsonCount.exec(body) : contentType?.startsWith('text/html') ? pageCount.exec(body) : null;
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * The counts one case's answers showed: each 200 from GET /redis or /html, and an HTTP/0.9 reply
 * (a body without a status line) that is the counter's JSON or the page.
 */
export function countsShown(outcome: Outcome): number[] {
  const shown = outcome.answers.flatMap((answer) => {
    const count = answer.status === 200 ? countIn(answer.body, answer.headers['content-type']) : undefined;
    return count === undefined ? [] : [count];
  });
  if (outcome.answers.length === 0 && !outcome.silent) {
    const count = countIn(outcome.unparsed, jsonCount.test(outcome.unparsed) ? 'application/json' : 'text/html');
    if (count !== undefined) shown.push(count);
  }
  return shown;
}

/** The Idempotency-Key a case sends that the tiers take (the first, a token), if any. */
function idempotencyKeyOf(fuzzCase: FuzzCase): string | undefined {
  const key = requestFacts(fuzzCase.bytes).headers.find((header) => header.name === headerNames.idempotencyKey.toLowerCase())?.value;
  return key !== undefined && tokenRegExp.test(key) ? key : undefined;
}

export interface VisitAccount {
  /** Counts Redis made during the run that no answer showed. */
  readonly unacknowledged: readonly number[];
  /** Answers showing a count they cannot have been given, each with why. */
  readonly unexplained: readonly string[];
  /** Counts made during the run and shown. */
  readonly acknowledged: number;
  /** Answers that showed a count another answer, or an earlier run, was given: an Idempotency-Key replayed. */
  readonly replays: number;
}

/**
 * Checks the counts the answers showed against Redis's count `before` and `after` a run. Each
 * count made in between must be shown; a case without an Idempotency-Key must show a count made
 * in between that no other such case shows; a case with one may show one made earlier (a replay).
 */
export function visitAccount(cases: readonly FuzzCase[], outcomes: readonly Outcome[], before: number, after: number): VisitAccount {
  const shown = new Set<number>();
  const unkeyed = new Set<number>();
  const unexplained: string[] = [];
  let explained = 0;
  for (const [index, outcome] of outcomes.entries()) {
    const fuzzCase = cases[index];
    if (fuzzCase === undefined) continue;
    const keyed = idempotencyKeyOf(fuzzCase) !== undefined;
    const request = JSON.stringify(fuzzCase.bytes.toString('latin1').slice(0, 100));
    for (const count of countsShown(outcome)) {
      if (count > after) unexplained.push(`shows ${count}, a count Redis had not made (${after} after the run): ${request}`);
      else if (!keyed && count <= before) unexplained.push(`shows ${count}, made before the run (${before}), without an Idempotency-Key: ${request}`);
      else if (!keyed && unkeyed.has(count)) unexplained.push(`shows ${count}, as another answer does, without an Idempotency-Key: ${request}`);
      else {
        explained += 1;
        if (!keyed) unkeyed.add(count);
        if (count > before) shown.add(count);
      }
    }
  }
  const unacknowledged = Array.from({ length: Math.max(0, after - before) }, (_, i) => before + 1 + i).filter((count) => !shown.has(count));
  return { unacknowledged, unexplained, acknowledged: shown.size, replays: explained - shown.size };
}
