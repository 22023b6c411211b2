/**
 * The npm scripts a reader types first: `npm run --silent chaos` prints the CLI's output and
 * nothing of turbo's, and a script run before `npm ci` says to run it (it said
 * "sh: 1: turbo: not found").
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '@three-tier/cli-kit';

/** The root's npm scripts. */
async function npmScripts(): Promise<Record<string, string>> {
  const manifest = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  return manifest.scripts;
}

/** PATH without any node_modules/.bin: as a shell of a fresh clone has it. */
const bareEnv = { PATH: (process.env.PATH ?? '').split(':').filter((dir) => !dir.includes('node_modules')).join(':'), HOME: process.env.HOME };

describe('the npm scripts that run a CLI', () => {
  test('npm run --silent chaos -- --help prints the usage alone: no turbo banner, nothing on stderr', () => {
    const result = spawnSync('npm', ['run', '--silent', 'chaos', '--', '--help'], { cwd: repoRoot, env: bareEnv, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^usage: three-tier-demo/);
    assert.equal(result.stderr, '');
  });

  test('before npm ci, each says to run npm ci and exits non-zero', async () => {
    const scripts = await npmScripts();
    // Those with a pre-script (start, bench) run prerequisites.sh first, which installs system packages.
    const runners = Object.keys(scripts).filter((name) => scripts[name]?.includes('/dist/src/cli.js') && scripts[`pre${name}`] === undefined);
    assert.ok(runners.includes('chaos') && runners.includes('load'), runners.join(' '));
    // A fresh clone: the manifest and the scripts, no node_modules.
    const clone = await mkdtemp(join(tmpdir(), 'fresh-clone-'));
    try {
      await copyFile(join(repoRoot, 'package.json'), join(clone, 'package.json'));
      await mkdir(join(clone, 'scripts'));
      await copyFile(join(repoRoot, 'scripts/build-first.sh'), join(clone, 'scripts/build-first.sh'));
      for (const name of runners) {
        const result = spawnSync('npm', ['run', '--silent', name], { cwd: clone, env: bareEnv, encoding: 'utf8' });
        assert.notEqual(result.status, 0, `npm run ${name} in a fresh clone`);
        assert.match(result.stderr, /run `npm ci`/, `npm run ${name}: ${result.stderr}`);
      }
    } finally {
      await rm(clone, { recursive: true, force: true });
    }
  });
});
