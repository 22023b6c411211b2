import { checkEquivalents, type Equivalent, type EquivalentsCheck } from './equivalents.js';
import type { Mutant } from './report.js';
import { scoreOf, type Score } from './score.js';
import { isSourceOf, type Target } from './targets.js';

export interface TargetResult {
  readonly score: Score;
  /** Survivors (run or not) that no test kills and the list does not explain: each fails the run. */
  readonly unexplained: readonly Mutant[];
}

export interface Verdict extends Omit<EquivalentsCheck, 'explained'> {
  readonly results: readonly TargetResult[];
  /** No unexplained survivor, and the equivalents list is true for the code that ran. */
  readonly ok: boolean;
}

/**
 * Scores each target from the mutants of the packages that ran, with the listed equivalents
 * subtracted. Only entries for the targets' sources are checked: the rest of the list belongs to
 * targets that did not run.
 */
export function judge(selected: readonly Target[], mutants: readonly Mutant[], equivalents: readonly Equivalent[]): Verdict {
  const inScope = equivalents.filter((entry) => selected.some((target) => isSourceOf(target, entry.file)));
  const { explained, stale, ambiguous, detected, timedOut } = checkEquivalents(inScope, mutants);
  const results = selected.map((target) => {
    const own = mutants.filter((mutant) => isSourceOf(target, mutant.file));
    return {
      score: scoreOf(target.name, own, explained),
      unexplained: own.filter((mutant) => (mutant.status === 'Survived' || mutant.status === 'NoCoverage') && !explained.has(mutant.id)),
    };
  });
  const ok = results.every((result) => result.unexplained.length === 0) && stale.length + ambiguous.length + detected.length === 0;
  return { results, stale, ambiguous, detected, timedOut, ok };
}
