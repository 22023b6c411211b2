/**
 * The mutants of a Stryker JSON report (mutation-testing-report-schema), flattened to what the
 * score and the equivalents list need: where, what changed into what, and what became of it.
 */
import type { MutantStatus, MutationTestResult } from 'mutation-testing-report-schema/api';

export type { MutantStatus, MutationTestResult };

export interface Mutant {
  readonly id: string;
  /** From the repository root, as Stryker ran from there. */
  readonly file: string;
  readonly mutator: string;
  /** Where the replaced text starts, 1-based, as in the report and in an editor. */
  readonly line: number;
  readonly column: number;
  /** The source text the mutant replaced. */
  readonly original: string;
  readonly replacement: string;
  readonly status: MutantStatus;
  /** The tests (for the tap runner, test files) that killed it, when one did. */
  readonly killedBy: readonly string[];
}

/** The offset of a 1-based line and column in `source`. */
function offsetOf(lineStarts: readonly number[], line: number, column: number): number {
  return (lineStarts[line - 1] ?? 0) + column - 1;
}

function lineStartsOf(source: string): number[] {
  const starts = [0];
  for (let i = 0; i < source.length; i += 1) if (source[i] === '\n') starts.push(i + 1);
  return starts;
}

/** Every mutant of the report, file by file in the report's order. */
export function mutantsOf(report: MutationTestResult): Mutant[] {
  // The report names tests by id; the tap runner's tests are whole files.
  const testNames = new Map(
    Object.values(report.testFiles ?? {}).flatMap((testFile) => testFile.tests.map((test) => [test.id, test.name] as const)),
  );
  return Object.entries(report.files).flatMap(([file, result]) => {
    const starts = lineStartsOf(result.source);
    return result.mutants.map((mutant) => {
      const { start, end } = mutant.location;
      return {
        id: mutant.id,
        file,
        mutator: mutant.mutatorName,
        line: start.line,
        column: start.column,
        original: result.source.slice(offsetOf(starts, start.line, start.column), offsetOf(starts, end.line, end.column)),
        replacement: mutant.replacement ?? '',
        status: mutant.status,
        killedBy: (mutant.killedBy ?? []).map((id) => testNames.get(id) ?? id),
      };
    });
  });
}
