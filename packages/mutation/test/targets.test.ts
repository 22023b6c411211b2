import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changedTargets, groupByPackage, isSourceOf, mutateGlobs, selectTargets, targets } from '../src/index.js';

const names = (list: readonly { name: string }[]): string[] => list.map((item) => item.name);

describe('selecting targets', () => {
  test('no name selects every target, in table order', () => {
    assert.deepEqual(names(selectTargets([])), names(targets));
  });

  test('a package name selects all of its targets; a target name only itself', () => {
    assert.deepEqual(names(selectTargets(['api'])), ['api-http', 'api-routes', 'api-faults', 'api-redis', 'api-visits']);
    assert.deepEqual(names(selectTargets(['nginx', 'shared'])), ['shared', 'nginx']);
    assert.deepEqual(names(selectTargets(['api-faults', 'api-http'])), ['api-http', 'api-faults']);
  });

  test('an unknown name is refused, naming it and what is known', () => {
    assert.throws(() => selectTargets(['shared', 'apii']), /^Error: unknown target apii; known: shared, nginx, edge, api, api-http, /);
  });

  test('targets of one package run together, one Stryker run per package', () => {
    const groups = groupByPackage(selectTargets(['api-visits', 'shared', 'api-http']));
    assert.deepEqual(
      groups.map((group) => [group.pkg.name, names(group.targets)]),
      [
        ['shared', ['shared']],
        ['api', ['api-http', 'api-visits']],
      ],
    );
  });

  test('Stryker mutates the selected sources only: folders as globs, files as they are', () => {
    assert.deepEqual(mutateGlobs(selectTargets(['api-http', 'api-visits'])), ['apps/api/src/http/**/*.ts', 'apps/api/src/visits.ts']);
  });

  test('a file left out of a target’s folder is negated after it, as Stryker reads globs in order', () => {
    assert.deepEqual(mutateGlobs(selectTargets(['edge'])), ['apps/edge/src/**/*.ts', '!apps/edge/src/index.ts']);
  });
});

describe('what belongs to a target', () => {
  const [http] = selectTargets(['api-http']);
  const [visits] = selectTargets(['api-visits']);
  assert.ok(http && visits);

  test('the TypeScript sources under its folders, or its files exactly', () => {
    assert.ok(isSourceOf(http, 'apps/api/src/http/problem.ts'));
    assert.ok(isSourceOf(visits, 'apps/api/src/visits.ts'));
    for (const other of ['apps/api/src/httpx/a.ts', 'apps/api/src/http.ts', 'apps/api/test/http/a.ts', 'apps/edge/src/http/a.ts', 'apps/api/src/http/types.d.ts']) {
      assert.ok(!isSourceOf(http, other), other);
    }
    assert.ok(!isSourceOf(visits, 'apps/api/src/visits.tsx'));
  });

  test('not a file its target excludes: the edge’s entry point', () => {
    const [edge] = selectTargets(['edge']);
    assert.ok(edge);
    assert.ok(isSourceOf(edge, 'apps/edge/src/proxy.ts'));
    assert.ok(!isSourceOf(edge, 'apps/edge/src/index.ts'));
  });
});

describe('--changed', () => {
  test('selects the targets whose sources changed', () => {
    assert.deepEqual(names(changedTargets(['apps/api/src/routes/load.ts', 'packages/shared/src/http.ts'])), ['shared', 'api-routes']);
  });

  test('a change to a package’s tests selects all of that package’s targets', () => {
    assert.deepEqual(names(changedTargets(['packages/nginx/test/generate.test.ts'])), ['nginx']);
    assert.deepEqual(names(changedTargets(['apps/api/test/helpers.ts'])), names(selectTargets(['api'])));
  });

  test('changes elsewhere select nothing: docs, other packages, code outside the targets', () => {
    assert.deepEqual(changedTargets(['README.md', 'packages/deploy/src/files.ts', 'apps/api/src/load/pool.ts', 'apps/api/src/index.ts']), []);
  });
});
