#!/usr/bin/env node
/**
 * run-test-files (every package's `npm test`): runs each compiled test file in its own process group
 * under a wall-clock limit, and exits 1 when a file fails, hangs, or ran no tests, or when there are
 * no test files at all. Under CI (CI=true) a skipped test fails its file too: CI runs every test.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatDuration, parseDuration } from './duration.js';
import { runFiles } from './run-files.js';

/** Failed tests named again in the last summary, per file. */
const shownFailures = 5;

const usage = `usage: run-test-files [--file-timeout 2m] [--concurrency 1] [dir or file ...]

Runs every *.test.js in the given folders (default dist-test/test) with node's spec reporter, one
process group per file, and prints each file's output whole, in order.

  --file-timeout  wall-clock limit per file (90s, 2m, 1500ms); past it the file's process group is
                  killed and its last output printed. TEST_FILE_TIMEOUT overrides it (a slow machine).
  --concurrency   files run at once (default 1)

Under CI=true a skipped or todo test fails its file: a missing prerequisite must fail, not skip.
  -h, --help      this text
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`run-test-files: ${message}\n${code === 2 ? usage : ''}`);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      'file-timeout': { type: 'string', default: '2m' },
      concurrency: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const { values, positionals } = parsed;
if (values.help === true) {
  process.stdout.write(usage);
  process.exit(0);
}

const timeoutText = process.env.TEST_FILE_TIMEOUT ?? values['file-timeout'];
const fileTimeoutMs = parseDuration(timeoutText);
if (fileTimeoutMs === undefined) fail(`not a duration: ${timeoutText}`);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1) fail(`--concurrency must be a positive integer: ${values.concurrency}`);

const files: string[] = [];
for (const target of positionals.length > 0 ? positionals : ['dist-test/test']) {
  if (target.endsWith('.js')) {
    files.push(target);
    continue;
  }
  const names = await readdir(target).catch(() => [] as string[]);
  files.push(...names.filter((name) => name.endsWith('.test.js')).sort().map((name) => join(target, name)));
}
if (files.length === 0) fail(`no test files in ${positionals.join(', ') || 'dist-test/test'}: nothing was tested`, 1);

const started = performance.now();
const results = await runFiles({
  files,
  fileTimeoutMs,
  concurrency,
  forbidSkips: process.env.CI === 'true',
  write: (text) => process.stdout.write(text),
});
const bad = results.filter((result) => result.outcome !== 'passed');
const tests = results.reduce((sum, result) => sum + result.tests, 0);
const skipped = results.reduce((sum, result) => sum + result.skipped, 0);
const summary =
  `${results.length} of ${files.length} files, ${tests} tests, ${skipped} skipped, ` +
  `${formatDuration(performance.now() - started)}, limit ${formatDuration(fileTimeoutMs)} per file`;
if (bad.length > 0 || results.length < files.length) {
  process.stdout.write(`\nrun-test-files: ✖ ${summary}\n`);
  // Repeated here, at the very end, so that a log cut to its last lines still says what failed.
  for (const result of bad) {
    process.stdout.write(`  ✖ ${result.file}: ${result.outcome}\n`);
    for (const { test, error } of result.failures.slice(0, shownFailures)) process.stdout.write(`      ✖ ${test}: ${error}\n`);
    if (result.failures.length > shownFailures) process.stdout.write(`      ... and ${result.failures.length - shownFailures} more failed\n`);
    if (result.outcome === 'skipped-tests') {
      for (const path of result.skips.slice(0, shownFailures)) process.stdout.write(`      ✖ skipped: ${path}\n`);
      if (result.skips.length > shownFailures) process.stdout.write(`      ... and ${result.skips.length - shownFailures} more skipped\n`);
    }
  }
  process.exitCode = 1;
} else {
  process.stdout.write(`\nrun-test-files: ✔ ${summary}\n`);
}
