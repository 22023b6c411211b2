import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { releaseVersion, repoRoot } from '../src/index.js';

describe('the repository', () => {
  test('its root is found from the code’s own place, with a trailing slash', () => {
    assert.ok(repoRoot.endsWith('/'));
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; workspaces: string[] };
    assert.equal(manifest.name, 'three-tier');
    assert.deepEqual(manifest.workspaces, ['apps/*', 'packages/*']);
  });

  test('the release version is the root package.json’s, read once and kept', () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.match(version, /^\d+\.\d+\.\d+/);
    assert.equal(releaseVersion(), version);
    assert.equal(releaseVersion(), version);
  });
});
