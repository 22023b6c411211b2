/**
 * chaos finds the compose project compose itself would use, and says when it finds no replica: a
 * clone in a folder not named three-tier once got "no api instance is running" and exit 0 while
 * its replicas ran under the folder's name.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { composeProjectName } from '@three-tier/processes';
import type { ChaosStack } from '../src/chaos-stacks.js';
import { RefusedError, runChaos } from '../src/chaos.js';

describe('the compose project chaos acts on', () => {
  test('COMPOSE_PROJECT_NAME when set, else the folder name as compose normalises it', () => {
    assert.equal(composeProjectName('/home/ann/three-tier', { COMPOSE_PROJECT_NAME: 'lab' }), 'lab');
    assert.equal(composeProjectName('/home/ann/three-tier', {}), 'three-tier');
    assert.equal(composeProjectName('/home/ann/My Three.Tier_2/', {}), 'mythreetier_2');
    assert.equal(composeProjectName('/work/wt/door', { COMPOSE_PROJECT_NAME: '' }), 'door');
    assert.equal(composeProjectName('/src/-_Lab', {}), 'lab');
  });

  test('fault list with no replica found says where it looked and fails', async () => {
    const empty: ChaosStack = {
      kind: 'compose',
      where: 'compose project door',
      url: 'http://127.0.0.1:1',
      instances: () => Promise.resolve([]),
      kill: () => Promise.reject(new Error('not called')),
      redis: () => Promise.reject(new Error('not called')),
      call: () => Promise.reject(new Error('not called')),
      probe: () => Promise.resolve(undefined),
      retries: () => Promise.resolve(0),
      redisSet: () => Promise.reject(new Error('not called')),
    };
    const said: string[] = [];
    await assert.rejects(
      runChaos(['fault', 'list'], { stack: empty, watchSeconds: 0, composeProject: 'door', env: {} }, (line) => said.push(line)),
      (error: unknown) => error instanceof RefusedError && error.code === 1 && error.message === 'no api instance is running in compose project door',
    );
    assert.deepEqual(said, []);
  });
});
