/** The score of a target: what became of its mutants, with the listed equivalents taken out. */
import type { Mutant } from './report.js';

export interface Score {
  readonly target: string;
  readonly mutants: number;
  readonly killed: number;
  /** Made the tests run past their allowance: detected (an endless loop, say). */
  readonly timeout: number;
  /** Ran, and every test passed: not listed as equivalent. */
  readonly survived: number;
  /** No test reached the code: not listed as equivalent. */
  readonly noCoverage: number;
  /** Survivors (run or not) the equivalents list explains. */
  readonly equivalent: number;
  /** Dropped by the type checker before any test ran. */
  readonly compileError: number;
  /** Crashed the test runner rather than failing a test; Stryker leaves them out of the score. */
  readonly runtimeError: number;
  /** Detected share of the mutants that could be, in percent; undefined when there are none. */
  readonly percent: number | undefined;
}

/** Counts a target's mutants; `explained` holds the ids of listed equivalents. */
export function scoreOf(target: string, mutants: readonly Mutant[], explained: ReadonlySet<string>): Score {
  const count = (status: Mutant['status']): number =>
    mutants.filter((mutant) => mutant.status === status && !explained.has(mutant.id)).length;
  const equivalent = mutants.filter((mutant) => explained.has(mutant.id)).length;
  const killed = count('Killed');
  const timeout = count('Timeout');
  const survived = count('Survived');
  const noCoverage = count('NoCoverage');
  const valid = killed + timeout + survived + noCoverage;
  return {
    target,
    mutants: mutants.length,
    killed,
    timeout,
    survived,
    noCoverage,
    equivalent,
    compileError: count('CompileError'),
    runtimeError: count('RuntimeError'),
    percent: valid === 0 ? undefined : ((killed + timeout) / valid) * 100,
  };
}

const columns: readonly (readonly [string, (score: Score) => string])[] = [
  ['target', (score) => score.target],
  ['mutants', (score) => String(score.mutants)],
  ['killed', (score) => String(score.killed)],
  ['timeout', (score) => String(score.timeout)],
  ['survived', (score) => String(score.survived)],
  ['no coverage', (score) => String(score.noCoverage)],
  ['equivalent', (score) => String(score.equivalent)],
  ['no compile', (score) => String(score.compileError)],
  ['errors', (score) => String(score.runtimeError)],
  ['score', (score) => (score.percent === undefined ? 'n/a' : `${score.percent.toFixed(1)}%`)],
];

/** The scores as a plain-text table: one row per target, names left-aligned, numbers right. */
export function formatScores(scores: readonly Score[]): string {
  const cells = [columns.map(([title]) => title), ...scores.map((score) => columns.map(([, cell]) => cell(score)))];
  const widths = columns.map((_, index) => Math.max(...cells.map((row) => (row[index] ?? '').length)));
  return cells
    .map((row) => row.map((cell, index) => (index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0))).join('  '))
    .join('\n');
}

/** `file:line:column Mutator: original -> replacement (status)`, the original cut to one short line. */
export function describeMutant(mutant: Mutant): string {
  const short = (text: string): string => {
    const line = text.replace(/\s+/g, ' ').trim();
    return line.length > 70 ? `${line.slice(0, 67)}...` : line;
  };
  return `${mutant.file}:${mutant.line}:${mutant.column} ${mutant.mutator}: ${short(mutant.original)} -> ${short(mutant.replacement)} (${mutant.status})`;
}
