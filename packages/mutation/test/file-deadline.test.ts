import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCommand } from '@three-tier/processes';

/** The preload Stryker's test runs get, with a limit of `ms`. */
function deadline(ms: number): string {
  const url = new URL('../src/file-deadline.js', import.meta.url);
  url.searchParams.set('ms', String(ms));
  return url.href;
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-deadline-'));
  await writeFile(join(dir, 'hangs.test.mjs'), "import { test } from 'node:test';\ntest('waits a minute', () => new Promise((resolve) => setTimeout(resolve, 60_000)));\n");
  await writeFile(join(dir, 'passes.test.mjs'), "import { test } from 'node:test';\ntest('passes', () => {});\n");
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (file: string, ms: number) =>
  runCommand(process.execPath, ['--test-reporter=tap', '--import', deadline(ms), join(dir, file)], { timeoutMs: 30_000 });

describe('the per-file deadline of mutation runs', () => {
  test('a test file still running at its limit bails out naming itself, and exits 1', async () => {
    const started = performance.now();
    const result = await run('hangs.test.mjs', 500);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^Bail out! .*hangs\.test\.mjs did not finish within 0\.5 s$/m);
    assert.match(result.stderr, /file-deadline: .*hangs\.test\.mjs did not finish within 0\.5 s/);
    assert.ok(performance.now() - started < 20_000, 'it did not wait for the test');
  });

  test('a file that finishes in time is not held open by the timer', async () => {
    const result = await run('passes.test.mjs', 60_000);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^# pass 1$/m);
  });

  test('a limit that is not a positive integer is refused', async () => {
    const result = await run('passes.test.mjs', 0);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /file-deadline: \?ms= must be a positive integer/);
  });
});
