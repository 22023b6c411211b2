import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, describeExit } from '@three-tier/processes';
import { mutantsOf, type Mutant, type MutationTestResult } from './report.js';
import { compiledTestFiles, strykerConfig, type Toolchain } from './stryker-config.js';
import type { MutationPackage, Target } from './targets.js';

export interface PackageRunOptions {
  readonly repoRoot: string;
  readonly concurrency: number;
  readonly fileTimeoutMs: number;
  /** Stryker's output, a line at a time. */
  readonly onLine: (line: string) => void;
  /** Resolves (or is already resolved) when the run must stop: a signal to this process. */
  readonly cancelled: Promise<void>;
}

export interface PackageRun {
  readonly reportDir: string;
  readonly durationMs: number;
  /** Undefined when Stryker failed before writing its report; `failure` then says why. */
  readonly mutants: readonly Mutant[] | undefined;
  readonly failure: string | undefined;
}

/**
 * Stryker warns once per test file that the file is not among its input files: the compiled tests
 * are built in the sandbox, never copied into it, on purpose (a stale one must not run). Noise.
 */
const knownNoise = /Test file ".*" not found in input files, but did receive test result for it/;

function toolchain(fileTimeoutMs: number): Toolchain {
  const deadline = new URL('./file-deadline.js', import.meta.url);
  deadline.searchParams.set('ms', String(fileTimeoutMs));
  return {
    node: process.execPath,
    tsc: fileURLToPath(import.meta.resolve('typescript/bin/tsc')),
    fileDeadline: deadline.href,
  };
}

function strykerBin(): string {
  return join(dirname(fileURLToPath(import.meta.resolve('@stryker-mutator/core/package.json'))), 'bin', 'stryker.js');
}

/**
 * Runs Stryker once for the selected targets of one package, from the repository root, and reads
 * the mutants from its JSON report. The report (index.html, mutation.json) and the configuration
 * it ran with go to reports/mutation/<package>/.
 */
export async function runPackage(pkg: MutationPackage, selected: readonly Target[], options: PackageRunOptions): Promise<PackageRun> {
  const { repoRoot } = options;
  const reportDir = join(repoRoot, 'reports', 'mutation', pkg.name);
  const tempDir = join('.stryker-tmp', pkg.name);
  await mkdir(reportDir, { recursive: true });
  // A report from an earlier run must never be read as this run's.
  await rm(join(reportDir, 'mutation.json'), { force: true });
  const testSources = await readdir(join(repoRoot, pkg.dir, 'test'));
  const config = strykerConfig(pkg, selected, compiledTestFiles(pkg, testSources), toolchain(options.fileTimeoutMs), {
    concurrency: options.concurrency,
    reportDir,
    tempDir,
  });
  const configFile = join(reportDir, 'stryker.config.json');
  await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);

  const started = performance.now();
  const stryker = new Child({
    name: `stryker ${pkg.name}`,
    command: process.execPath,
    args: [strykerBin(), 'run', configFile],
    cwd: repoRoot,
    onLine: (line) => {
      if (!knownNoise.test(line)) options.onLine(line);
    },
  });
  // Stopped on a signal: Stryker's workers and the test files they run share its process group.
  void options.cancelled.then(() => stryker.stop('SIGTERM', 5_000));
  const exit = await stryker.exited;
  stryker.killLeftovers();
  await rm(join(repoRoot, tempDir), { recursive: true, force: true });
  const durationMs = performance.now() - started;

  const text = await readFile(join(reportDir, 'mutation.json'), 'utf8').catch(() => undefined);
  if (exit.code !== 0 || text === undefined) {
    return { reportDir, durationMs, mutants: undefined, failure: `Stryker ${describeExit(exit)}${text === undefined ? ', no report' : ''}` };
  }
  return { reportDir, durationMs, mutants: mutantsOf(JSON.parse(text) as MutationTestResult), failure: undefined };
}
