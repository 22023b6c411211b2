/** A tiny program built on cli-kit, run as a process of its own: exits are what is tested. */
import { fileURLToPath } from 'node:url';
import { runCommand, type CommandResult } from '@three-tier/processes';

const program = fileURLToPath(new URL('./demo-program.js', import.meta.url));

export function runCommandLine(args: readonly string[], env: Readonly<Record<string, string>>): Promise<CommandResult> {
  return runCommand(process.execPath, [program, ...args], { env: { PATH: process.env.PATH, ...env } });
}
