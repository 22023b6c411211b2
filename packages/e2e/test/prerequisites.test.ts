/**
 * Every program the code, the tests, the bench and CI run is installed by the project's own
 * set-up (scripts/prerequisites.sh, which .ci/run calls), or is one that every Debian system has.
 * A new machine has nothing installed by hand: a program that only a developer's machine had
 * would pass here and fail there. The programs are read from the code, not listed by hand.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { findBinary } from '@three-tier/processes';
import { repoRoot } from '@three-tier/cli-kit';

/** Given on every machine this project runs on: the Node.js that runs it. */
const theRuntime = new Set(['node', 'npm', 'npx']);

/** Shell words that are not programs: keywords, builtins, and the scripts' own helpers. */
const shellWords = new Set(
  ('if then else elif fi for in do done case esac while until function return exit set shift local export unset break continue ' +
    'trap cd echo printf read test true false eval exec wait command shopt source . [ [[ { } ! time').split(' '),
);

async function filesUnder(dir: string, keep: (file: string) => boolean): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((entry) => !entry.includes('node_modules') && keep(entry)).map((entry) => join(dir, entry));
}

/** Every TypeScript file of every workspace, sources and tests. */
async function typeScriptFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const group of ['apps', 'packages']) {
    for (const workspace of await readdir(join(repoRoot, group))) {
      for (const part of ['src', 'test']) files.push(...(await filesUnder(join(repoRoot, group, workspace, part), (file) => file.endsWith('.ts'))));
    }
  }
  return files;
}

/** A bare program name, as a spawn or a shell line names one (paths and test fixtures are not). */
const programName = /^[a-z][a-z0-9+-]*$/;

/**
 * Programs named in TypeScript: the first argument of spawn, execFile, runCommand, findBinary and
 * the local `run`/`docker` wrappers, `command:` of a Child, and `['docker', 'compose']` style lists.
 */
export function programsInTypeScript(text: string): string[] {
  const calls = /\b(?:spawn|spawnSync|execFile|execFileSync|runCommand|run|findBinary)\(\s*'([^']+)'|\bcommand:\s*'([^']+)'|\[\s*'(docker|docker-compose)'\s*[,\]]/g;
  return [...text.matchAll(calls)].map((match) => match[1] ?? match[2] ?? match[3] ?? '').filter((name) => programName.test(name));
}

/** Programs a shell script runs: the first word of each command, and what `command -v`/`have` look for. */
export function programsInShell(text: string): string[] {
  const functions = new Set([...text.matchAll(/^\s*([a-z_][a-z0-9_]*)\s*\(\)\s*\{/gm)].map((match) => match[1] ?? ''));
  const found: string[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine
      .replace(/(^|\s)#.*$/, '')
      .replace(/^\s*[a-z0-9*|_ -]+\)(\s|$)/, '') // a case label
      .replace(/'[^']*'/g, "''")
      // A double-quoted string is words, but the commands substituted in it still run.
      .replace(/"(?:[^"\\]|\\.)*"/g, (quoted) => [...quoted.matchAll(/\$\(([^()]*)\)/g)].map((match) => `; ${match[1] ?? ''} ;`).join(''));
    for (const match of line.matchAll(/\b(?:command -v|have)\s+([a-z][a-z0-9+-]*)/g)) found.push(match[1] ?? '');
    // A command starts a line or follows ; && || | ( $( { then do else !
    for (const segment of line.split(/;|&&|\|\||\||\$\(|\(|\{|`/)) {
      const words = segment.trim().split(/\s+/).filter((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word));
      while (words[0] !== undefined && ['then', 'do', 'else', '!', 'if', 'while', 'until', 'exec', 'time'].includes(words[0])) words.shift();
      const first = words[0] ?? '';
      if (programName.test(first) && !shellWords.has(first) && !functions.has(first)) found.push(first);
    }
  }
  return found;
}

/** The programs of npm scripts that are not the workspaces' own tools (node_modules/.bin). */
async function programsInNpmScripts(): Promise<Array<{ program: string; file: string }>> {
  const manifests = [join(repoRoot, 'package.json')];
  for (const group of ['apps', 'packages']) for (const workspace of await readdir(join(repoRoot, group))) manifests.push(join(repoRoot, group, workspace, 'package.json'));
  const tools = new Set(await readdir(join(repoRoot, 'node_modules/.bin')));
  const found: Array<{ program: string; file: string }> = [];
  for (const manifest of manifests) {
    const { scripts = {} } = JSON.parse(await readFile(manifest, 'utf8')) as { scripts?: Record<string, string> };
    for (const script of Object.values(scripts)) {
      for (const program of programsInShell(script)) if (!tools.has(program)) found.push({ program, file: relative(repoRoot, manifest) });
    }
  }
  return found;
}

/** Where each program is named: program -> files. */
async function programsRun(): Promise<Map<string, Set<string>>> {
  const named = new Map<string, Set<string>>();
  const add = (program: string, file: string): void => {
    const files = named.get(program) ?? new Set<string>();
    named.set(program, files.add(file));
  };
  for (const file of await typeScriptFiles()) for (const program of programsInTypeScript(await readFile(file, 'utf8'))) add(program, relative(repoRoot, file));
  const scripts = [join(repoRoot, '.ci/run'), ...(await filesUnder(join(repoRoot, 'scripts'), (file) => file.endsWith('.sh')))];
  for (const file of scripts) for (const program of programsInShell(await readFile(file, 'utf8'))) add(program, relative(repoRoot, file));
  for (const { program, file } of await programsInNpmScripts()) add(program, file);
  return named;
}

/**
 * What prerequisites.sh makes sure of for `npm test` (the profile .ci/run uses): its
 * `command:package` pairs, each a command it checks for and the package it installs when missing.
 */
export function setUpForTests(script: string): { commands: Set<string>; packages: Set<string> } {
  const branch = /^\s*test\)\n([\s\S]*?);;/m.exec(script)?.[1] ?? '';
  const always = /^required="([^"$]*)"/m.exec(script)?.[1] ?? '';
  const pairs = [...`${always}\n${branch}`.matchAll(/\b([a-z][a-z0-9+-]*):([a-z][a-z0-9.+-]*)/g)];
  return { commands: new Set(pairs.map((match) => match[1] ?? '')), packages: new Set(pairs.map((match) => match[2] ?? '')) };
}

function dpkgQuery(args: string[]): string {
  const result = spawnSync('dpkg-query', args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout : '';
}

/** The Debian package that owns a program's file in a system directory, if one does. */
function owningPackage(program: string): string | undefined {
  for (const dir of ['/usr/bin', '/usr/sbin', '/bin', '/sbin']) {
    const path = join(dir, program);
    if (!existsSync(path)) continue;
    // awk is /etc/alternatives/awk, which is mawk's /usr/bin/mawk: the package owns the last link.
    for (const candidate of [path, realpathSync(path)]) {
      const owner = /^([^:\s]+)(?::\S+)?: /m.exec(dpkgQuery(['-S', candidate]))?.[1];
      if (owner) return owner;
    }
  }
  return undefined;
}

/** Packages every Debian system has: those of priority required (debootstrap's minbase is exactly these). */
function alwaysThere(pkg: string): boolean {
  return dpkgQuery(['-W', '-f', '${Priority}', pkg]).trim() === 'required';
}

/** Packages that come with one the set-up installs (redis-cli with redis-server, say). */
function dependenciesOf(packages: Iterable<string>): Set<string> {
  const deps = new Set<string>();
  for (const pkg of packages) {
    for (const alternative of dpkgQuery(['-W', '-f', '${Depends}', pkg]).split(/[,|]/)) {
      const name = alternative.trim().split(/[\s:(]/)[0];
      if (name) deps.add(name);
    }
  }
  return deps;
}

describe('the set-up installs every program that is run', () => {
  test('the scanners find programs where the code names them', () => {
    assert.deepEqual(programsInTypeScript("spawn('wrk', ['-t1']); findBinary('promtool', env); new Child({ command: 'sh' }); const c = ['docker', 'compose'];"), ['wrk', 'promtool', 'sh', 'docker']);
    assert.deepEqual(programsInTypeScript("spawnSync(process.execPath, []); spawn('/nonexistent/ghost'); spawn(`${x}`)"), []);
    assert.deepEqual(
      programsInShell('f() {\n  x\n}\nset -e\nif ! docker info >/dev/null; then f; fi\nv=$(kubectl version || true)\ncommand -v wrk # not dpkg\nA=1 redis-server --port "1 | nginx $(getconf X)"\n  bench | start) grep -q x ;;'),
      ['x', 'docker', 'kubectl', 'wrk', 'redis-server', 'getconf', 'grep'],
    );
  });

  test('reads the packages of the test profile from prerequisites.sh', async () => {
    const { commands, packages } = setUpForTests(await readFile(join(repoRoot, 'scripts/prerequisites.sh'), 'utf8'));
    for (const pkg of ['redis-server', 'nginx', 'docker.io', 'wrk', 'prometheus', 'chromium']) assert.ok(packages.has(pkg), `${pkg} in ${[...packages].join(' ')}`);
    for (const command of ['redis-server', 'dockerd', 'promtool', 'kubectl']) assert.ok(commands.has(command), `${command} in ${[...commands].join(' ')}`);
  });

  test('every program named in the code, the scripts and CI comes from a package the set-up installs, or one Debian always has', async () => {
    const named = await programsRun();
    // The scan must see what we know is there, or it proves nothing.
    for (const known of ['wrk', 'redis-server', 'nginx', 'docker', 'promtool', 'kubectl', 'chromium', 'apt-get', 'dpkg-deb']) assert.ok(named.has(known), `the scan finds ${known}`);

    const setUp = setUpForTests(await readFile(join(repoRoot, 'scripts/prerequisites.sh'), 'utf8'));
    const withDependencies = new Set([...setUp.packages, ...dependenciesOf(setUp.packages)]);
    const unprovided: string[] = [];
    for (const [program, files] of [...named].sort(([a], [b]) => a.localeCompare(b))) {
      // The runtime, and the commands prerequisites.sh checks for by name (it installs their package).
      if (theRuntime.has(program) || setUp.commands.has(program)) continue;
      const where = [...files].join(', ');
      const owner = owningPackage(program);
      if (owner === undefined) {
        // Not from a Debian package: only a binary of the machine's Node.js, or nothing at all.
        unprovided.push(`${program} (run in ${where}): no Debian package provides it here${findBinary(program, process.env) ? ' (it is on this machine, installed by hand)' : ''}`);
      } else if (!withDependencies.has(owner) && !alwaysThere(owner)) {
        unprovided.push(`${program} (run in ${where}): from package ${owner}, which scripts/prerequisites.sh does not install`);
      }
    }
    assert.deepEqual(unprovided, []);
  });
});
