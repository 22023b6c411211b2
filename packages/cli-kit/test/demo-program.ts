import { envInteger } from '@three-tier/shared';
import { z } from 'zod';
import { envOrExit, parseCommandLine } from '../src/index.js';

const cli = { program: 'demo', usage: 'usage: demo [--name NAME]\n' };
const { values, positionals } = parseCommandLine(cli, { name: { type: 'string' } });
const env = envOrExit(cli, z.object({ DEMO_COUNT: envInteger(1, 10).default(1) }), process.env);
process.stdout.write(JSON.stringify({ name: values.name, positionals, count: env.DEMO_COUNT }));
