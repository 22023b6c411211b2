#!/usr/bin/env node
/**
 * deploy-generate (`npm run generate`): writes every generated deployment file into the repository
 * and says which it wrote, or that nothing changed. With --check it only reads: it exits 1 naming
 * the files that differ from their generator.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '@three-tier/shared';
import { generatedFiles } from './files.js';

const usage = `usage: deploy-generate [--check]

Writes the files generated from the shared contract (docker-compose.yml, docker/nginx/nginx.conf,
k8s/*.yaml) into the repository and prints each one it changed, or that nothing changed.

  --check     write nothing; exit 1 naming the files that differ from their generator
  -h, --help  this text
`;

function fail(message: string, code: number): never {
  process.stderr.write(`deploy-generate: ${message}\n`);
  process.exit(code);
}

let check: boolean | undefined;
let help: boolean | undefined;
try {
  ({ values: { check, help } } = parseArgs({ options: { check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
} catch (error) {
  fail(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`, 2);
}
if (help) {
  process.stdout.write(usage);
  process.exit(0);
}

const files = Object.entries(generatedFiles());
const changed: string[] = [];
for (const [path, content] of files) {
  const file = join(repoRoot, path);
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === content) continue;
  changed.push(path);
  if (check) continue;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  process.stdout.write(`wrote ${path}\n`);
}

if (check && changed.length > 0) fail(`out of date (run npm run generate): ${changed.join(', ')}`, 1);
if (changed.length === 0) process.stdout.write(`${files.length} generated files, all up to date: nothing changed\n`);
