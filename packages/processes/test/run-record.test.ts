import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  createRunFolder,
  identify,
  liveRuns,
  readRunRecord,
  RetryLog,
  retryLogName,
  runFolderPrefix,
  runRecordVersion,
  waitFor,
  writeRunRecord,
} from '../src/index.js';
import { scratchDir } from './scratch.js';

describe('the run folder contract (stack.json, retries.log)', () => {
  const scratch = scratchDir('run-record-');

  test('a record reads back as written, with its version', async () => {
    const folder = await createRunFolder(scratch());
    assert.ok(folder.startsWith(join(scratch(), runFolderPrefix)));
    const runner = identify(process.pid);
    assert.ok(runner);
    await writeRunRecord(folder, { runner, url: 'http://127.0.0.1:8080', services: { 'api 3001': { ...runner, port: 3001, instanceId: 'host-3001' } } });
    assert.deepEqual(await readRunRecord(folder), {
      version: runRecordVersion,
      runner,
      url: 'http://127.0.0.1:8080',
      services: { 'api 3001': { ...runner, port: 3001, instanceId: 'host-3001' } },
    });
  });

  test('a record without a version is the first version; another version, a wrong shape or no JSON reads as none', async () => {
    const write = async (name: string, text: string): Promise<string> => {
      const folder = join(scratch(), `${runFolderPrefix}${name}`);
      await mkdir(folder);
      await writeFile(join(folder, 'stack.json'), text);
      return folder;
    };
    const runner = { pid: process.pid, startTime: '1' };
    assert.equal((await readRunRecord(await write('unversioned', JSON.stringify({ runner, services: {} }))))?.version, 1);
    assert.equal(await readRunRecord(await write('future', JSON.stringify({ version: runRecordVersion + 1, runner, services: {} }))), undefined);
    assert.equal(await readRunRecord(await write('no-pid', JSON.stringify({ runner: { startTime: '1' }, services: {} }))), undefined);
    assert.equal(await readRunRecord(await write('not-json', '{')), undefined);
    assert.equal(await readRunRecord(join(scratch(), 'nothing-here')), undefined);
  });

  test('liveRuns lists only the folders whose runner lives, the newest record first', async () => {
    const own = await mkdtemp(join(scratch(), 'live-'));
    const dead = spawn('true');
    const deadPid = await new Promise<number>((resolve) => dead.once('exit', () => resolve(dead.pid ?? 0)));
    const me = identify(process.pid);
    assert.ok(me);
    const newer = await createRunFolder(own);
    await writeRunRecord(newer, { runner: me, services: {} });
    const gone = await createRunFolder(own);
    await writeRunRecord(gone, { runner: { pid: deadPid, startTime: me.startTime }, services: {} });
    const older = await createRunFolder(own);
    await writeRunRecord(older, { runner: me, services: {} });
    // Newest by when the record was written, whatever the order the folders were made in.
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(older, 'stack.json'), anHourAgo, anHourAgo);
    assert.deepEqual((await liveRuns(own)).map((run) => run.path), [newer, older]);
  });

  test('the retry log counts the retries noted at or after a moment, and none before its file exists', async () => {
    const folder = await createRunFolder(scratch());
    const path = join(folder, retryLogName);
    assert.equal(await RetryLog.countSince(path, new Date(0)), 0);
    const log = new RetryLog(path);
    const count = (since: Date, expected: number) => async () => ((await RetryLog.countSince(path, since)) === expected ? true : undefined);
    log.add('127.0.0.1:3001, 127.0.0.1:3002');
    await waitFor(count(new Date(0), 1), { what: 'the first retry in the log' });
    // Entries carry milliseconds: the second is noted once the clock has passed `between`.
    const between = new Date(Date.now() + 1);
    await waitFor(() => (Date.now() > between.getTime() ? true : undefined), { what: 'the next millisecond', intervalMs: 1 });
    log.add('127.0.0.1:3002, 127.0.0.1:3001');
    await waitFor(count(new Date(0), 2), { what: 'both retries in the log' });
    assert.equal(await RetryLog.countSince(path, between), 1);
  });
});
