/**
 * Equivalent mutants: changes no test can notice because they cannot change behaviour. Each is
 * listed with its reason in equivalents.json and subtracted from the survivors. An entry that
 * matches no mutant any more (the code moved on), or a mutant a test does detect, fails the run:
 * the list must stay true, not grow into a place where survivors hide.
 */
import { z } from 'zod';
import type { Mutant } from './report.js';

const entrySchema = z
  .object({
    /** From the repository root. */
    file: z.string().regex(/^(apps|packages)\/[^/]+\/src\/.+\.ts$/, { error: 'must be a source file, e.g. apps/api/src/http/problem.ts' }),
    /** Stryker's mutator name, e.g. ConditionalExpression. */
    mutator: z.string().min(1),
    /** The source text the mutant replaces; whitespace runs count as one space. */
    original: z.string().min(1).optional(),
    replacement: z.string(),
    /** The line the replaced text starts on, when the text alone is not unique. */
    line: z.number().int().min(1).optional(),
    /** Its column (1-based), when the line is not enough either. */
    column: z.number().int().min(1).optional(),
    /** Why no behaviour can change: what a reader needs to agree without running anything. */
    reason: z.string().min(20, { error: 'must say why the change cannot alter behaviour' }),
  })
  .strict()
  .refine((entry) => entry.original !== undefined || entry.line !== undefined, {
    error: 'needs original (the replaced text) or line',
  })
  .refine((entry) => entry.column === undefined || entry.line !== undefined, { error: 'a column needs its line' });

export const equivalentsSchema = z.array(entrySchema);

export type Equivalent = z.output<typeof entrySchema>;

/** The list, or an error naming each bad entry by its index. */
export function parseEquivalents(json: unknown): Equivalent[] {
  const result = equivalentsSchema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `[${issue.path.join('.')}] ${issue.message}`);
  throw new Error(`equivalents.json is not valid:\n  ${problems.join('\n  ')}`);
}

function normalized(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Whether an entry describes a mutant. */
export function describes(entry: Equivalent, mutant: Mutant): boolean {
  return (
    entry.file === mutant.file &&
    entry.mutator === mutant.mutator &&
    entry.replacement === mutant.replacement &&
    (entry.line === undefined || entry.line === mutant.line) &&
    (entry.column === undefined || entry.column === mutant.column) &&
    (entry.original === undefined || normalized(entry.original) === normalized(mutant.original))
  );
}

export interface EquivalentsCheck {
  /** Mutant ids the list explains. */
  readonly explained: ReadonlySet<string>;
  /** Entries that match no surviving mutant: the code changed under them. */
  readonly stale: readonly Equivalent[];
  /** Entries that match more than one mutant: add a line (and a column). */
  readonly ambiguous: readonly { readonly entry: Equivalent; readonly mutants: readonly Mutant[] }[];
  /** Listed as equivalent, yet a test detects it: then it is not equivalent. */
  readonly detected: readonly { readonly entry: Equivalent; readonly mutant: Mutant }[];
  /**
   * Listed, and its tests ran past their allowance (twice their time, plus 15 s) with none failing:
   * explained all the same, and said. On a busy machine equivalent mutants time out, and failing
   * on them would fail runs on load; a change that truly hangs the code is no equivalent, which
   * its entry's reason must then answer for.
   */
  readonly timedOut: readonly { readonly entry: Equivalent; readonly mutant: Mutant }[];
}

/**
 * Matches the entries for the files that were mutated against the mutants. Pass only entries
 * whose file was part of the run, or every other entry would look stale.
 */
export function checkEquivalents(entries: readonly Equivalent[], mutants: readonly Mutant[]): EquivalentsCheck {
  const explained = new Set<string>();
  const stale: Equivalent[] = [];
  const ambiguous: { entry: Equivalent; mutants: Mutant[] }[] = [];
  const detected: { entry: Equivalent; mutant: Mutant }[] = [];
  const timedOut: { entry: Equivalent; mutant: Mutant }[] = [];
  for (const entry of entries) {
    const matches = mutants.filter((mutant) => describes(entry, mutant));
    const [mutant] = matches;
    if (mutant === undefined) stale.push(entry);
    else if (matches.length > 1) ambiguous.push({ entry, mutants: matches });
    else if (mutant.status === 'Killed') detected.push({ entry, mutant });
    else if (mutant.status === 'Survived' || mutant.status === 'NoCoverage' || mutant.status === 'Timeout') {
      explained.add(mutant.id);
      if (mutant.status === 'Timeout') timedOut.push({ entry, mutant });
    }
    // Dropped before any test ran (it did not compile, say): nothing left to explain.
    else stale.push(entry);
  }
  return { explained, stale, ambiguous, detected, timedOut };
}
