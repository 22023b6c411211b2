import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from '@three-tier/cli-kit';
import { generatedFiles } from '../src/index.js';

/** The workspaces the CLI runs from; copied, so that the copy's repoRoot is the scratch folder. */
const workspaces = ['shared', 'cli-kit', 'nginx', 'observability', 'deploy'];

/**
 * A scratch repository the real CLI treats as its own: the workspaces' builds copied (the
 * repository root is found from where @three-tier/cli-kit lives), other dependencies linked.
 */
async function scratchRepository(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'deploy-generate-'));
  await cp(join(repoRoot, 'package.json'), join(root, 'package.json'));
  await mkdir(join(root, 'node_modules', '@three-tier'), { recursive: true });
  for (const name of await readdir(join(repoRoot, 'node_modules'))) {
    if (name === '@three-tier' || name === '.bin') continue;
    await symlink(join(repoRoot, 'node_modules', name), join(root, 'node_modules', name));
  }
  for (const workspace of workspaces) {
    const from = join(repoRoot, 'packages', workspace);
    const to = join(root, 'packages', workspace);
    await cp(join(from, 'package.json'), join(to, 'package.json'));
    await cp(join(from, 'dist'), join(to, 'dist'), { recursive: true });
    await symlink(to, join(root, 'node_modules', '@three-tier', workspace));
  }
  return root;
}

/** Every file outside node_modules and packages, with its content and modification time. */
async function snapshot(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (dir === root && ['node_modules', 'packages'].includes(entry.name)) continue;
      if (entry.isDirectory()) await walk(path);
      else files.set(relative(root, path), `${(await stat(path)).mtimeMs} ${await readFile(path, 'utf8')}`);
    }
  };
  await walk(root);
  return files;
}

describe('deploy-generate in a scratch repository whose files differ from the generator', () => {
  const expected = Object.entries(generatedFiles());
  const [compose, nginx, missing] = ['docker-compose.yml', 'docker/nginx/nginx.conf', 'k8s/api.yaml'];
  let root: string;
  let cli: string;

  before(async () => {
    root = await scratchRepository();
    cli = join(root, 'packages', 'deploy', 'dist', 'src', 'cli.js');
    // Every generated file up to date, but one edited by hand and one deleted.
    for (const [path, content] of expected) {
      if (path === missing) continue;
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), path === compose ? `${content}# edited by hand\n` : content);
    }
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('--check exits 1 naming both, and writes nothing', async () => {
    const before = await snapshot(root);
    const result = spawnSync(process.execPath, [cli, '--check'], { cwd: root, encoding: 'utf8' });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`out of date \\(run npm run generate\\): ${compose}, ${missing}\\n`));
    assert.doesNotMatch(result.stderr, new RegExp(nginx));
    assert.equal(result.stdout, '');
    assert.deepEqual(await snapshot(root), before, 'no file written, created or touched');
  });

  // The control: in the same folder, without --check, the CLI does write; so the test above could fail.
  test('without --check, writes exactly those two, and --check then passes', async () => {
    const result = spawnSync(process.execPath, [cli], { cwd: root, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `wrote ${compose}\nwrote ${missing}\n`);
    for (const [path, content] of expected) assert.equal(await readFile(join(root, path), 'utf8'), content, path);
    assert.equal(spawnSync(process.execPath, [cli, '--check'], { cwd: root }).status, 0);
  });
});

describe('deploy-generate --help', () => {
  test('names every file it writes, by its path or as its folder\'s *.<extension>', () => {
    const help = spawnSync(process.execPath, [fileURLToPath(new URL('../src/cli.js', import.meta.url)), '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    const unnamed = Object.keys(generatedFiles()).filter((path) => !help.stdout.includes(path) && !help.stdout.includes(`${dirname(path)}/*${extname(path)}`));
    assert.deepEqual(unnamed, []);
  });
});
