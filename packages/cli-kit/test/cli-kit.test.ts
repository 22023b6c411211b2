import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCommandLine } from './program.js';
import { releaseVersion, repoRoot } from '../src/index.js';

describe('repository', () => {
  test('repoRoot is the root of this checkout, and releaseVersion its package.json version', () => {
    const root = fileURLToPath(new URL('../../../../', import.meta.url));
    assert.equal(repoRoot, root);
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
    assert.equal(manifest.name, 'three-tier');
    assert.equal(releaseVersion(), manifest.version);
  });
});

describe('a program of the repository', () => {
  test('--help prints the usage on stdout and exits 0', async () => {
    const result = await runCommandLine(['--help'], {});
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'usage: demo [--name NAME]\n');
  });

  test('an unknown option exits 2, naming it, with the usage', async () => {
    const result = await runCommandLine(['--colour'], {});
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^demo: Unknown option '--colour'.*\n\nusage: demo/s);
  });

  test('a bad setting exits 1 naming the variable, without the usage', async () => {
    const result = await runCommandLine([], { DEMO_COUNT: 'many' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^demo: invalid configuration:\n {2}DEMO_COUNT must be an integer from 1 to 10 \(got "many"\)\n$/);
    assert.doesNotMatch(result.stderr, /usage/);
  });

  test('good options and settings arrive parsed', async () => {
    const result = await runCommandLine(['--name', 'x', 'rest'], { DEMO_COUNT: '3' });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { name: 'x', positionals: ['rest'], count: 3 });
  });
});
