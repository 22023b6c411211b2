/**
 * How long each supervisor lets Redis stop before SIGKILL: compose, Kubernetes and the runner all
 * take it from the one budget, Redis's own shutdown timeout plus the slack.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { budgets, gracePeriodMs } from '@three-tier/shared';
import { composeFile, kubernetesManifests } from '../src/index.js';

test('Redis gets the same grace to stop in compose and in Kubernetes: its shutdown timeout and the slack', () => {
  const graceSeconds = gracePeriodMs(budgets.redisShutdownTimeoutMs) / 1_000;
  assert.ok(graceSeconds > budgets.redisShutdownTimeoutMs / 1_000, 'more than Redis itself may wait for its replicas');
  assert.equal(composeFile().services?.redis?.stop_grace_period, `${graceSeconds}s`);
  const statefulSet = Object.values(kubernetesManifests())
    .flat()
    .find((manifest) => manifest.kind === 'StatefulSet' && manifest.metadata?.name === 'redis') as
    | { spec: { template: { spec: { terminationGracePeriodSeconds?: number } } } }
    | undefined;
  assert.ok(statefulSet, 'the redis StatefulSet');
  assert.equal(statefulSet.spec.template.spec.terminationGracePeriodSeconds, graceSeconds);
});
