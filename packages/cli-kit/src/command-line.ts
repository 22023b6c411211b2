/**
 * What every command-line program of the repository does the same way: `--help` prints its usage
 * and exits 0, a bad option or argument exits 2 with the usage, a bad setting exits 1 naming the
 * variable (see parseEnv). Messages go to stderr as `<program>: <message>`.
 */
import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { ConfigError, parseEnv } from '@three-tier/shared';

export interface CommandLine {
  /** The name messages start with. */
  readonly program: string;
  readonly usage: string;
}

/** Prints `<program>: <message>` on stderr and exits with `code` (1: a failure, 2: a usage error). */
export function exitWith(cli: CommandLine, message: string, code = 1): never {
  process.stderr.write(`${cli.program}: ${message}${code === 2 ? `\n\n${cli.usage}` : ''}\n`);
  process.exit(code);
}

type OptionSpec = Readonly<Record<string, { readonly type: 'string' } | { readonly type: 'boolean' }>>;

/** The parsed options, typed from their spec. */
export type OptionValues<Spec extends OptionSpec> = {
  readonly [Name in keyof Spec]?: Spec[Name]['type'] extends 'string' ? string : boolean;
};

/** The process's arguments against `options` (plus -h/--help, which prints the usage and exits 0). */
export function parseCommandLine<const Spec extends OptionSpec>(
  cli: CommandLine,
  options: Spec,
): { readonly values: OptionValues<Spec>; readonly positionals: readonly string[] } {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      strict: true,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    exitWith(cli, error instanceof Error ? error.message : String(error), 2);
  }
  if (parsed.values.help === true) {
    process.stdout.write(cli.usage);
    process.exit(0);
  }
  return { values: parsed.values as OptionValues<Spec>, positionals: parsed.positionals };
}

/** The settings a schema names, or exit 1 naming every bad variable. */
export function envOrExit<Shape extends z.ZodRawShape>(
  cli: CommandLine,
  schema: z.ZodObject<Shape>,
  env: Readonly<Record<string, string | undefined>>,
): z.output<z.ZodObject<Shape>> {
  try {
    return parseEnv(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) exitWith(cli, error.message);
    throw error;
  }
}
