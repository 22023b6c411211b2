/**
 * `npm run soak`, the documented command, as CI runs it: at least 60 s of mixed traffic through
 * nginx, every check of the soak passing (errors, memory growth, file descriptors, key expiry).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCommand } from '@three-tier/processes';
import { repoRoot } from '@three-tier/cli-kit';

// CI soaks the documented minute; a local run soaks half as long with keys that live half as long.
const seconds = process.env.CI ? 60 : 30;
const keyTtl = process.env.CI ? 10 : 5;

test(`npm run soak: ${seconds} s of mixed traffic, nothing failed, nothing grew`, { timeout: (seconds + 120) * 1_000 }, async () => {
  // Past its time, the soak is asked to stop (it still cleans up), so a hang fails with its output.
  const { code, output } = await runCommand('npm', ['run', '--silent', 'soak'], {
    cwd: repoRoot,
    env: { ...process.env, SOAK_SECONDS: String(seconds), SOAK_KEY_TTL: String(keyTtl) },
    timeoutMs: (seconds + 90) * 1_000,
  });
  // The figures go to the test log: docs/reliability.md's soak section quotes a run like this one.
  console.log(output.split('\n').filter((line) => line.startsWith('soak |')).join('\n'));
  assert.equal(code, 0, output);
  const lines = output.split('\n');
  assert.ok(lines.includes('soak | passed'), output);
  assert.equal(lines.filter((line) => line.startsWith('soak | ok ')).length, 4, output);
  assert.ok(lines.filter((line) => /^soak \| +\d+ s +\d+ requests/.test(line)).length >= seconds / 5, 'a line every 5 s');
  assert.match(output, /soak \| \d+ requests; back-pressure on \/load: .*; errors: 0/);
});
