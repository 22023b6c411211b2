import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sayingWhileActing } from '../src/chaos.js';

/** The timers this process holds (the ticker is one while it runs). */
const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

test('a long action is never silent: chaos says every second how long it has been acting, and stops once it is done', async () => {
  const said: string[] = [];
  let heard: (() => void) | undefined;
  const before = timers();
  // The figure is the time since the action began, which was a minute ago.
  const since = Date.now() - 60_000;
  // The action ends only once chaos has spoken twice: without the ticker, it never ends (the file's timeout fails it).
  const result = await sayingWhileActing(
    () => new Promise<string>((resolve) => (heard = () => said.length >= 2 && resolve('done'))),
    (line) => {
      said.push(line);
      heard?.();
    },
    since,
    50,
  );
  assert.equal(result, 'done');
  assert.equal(said.length, 2);
  for (const line of said) assert.match(line, /^\+60\.\d s {2}still acting\.\.\.$/);
  // Nothing more once the action is done: no timer of it is left.
  assert.equal(timers(), before);
});

test("an action's failure is passed on, and the ticker stops with it", async () => {
  const before = timers();
  await assert.rejects(sayingWhileActing(() => Promise.reject(new Error('compose failed')), () => undefined, Date.now(), 10), /compose failed/);
  assert.equal(timers(), before);
});
