#!/usr/bin/env node
/**
 * deploy-generate: writes every generated deployment file (docker-compose.yml, docker/nginx/nginx.conf)
 * into the repository; with --check, writes nothing and exits 1 naming the files that differ.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from './files.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const check = process.argv.includes('--check');
const stale: string[] = [];

for (const [path, content] of Object.entries(generatedFiles())) {
  const file = join(root, path);
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === content) continue;
  if (check) {
    stale.push(path);
    continue;
  }
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  process.stdout.write(`wrote ${path}\n`);
}

if (stale.length > 0) {
  process.stderr.write(`deploy-generate: out of date (run npm run generate): ${stale.join(', ')}\n`);
  process.exit(1);
}
