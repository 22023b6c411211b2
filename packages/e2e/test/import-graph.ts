/**
 * The import graph of the workspaces, read with the TypeScript compiler's own pre-processor: static
 * imports and re-exports, side-effect imports, type-only imports, `import()` in code and in types,
 * and require(), whatever their quotes. Pure: files and workspaces in, findings out, so a test can
 * feed it a small graph of its own and see each check fail.
 */
import { dirname, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export interface Workspace {
  /** Its package name, e.g. @three-tier/shared. */
  readonly name: string;
  /** Its folder, absolute. */
  readonly dir: string;
  /** The subpaths its package.json exports: `.`, `./cli`. */
  readonly exports: readonly string[];
  /** Everything its package.json depends on, devDependencies included. */
  readonly dependencies: ReadonlySet<string>;
}

export interface SourceFile {
  /** Absolute. */
  readonly path: string;
  readonly text: string;
}

const scope = '@three-tier/';

/** Every module a file names, as written. */
export function specifiersOf(file: SourceFile): string[] {
  return ts.preProcessFile(file.text, true, true).importedFiles.map((imported) => imported.fileName);
}

function workspaceOf(path: string, workspaces: readonly Workspace[]): Workspace | undefined {
  return workspaces.find((workspace) => path === workspace.dir || path.startsWith(`${workspace.dir}${sep}`));
}

/** A relative specifier as the .ts file it names (NodeNext imports name the emitted .js). */
function resolveRelative(from: string, specifier: string): string {
  return resolve(dirname(from), specifier.replace(/\.js$/, '.ts'));
}

/** The cycles of a directed graph, each as the path that closes it (`a -> b -> a`). */
export function cycles(graph: ReadonlyMap<string, readonly string[]>, name: (node: string) => string = (node) => node): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const found: string[] = [];
  const visit = (node: string, path: readonly string[]): void => {
    state.set(node, 'open');
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), node, next].map(name).join(' -> '));
      else if (!state.has(next)) visit(next, [...path, node]);
    }
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node, []);
  return found;
}

/** File to the files it imports by relative path, every kind of import included. */
export function fileGraph(files: readonly SourceFile[]): Map<string, string[]> {
  return new Map(
    files.map((file) => [file.path, [...new Set(specifiersOf(file).filter((specifier) => specifier.startsWith('.')).map((specifier) => resolveRelative(file.path, specifier)))]]),
  );
}

/** Workspace to the workspaces it imports, by name. */
export function workspaceGraph(files: readonly SourceFile[], workspaces: readonly Workspace[]): Map<string, string[]> {
  const graph = new Map<string, Set<string>>(workspaces.map((workspace) => [workspace.name, new Set()]));
  for (const file of files) {
    const own = workspaceOf(file.path, workspaces);
    if (!own) continue;
    for (const specifier of specifiersOf(file)) {
      const target = specifier.startsWith(scope) ? specifier.split('/').slice(0, 2).join('/') : specifier.startsWith('.') ? workspaceOf(resolveRelative(file.path, specifier), workspaces)?.name : undefined;
      if (target !== undefined && target !== own.name) graph.get(own.name)?.add(target);
    }
  }
  return new Map([...graph].map(([name, targets]) => [name, [...targets].sort()]));
}

/**
 * Imports of one workspace into another that are not through the other's public entry: a subpath
 * its package.json does not export (`@three-tier/x/dist/...`), a relative path into its folder, or a
 * workspace the importer does not depend on (turbo would not build it first).
 */
export function boundaryViolations(files: readonly SourceFile[], workspaces: readonly Workspace[], root: string): string[] {
  const byName = new Map(workspaces.map((workspace) => [workspace.name, workspace]));
  const violations: string[] = [];
  for (const file of files) {
    const own = workspaceOf(file.path, workspaces);
    if (!own) continue;
    const where = relative(root, file.path);
    for (const specifier of specifiersOf(file)) {
      if (specifier.startsWith('.')) {
        const into = workspaceOf(resolveRelative(file.path, specifier), workspaces);
        if (into && into !== own) violations.push(`${where}: '${specifier}' reaches into ${into.name}; import '${into.name}'`);
        continue;
      }
      if (!specifier.startsWith(scope)) continue;
      const [, , ...rest] = specifier.split('/');
      const name = specifier.split('/').slice(0, 2).join('/');
      const target = byName.get(name);
      if (!target) {
        violations.push(`${where}: '${specifier}' names no workspace`);
        continue;
      }
      if (target === own) continue;
      const subpath = rest.length === 0 ? '.' : `./${rest.join('/')}`;
      if (!target.exports.includes(subpath)) violations.push(`${where}: '${specifier}' is not an entry ${name} exports (${target.exports.join(', ')})`);
      if (!own.dependencies.has(name)) violations.push(`${where}: imports ${name}, which ${own.name}'s package.json does not depend on`);
    }
  }
  return violations;
}
