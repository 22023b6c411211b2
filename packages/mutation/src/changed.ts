import { isSourceOf, targets, type Target } from './targets.js';

/**
 * The targets a change touches: one of their sources changed, or a test of their package did (a
 * weaker test lets a mutant survive as surely as new code does). `files` are paths from the
 * repository root, as `git diff --name-only` prints them.
 */
export function changedTargets(files: readonly string[], candidates: readonly Target[] = targets): Target[] {
  return candidates.filter((target) =>
    files.some((file) => isSourceOf(target, file) || file.startsWith(`${target.packageDir}/test/`)),
  );
}
