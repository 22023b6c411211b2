import assert from 'node:assert/strict';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { composeCommand, composeFlavours, composeVersion, preferredComposeCommand } from '../src/index.js';
import { scratchDir } from './scratch.js';

/** A PATH holding stand-ins for docker and docker-compose that answer as this test says. */
async function fakePath(dir: string, options: { plugin: boolean; standalone: boolean }): Promise<NodeJS.ProcessEnv> {
  const bin = await mkdtemp(join(dir, 'bin-'));
  const script = async (name: string, body: string): Promise<void> => {
    await writeFile(join(bin, name), `#!/bin/sh\n${body}\n`);
    await chmod(join(bin, name), 0o755);
  };
  await script('docker', options.plugin ? '[ "$1 $2 $3" = "compose version --short" ] && echo 2.40.0 && exit 0; [ "$1 $2" = "compose version" ] && exit 0; exit 1' : 'exit 1');
  if (options.standalone) await script('docker-compose', '[ "$1" = version ] && echo 1.29.2 && exit 0; exit 1');
  return { PATH: bin };
}

describe('compose detection', () => {
  const scratch = scratchDir('compose-detection-');

  test('lists the plugin first, then the standalone binary, as each answers', async () => {
    assert.deepEqual(await composeFlavours(await fakePath(scratch(), { plugin: true, standalone: true })), ['plugin', 'standalone']);
    assert.deepEqual(await composeFlavours(await fakePath(scratch(), { plugin: false, standalone: true })), ['standalone']);
    assert.deepEqual(await composeFlavours(await fakePath(scratch(), { plugin: true, standalone: false })), ['plugin']);
    assert.deepEqual(await composeFlavours({ PATH: join(scratch(), 'nowhere') }), [], 'no docker at all is no compose, not an error');
  });

  test('the command line of each flavour, and the preferred one: the plugin when it answers', async () => {
    assert.deepEqual(composeCommand('plugin'), ['docker', 'compose']);
    assert.deepEqual(composeCommand('standalone'), ['docker-compose']);
    assert.deepEqual(await preferredComposeCommand(await fakePath(scratch(), { plugin: true, standalone: true })), ['docker', 'compose']);
    assert.deepEqual(await preferredComposeCommand(await fakePath(scratch(), { plugin: false, standalone: true })), ['docker-compose']);
  });

  test('the version each reports, trimmed', async () => {
    const env = await fakePath(scratch(), { plugin: true, standalone: true });
    assert.equal(await composeVersion('plugin', env), '2.40.0');
    assert.equal(await composeVersion('standalone', env), '1.29.2');
  });
});
