import { join, resolve } from 'node:path';
import { findBinaries } from '@three-tier/processes';
import { exitWith, parseCommandLine, repoRoot } from '@three-tier/cli-kit';
import { screenshotLivePage } from './screenshot.js';

const usage = `usage: npm run screenshot [-- --out FILE] [--dark] [--width PX]

Starts redis-server, four api instances and nginx on free ports with temporary data, opens /html in
headless Chromium, stops one instance, slows another, sends a burst and runs load, then writes a
full-page PNG. Needs redis-server, nginx and chromium.

  --out FILE     where the PNG goes (default docs/page.png, the README's picture)
  --dark         the dark colour scheme
  --width PX     the viewport's width (default 1100; 390 for a phone)
  -h, --help     this text
`;

/** `npm run screenshot`: the README's picture of the live page. Returns the exit code. */
export async function screenshotCommand(env: NodeJS.ProcessEnv): Promise<number> {
  const cli = { program: 'three-tier-screenshot', usage };
  const { values, positionals } = parseCommandLine(cli, { out: { type: 'string' }, dark: { type: 'boolean' }, width: { type: 'string' } });
  if (positionals.length > 1) exitWith(cli, `unexpected arguments: ${positionals.slice(1).join(' ')}`, 2);
  const width = Number(values.width ?? 1100);
  if (!Number.isInteger(width) || width < 320 || width > 3840) exitWith(cli, `--width must be an integer from 320 to 3840 (got ${values.width ?? ''})`, 2);
  const { redisServer, nginx } = findBinaries(env);
  if (!redisServer || !nginx) exitWith(cli, 'redis-server and nginx must be installed: sudo apt-get install -y redis-server nginx chromium');
  // npm runs scripts from the repository's root; a relative --out is the caller's.
  const out = values.out === undefined ? join(repoRoot, 'docs', 'page.png') : resolve(env.INIT_CWD ?? process.cwd(), values.out);
  await screenshotLivePage({
    out,
    bin: { redisServer, nginx },
    env,
    colorScheme: values.dark === true ? 'dark' : 'light',
    width,
    onStep: (line) => process.stdout.write(`screenshot | ${line}\n`),
  });
  return 0;
}
