import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Reads a file's text, or undefined when it is not there. The tests pass their own. */
export type FileReader = (path: string) => string | undefined;

const readSystemFile: FileReader = (path) => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** cgroup v2: the tightest `cpu.max` from this process's cgroup up to the root, in CPUs. */
function cgroupV2Limit(read: FileReader): number | undefined {
  const line = read('/proc/self/cgroup')?.split('\n').find((entry) => entry.startsWith('0::'));
  if (line === undefined) return undefined;
  let limit: number | undefined;
  let path = line.slice(3).trim();
  for (;;) {
    const max = read(`/sys/fs/cgroup${path === '/' ? '' : path}/cpu.max`)?.trim();
    const [quota, period] = max?.split(' ') ?? [];
    if (quota !== undefined && quota !== 'max' && period !== undefined) {
      const cpus = Number(quota) / Number(period);
      if (cpus > 0) limit = Math.min(limit ?? Infinity, cpus);
    }
    if (path === '/' || path === '') return limit;
    path = path.slice(0, path.lastIndexOf('/')) || '/';
  }
}

/** cgroup v1: cfs quota over period, in CPUs (a quota of -1 means none). */
function cgroupV1Limit(read: FileReader): number | undefined {
  const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return quota > 0 && period > 0 ? quota / period : undefined;
}

/**
 * How many CPUs this process may keep busy: the scheduler's view (affinity), capped by a cgroup CPU
 * quota, as a container or pod with a CPU limit has. A limit of 1.5 CPUs gives 2 workers.
 */
export function cpuBudget(read: FileReader = readSystemFile, cpus: number = availableParallelism()): number {
  const quota = cgroupV2Limit(read) ?? cgroupV1Limit(read);
  return quota === undefined ? cpus : Math.max(1, Math.min(cpus, Math.ceil(quota)));
}
