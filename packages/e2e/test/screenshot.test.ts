/**
 * `npm run screenshot`, the documented command for docs/page.png, run for real into a temporary
 * directory: a test never writes into the repository.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCommand } from '@three-tier/processes';
import { repoRoot } from '@three-tier/cli-kit';

test('npm run screenshot: the live page, four instances, as a full-page PNG', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'screenshot-test-'));
  try {
    const out = join(dir, 'page.png');
    const { code, output } = await runCommand('npm', ['run', '--silent', 'screenshot', '--', '--out', out, '--width', '800'], {
      cwd: repoRoot,
      env: process.env,
    });
    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`screenshot \\| wrote ${out.replaceAll('.', '\\.')}`));
    const png = await readFile(out);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    // IHDR: width then height, big-endian, right after the signature and the chunk's head.
    assert.equal(png.readUInt32BE(16), 800, 'as wide as asked');
    assert.ok(png.readUInt32BE(20) > 900, 'the full page, taller than the viewport');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
