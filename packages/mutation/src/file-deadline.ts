/**
 * Preloaded (`--import <this file>?ms=N`) into every test file Stryker runs: the wall-clock limit
 * run-test-files gives each file under `npm test`, which Stryker's tap runner, starting the files
 * itself, does not. Past it the file bails out naming itself, and exits 1 (Stryker's hook still
 * records its coverage on exit). In a mutant's run Stryker's own, shorter timeout comes first; this
 * one bounds the initial run, where a hang would otherwise last Stryker's whole dry-run limit and
 * never say which file hung. A preload exists for its side effect: arming the timer is the point.
 */
const limitMs = Number(new URL(import.meta.url).searchParams.get('ms'));
if (!Number.isInteger(limitMs) || limitMs <= 0) throw new Error(`file-deadline: ?ms= must be a positive integer, got ${import.meta.url}`);

const file = process.argv[1] ?? 'the test file';
setTimeout(() => {
  const message = `${file} did not finish within ${limitMs / 1_000} s`;
  process.stdout.write(`\nBail out! ${message}\n`);
  process.stderr.write(`file-deadline: ${message}\n`);
  process.exit(1);
}, limitMs).unref();
