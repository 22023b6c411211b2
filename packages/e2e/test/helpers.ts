import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findBinaries, freeStackPorts } from '@three-tier/processes';
import { routeIds, routes } from '@three-tier/shared';
import { NativeStack, type EdgeKind, type NativeStackOptions } from '@three-tier/runner';
import { edgeProbes, routeProbes, unprobedRoutes, type ProbeTarget } from '../src/index.js';

export const binaries = findBinaries(process.env);

/** Both are required: CI installs them, and a missing one fails the run (it never skips). */
export function requiredBinaries(): { redisServer: string; nginx: string } {
  const { redisServer, nginx } = binaries;
  if (!redisServer || !nginx) {
    throw new Error('redis-server and nginx must be installed: npm test installs them as root, or: sudo apt-get install -y redis-server nginx');
  }
  return { redisServer, nginx };
}

export interface TestStack {
  readonly stack: NativeStack;
  readonly dataDir: string;
  cleanup(): Promise<void>;
}

/** A whole native stack on free ports and temp directories; quiet unless STACK_TEST_LOGS is set. */
export async function startStack(edge: EdgeKind, overrides: Partial<NativeStackOptions> = {}): Promise<TestStack> {
  const bin = requiredBinaries();
  const root = await mkdtemp(join(tmpdir(), 'stack-test-'));
  const dataDir = overrides.dataDir ?? join(root, 'data');
  const instances = overrides.apiInstances ?? 1;
  const stack = await NativeStack.create({
    edge,
    ports: await freeStackPorts(instances),
    edgeHost: '127.0.0.1',
    dataDir,
    runDir: join(root, 'run'),
    bin,
    baseEnv: { PATH: process.env.PATH },
    logLevel: 'warn',
    ...(process.env.STACK_TEST_LOGS ? { onLine: (service, line) => console.log(`${service} | ${line}`) } : {}),
    ...overrides,
  });
  await stack.start();
  return {
    stack,
    dataDir,
    cleanup: async () => {
      await stack.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * Declares the probe suite as tests of the current suite: a test per route of the table, one per
 * edge probe, and last, the check that every route's own probe asserted something on its answers. `target` is read when they run.
 */
export function probeSuite(target: () => ProbeTarget): void {
  for (const id of routeIds) {
    test(`${routes[id].path} (${id})`, () => routeProbes[id](target()));
  }
  for (const [name, probe] of Object.entries(edgeProbes)) {
    test(name, () => probe(target()));
  }
  test('every route of the table was probed: its own probe asserted on its answers', () => {
    assert.deepEqual(unprobedRoutes(target()), []);
  });
}
