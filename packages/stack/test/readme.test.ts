import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { apiEnvSchema, edge, edgeEnvSchema, routeList } from '@three-tier/shared';
import { repoRoot, stackEnvSchema } from '../src/index.js';

const readme = await readFile(`${repoRoot}README.md`, 'utf8');

/** Commands the README shows, and where each is run for real. */
const testedCommands: Record<string, string> = {
  'npm ci': '.ci/run',
  'npm start': 'runner.test.ts (npm start itself)',
  'npm test': '.ci/run',
  'npm run nginx:config': 'packages/nginx generate.test.ts',
  'npm run bench': '.ci/run',
};

describe('the README', () => {
  test('lists every route of the table and the edge health path', () => {
    for (const route of [...routeList.map((entry) => entry.path), edge.healthPath]) {
      assert.ok(readme.includes(`| \`${route}`), `README lists ${route}`);
    }
  });

  test('documents every environment variable of the api, the edge and npm start', () => {
    const names = [
      ...Object.keys(apiEnvSchema.shape),
      ...Object.keys(edgeEnvSchema.shape),
      ...Object.keys(stackEnvSchema.shape),
      'NGINX_BIN',
      'REDIS_SERVER_BIN',
    ];
    for (const name of names) assert.ok(readme.includes(`\`${name}\``), `README documents ${name}`);
  });

  test('shows only commands that CI or a test runs', () => {
    const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
    const commands = blocks
      .flatMap((block) => block.split('\n'))
      .map((line) => line.replace(/#.*$/, '').trim())
      .filter(Boolean)
      .flatMap((line) => line.split('&&').map((part) => part.trim()));
    assert.ok(commands.length > 0);
    for (const command of commands) assert.ok(command in testedCommands, `"${command}" is run by a test or CI`);
  });
});
