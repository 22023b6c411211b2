/**
 * Who is in an edge's rotation, judged from the answers that come back through it: the one rule the
 * live page, `npm run load` and `npm run chaos` use to say an instance is new or gone.
 *
 * The edge hands requests out in turn, so an instance that is gone is one that has missed many of
 * its turns while the others answered. Turns are counted in polls, not seconds: a slow poller or a
 * loaded machine changes when a departure is seen, never whether. A fixed silence (2.5 s) once
 * called one of five replicas gone for a gap in nginx's round robin.
 */

export const rotationRule = {
  /** An instance is gone once the others have answered this many times each since its last answer... */
  turnsMissed: 8,
  /** ...and never on fewer polls than this (a failed poll is a turn nobody took)... */
  minPolls: 12,
  /** ...nor in less time than this. */
  minSilentMs: 2_500,
} as const;

/** The polls, answered or not, after which an instance's silence means it is gone, among `present`. */
export function pollsToLeave(present: number): number {
  return Math.max(rotationRule.minPolls, rotationRule.turnsMissed * (present - 1));
}

/** What an answer said about its instance: one of the first seen, a newcomer, or back after it was gone. */
export type Arrival = 'baseline' | 'new' | 'back';

export interface Member {
  readonly hostname: string;
  readonly firstAnswerAt: number;
  readonly lastAnswerAt: number;
  /** Polls since its last answer that another instance answered, or nobody did. */
  readonly missed: number;
  /** First answered once the rotation had settled: it came up while watched. */
  readonly isNew: boolean;
  readonly gone: boolean;
}

type MutableMember = { -readonly [Key in keyof Member]: Member[Key] };

/**
 * The rotation as seen from the answers fed to it. Pure: it reads no clock, every call says when.
 *
 * Until it has settled, every instance that answers is one of the baseline, there all along: it
 * settles once an instance that never answered would be gone by the rule above (the polls counted
 * from the start, and the time), so a gap in the round robin at the start is not taken for an
 * instance coming up later.
 */
export class Rotation {
  readonly #members = new Map<string, MutableMember>();
  readonly #startedAt: number;
  #polls = 0;
  #settled: boolean;

  /**
   * Watches from `startedAt`. `present`: instances already known to be in the rotation (a baseline
   * taken before); with them, the rotation starts settled and counts their turns from `startedAt`.
   */
  constructor(startedAt: number, present?: Iterable<string>) {
    this.#startedAt = startedAt;
    for (const hostname of present ?? []) {
      this.#members.set(hostname, { hostname, firstAnswerAt: startedAt, lastAnswerAt: startedAt, missed: 0, isNew: false, gone: false });
    }
    this.#settled = this.#members.size > 0;
  }

  /** True once the baseline is complete: an instance that answers for the first time from now on is new. */
  get settled(): boolean {
    return this.#settled;
  }

  /** An answer from `hostname` at `at`: a turn it took, and one every other instance missed. */
  answer(hostname: string, at: number): Arrival | undefined {
    this.#settle(at);
    this.#polls += 1;
    for (const member of this.#members.values()) if (member.hostname !== hostname && !member.gone) member.missed += 1;
    const member = this.#members.get(hostname);
    if (!member) {
      const isNew = this.#settled;
      this.#members.set(hostname, { hostname, firstAnswerAt: at, lastAnswerAt: at, missed: 0, isNew, gone: false });
      return isNew ? 'new' : 'baseline';
    }
    member.lastAnswerAt = Math.max(member.lastAnswerAt, at);
    member.missed = 0;
    if (!member.gone) return undefined;
    member.gone = false;
    return 'back';
  }

  /** A poll that no instance answered (the edge failed it): a turn every instance missed. */
  miss(at: number): void {
    this.#settle(at);
    this.#polls += 1;
    for (const member of this.#members.values()) if (!member.gone) member.missed += 1;
  }

  /** The instances that left as of `now`, each said once: call it after each poll, or on a clock. */
  sweep(now: number): Member[] {
    this.#settle(now);
    const needed = pollsToLeave(this.present().length);
    const left: Member[] = [];
    for (const member of this.#members.values()) {
      if (member.gone || member.missed < needed || now - member.lastAnswerAt < rotationRule.minSilentMs) continue;
      member.gone = true;
      left.push({ ...member });
    }
    return left;
  }

  /** Takes `hostname` out now, on better knowledge than the answers (a direct probe found it down). */
  leave(hostname: string): boolean {
    const member = this.#members.get(hostname);
    if (!member || member.gone) return false;
    member.gone = true;
    return true;
  }

  /** Drops `hostname` altogether: should it answer again, it is new. */
  forget(hostname: string): void {
    this.#members.delete(hostname);
  }

  member(hostname: string): Member | undefined {
    const member = this.#members.get(hostname);
    return member ? { ...member } : undefined;
  }

  /** Every instance it knows, present or gone, in the order they first answered. */
  members(): Member[] {
    return [...this.#members.values()].map((member) => ({ ...member }));
  }

  /** The hostnames in the rotation now. */
  present(): string[] {
    return [...this.#members.values()].filter((member) => !member.gone).map((member) => member.hostname);
  }

  /** The hostnames that answered before the rotation settled. */
  baseline(): string[] {
    return [...this.#members.values()].filter((member) => !member.isNew).map((member) => member.hostname);
  }

  #settle(now: number): void {
    if (this.#settled || now - this.#startedAt < rotationRule.minSilentMs) return;
    // An instance not seen yet would be one more in the rotation: the polls that would make it gone.
    if (this.#polls >= pollsToLeave(this.#members.size + 1)) this.#settled = true;
  }
}
