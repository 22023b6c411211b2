import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '@three-tier/cli-kit';
import { boundaryViolations, cycles, fileGraph, specifiersOf, workspaceGraph, type SourceFile, type Workspace } from './import-graph.js';

interface Manifest {
  name: string;
  exports?: string | Record<string, unknown>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** Every workspace's folder and package.json. */
async function manifests(): Promise<{ dir: string; manifest: Manifest }[]> {
  const found: { dir: string; manifest: Manifest }[] = [];
  for (const group of ['apps', 'packages']) {
    for (const name of await readdir(join(repoRoot, group))) {
      const dir = join(repoRoot, group, name);
      found.push({ dir, manifest: JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Manifest });
    }
  }
  return found;
}

async function workspaces(): Promise<Workspace[]> {
  return (await manifests()).map(({ dir, manifest }) => ({
    name: manifest.name,
    dir,
    exports: typeof manifest.exports === 'string' ? ['.'] : Object.keys(manifest.exports ?? {}),
    dependencies: new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {})]),
  }));
}

/** Every TypeScript file of every workspace, its sources and its tests (generated output left out). */
async function sourceFiles(folders: readonly string[] = ['src', 'test']): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  for (const { dir } of await manifests()) {
    for (const folder of folders) {
      const entries = await readdir(join(dir, folder), { recursive: true }).catch(() => []);
      for (const entry of entries.filter((name) => name.endsWith('.ts'))) {
        const path = join(dir, folder, entry);
        files.push({ path, text: await readFile(path, 'utf8') });
      }
    }
  }
  return files;
}

describe('the source tree', () => {
  test('has no import cycle between files, every kind of import included', async () => {
    const files = await sourceFiles();
    assert.ok(files.length > 100, `${files.length} source files found`);
    assert.deepEqual(cycles(fileGraph(files), (file) => relative(repoRoot, file)), []);
  });

  test('the workspaces import one another without a cycle', async () => {
    const graph = workspaceGraph(await sourceFiles(), await workspaces());
    assert.ok([...graph.values()].some((targets) => targets.includes('@three-tier/shared')), 'the graph has the edges it should');
    assert.deepEqual(cycles(graph), []);
  });

  test("a workspace imports another only through the entries its package.json exports, and only one it depends on", async () => {
    assert.deepEqual(boundaryViolations(await sourceFiles(), await workspaces(), repoRoot), []);
  });

  test("no route of the api imports another route or the app: what they share has modules of its own", async () => {
    const routesDir = join(repoRoot, 'apps/api/src/routes');
    const app = join(repoRoot, 'apps/api/src/app.ts');
    const files = (await sourceFiles(['src'])).filter((file) => dirname(file.path) === routesDir);
    assert.ok(files.length > 3, `${files.length} route files`);
    for (const [file, imported] of fileGraph(files)) {
      for (const target of imported) {
        assert.ok(target !== app && dirname(target) !== routesDir, `${relative(routesDir, file)} imports ${relative(repoRoot, target)}`);
      }
    }
  });
});

describe('the import graph reader, on a small graph of its own', () => {
  const root = '/repo';
  const a: Workspace = { name: '@three-tier/a', dir: '/repo/packages/a', exports: ['.'], dependencies: new Set(['@three-tier/b']) };
  const b: Workspace = { name: '@three-tier/b', dir: '/repo/packages/b', exports: ['.', './cli'], dependencies: new Set() };
  const files: SourceFile[] = [
    { path: '/repo/packages/a/src/index.ts', text: 'import "./side.js";\nexport { b } from "@three-tier/b";\n' },
    { path: '/repo/packages/a/src/side.ts', text: "const later = await import('./index.js');\nexport type T = typeof import('./index.js');\n" },
    { path: '/repo/packages/b/src/index.ts', text: "export * from '@three-tier/a';\nimport { x } from '@three-tier/a/dist/src/x.js';\nimport '../../a/src/side.js';\nimport '@three-tier/b/cli';\n" },
  ];

  test('reads side-effect, dynamic, type, double-quoted and re-export imports', () => {
    assert.deepEqual(files.map(specifiersOf), [
      ['./side.js', '@three-tier/b'],
      ['./index.js', './index.js'],
      ['@three-tier/a', '@three-tier/a/dist/src/x.js', '../../a/src/side.js', '@three-tier/b/cli'],
    ]);
  });

  test('finds the cycle between files (a side-effect import one way, a dynamic import back)', () => {
    assert.deepEqual(cycles(fileGraph(files), (file) => relative(root, file)), [
      'packages/a/src/index.ts -> packages/a/src/side.ts -> packages/a/src/index.ts',
    ]);
  });

  test('finds the cycle between workspaces (a re-export one way, an import back)', () => {
    assert.deepEqual(cycles(workspaceGraph(files, [a, b])), ['@three-tier/a -> @three-tier/b -> @three-tier/a']);
  });

  test('names each import past a public entry, into another folder, or of a workspace not depended on', () => {
    assert.deepEqual(boundaryViolations(files, [a, b], root), [
      "packages/b/src/index.ts: imports @three-tier/a, which @three-tier/b's package.json does not depend on",
      "packages/b/src/index.ts: '@three-tier/a/dist/src/x.js' is not an entry @three-tier/a exports (.)",
      "packages/b/src/index.ts: imports @three-tier/a, which @three-tier/b's package.json does not depend on",
      "packages/b/src/index.ts: '../../a/src/side.js' reaches into @three-tier/a; import '@three-tier/a'",
    ]);
  });
});

describe('the workspaces', () => {
  test("each has tests, run by run-test-files after turbo has built it (a workspace without a test script is never tested)", async () => {
    const missing: string[] = [];
    for (const { manifest } of await manifests()) {
      const script = manifest.scripts?.test ?? '';
      if (!/(^|&& )run-test-files( |$)/.test(script)) missing.push(`${manifest.name}: its test script (${JSON.stringify(script)}) does not run run-test-files`);
      // turbo builds a workspace's dependencies before its tests: the runner must be one of them.
      const runner = '@three-tier/test-files';
      if (manifest.name !== runner && manifest.devDependencies?.[runner] === undefined && manifest.dependencies?.[runner] === undefined) {
        missing.push(`${manifest.name}: no dependency on @three-tier/test-files`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
