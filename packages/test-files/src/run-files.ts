import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { formatDuration } from './duration.js';
import type { TestEvent } from './reporter.js';

export interface RunOptions {
  files: readonly string[];
  /** Wall-clock limit for one file, from spawn to exit. */
  fileTimeoutMs: number;
  /** Files run at once; their output is still printed one file at a time, in order. */
  concurrency: number;
  /** Where the files' output and the verdict go. */
  write: (text: string) => void;
  /** How long a file has between SIGTERM and SIGKILL of its process group. */
  graceMs?: number;
  /** The files' environment; the runner's own when left out. */
  env?: NodeJS.ProcessEnv;
  /** A skipped (or todo) test or suite fails its file: under CI every test must run. */
  forbidSkips?: boolean;
}

export interface FileResult {
  file: string;
  outcome: 'passed' | 'failed' | 'timed-out' | 'no-tests' | 'skipped-tests';
  tests: number;
  failed: number;
  /** Skipped or todo tests, and skipped or todo suites (each counts once: the tests in a skipped suite never report). */
  skipped: number;
  durationMs: number;
  /** The skipped or todo tests and suites, by their path of suites. */
  skips: string[];
  /** Tests that had started and not finished when the file was killed. */
  running: string[];
  /** The failed tests and hooks, by their path of suites, with the first lines of their error. */
  failures: { test: string; error: string }[];
  /** The last lines the file printed. */
  tail: string[];
  /** True when processes of the file's group outlived it and were killed. */
  leftovers: boolean;
}

const reporter = fileURLToPath(new URL('./reporter.js', import.meta.url));
const tailLines = 40;

/** Kills a whole process group; it is fine if it is gone already. */
function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function groupAlive(pid: number): boolean {
  return killGroup(pid, 0 as unknown as NodeJS.Signals);
}

/** What a file's reporter log says: tests run, failed, skipped, and those still running. */
function summarize(events: TestEvent[]): Pick<FileResult, 'tests' | 'failed' | 'skipped' | 'skips' | 'running' | 'failures'> {
  const stack: string[] = [];
  const running = new Map<string, string>();
  const failures: FileResult['failures'] = [];
  let tests = 0;
  let failed = 0;
  const skips: string[] = [];
  const cancelled: FileResult['failures'] = [];
  for (const { event, name, nesting, suite, skipped: skip, error, cancelled: byParent } of events) {
    const key = `${nesting}:${name}`;
    // A test its suite cancelled may never have started: its path is then its suite's, which did.
    const path = running.get(key) ?? [...stack.slice(0, nesting), name].join(' > ');
    if (event === 'start') {
      stack.length = nesting;
      stack.push(name);
      running.set(key, stack.join(' > '));
      continue;
    }
    running.delete(key);
    if (event === 'fail' && error !== undefined) (byParent ? cancelled : failures).push({ test: path, error });
    // A skipped or todo suite counts as one skipped: describe.skip reports no event for the tests inside it.
    if (skip) skips.push(path);
    if (suite) continue;
    if (!skip) tests += 1;
    if (event === 'fail') failed += 1;
  }
  // Only the innermost: a suite is "running" because its test is.
  const paths = [...running.values()];
  // What failed on its own account first: a suite's hook before the tests it cancelled.
  return { tests, failed, skipped: skips.length, skips, failures: [...failures, ...cancelled], running: paths.filter((p) => !paths.some((q) => q.startsWith(`${p} > `))) };
}

async function readEvents(log: string): Promise<TestEvent[]> {
  const text = await readFile(log, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      // A file killed mid-write leaves its last line cut short.
      try {
        return [JSON.parse(line) as TestEvent];
      } catch {
        return [];
      }
    });
}

/** One file's run: how it ends, and how to stop it early. */
interface Running {
  result: Promise<FileResult>;
  stop: () => void;
}

/** What starting a file needs beyond the file itself. */
interface FileRun {
  file: string;
  /** Where the file's reporter writes its events. */
  log: string;
  fileTimeoutMs: number;
  graceMs: number;
  env: NodeJS.ProcessEnv | undefined;
  forbidSkips: boolean;
  /** Where the file's output goes as it prints it. */
  print: (text: string) => void;
}

/** `node <file>` with the spec reporter on stdout and ours into `log`, in a process group of its own. */
function spawnTestFile(file: string, log: string, env: NodeJS.ProcessEnv | undefined): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(
    process.execPath,
    [
      '--enable-source-maps',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${reporter}`,
      `--test-reporter-destination=${log}`,
      file,
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env },
  );
}

/** Passes the child's output on as it comes, and keeps its last lines for a timeout's report. */
function keepTail(child: ChildProcessByStdio<null, Readable, Readable>, print: (text: string) => void): string[] {
  const lines: string[] = [];
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString();
    lines.push(...text.split('\n').filter((line) => line !== ''));
    if (lines.length > tailLines * 4) lines.splice(0, lines.length - tailLines);
    print(text);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return lines;
}

/** A file's verdict: a timeout first, then a failure of any kind, then skips where they are forbidden, then no tests. */
function outcomeOf(
  exit: { code: number | null; signal: NodeJS.Signals | null; timedOut: boolean },
  summary: ReturnType<typeof summarize>,
  forbidSkips: boolean,
): FileResult['outcome'] {
  if (exit.timedOut) return 'timed-out';
  if (exit.code !== 0 || exit.signal !== null || summary.failed > 0) return 'failed';
  if (forbidSkips && summary.skipped > 0) return 'skipped-tests';
  if (summary.tests === 0) return 'no-tests';
  return 'passed';
}

/** Starts one file under its wall-clock limit; its result comes once its process group is gone and its streams have ended. */
function startFile(run: FileRun): Running {
  const started = performance.now();
  const child = spawnTestFile(run.file, run.log, run.env);
  const pid = child.pid ?? 0;
  const tail = keepTail(child, run.print);
  let timedOut = false;
  const terminate = (): void => {
    killGroup(pid, 'SIGTERM');
    setTimeout(() => killGroup(pid, 'SIGKILL'), run.graceMs).unref();
  };
  const timer = setTimeout(() => {
    timedOut = true;
    terminate();
  }, run.fileTimeoutMs);

  const result = new Promise<FileResult>((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Whatever the file left in its group (a server it forgot, a child it never awaited) goes too.
      const leftovers = groupAlive(pid);
      if (leftovers) killGroup(pid, 'SIGKILL');
      // Stray holders of the pipes are dead now, so the streams end.
      const ended = new Promise((done) => child.on('close', done));
      void ended.then(async () => {
        const summary = summarize(await readEvents(run.log));
        resolve({
          file: run.file,
          outcome: outcomeOf({ code, signal, timedOut }, summary, run.forbidSkips),
          ...summary,
          running: timedOut ? summary.running : [],
          durationMs: performance.now() - started,
          tail: tail.slice(-tailLines),
          leftovers,
        });
      });
    });
  });
  return { result, stop: terminate };
}

/** The line (or lines) that close a file's output. */
function verdictLine(result: FileResult, fileTimeoutMs: number): string {
  const counts = `${result.tests} tests, ${result.failed} failed, ${result.skipped} skipped`;
  const took = formatDuration(result.durationMs);
  const leftovers = result.leftovers ? '; processes it left in its group were killed' : '';
  switch (result.outcome) {
    case 'passed':
      return `run-test-files: ${result.file}: ${counts} (${took})${leftovers}\n`;
    case 'failed':
      return `run-test-files: ✖ ${result.file} failed: ${counts} (${took})${leftovers}\n`;
    case 'no-tests':
      return `run-test-files: ✖ ${result.file} ran no tests (${took})\n`;
    case 'skipped-tests':
      return (
        `run-test-files: ✖ ${result.file} skipped ${result.skipped} tests, and here every test must run (CI): ${counts} (${took})\n` +
        result.skips.map((path) => `  skipped: ${path}\n`).join('')
      );
    case 'timed-out':
      return (
        `run-test-files: ✖ ${result.file} did not finish within ${formatDuration(fileTimeoutMs)}: ` +
        `killed its process group\n` +
        (result.running.length > 0 ? `  still running: ${result.running.join('; ')}\n` : '') +
        `  its last ${result.tail.length} lines of output:\n` +
        result.tail.map((line) => `  | ${line}\n`).join('')
      );
  }
}

/**
 * The files' output, whole and in order: the oldest unfinished file's goes straight through, the
 * others' waits until every file before it has finished.
 */
class InOrderOutput {
  private head = 0;
  private readonly waiting = new Map<number, string[]>();
  private readonly finished = new Set<number>();

  constructor(private readonly write: (text: string) => void) {}

  print(index: number, text: string): void {
    if (index === this.head) {
      this.write(text);
      return;
    }
    const waiting = this.waiting.get(index) ?? [];
    waiting.push(text);
    this.waiting.set(index, waiting);
  }

  /** Hands the terminal to the next file in order, printing what it has buffered. */
  finish(index: number): void {
    this.finished.add(index);
    while (this.finished.has(this.head)) {
      this.head += 1;
      for (const text of this.waiting.get(this.head) ?? []) this.write(text);
      this.waiting.delete(this.head);
    }
  }
}

/** Calls `stop` once on the first SIGINT or SIGTERM, until the returned function is called. */
function onStopSignal(stop: (signal: NodeJS.Signals) => void): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    stop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/**
 * Runs test files, `concurrency` at a time, each as `node <file>` with the spec reporter, in its own
 * process group, so that a timeout or a Ctrl-C kills everything the file started (except what it
 * detached on purpose). Each file's output is printed whole and in order; the oldest file's streams.
 */
export async function runFiles(options: RunOptions): Promise<FileResult[]> {
  const { files, fileTimeoutMs, concurrency, write, graceMs = 5_000, env, forbidSkips = false } = options;
  const logs = await mkdtemp(join(tmpdir(), 'test-files-'));
  const output = new InOrderOutput(write);
  const runs: Running[] = [];
  let stopping = false;
  const stopListening = onStopSignal((signal) => {
    stopping = true;
    write(`run-test-files: ${signal}: stopping every running file\n`);
    for (const run of runs) run.stop();
  });

  // Sparse until every file is done; a Ctrl-C leaves the files never started out.
  const results: (FileResult | undefined)[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length && !stopping) {
      const index = next++;
      const file = files[index] ?? '';
      const log = join(logs, `${index}-${basename(file)}.jsonl`);
      const print = (text: string): void => output.print(index, text);
      const run = startFile({ file, log, fileTimeoutMs, graceMs, env, forbidSkips, print });
      runs[index] = run;
      const result = await run.result;
      results[index] = result;
      print(verdictLine(result, fileTimeoutMs));
      output.finish(index);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, files.length)) }, worker));
  } finally {
    stopListening();
    await rm(logs, { recursive: true, force: true });
  }
  return results.filter((result): result is FileResult => result !== undefined);
}
