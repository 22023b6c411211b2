import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { generateFiles } from '../src/index.js';
import { goldenFile, targets } from './targets.js';

// Every line of the generator pinned, for each kind of target, within this package: the
// deployments' golden files live in packages/runner and packages/deploy, whose tests a change to
// the generator alone does not run (mutation testing runs only this package's). nginx -t checks
// the same targets in generate.test.ts; after an intended change, `npm run golden` rewrites them.
describe('the generated nginx.conf, pinned', () => {
  for (const target of targets) {
    test(`the ${target.name} target matches test/golden/${target.name}.conf`, async () => {
      assert.equal(generateFiles(target)['nginx.conf'], await readFile(goldenFile(target), 'utf8'));
    });
  }
});
