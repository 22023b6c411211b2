import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Runs the docker CLI and returns its stdout; a failure carries docker's own stderr. `input` goes
 * to its stdin (a password for `login --password-stdin`, never an argument).
 */
export async function docker(args: readonly string[], env?: NodeJS.ProcessEnv, input?: string): Promise<string> {
  try {
    const pending = run('docker', [...args], { env, maxBuffer: 64 * 1024 * 1024 });
    pending.child.stdin?.end(input);
    const { stdout } = await pending;
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`docker ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`, { cause: error });
  }
}

/** True when a Docker engine answers. */
export async function dockerAnswers(env?: NodeJS.ProcessEnv): Promise<boolean> {
  return docker(['info', '--format', '{{.ServerVersion}}'], env).then(
    () => true,
    () => false,
  );
}
