import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '@three-tier/cli-kit';
import { configText } from '@three-tier/shared';

const run = promisify(execFile);
const scripts = join(repoRoot, 'docker/redis');

/**
 * Runs `body` in dash (the image's /bin/sh is as strict) with the replicated Redis's shared shell
 * files sourced and, where named, one function taken from a start script as that script defines it.
 */
async function dash(body: string, options: { functionFrom?: { file: string; name: string }; env?: NodeJS.ProcessEnv } = {}): Promise<{ stdout: string; stderr: string }> {
  const { functionFrom } = options;
  const definition = functionFrom ? await functionText(join(scripts, functionFrom.file), functionFrom.name) : '';
  const script = `set -eu\n. ${scripts}/redis-password.sh\n. ${scripts}/redis-members.sh\n${definition}\n${body}`;
  return run('dash', ['-c', script, 'test'], { env: { PATH: process.env.PATH, REDIS_MASTER_NAME: 'three-tier', REDIS_FAILOVER_WITHIN_MS: '1000', ...options.env } });
}

/** A function's text, from its `name() {` line to the `}` that closes it at the line's start. */
async function functionText(file: string, name: string): Promise<string> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const start = lines.findIndex((line) => line.startsWith(`${name}() {`));
  assert.ok(start >= 0, `${file} defines ${name}`);
  const end = lines.findIndex((line, index) => index > start && line === '}');
  return lines.slice(start, end + 1).join('\n');
}

describe('the replicated Redis image\'s shell scripts', { timeout: 60_000 }, () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'redis-scripts-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('config_quoted writes a password as the contract\'s configText does: quotes, backslashes and newlines escaped, so no password starts a line of its own', async () => {
    for (const password of ['plain"quote', 'back\\slash', 'two\nlines requirepass x', 'sp ace\\n"']) {
      const { stdout } = await dash('printf "requirepass %s\\n" "$(config_quoted "$PW")"', { env: { PW: password } });
      assert.equal(stdout, configText([['requirepass', password]]), JSON.stringify(password));
      assert.equal(stdout.split('\n').length, 2, 'one line');
    }
  });

  test('before a Sentinel starts, the known members whose names do not resolve are forgotten, and every other line is kept as it was', async () => {
    const conf = join(dir, 'sentinel.conf');
    const kept = [
      'port 26379',
      'requirepass "a\\"b\\\\c"',
      'sentinel monitor three-tier redis-0 6379 2',
      'sentinel known-replica three-tier localhost 6379',
      'sentinel known-sentinel three-tier 127.0.0.1 26379 0123456789abcdef0123456789abcdef01234567',
    ];
    const gone = ['sentinel known-replica three-tier redis-1.invalid 6379', 'sentinel known-sentinel three-tier sentinel-2.invalid 26379 76543210fedcba9876543210fedcba9876543210'];
    await writeFile(conf, `${[kept[0], kept[1], kept[2], gone[0], kept[3], gone[1], kept[4]].join('\n')}\n`);
    const { stderr } = await dash('forget_unresolved', { functionFrom: { file: 'start-sentinel.sh', name: 'forget_unresolved' }, env: { conf } });
    assert.equal(await readFile(conf, 'utf8'), `${kept.join('\n')}\n`);
    assert.match(stderr, /forgetting redis-1\.invalid/);
    assert.match(stderr, /forgetting sentinel-2\.invalid/);
  });
});
