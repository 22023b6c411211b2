import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '@three-tier/cli-kit';
import { compiledTestFiles, packages, sandboxRules, selectTargets, strykerConfig, strykerTimeouts } from '../src/index.js';

const api = packages.find((pkg) => pkg.name === 'api');
assert.ok(api);

const toolchain = { node: '/usr/bin/node', tsc: '/repo/node_modules/typescript/bin/tsc', fileDeadline: 'file:///repo/file-deadline.js?ms=120000' };

describe('the Stryker configuration of a package', () => {
  const config = strykerConfig(
    api,
    selectTargets(['api-http', 'api-visits']),
    ['apps/api/dist-test/test/app.test.js'],
    toolchain,
    { concurrency: 2, reportDir: '/repo/reports/mutation/api', tempDir: '.stryker-tmp/api' },
  );

  test('mutates the selected sources, rebuilds the package in the sandbox, and drops mutants that do not compile', () => {
    assert.deepEqual(config.mutate, ['apps/api/src/http/**/*.ts', 'apps/api/src/visits.ts']);
    assert.equal(config.buildCommand, '/usr/bin/node /repo/node_modules/typescript/bin/tsc -p apps/api/tsconfig.json');
    assert.equal(config.tsconfigFile, 'apps/api/tsconfig.json');
    assert.deepEqual(config.checkers, ['typescript']);
  });

  test('runs each compiled test file with node’s TAP reporter, under the per-file deadline, by coverage', () => {
    assert.equal(config.testRunner, 'tap');
    assert.deepEqual(config.tap, {
      testFiles: ['apps/api/dist-test/test/app.test.js'],
      nodeArgs: ['--test-reporter=tap', '-r', '{{hookFile}}', '--import', toolchain.fileDeadline, '{{testFile}}'],
      forceBail: true,
    });
    assert.equal(config.coverageAnalysis, 'perTest');
  });

  test('keeps to the machine: the given concurrency, timeouts generous enough not to credit a slow run as a kill', () => {
    assert.equal(config.concurrency, 2);
    assert.equal(config.timeoutMS, strykerTimeouts.timeoutMs);
    assert.ok(strykerTimeouts.timeoutMs >= 10_000 && strykerTimeouts.timeoutFactor >= 1.5);
  });

  test('writes the JSON and HTML reports to the package’s report folder and leaves no sandbox behind', () => {
    assert.deepEqual(config.jsonReporter, { fileName: '/repo/reports/mutation/api/mutation.json' });
    assert.deepEqual(config.htmlReporter, { fileName: '/repo/reports/mutation/api/index.html' });
    assert.deepEqual(config.reporters, ['json', 'html', 'progress-append-only']);
    assert.equal(config.tempDirName, '.stryker-tmp/api');
    assert.equal(config.cleanTempDir, 'always');
  });

  test('copies the package into the sandbox, with the root files it needs and without its build output', () => {
    assert.deepEqual(sandboxRules('apps/edge'), [
      '/*',
      '!/package.json',
      '!/tsconfig.base.json',
      '!/apps',
      '/apps/*',
      '!/apps/edge',
      '/apps/edge/dist',
      '/apps/edge/dist-test',
      '/apps/edge/.turbo',
    ]);
  });

  test("keeps the build output the package's tests read that the sandbox does not build: the api's page bundle", () => {
    assert.deepEqual(config.ignorePatterns, [
      '/*',
      '!/package.json',
      '!/tsconfig.base.json',
      '!/apps',
      '/apps/*',
      '!/apps/api',
      '/apps/api/dist/*',
      '!/apps/api/dist/page',
      '/apps/api/dist-test',
      '/apps/api/.turbo',
    ]);
  });
});

describe('the test files Stryker runs', () => {
  test('every test/*.test.ts of the package, compiled, but those left out with a reason', () => {
    assert.deepEqual(compiledTestFiles(api, ['helpers.ts', 'process.test.ts', 'b.test.ts', 'a.test.ts']), [
      'apps/api/dist-test/test/a.test.js',
      'apps/api/dist-test/test/b.test.js',
    ]);
  });

  test('each file left out exists and says why', async () => {
    for (const pkg of packages) {
      const sources = await readdir(join(repoRoot, pkg.dir, 'test'));
      for (const [file, why] of Object.entries(pkg.leftOut)) {
        assert.ok(sources.includes(file.replace(/^dist-test\/test\//, '').replace(/\.js$/, '.ts')), `${pkg.dir}/${file} has a source`);
        assert.ok(why.length > 20, `${file}: ${why}`);
      }
      assert.ok(compiledTestFiles(pkg, sources).length > 0, `${pkg.dir} has tests left to run`);
    }
  });
});
