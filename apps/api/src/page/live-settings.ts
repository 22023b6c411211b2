/**
 * What the live page does, in numbers both its HTML states (page.ts) and its script acts on
 * (script/): written here once. No import: the browser bundle takes this file as it is.
 */
export const liveSettings = {
  /** The page asks /instance this often through the edge, one request at a time. */
  pollEveryMs: 250,
  /** Each instance's share is of the answers in this window. */
  shareWindowMs: 10_000,
  /** A newcomer keeps its "new" badge this long. */
  newForMs: 6_000,
  /** An instance silent this long leaves the list. */
  forgetAfterMs: 60_000,
  /** The Redis line says "as of ..." once the last answer is this old. */
  staleAfterMs: 3_000,
  /** A replicated Redis: the Redis line names the last failover this long after it. */
  failoverShownMs: 60_000,
  /**
   * An instance that still names the master a failover replaced, this soon after, has not caught
   * up yet: a view behind the others, not a failover back.
   */
  staleMasterMs: 10_000,
  /** The burst button: this many visits, this many at a time. */
  burst: { size: 20, parallel: 4 },
  load: {
    /** Browsers open six connections per origin: load keeps two free for the polls and the buttons. */
    parallel: 4,
    /** The throughput shown is over this window. */
    windowMs: 5_000,
    defaultMs: 200,
    defaultRate: 5,
    maxRate: 50,
  },
} as const;

const words = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

/** "four": small counts read better in words in a sentence. */
export function inWords(count: number): string {
  return words[count] ?? String(count);
}
