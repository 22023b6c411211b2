import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from '@three-tier/cli-kit';
import { packageOf, summariseProfile } from '../src/profile.js';

const inRepo = (path: string): string => pathToFileURL(join(repoRoot, path)).href;
const frame = (url: string, functionName = 'f', lineNumber = 0): { functionName: string; url: string; lineNumber: number } => ({ functionName, url, lineNumber });

describe('packageOf', () => {
  test('a dependency by its node_modules folder, a scoped one whole', () => {
    assert.equal(packageOf(frame(inRepo('node_modules/express/lib/router.js'))), 'express');
    assert.equal(packageOf(frame(inRepo('node_modules/@opentelemetry/api/build/x.js'))), '@opentelemetry/api');
  });

  test("the project's own workspaces, Node's internals, V8's pseudo-frames, and anything else", () => {
    assert.equal(packageOf(frame(inRepo('apps/api/dist/src/app.js'))), '@three-tier/*');
    assert.equal(packageOf(frame(inRepo('packages/shared/dist/src/routes.js'))), '@three-tier/*');
    assert.equal(packageOf(frame('node:internal/http')), 'node internals');
    assert.equal(packageOf(frame('', 'writev')), 'node internals');
    assert.equal(packageOf(frame('', '(garbage collector)')), '(garbage collector)');
    assert.equal(packageOf(frame('file:///usr/lib/elsewhere.js')), 'other');
  });
});

describe('summariseProfile', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-profile-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const nodes = [
    { id: 1, callFrame: frame('', '(root)'), hitCount: 0 },
    { id: 2, callFrame: frame(inRepo('node_modules/express/lib/router.js'), 'handle', 41), hitCount: 2 },
    { id: 3, callFrame: frame(inRepo('apps/api/dist/src/app.js'), '', 9), hitCount: 1 },
    { id: 4, callFrame: frame('', '(garbage collector)'), hitCount: 1 },
    // The same function reached by another path is one frame.
    { id: 5, callFrame: frame(inRepo('node_modules/express/lib/router.js'), 'handle', 41), hitCount: 4 },
  ];

  async function write(name: string, profile: unknown): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, JSON.stringify(profile));
    return file;
  }

  test('self time from the samples: frames merged by function and place, lines from 1, packages summed', async () => {
    // Samples name the node each tick was in: express 4 times (through two nodes), the api twice, the GC twice.
    const file = await write('samples.cpuprofile', { nodes, samples: [2, 5, 5, 5, 3, 3, 4, 4] });
    const summary = summariseProfile(file);
    assert.equal(summary.samples, 8);
    assert.deepEqual(summary.top, [
      { functionName: 'handle', location: 'node_modules/express/lib/router.js:42', percent: 50 },
      { functionName: '(anonymous)', location: 'apps/api/dist/src/app.js:10', percent: 25 },
      { functionName: '(garbage collector)', location: '', percent: 25 },
    ]);
    assert.deepEqual(summary.packages.map(({ name, percent }) => [name, percent]), [
      ['express', 50],
      ['@three-tier/*', 25],
      ['(garbage collector)', 25],
    ]);
  });

  test('without samples, from the hit counts; the top is cut at the limit', async () => {
    const file = await write('hits.cpuprofile', { nodes });
    const summary = summariseProfile(file, 1);
    assert.equal(summary.samples, 8);
    assert.deepEqual(summary.top, [{ functionName: 'handle', location: 'node_modules/express/lib/router.js:42', percent: 75 }]);
    assert.equal(summary.packages.length, 3);
  });
});
