/**
 * Writes test/golden/<target>.conf, the generator's output for each of its own test targets, after
 * an intended change (`npm run golden` in packages/nginx). golden.test.ts only reads them.
 */
import { writeFile } from 'node:fs/promises';
import { generateFiles } from '../src/index.js';
import { goldenFile, targets } from './targets.js';

for (const target of targets) {
  const file = goldenFile(target);
  await writeFile(file, generateFiles(target)['nginx.conf'] ?? '');
  process.stdout.write(`wrote ${file}\n`);
}
