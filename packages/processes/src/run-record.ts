/**
 * The run folder's contract. `npm start` (the runner) makes a folder of its own under TMPDIR and
 * keeps two files there: stack.json, its pid and its services' pids and ports, and retries.log,
 * the edge's retries. `npm run chaos`, the bench and the next runner's sweep read them from other
 * processes. Both sides go through this module: the shape is written once, typed and versioned.
 */
import { appendFile, mkdtemp, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { isAlive } from './proc.js';

/** Every run folder's name starts with this; mkdtemp adds the rest. */
export const runFolderPrefix = 'three-tier-';
const recordName = 'stack.json';

/** The file in the run folder that lists the edge's retries, one line each: `<ISO time> <upstreams>`. */
export const retryLogName = 'retries.log';

/** Raised when a change to stack.json would mislead a reader of the old shape. */
export const runRecordVersion = 1;

const processIdSchema = z.object({ pid: z.number().int().positive(), startTime: z.string().min(1) });

const recordedServiceSchema = processIdSchema.extend({
  /** The port it listens on (for `npm run chaos`). */
  port: z.number().int().positive().optional(),
  /** An api instance's INSTANCE_ID (the hostname its /instance answers with). */
  instanceId: z.string().optional(),
});

const runRecordSchema = z.object({
  // Records written before the field existed have the first version's shape.
  version: z.literal(runRecordVersion).default(runRecordVersion),
  runner: processIdSchema,
  /** The edge's URL. */
  url: z.string().optional(),
  /** Each service by name: 'redis', 'api' or 'api <port>', 'edge'. */
  services: z.record(z.string(), recordedServiceSchema),
});

/** A recorded service: its process, and the port it listens on. */
export type RecordedService = z.output<typeof recordedServiceSchema>;

/** stack.json: the runner, its edge's URL, and each service. */
export type RunRecord = z.output<typeof runRecordSchema>;

/** A fresh, empty run folder under `parent`. */
export function createRunFolder(parent: string): Promise<string> {
  return mkdtemp(join(parent, runFolderPrefix));
}

/** Writes the record aside, then renames it over stack.json: a reader never sees half a record. */
export async function writeRunRecord(folder: string, record: Omit<RunRecord, 'version'>): Promise<void> {
  const full: RunRecord = { version: runRecordVersion, ...record };
  const aside = join(folder, `${recordName}.new`);
  await writeFile(aside, `${JSON.stringify(full, null, 2)}\n`);
  await rename(aside, join(folder, recordName));
}

/** The folder's record; undefined when there is none (yet), or it is not ours or of another version. */
export async function readRunRecord(folder: string): Promise<RunRecord | undefined> {
  let text: string;
  try {
    text = await readFile(join(folder, recordName), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = runRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // not JSON
  }
}

/** The run folders under `parent`, live or not. */
export async function runFolders(parent: string): Promise<string[]> {
  const entries = await readdir(parent).catch(() => []);
  return entries.filter((name) => name.startsWith(runFolderPrefix)).map((name) => join(parent, name));
}

/** The run folders under `parent` whose runner is alive, newest record first, with their records. */
export async function liveRuns(parent: string): Promise<{ path: string; record: RunRecord }[]> {
  const runs: { path: string; record: RunRecord; mtimeMs: number }[] = [];
  for (const path of await runFolders(parent)) {
    const record = await readRunRecord(path);
    if (!record || !isAlive(record.runner)) continue;
    const written = await stat(join(path, recordName)).catch(() => undefined); // gone meanwhile
    if (written) runs.push({ path, record, mtimeMs: written.mtimeMs });
  }
  return runs.sort((a, b) => b.mtimeMs - a.mtimeMs).map(({ path, record }) => ({ path, record }));
}

/**
 * The edge's retries, kept in the run folder: the runner prints its edge's log on its own output
 * only, and `npm run chaos` counts retries from another process. Only retried requests are
 * written, so the file stays small however long the stack runs.
 */
export class RetryLog {
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  /** Notes one retried request and the upstreams it tried; writes are queued, in order, and a failed one is dropped. */
  add(upstreams: string): void {
    const entry = `${new Date().toISOString()} ${upstreams}\n`;
    this.writing = this.writing.then(() => appendFile(this.path, entry)).catch(() => undefined);
  }

  /** How many retries the file at `path` lists at or after `since` (0 when there is no file yet). */
  static async countSince(path: string, since: Date): Promise<number> {
    const text = await readFile(path, 'utf8').catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    });
    return text.split('\n').filter((entry) => {
      const time = Date.parse(entry.slice(0, entry.indexOf(' ')));
      return Number.isFinite(time) && time >= since.getTime();
    }).length;
  }
}
