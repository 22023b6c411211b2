/**
 * Stryker's configuration for one package, built from the target table. Pure: the CLI writes it
 * next to the report and runs Stryker with it from the repository root.
 */
import { mutateGlobs, type MutationPackage, type Target } from './targets.js';

/** Where the pieces Stryker needs live on this machine (absolute paths). */
export interface Toolchain {
  /** The TypeScript compiler's bin script, run with `node`. */
  readonly tsc: string;
  readonly node: string;
  /** The preload that puts each test file under a wall-clock limit (file-deadline.js). */
  readonly fileDeadline: string;
}

export interface RunSettings {
  /** Stryker's worker processes: test runners and the type checker share them. */
  readonly concurrency: number;
  /** The report folder (absolute): index.html, mutation.json. */
  readonly reportDir: string;
  /** Where Stryker makes its sandbox, from the repository root. */
  readonly tempDir: string;
}

/**
 * Timeouts. A mutant that makes its tests slower than this is counted as detected (Timeout), so a
 * slack too small on a busy machine would credit tests with kills they did not make: generous
 * here, since a true endless loop costs only its own wait.
 */
export const strykerTimeouts = {
  /** Added to each mutant's allowance. */
  timeoutMs: 15_000,
  /** Times the tests' own duration in the initial run. */
  timeoutFactor: 2,
  dryRunTimeoutMinutes: 10,
} as const;

/**
 * Gitignore-style rules that keep Stryker's sandbox (a copy of the repository) to what one package
 * needs: the root package.json and tsconfig.base.json, and the package without its build output
 * (but the folders it keeps: see MutationPackage.kept).
 * The sandbox keeps the repository's shape, so relative paths (tsconfig's `extends`, the root the
 * code computes from its own place) mean the same there. Workspace dependencies resolve through
 * the node_modules link to the repository's own built packages, which no mutant touches.
 */
export function sandboxRules(packageDir: string, kept: readonly string[] = []): string[] {
  const [group = '', name = ''] = packageDir.split('/');
  // Git-style rules cannot take back a file whose folder is left out: dist's contents go instead.
  const buildOutput = kept.length === 0 ? [`/${group}/${name}/dist`] : [`/${group}/${name}/dist/*`, ...kept.map((folder) => `!/${group}/${name}/${folder}`)];
  return [
    '/*',
    '!/package.json',
    '!/tsconfig.base.json',
    `!/${group}`,
    `/${group}/*`,
    `!/${group}/${name}`,
    ...buildOutput,
    `/${group}/${name}/dist-test`,
    `/${group}/${name}/.turbo`,
  ];
}

/** The compiled test files of a package, from the repository root: every test/*.test.ts but those left out. */
export function compiledTestFiles(pkg: MutationPackage, testSources: readonly string[]): string[] {
  return testSources
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => `dist-test/test/${name.slice(0, -'.ts'.length)}.js`)
    .filter((file) => !(file in pkg.leftOut))
    .sort()
    .map((file) => `${pkg.dir}/${file}`);
}

/** Stryker's options (as its config file takes them) for the selected targets of one package. */
export function strykerConfig(
  pkg: MutationPackage,
  selected: readonly Target[],
  testFiles: readonly string[],
  toolchain: Toolchain,
  settings: RunSettings,
): Record<string, unknown> {
  return {
    mutate: mutateGlobs(selected),
    ignorePatterns: sandboxRules(pkg.dir, Object.keys(pkg.kept ?? {})),
    tempDirName: settings.tempDir,
    cleanTempDir: 'always',
    // Rebuilds the package's code and tests from the mutated sources, inside the sandbox.
    buildCommand: `${toolchain.node} ${toolchain.tsc} -p ${pkg.dir}/tsconfig.json`,
    tsconfigFile: `${pkg.dir}/tsconfig.json`,
    // Mutants that do not compile are dropped before any test runs.
    checkers: ['typescript'],
    typescriptChecker: { prioritizePerformanceOverAccuracy: true },
    testRunner: 'tap',
    tap: {
      testFiles,
      // node:test speaks TAP; Stryker's hook records coverage and switches the mutant on.
      nodeArgs: ['--test-reporter=tap', '-r', '{{hookFile}}', '--import', toolchain.fileDeadline, '{{testFile}}'],
      forceBail: true,
    },
    // Per test file: a mutant runs only the files that reach it.
    coverageAnalysis: 'perTest',
    concurrency: settings.concurrency,
    timeoutMS: strykerTimeouts.timeoutMs,
    timeoutFactor: strykerTimeouts.timeoutFactor,
    dryRunTimeoutMinutes: strykerTimeouts.dryRunTimeoutMinutes,
    reporters: ['json', 'html', 'progress-append-only'],
    jsonReporter: { fileName: `${settings.reportDir}/mutation.json` },
    htmlReporter: { fileName: `${settings.reportDir}/index.html` },
    allowConsoleColors: false,
    // The verdict is ours (equivalents subtracted); Stryker's own threshold would ignore them.
    thresholds: { high: 90, low: 80, break: null },
  };
}
