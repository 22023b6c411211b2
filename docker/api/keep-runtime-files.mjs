// Runs in the api image's build stage, after `npm prune --omit=dev`: leaves only what the api
// runs, the compiled JavaScript (with source maps) of the api and of the workspaces it depends on
// in production. Sources, tests, type declarations and dev-only workspaces go.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const workspaces = new Map();
for (const group of ['apps', 'packages']) {
  for (const name of readdirSync(group)) {
    const dir = join(group, name);
    workspaces.set(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name, dir);
  }
}

// The production closure of the api among the workspaces.
const keep = new Set();
const visit = (name) => {
  if (keep.has(name) || !workspaces.has(name)) return;
  keep.add(name);
  const manifest = JSON.parse(readFileSync(join(workspaces.get(name), 'package.json'), 'utf8'));
  for (const dependency of Object.keys(manifest.dependencies ?? {})) visit(dependency);
};
visit('@three-tier/api');

const strip = (dir) => {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) strip(path);
    else if (/\.d\.ts(\.map)?$|\.tsbuildinfo$/.test(entry)) rmSync(path);
  }
};

for (const [name, dir] of workspaces) {
  if (!keep.has(name)) {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join('node_modules', name), { force: true });
    continue;
  }
  for (const entry of readdirSync(dir)) {
    if (entry !== 'package.json' && entry !== 'dist') rmSync(join(dir, entry), { recursive: true, force: true });
  }
  rmSync(join(dir, 'dist', 'test'), { recursive: true, force: true });
  strip(join(dir, 'dist'));
}
console.log(`runtime workspaces: ${[...keep].join(', ')}`);
