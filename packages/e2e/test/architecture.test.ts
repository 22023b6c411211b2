import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '@three-tier/shared';

/** Every TypeScript source file of every workspace (tests and generated output left out). */
async function sourceFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const group of ['apps', 'packages']) {
    for (const workspace of await readdir(join(repoRoot, group))) {
      const src = join(repoRoot, group, workspace, 'src');
      const entries = await readdir(src, { recursive: true }).catch(() => []);
      files.push(...entries.filter((entry) => entry.endsWith('.ts')).map((entry) => join(src, entry)));
    }
  }
  return files;
}

/** Relative imports of a file, type-only ones included, as absolute .ts paths. */
async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return [...text.matchAll(/from '(\.{1,2}\/[^']+)'/g)].map((match) => resolve(dirname(file), (match[1] ?? '').replace(/\.js$/, '.ts')));
}

describe('the source tree', () => {
  test('has no import cycle, type-only imports included', async () => {
    const files = await sourceFiles();
    assert.ok(files.length > 50, `${files.length} source files found`);
    const graph = new Map(await Promise.all(files.map(async (file) => [file, await importsOf(file)] as const)));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), file, next].map((f) => relative(repoRoot, f)).join(' -> '));
        else if (!state.has(next)) visit(next, [...path, file]);
      }
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file, []);
    assert.deepEqual(cycles, []);
  });

  test("no route of the api imports another route or the app: what they share has modules of its own", async () => {
    const routesDir = join(repoRoot, 'apps/api/src/routes');
    const app = join(repoRoot, 'apps/api/src/app.ts');
    for (const entry of await readdir(routesDir)) {
      const file = join(routesDir, entry);
      for (const imported of await importsOf(file)) {
        assert.ok(imported !== app && dirname(imported) !== routesDir, `${entry} imports ${relative(repoRoot, imported)}`);
      }
    }
  });
});

describe('the workspaces', () => {
  test("each has tests, run by run-test-files after turbo has built it (a workspace without a test script is never tested)", async () => {
    const missing: string[] = [];
    for (const group of ['apps', 'packages']) {
      for (const workspace of await readdir(join(repoRoot, group))) {
        const manifest = JSON.parse(await readFile(join(repoRoot, group, workspace, 'package.json'), 'utf8')) as {
          name: string;
          scripts?: Record<string, string>;
          devDependencies?: Record<string, string>;
        };
        const script = manifest.scripts?.test ?? '';
        if (!/(^|&& )run-test-files( |$)/.test(script)) missing.push(`${manifest.name}: its test script (${JSON.stringify(script)}) does not run run-test-files`);
        // turbo builds a workspace's dependencies before its tests: the runner must be one of them.
        if (manifest.name !== '@three-tier/test-files' && manifest.devDependencies?.['@three-tier/test-files'] === undefined) {
          missing.push(`${manifest.name}: no devDependency on @three-tier/test-files`);
        }
      }
    }
    assert.deepEqual(missing, []);
  });
});
