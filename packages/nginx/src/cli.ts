#!/usr/bin/env node
/**
 * nginx-config: prints (or writes) the nginx.conf generated from the route table.
 *
 *   nginx-config [--target native] [--listen-host H] [--edge-port N] [--api-port N]
 *                [--prefix DIR] [--access-log-port N] [--out FILE]
 *   nginx-config --target compose|kubernetes [--out FILE]
 *
 * Without options it prints the native target with the documented defaults (its golden file).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { generateFiles } from './generate.js';
import { composeTarget, kubernetesTarget, nativeExample, nativeTarget, type Target } from './targets.js';

// `nginx-config | head` closes the pipe early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

function fail(message: string): never {
  process.stderr.write(`nginx-config: ${message}\n`);
  process.exit(2);
}

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) fail(`--${name} must be a port from 1 to 65535 (got ${JSON.stringify(value)})`);
  return n;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      target: { type: 'string', default: 'native' },
      'listen-host': { type: 'string' },
      'edge-port': { type: 'string' },
      'api-port': { type: 'string' },
      prefix: { type: 'string' },
      'access-log-port': { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  }));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}

const fixedTargets: Record<string, () => Target> = { compose: composeTarget, kubernetes: kubernetesTarget };
const targets = ['native', ...Object.keys(fixedTargets)];
if (!targets.includes(values.target)) fail(`unknown --target ${JSON.stringify(values.target)}; targets: ${targets.join(', ')}`);
const target = fixedTargets[values.target]?.() ?? nativeTarget({
  listenHost: values['listen-host'] ?? nativeExample.listenHost,
  edgePort: port(values['edge-port'], nativeExample.edgePort, 'edge-port'),
  apiPort: port(values['api-port'], nativeExample.apiPort, 'api-port'),
  prefix: values.prefix ?? nativeExample.prefix,
  accessLogPort: port(values['access-log-port'], nativeExample.accessLogPort, 'access-log-port'),
});
const config = generateFiles(target)['nginx.conf'] ?? '';
if (values.out) await writeFile(values.out, config);
else process.stdout.write(config);
