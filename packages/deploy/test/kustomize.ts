import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { findBinary } from '@three-tier/processes';
import { parseAllDocuments } from 'yaml';
import type { Manifest } from '../src/index.js';

export type BuiltManifest = Manifest & { metadata: { namespace?: string } };

/** `kubectl kustomize <dir>`, its objects parsed; fails unless kubectl is installed and the build succeeds. */
export function kustomize(dir: string): BuiltManifest[] {
  const kubectl = findBinary('kubectl', process.env);
  assert.ok(kubectl, 'kubectl must be installed (npm test installs kubernetes-client as root)');
  const result = spawnSync(kubectl, ['kustomize', dir], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return parseAllDocuments(result.stdout).map((document) => document.toJS() as BuiltManifest);
}
