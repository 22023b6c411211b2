#!/usr/bin/env node
/**
 * mutation-test (`npm run mutate`): runs Stryker on the code that carries the guarantees, package by
 * package, and prints each target's score with the listed equivalent mutants taken out. Exits 1 when
 * a survivor is neither killed nor listed in equivalents.json, when an entry there is stale, or when
 * Stryker fails.
 */
import { readFile } from 'node:fs/promises';
import { exitWith, parseCommandLine, repoRoot } from '@three-tier/cli-kit';
import { runCommand } from '@three-tier/processes';
import { parseDuration } from '@three-tier/test-files';
import { changedTargets } from './changed.js';
import { parseEquivalents, type Equivalent } from './equivalents.js';
import type { Mutant } from './report.js';
import { runPackage } from './run-package.js';
import { describeMutant, formatScores } from './score.js';
import { groupByPackage, selectTargets, targets, type Target } from './targets.js';
import { judge, type Verdict } from './verdict.js';

const usage = `usage: mutation-test [target ...] [--changed <git-base>] [--concurrency 2] [--file-timeout 2m]

Mutates the code that carries the guarantees with Stryker and runs the tests of the package that
owns it against each mutant. Prints the score per target and every survivor that is neither killed
nor listed, with its reason, in packages/mutation/equivalents.json; exits 1 if there is any, or if
an entry there no longer matches a surviving mutant. Reports: reports/mutation/<package>/index.html
and mutation.json.

  target          ${targets.map((target) => target.name).join(', ')},
                  or a package for all of its targets (api); all of them by default
  --changed BASE  of those, only the ones whose sources or package tests changed since the merge
                  base of BASE and HEAD (committed or not); nothing to do is a success
  --concurrency   Stryker's worker processes (default 2: the machines here have two cores)
  --file-timeout  wall-clock limit per test file run (default 2m), as npm test has
  -h, --help      this text
`;

const cli = { program: 'mutation-test', usage };

const { values, positionals } = parseCommandLine(cli, {
  changed: { type: 'string' },
  concurrency: { type: 'string' },
  'file-timeout': { type: 'string' },
});
const concurrency = Number(values.concurrency ?? '2');
if (!Number.isInteger(concurrency) || concurrency < 1) exitWith(cli, `--concurrency must be a positive integer: ${values.concurrency ?? ''}`, 2);
const fileTimeoutMs = parseDuration(values['file-timeout'] ?? '2m');
if (fileTimeoutMs === undefined) exitWith(cli, `--file-timeout is not a duration: ${values['file-timeout'] ?? ''}`, 2);

/** Paths (from the repository root) that differ between the merge base with `base` and the work tree. */
async function changedFiles(base: string): Promise<string[]> {
  const git = async (...args: string[]): Promise<string> => {
    const result = await runCommand('git', args, { cwd: repoRoot });
    if (result.code !== 0) exitWith(cli, `git ${args.join(' ')} failed: ${result.stderr.trim()}`);
    return result.stdout;
  };
  const mergeBase = (await git('merge-base', base, 'HEAD')).trim();
  const tracked = await git('diff', '--name-only', mergeBase);
  const untracked = await git('ls-files', '--others', '--exclude-standard');
  return [...tracked.split('\n'), ...untracked.split('\n')].filter((line) => line !== '');
}

let selected: Target[];
try {
  const named = selectTargets(positionals);
  selected = values.changed === undefined ? named : changedTargets(await changedFiles(values.changed), named);
} catch (error) {
  exitWith(cli, error instanceof Error ? error.message : String(error), 2);
}
if (selected.length === 0) {
  process.stdout.write(`mutation-test: no selected target's sources or tests changed since ${values.changed ?? ''}: nothing to mutate\n`);
  process.exit(0);
}

let equivalents: Equivalent[];
try {
  equivalents = parseEquivalents(JSON.parse(await readFile(new URL('../../equivalents.json', import.meta.url), 'utf8')));
} catch (error) {
  exitWith(cli, error instanceof Error ? error.message : String(error));
}

// A signal stops Stryker (and everything it started) before this process goes.
let cancel: () => void = () => undefined;
const cancelled = new Promise<void>((resolve) => (cancel = resolve));
let stoppedBy: NodeJS.Signals | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stoppedBy = signal;
    cancel();
  });
}

function minutes(ms: number): string {
  const seconds = Math.round(ms / 1_000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

process.stdout.write(`mutation-test: ${selected.map((target) => target.name).join(', ')}; concurrency ${concurrency}\n`);
const mutants: Mutant[] = [];
const failures: string[] = [];
const timings: string[] = [];
for (const { pkg, targets: own } of groupByPackage(selected)) {
  if (stoppedBy) break;
  process.stdout.write(`\nmutation-test: ${pkg.name} (${own.map((target) => target.name).join(', ')})\n`);
  for (const [file, why] of Object.entries(pkg.leftOut)) process.stdout.write(`mutation-test: left out ${pkg.dir}/${file}: ${why}\n`);
  const run = await runPackage(pkg, own, {
    repoRoot,
    concurrency,
    fileTimeoutMs,
    cancelled,
    onLine: (line) => process.stdout.write(`[${pkg.name}] ${line}\n`),
  });
  timings.push(`${pkg.name} ${minutes(run.durationMs)} (report: ${run.reportDir}/index.html)`);
  if (run.mutants) mutants.push(...run.mutants);
  if (run.failure) failures.push(`${pkg.name}: ${run.failure}`);
}
if (stoppedBy) {
  process.stderr.write(`mutation-test: stopped by ${stoppedBy}\n`);
  process.exit(stoppedBy === 'SIGINT' ? 130 : 143);
}

function printVerdict(verdict: Verdict): void {
  const out: string[] = ['', formatScores(verdict.results.map((result) => result.score)), ''];
  for (const { score, unexplained } of verdict.results) {
    if (unexplained.length === 0) continue;
    out.push(`${score.target}: ${unexplained.length} survivors neither killed nor listed as equivalent:`);
    out.push(...unexplained.map((mutant) => `  ${describeMutant(mutant)}`), '');
  }
  const at = (item: Equivalent): string => (item.line === undefined ? '' : `:${item.line}${item.column === undefined ? '' : `:${item.column}`}`);
  const entry = (item: Equivalent): string => `${item.file}${at(item)} ${item.mutator} -> ${item.replacement}`;
  for (const item of verdict.stale) out.push(`stale equivalent (no surviving mutant matches it): ${entry(item)}`);
  for (const { entry: item, mutants: matches } of verdict.ambiguous) out.push(`ambiguous equivalent (matches ${matches.length} mutants; add a line or column): ${entry(item)}`);
  for (const { entry: item, mutant } of verdict.detected) {
    out.push(`listed as equivalent, yet ${mutant.killedBy.join(', ') || 'a test'} detects it (${mutant.status}): ${entry(item)}`);
  }
  for (const { entry: item } of verdict.timedOut) out.push(`listed as equivalent, and timed out (a busy machine; counted as listed): ${entry(item)}`);
  out.push(...timings.map((line) => `took: ${line}`));
  process.stdout.write(`${out.join('\n')}\n`);
}

const verdict = judge(selected, mutants, equivalents);
printVerdict(verdict);
for (const failure of failures) process.stderr.write(`mutation-test: ${failure}\n`);
if (!verdict.ok || failures.length > 0) process.exitCode = 1;
