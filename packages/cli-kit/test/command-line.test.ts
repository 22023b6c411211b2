import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { envInteger } from '@three-tier/shared';
import { envOrExit, exitWith, parseCommandLine } from '../src/index.js';

const cli = { program: 'demo', usage: 'usage: demo [--name N] [--dry-run] [file ...]\n' };

/** What a command-line helper did: its result, or the code it exited with, and what it printed. */
interface Outcome {
  readonly result?: unknown;
  readonly exitCode?: number;
  readonly stdout: string;
  readonly stderr: string;
}

class Exited extends Error {
  constructor(readonly code: number | undefined) {
    super(`exit ${String(code)}`);
  }
}

/**
 * Runs `body` as the program would run with `args`, in this process: process.exit ends the body
 * (not the test) and what it wrote is kept. Everything is put back before the outcome is returned.
 */
function run(args: readonly string[], body: () => unknown): Outcome {
  const saved = {
    argv: process.argv,
    exit: process.exit.bind(process),
    out: process.stdout.write.bind(process.stdout),
    err: process.stderr.write.bind(process.stderr),
  };
  let stdout = '';
  let stderr = '';
  process.argv = [process.execPath, '/bin/demo', ...args];
  process.exit = (code?: number | string | null) => {
    throw new Exited(code === undefined || code === null ? undefined : Number(code));
  };
  process.stdout.write = (chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  };
  process.stderr.write = (chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  };
  try {
    return { result: body(), stdout, stderr };
  } catch (error) {
    if (error instanceof Exited) return { exitCode: error.code, stdout, stderr };
    throw error;
  } finally {
    process.argv = saved.argv;
    process.exit = saved.exit;
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
  }
}

const options = { name: { type: 'string' }, 'dry-run': { type: 'boolean' } } as const;

describe('parseCommandLine', () => {
  test('returns the options and the positionals of the arguments after the program', () => {
    // parseArgs gives its values a null prototype; spread, they compare as plain objects.
    const parsed = (args: string[]) => run(args, () => {
      const { values, positionals } = parseCommandLine(cli, options);
      return { values: { ...values }, positionals };
    });
    assert.deepEqual(parsed(['--name', 'x', 'a.txt', '--dry-run', 'b.txt']), {
      result: { values: { name: 'x', 'dry-run': true }, positionals: ['a.txt', 'b.txt'] },
      stdout: '',
      stderr: '',
    });
    assert.deepEqual(parsed([]).result, { values: {}, positionals: [] });
  });

  test('--help and -h print the usage on stdout and exit 0', () => {
    for (const flag of ['--help', '-h']) {
      assert.deepEqual(run([flag], () => parseCommandLine(cli, options)), { exitCode: 0, stdout: cli.usage, stderr: '' }, flag);
    }
    assert.equal(run(['--name', 'x', '-h'], () => parseCommandLine(cli, options)).exitCode, 0);
  });

  test('an unknown option, or a value missing, exits 2 with the message and the usage on stderr', () => {
    const unknown = run(['--nope'], () => parseCommandLine(cli, options));
    assert.equal(unknown.exitCode, 2);
    assert.equal(unknown.stdout, '');
    assert.match(unknown.stderr, /^demo: Unknown option '--nope'.*\n\nusage: demo \[--name N\]/s);
    assert.ok(unknown.stderr.endsWith(`${cli.usage}\n`));
    const missing = run(['--name'], () => parseCommandLine(cli, options));
    assert.equal(missing.exitCode, 2);
    assert.match(missing.stderr, /^demo: Option '--name <value>' argument missing/);
  });

  test('a boolean option takes no value', () => {
    assert.equal(run(['--dry-run=yes'], () => parseCommandLine(cli, options)).exitCode, 2);
  });
});

describe('exitWith', () => {
  test('a failure (1 by default) prints "<program>: <message>" alone', () => {
    assert.deepEqual(run([], () => exitWith(cli, 'out of date: a.yaml')), { exitCode: 1, stdout: '', stderr: 'demo: out of date: a.yaml\n' });
    assert.deepEqual(run([], () => exitWith(cli, 'broke', 3)), { exitCode: 3, stdout: '', stderr: 'demo: broke\n' });
  });

  test('a usage error (2) adds the usage after a blank line', () => {
    assert.deepEqual(run([], () => exitWith(cli, 'unexpected arguments: x', 2)), {
      exitCode: 2,
      stdout: '',
      stderr: `demo: unexpected arguments: x\n\n${cli.usage}\n`,
    });
  });
});

describe('envOrExit', () => {
  const schema = z.object({ LIMIT: envInteger(1, 9).default(5) });

  test('returns the parsed settings', () => {
    assert.deepEqual(run([], () => envOrExit(cli, schema, { LIMIT: '7' })), { result: { LIMIT: 7 }, stdout: '', stderr: '' });
  });

  test('a bad setting exits 1 naming the variable, without the usage', () => {
    assert.deepEqual(run([], () => envOrExit(cli, schema, { LIMIT: '10' })), {
      exitCode: 1,
      stdout: '',
      stderr: 'demo: invalid configuration:\n  LIMIT must be an integer from 1 to 9 (got "10")\n',
    });
  });

  test('any other error is not a configuration problem: it is thrown, not turned into an exit', () => {
    const failing = z.object({ X: z.string().transform(() => { throw new TypeError('bug in a transform'); }) });
    assert.throws(() => run([], () => envOrExit(cli, failing, { X: 'x' })), TypeError);
  });
});
