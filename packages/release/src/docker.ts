import { commandOutput } from '@three-tier/processes';

/**
 * Runs the docker CLI and returns its stdout; a failure carries docker's own stderr. `input` goes
 * to its stdin (a password for `login --password-stdin`, never an argument).
 */
export async function docker(args: readonly string[], env?: NodeJS.ProcessEnv, input?: string): Promise<string> {
  return commandOutput('docker', args, { ...(env ? { env } : {}), ...(input === undefined ? {} : { input }) });
}

/** True when a Docker engine answers. */
export async function dockerAnswers(env?: NodeJS.ProcessEnv): Promise<boolean> {
  return docker(['info', '--format', '{{.ServerVersion}}'], env).then(
    () => true,
    () => false,
  );
}
