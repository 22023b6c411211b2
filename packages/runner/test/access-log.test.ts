import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@three-tier/processes';
import { AccessLogPipe } from '../src/index.js';

describe('AccessLogPipe (how nginx hands its access log to the runner)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'access-log-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('relays whole lines as a writer sends them, across writers that come and go', async () => {
    const lines: string[] = [];
    const pipe = AccessLogPipe.open(join(dir, 'a.log'), (batch) => lines.push(...batch));
    try {
      // As nginx does: open the path like a file, write buffered chunks, close on a reload.
      const first = await open(pipe.path, 'a');
      await first.write('{"n":1}\n{"n":2}\n{"n":');
      await first.write('3}\n');
      await first.close();
      await waitFor(() => (lines.length === 3 ? true : undefined), { what: 'three lines', timeoutMs: 5_000 });
      // The first writer is gone; the pipe still reads (it never sees end-of-file).
      const second = await open(pipe.path, 'a');
      await second.write('{"n":4}\n');
      await second.close();
      await waitFor(() => (lines.length === 4 ? true : undefined), { what: 'a fourth line', timeoutMs: 5_000 });
      assert.deepEqual(lines, ['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']);
    } finally {
      pipe.close();
    }
  });

  test('close relays what nginx wrote last, still in the pipe: no line is lost at a stop', () => {
    const lines: string[] = [];
    const pipe = AccessLogPipe.open(join(dir, 'c.log'), (batch) => lines.push(...batch));
    try {
      // nginx writes its buffered lines as it stops, and the runner closes the pipe right after:
      // written and closed in one turn of the loop, nothing of it has been read yet.
      const writer = openSync(pipe.path, 'a');
      writeSync(writer, `${Array.from({ length: 200 }, (_, n) => `{"n":${n}}`).join('\n')}\n{"n":"last, unfinished"}`);
      closeSync(writer);
    } finally {
      pipe.close();
    }
    assert.equal(lines.length, 201);
    assert.equal(lines[0], '{"n":0}');
    assert.equal(lines.at(-1), '{"n":"last, unfinished"}');
  });

  test('close removes the pipe, and closing twice (a failed start, then a signal) is harmless', () => {
    const pipe = AccessLogPipe.open(join(dir, 'b.log'), () => undefined);
    assert.ok(existsSync(pipe.path));
    pipe.close();
    assert.equal(existsSync(pipe.path), false);
    assert.doesNotThrow(() => pipe.close());
  });
});
