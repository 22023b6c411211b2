import { spawn } from 'node:child_process';
import { splitLines } from './lines.js';

export interface CommandOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** After this long the command gets `killSignal`; its output so far is kept, and nothing throws. */
  readonly timeoutMs?: number;
  /** SIGTERM by default: the command may still clean up. SIGKILL for one that must not outlive us. */
  readonly killSignal?: NodeJS.Signals;
  /** Written to its stdin, which is then closed (a password for `--password-stdin`, never an argument). */
  readonly input?: string;
  /** Each line as it comes, for progress; the result still holds every stream whole. */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Its pid, as soon as it runs: to watch it while it works (its CPU time, say). */
  readonly onSpawn?: (pid: number) => void;
}

export interface CommandResult {
  /** null when a signal ended it. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Both streams, in the order their chunks came. */
  readonly output: string;
}

/**
 * Runs a command to completion and collects what it printed. It resolves when the command's output
 * has ended, not merely when it exited, so its last lines (a summary, a verdict) are never lost.
 * It rejects only when the command could not be started (ENOENT, EACCES).
 */
export function runCommand(file: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs, killSignal: options.killSignal ?? 'SIGTERM' }),
      // stdin is a pipe closed at once, after `input` if any: the command reads an end, never a terminal.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      output += chunk;
    });
    const { onLine } = options;
    if (onLine) {
      splitLines(child.stdout, (line) => onLine(line, 'stdout'));
      splitLines(child.stderr, (line) => onLine(line, 'stderr'));
    }
    // A command that exits without reading its stdin must not fail us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
    child.once('spawn', () => {
      if (child.pid !== undefined) options.onSpawn?.(child.pid);
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, output }));
  });
}

/**
 * Runs a command that must succeed and returns its stdout. A failure (a non-zero exit, a signal,
 * a command that is not there) throws an error naming the command, with its stderr.
 */
export async function commandOutput(file: string, args: readonly string[], options: CommandOptions = {}): Promise<string> {
  const command = [file, ...args].join(' ');
  let result: CommandResult;
  try {
    result = await runCommand(file, args, options);
  } catch (error) {
    throw new Error(`${command} failed: ${(error as Error).message}`, { cause: error });
  }
  if (result.code === 0) return result.stdout;
  const why = result.stderr.trim() || (result.code === null ? 'killed by a signal' : `exit code ${result.code}`);
  throw new Error(`${command} failed: ${why}`);
}
