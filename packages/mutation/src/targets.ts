/**
 * What mutation testing covers: the code that carries the guarantees (request refusal rules,
 * idempotency keys, the edge's retries, the count's deadline, the nginx generator), each part
 * tried against the tests of the package that owns it.
 */

/** A part of a package whose mutants are scored on their own: a row of the score table. */
export interface Target {
  /** What the command line and the score table call it: `shared`, `api-http`. */
  readonly name: string;
  /** The package folder, from the repository root. */
  readonly packageDir: string;
  /** Folders (ending in `/`) or files, from the package folder, whose TypeScript is mutated. */
  readonly sources: readonly string[];
  /** Files under those folders (from the package folder) that are not mutated, with why. */
  readonly excluded?: Readonly<Record<string, string>>;
}

/** A package Stryker runs once, for all of its selected targets. */
export interface MutationPackage {
  /** The package folder, from the repository root; also the report's folder name. */
  readonly dir: string;
  /** Its report folder under reports/mutation/. */
  readonly name: string;
  /**
   * Compiled test files (from the package folder) left out, with why; every other test/*.test.ts
   * runs. A test that runs the package's code in a child process of its
   * own, with an environment of its own, runs it without the mutant: Stryker switches a mutant on
   * through an environment variable the child never gets, and cannot see what the child covers.
   * Such a file can never kill a mutant, only fail for reasons of its own and be counted as if it had.
   */
  readonly leftOut: Readonly<Record<string, string>>;
  /**
   * Folders of its build output (from the package folder, under dist/) that its tests read and the
   * sandbox's build (tsc) does not make, kept from the repository's own build, with why.
   */
  readonly kept?: Readonly<Record<string, string>>;
}

const childProcessOnly =
  'runs the package as a child process with an environment of its own: no mutant is ever switched on there';

export const packages: readonly MutationPackage[] = [
  { dir: 'packages/shared', name: 'shared', leftOut: {} },
  { dir: 'packages/nginx', name: 'nginx', leftOut: {} },
  {
    dir: 'apps/edge',
    name: 'edge',
   
    leftOut: { 'dist-test/test/entry.test.js': childProcessOnly },
  },
  {
    dir: 'apps/api',
    name: 'api',
   
    leftOut: { 'dist-test/test/process.test.js': childProcessOnly },
    kept: {
      'dist/page':
        "the live page's script, bundled by build:page (esbuild), which the page routes read by the package's own name; its sources (src/page/script/) are no target",
    },
  },
];

export const targets: readonly Target[] = [
  { name: 'shared', packageDir: 'packages/shared', sources: ['src/'] },
  { name: 'nginx', packageDir: 'packages/nginx', sources: ['src/'] },
  {
    name: 'edge',
    packageDir: 'apps/edge',
    sources: ['src/'],
    // The api's entry points (main.ts, index.ts) are outside its targets' folders for the same reason.
    excluded: { 'src/index.ts': 'the entry point (environment, listen, signals): only entry.test.ts runs it, as a child process where no mutant is ever switched on' },
  },
  { name: 'api-http', packageDir: 'apps/api', sources: ['src/http/'] },
  { name: 'api-routes', packageDir: 'apps/api', sources: ['src/routes/'] },
  { name: 'api-faults', packageDir: 'apps/api', sources: ['src/faults/'] },
  { name: 'api-redis', packageDir: 'apps/api', sources: ['src/redis/'] },
  { name: 'api-visits', packageDir: 'apps/api', sources: ['src/visits.ts'] },
];

/** The package a target belongs to. */
export function packageOf(target: Target): MutationPackage {
  const found = packages.find((candidate) => candidate.dir === target.packageDir);
  if (!found) throw new Error(`${target.name}: no package at ${target.packageDir}`);
  return found;
}

/** Whether a file, from the repository root, is one of the target's sources. */
export function isSourceOf(target: Target, file: string): boolean {
  if (!file.startsWith(`${target.packageDir}/`) || !file.endsWith('.ts') || file.endsWith('.d.ts')) return false;
  const inPackage = file.slice(target.packageDir.length + 1);
  if (target.excluded && inPackage in target.excluded) return false;
  return target.sources.some((source) => (source.endsWith('/') ? inPackage.startsWith(source) : inPackage === source));
}

/** Stryker's `mutate` globs for targets, from the repository root. */
export function mutateGlobs(selected: readonly Target[]): string[] {
  return selected.flatMap((target) => [
    ...target.sources.map((source) => `${target.packageDir}/${source}${source.endsWith('/') ? '**/*.ts' : ''}`),
    ...Object.keys(target.excluded ?? {}).map((file) => `!${target.packageDir}/${file}`),
  ]);
}

/**
 * The targets the command line names, in table order: a target's name, or a package's name for
 * all of its targets (`api`). Throws naming what is unknown.
 */
export function selectTargets(names: readonly string[]): Target[] {
  if (names.length === 0) return [...targets];
  const unknown = names.filter((name) => !targets.some((target) => target.name === name || packageNameOf(target) === name));
  if (unknown.length > 0) {
    throw new Error(`unknown target ${unknown.join(', ')}; known: ${[...new Set(targets.flatMap((target) => [packageNameOf(target), target.name]))].join(', ')}`);
  }
  return targets.filter((target) => names.some((name) => target.name === name || packageNameOf(target) === name));
}

function packageNameOf(target: Target): string {
  return packageOf(target).name;
}

/** Selected targets, one group per package: Stryker builds and runs each package once. */
export function groupByPackage(selected: readonly Target[]): { readonly pkg: MutationPackage; readonly targets: readonly Target[] }[] {
  return packages
    .map((pkg) => ({ pkg, targets: selected.filter((target) => target.packageDir === pkg.dir) }))
    .filter((group) => group.targets.length > 0);
}
