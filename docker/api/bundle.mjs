// Runs in the api image's build stage, after the build: bundles the compiled api, its workspaces
// and its production dependencies into apps/api/dist/bundle, which is all the runtime stage copies.
// Why: a replica is born faster, and takes less from those that serve. Node resolved, read and
// compiled some 400 files of node_modules and dist; from `docker run` to a ready /readyz, a replica
// took 0.6-0.73 s of CPU (0.7-1.0 s), bundled 0.38-0.43 s (0.48-0.58 s). On two cores, a replica
// starting under load takes that CPU from the replicas that serve: stack changes' p99 showed it.
//
// The bundle sits where dist/src does (the same depth), so what the api finds beside itself by
// import.meta.url is found in the image as in a clone: its package.json (../../package.json), the
// repository's (cli-kit's repoRoot), the page script (through the package's exports), and the /load
// worker (./worker.js, bundled as its own entry).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

// From the repository root (the build stage's /repo).
const api = join(process.cwd(), 'apps/api');
const out = join(api, 'dist/bundle');

// Bundled ESM has no `require`, which the CommonJS dependencies (express, ioredis, pino) call for
// Node's built-ins. pino's pretty output (LOG_FORMAT=pretty) runs in a worker that loads pino-pretty
// by file: pino reads where from __bundlerPathsOverrides, as its docs say bundlers should set.
const banner = [
  "import { createRequire as __apiRequire } from 'node:module';",
  "import { fileURLToPath as __apiPath } from 'node:url';",
  'const require = __apiRequire(import.meta.url);',
  'globalThis.__bundlerPathsOverrides = {',
  "  'thread-stream-worker': __apiPath(new URL('./thread-stream-worker.cjs', import.meta.url)),",
  "  'pino-pretty': __apiPath(new URL('./pino-pretty.cjs', import.meta.url)),",
  '};',
].join('\n');

const common = { bundle: true, platform: 'node', sourcemap: true, logLevel: 'warning', metafile: true };

const service = await build({
  ...common,
  entryPoints: { index: join(api, 'dist/src/index.js'), worker: join(api, 'dist/src/load/worker.js') },
  format: 'esm',
  outdir: out,
  banner: { js: banner },
});

// What pino's transport worker loads by path: CommonJS, as the packages are.
const pretty = await build({
  ...common,
  entryPoints: { 'thread-stream-worker': 'thread-stream/lib/worker.js', 'pino-pretty': 'pino-pretty' },
  format: 'cjs',
  outdir: out,
  outExtension: { '.js': '.cjs' },
  absWorkingDir: api,
});

// The bundle carries code of many packages without their folders: their licences go with it, in one file.
const packages = new Set();
// Each build names its inputs from its own working directory.
for (const [result, from] of [[service, process.cwd()], [pretty, api]]) {
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packages.add(join(from, match[1]));
  }
}
const notices = [...packages].sort().map((dir) => {
  const { name, version, license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  // The licence, and the NOTICE that Apache-2.0 asks to pass on.
  const files = readdirSync(dir).filter((entry) => /^(licen[cs]e|copying|notice)/i.test(entry));
  const texts = files.map((file) => readFileSync(join(dir, file), 'utf8').trim());
  return `${name}@${version} (${license ?? 'see its package'})\n\n${texts.join('\n\n') || 'no licence file in the package'}\n`;
});
writeFileSync(join(out, 'THIRD-PARTY-LICENSES.txt'), notices.join(`\n${'-'.repeat(72)}\n\n`));
