import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@three-tier/processes';

const lock = join(tmpdir(), 'three-tier-compose-stacks.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * One compose stack under load at a time on this machine: npm test runs two e2e files at once, and
 * on two CPUs a second stack burning /load starves the first one's Redis past its timeouts. A
 * directory is the lock (mkdir is atomic); a holder that died leaves its pid, and the lock is taken
 * over. Resolves to the release. The compose suite, the observability profile, the demo and
 * compose chaos each hold it for their whole file; the others wait (e2e's file limit allows for it).
 */
export async function composeStackLock(what: string): Promise<() => Promise<void>> {
  await waitFor(
    async () => {
      try {
        await mkdir(lock);
        await writeFile(join(lock, 'pid'), String(process.pid));
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => ''));
        if (holder > 0 && !alive(holder)) await rm(lock, { recursive: true, force: true });
        return undefined;
      }
    },
    { what: `the compose stacks to ourselves (${what})`, timeoutMs: 20 * 60_000, intervalMs: 500 },
  );
  return () => rm(lock, { recursive: true, force: true });
}
