/**
 * docs/tests.md's commands for one package's tests and one file, run as written from the
 * repository's root: each must pass and show that tests ran. (`npm test`, the first line of the
 * section, is CI's own command.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { repoRoot } from '@three-tier/cli-kit';
import { runCommand } from '@three-tier/processes';
import { docSection, readDoc, shellLines } from './docs.js';

const section = docSection(await readDoc('docs/tests.md'), 'Running them');
const commands = shellLines(section).filter((line) => line.startsWith('cd '));

/**
 * The environment a user's shell has: without the variable by which Node's test runner tells a
 * child it runs under this file's runner (then it reports to it instead of running its files).
 */
const userEnv: NodeJS.ProcessEnv = { ...process.env };
delete userEnv.NODE_TEST_CONTEXT;

/** How a command ends: `npm test` or `node --test`. */
const ending = (command: string): string => command.split('&&').at(-1)?.trim().split(' ').slice(0, 2).join(' ') ?? '';

/** What each command prints when its tests ran and passed: the per-file runner's or Node's summary. */
const passed: Record<string, RegExp> = {
  'npm test': /run-test-files: ✔ (\d+) of \1 files, [1-9]\d* tests, 0 skipped/,
  // Node's summary: `ℹ pass N` on a terminal, `# pass N` (TAP) through a pipe.
  'node --test': /^(?:ℹ|#) pass [1-9]\d*$/m,
};

describe("docs/tests.md's commands for one package and one file", () => {
  test('the section shows both', () => {
    assert.deepEqual(
      commands.map(ending),
      ['npm test', 'node --test'],
    );
  });

  for (const command of commands) {
    test(command, async () => {
      const ran = await runCommand('bash', ['-c', command], { cwd: repoRoot, env: userEnv, timeoutMs: 90_000 });
      assert.equal(ran.code, 0, ran.output.slice(-3_000));
      const summary = passed[ending(command)];
      assert.ok(summary, `no expectation for "${command}"`);
      assert.match(ran.output, summary);
    });
  }
});
