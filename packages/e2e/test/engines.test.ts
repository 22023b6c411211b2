/**
 * The Node.js the root package.json accepts is one every installed package accepts: `npm ci` on the
 * oldest Node the README names prints no EBADENGINE warning, and the images run a Node it accepts.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import semver from 'semver';
import { repoRoot } from '@three-tier/cli-kit';

interface LockEntry {
  version?: string;
  engines?: { node?: string } | string[];
}

async function rootRange(): Promise<string> {
  const root = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { engines?: { node?: string } };
  assert.ok(root.engines?.node, 'package.json names no engines.node');
  return root.engines.node;
}

describe('engines', () => {
  test('every package in package-lock.json accepts the oldest Node the root package.json accepts', async () => {
    const oldest = semver.minVersion(await rootRange());
    assert.ok(oldest, 'the root engines.node has no minimum');
    const lock = JSON.parse(await readFile(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    const refusing = Object.entries(lock.packages)
      .map(([path, entry]) => ({ path, wants: Array.isArray(entry.engines) ? undefined : entry.engines?.node }))
      .filter(({ wants }) => wants !== undefined && !semver.satisfies(oldest, wants))
      .map(({ path, wants }) => `${path} wants node ${wants}`);
    assert.deepEqual(refusing, [], `Node ${oldest.version} is refused by:\n${refusing.join('\n')}`);
  });

  test('the Node of the images is one the root package.json accepts', async () => {
    const range = await rootRange();
    const dockerfile = await readFile(join(repoRoot, 'docker/api/Dockerfile'), 'utf8');
    const bases = await readFile(join(repoRoot, 'scripts/docker-bases.sh'), 'utf8');
    const versions = [
      /^ARG NODE_IMAGE=node:(\d+(?:\.\d+){0,2})/m.exec(dockerfile)?.[1],
      /^NODE_VERSION=\$\{NODE_VERSION:-(\d+\.\d+\.\d+)\}/m.exec(bases)?.[1],
    ];
    for (const version of versions) {
      assert.ok(version, 'a Node version of the images was not found');
      const coerced = semver.coerce(version);
      assert.ok(coerced && semver.satisfies(coerced, range), `the images' Node ${version} is outside ${range}`);
    }
  });
});
