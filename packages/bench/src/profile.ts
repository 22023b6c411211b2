/**
 * Reads a V8 .cpuprofile (what `node --cpu-prof` writes): which functions the api spends its own
 * time in, and which packages they belong to.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '@three-tier/cli-kit';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples?: readonly number[];
}

export interface Frame {
  readonly functionName: string;
  /** file:line, relative to the repository (node_modules included), or node:… for Node's own. */
  readonly location: string;
  readonly percent: number;
}

export interface PackageShare {
  readonly name: string;
  readonly percent: number;
}

export interface ProfileSummary {
  readonly samples: number;
  readonly top: readonly Frame[];
  readonly packages: readonly PackageShare[];
}

function path(url: string): string {
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  return file.startsWith('/') ? relative(repoRoot, file) : file;
}

/** The package a frame belongs to; the V8 pseudo-frames ((idle), (garbage collector)) are their own. */
export function packageOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : 'node internals';
  if (url.startsWith('node:')) return 'node internals';
  const file = path(url);
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
  if (dependency) return dependency[1] ?? 'other';
  if (/^(?:apps|packages)\//.test(file)) return '@three-tier/*';
  return 'other';
}

/** Self time by function (top `limit`) and by package, as shares of all samples. */
export function summariseProfile(file: string, limit = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  // Self samples per node: the samples array when present, else the nodes' hit counts.
  const hits = new Map<number, number>();
  if (profile.samples && profile.samples.length > 0) {
    for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  } else {
    for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
  }
  const total = [...hits.values()].reduce((sum, n) => sum + n, 0) || 1;
  const byFrame = new Map<string, { functionName: string; location: string; hits: number }>();
  const byPackage = new Map<string, number>();
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    if (count === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    // V8 numbers lines from 0.
    const location = url ? `${path(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}@${location}`;
    const frame = byFrame.get(key) ?? { functionName: functionName || '(anonymous)', location, hits: 0 };
    frame.hits += count;
    byFrame.set(key, frame);
    const name = packageOf(node.callFrame);
    byPackage.set(name, (byPackage.get(name) ?? 0) + count);
  }
  const top = [...byFrame.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, limit)
    .map(({ functionName, location, hits: count }) => ({ functionName, location, percent: (count / total) * 100 }));
  const packages = [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]) => ({ name, percent: (count / total) * 100 }));
  return { samples: total, top, packages };
}
