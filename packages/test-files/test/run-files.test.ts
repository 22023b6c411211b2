import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatDuration, parseDuration } from '../src/duration.js';
import { type FileResult, runFiles } from '../src/run-files.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const packageDir = fileURLToPath(new URL('../../', import.meta.url));

async function run(name: string, fileTimeoutMs = 60_000): Promise<{ result: FileResult; output: string }> {
  let output = '';
  const [result] = await runFiles({
    files: [`${fixtures}${name}`],
    fileTimeoutMs,
    concurrency: 1,
    graceMs: 1_000,
    write: (text) => (output += text),
  });
  assert.ok(result);
  return { result, output };
}

/** Alive, and not a zombie waiting for a parent that is gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // An orphan is reaped by init; until then it is a zombie, which signal 0 still finds.
  return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

function grandchild(output: string): number {
  const pid = Number(/grandchild (\d+)/.exec(output)?.[1]);
  assert.ok(pid > 0, `the fixture printed its child's pid:\n${output}`);
  return pid;
}

describe('runFiles', () => {
  test('a passing file: its tests counted, its spec output printed', async () => {
    const { result, output } = await run('passes.test.js');
    assert.deepEqual(
      { outcome: result.outcome, tests: result.tests, failed: result.failed, skipped: result.skipped },
      { outcome: 'passed', tests: 2, failed: 0, skipped: 0 },
    );
    assert.match(output, /✔ one/);
    assert.match(output, /passes\.test\.js: 2 tests, 0 failed, 0 skipped/);
  });

  test('a skipped test is counted apart, and fails its file where every test must run (CI)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'test-files-skip-'));
    try {
      const file = join(dir, 'skips.test.js');
      await writeFile(file, "import { test } from 'node:test';\ntest('runs', () => {});\ntest('does not', { skip: 'a fixture' }, () => {});\n");
      const write = (): void => undefined;
      const [allowed] = await runFiles({ files: [file], fileTimeoutMs: 60_000, concurrency: 1, write });
      assert.deepEqual({ outcome: allowed?.outcome, tests: allowed?.tests, skipped: allowed?.skipped }, { outcome: 'passed', tests: 1, skipped: 1 });
      const [forbidden] = await runFiles({ files: [file], fileTimeoutMs: 60_000, concurrency: 1, write, forbidSkips: true });
      assert.equal(forbidden?.outcome, 'skipped-tests');
      const underCi = spawnSync(process.execPath, [cli, file], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
      assert.equal(underCi.status, 1, underCi.stdout);
      assert.match(underCi.stdout, /skipped 1 tests, and here every test must run \(CI\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a skipped or todo suite is counted as skipped, and fails its file where every test must run (CI)', async () => {
    const fixtureSkips = {
      'skips-a-suite.test.js': 'a skipped suite',
      'skips-a-suite-by-option.test.js': 'a suite skipped by option',
      'todo-suite.test.js': 'a todo suite',
    };
    const write = (): void => undefined;
    for (const [name, suite] of Object.entries(fixtureSkips)) {
      const files = [`${fixtures}${name}`];
      const [allowed] = await runFiles({ files, fileTimeoutMs: 60_000, concurrency: 1, write });
      assert.deepEqual({ outcome: allowed?.outcome, skipped: allowed?.skipped, skips: allowed?.skips }, { outcome: 'passed', skipped: 1, skips: [suite] }, name);
      const [forbidden] = await runFiles({ files, fileTimeoutMs: 60_000, concurrency: 1, write, forbidSkips: true });
      assert.equal(forbidden?.outcome, 'skipped-tests', name);
    }
  });

  test('a file whose only suite is skipped ran no tests; under CI it is said to have skipped them', async () => {
    const file = `${fixtures}only-a-skipped-suite.test.js`;
    const [allowed] = await runFiles({ files: [file], fileTimeoutMs: 60_000, concurrency: 1, write: () => undefined });
    assert.deepEqual({ outcome: allowed?.outcome, tests: allowed?.tests, skipped: allowed?.skipped }, { outcome: 'no-tests', tests: 0, skipped: 1 });
    const underCi = spawnSync(process.execPath, [cli, file], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    assert.equal(underCi.status, 1, underCi.stdout);
    assert.match(underCi.stdout, /only-a-skipped-suite\.test\.js skipped 1 tests, and here every test must run \(CI\)/);
    assert.match(underCi.stdout, /\n {2}skipped: the only suite\n/);
  });

  test('a file that defines no test fails', async () => {
    const { result, output } = await run('empty.test.js');
    assert.equal(result.outcome, 'no-tests');
    assert.match(output, /loaded, and nothing to test/);
    assert.match(output, /✖ .*empty\.test\.js ran no tests/);
  });

  test('a failing test fails its file', async () => {
    const { result } = await run('fails.test.js');
    assert.deepEqual({ outcome: result.outcome, tests: result.tests, failed: result.failed }, { outcome: 'failed', tests: 1, failed: 1 });
  });

  test('a hung file is killed at its limit with its process group, naming the test and showing its output', async () => {
    const started = performance.now();
    const { result, output } = await run('hangs.test.js', 2_000);
    const elapsed = performance.now() - started;
    assert.equal(result.outcome, 'timed-out');
    // The limit plus the grace before SIGKILL, with room for a loaded machine.
    assert.ok(elapsed < 2_000 + 1_000 + 5_000, `stopped after ${Math.round(elapsed)} ms`);
    assert.deepEqual(result.running, ['a suite > hangs']);
    assert.match(output, /did not finish within 2 s: killed its process group/);
    assert.match(output, /still running: a suite > hangs/);
    assert.match(output, /\| {3}✔ finishes/, 'its last output, the test that passed before the hang');
    assert.equal(alive(grandchild(output)), false, 'the child the test started was killed with it');
  });

  test('what a passing file leaves in its group is killed, and said so', async () => {
    const { result, output } = await run('leaves-a-child.test.js');
    assert.equal(result.outcome, 'passed');
    assert.equal(result.leftovers, true);
    assert.match(output, /processes it left in its group were killed/);
    assert.equal(alive(grandchild(output)), false);
  });
});

describe('run-test-files (the CLI)', () => {
  test('with two files at once, prints each file whole, in order, and fails on the empty one', () => {
    const result = spawnSync(process.execPath, [cli, '--concurrency', '2', `${fixtures}passes.test.js`, `${fixtures}empty.test.js`], {
      encoding: 'utf8',
    });
    assert.equal(result.status, 1, result.stdout);
    const passes = result.stdout.indexOf('▶ a suite');
    const passed = result.stdout.indexOf('passes.test.js: 2 tests');
    const empty = result.stdout.indexOf('loaded, and nothing to test');
    assert.ok(passes >= 0 && passes < passed && passed < empty, result.stdout);
    assert.match(result.stdout, /✖ 2 of 2 files, 2 tests, 0 skipped/);
  });

  test('the last lines name each failed test and hook with its error, for a log cut to its end', () => {
    const result = spawnSync(process.execPath, [cli, `${fixtures}passes.test.js`, `${fixtures}fails.test.js`, `${fixtures}hook-fails.test.js`], {
      encoding: 'utf8',
    });
    assert.equal(result.status, 1, result.stdout);
    const last = result.stdout.trimEnd().split('\n').slice(-6);
    assert.match(last[0] ?? '', /^run-test-files: ✖ 3 of 3 files, 4 tests, 0 skipped, /);
    assert.deepEqual(last.slice(1), [
      `  ✖ ${fixtures}fails.test.js: failed`,
      '      ✖ fails: Expected values to be strictly equal: ⏎ 1 !== 2',
      `  ✖ ${fixtures}hook-fails.test.js: failed`,
      // The hook's own error first, then the test it cancelled, by its suite's path.
      '      ✖ a stack: the stack did not start ⏎ its second line',
      '      ✖ a stack > needs the stack: test did not finish before its parent and was cancelled',
    ]);
  });

  test('the bin every package runs is a file of the repository, executable, that runs the built CLI', () => {
    const { bin } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const target = bin['run-test-files'] ?? assert.fail('package.json has no bin run-test-files');
    // npm ci links bins before anything is built, and leaves out one whose file is not there yet.
    assert.doesNotMatch(target, /(^|\/)dist\//, 'the bin must exist before the build');
    const file = join(packageDir, target);
    accessSync(file, constants.X_OK);
    const result = spawnSync(file, ['--help'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^usage: run-test-files /);
  });

  test('a folder without test files fails: zero tests is not a pass', () => {
    const result = spawnSync(process.execPath, [cli, `${fixtures}no-such-folder`], { encoding: 'utf8' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /no test files in .*no-such-folder: nothing was tested/);
  });

  test('TEST_FILE_TIMEOUT overrides the package’s limit', () => {
    const result = spawnSync(process.execPath, [cli, '--file-timeout', '10m', `${fixtures}hangs.test.js`], {
      encoding: 'utf8',
      env: { ...process.env, TEST_FILE_TIMEOUT: '1s' },
      timeout: 30_000,
    });
    assert.equal(result.status, 1, result.stdout);
    assert.match(result.stdout, /did not finish within 1 s/);
    assert.equal(alive(grandchild(result.stdout)), false);
  });
});

describe('durations', () => {
  test('parses ms, s, m and bare milliseconds; refuses the rest', () => {
    assert.deepEqual(['1500ms', '90s', '2m', '2.5s', '750'].map(parseDuration), [1_500, 90_000, 120_000, 2_500, 750]);
    assert.deepEqual(['', '0', '-1s', '2h', 'soon'].map(parseDuration), [undefined, undefined, undefined, undefined, undefined]);
  });

  test('prints them the way people read them', () => {
    assert.deepEqual([850, 2_000, 2_500, 120_000].map(formatDuration), ['850 ms', '2 s', '2.5 s', '120 s']);
  });
});
