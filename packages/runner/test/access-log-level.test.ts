/**
 * nginx's access log follows LOG_LEVEL as the api's request logs do, and what it wrote reaches the
 * runner's output even when the stack stops right after (nginx's buffered lines are relayed at the
 * stop, not dropped).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freshTmp, runnerSettingSuite, startRunner, visit, type RunnerSetting } from './helpers.js';

/** The runner's access log lines from nginx, by the path they name. */
const accessLines = (output: readonly string[], path: string): string[] =>
  output.filter((line) => line.startsWith('nginx') && line.includes(`"uri":"${path}"`));

describe("nginx's access log and LOG_LEVEL", () => {
  let setting: RunnerSetting;
  runnerSettingSuite('access-log-level-test', (made) => (setting = made));

  /** Three visits and a 404 through nginx, then a stop; the runner's whole output. */
  async function visitAndStop(level: string): Promise<readonly string[]> {
    const tmp = await freshTmp(setting.root);
    const runner = startRunner({ ...setting.env, TMPDIR: tmp, LOG_LEVEL: level, LOG_FORMAT: 'json' });
    const url = await runner.ready;
    for (let i = 0; i < 3; i += 1) assert.equal((await visit(url)).status, 200);
    assert.equal((await fetch(`${url}/nowhere`)).status, 404);
    // Within nginx's flush interval: the lines are still in its buffer when the stop begins.
    runner.child.kill('SIGTERM');
    assert.equal(await runner.exited, 0, runner.output.join('\n'));
    return runner.output;
  }

  test('at info every request is logged, and the lines nginx held when the stack stopped are relayed', async () => {
    const output = await visitAndStop('info');
    assert.equal(accessLines(output, '/redis').length, 3, output.join('\n'));
    assert.equal(accessLines(output, '/nowhere').length, 1, output.join('\n'));
  });

  test('at warn only answers of 400 and above are logged, as the api logs its requests', async () => {
    const output = await visitAndStop('warn');
    assert.equal(accessLines(output, '/redis').length, 0, output.join('\n'));
    assert.equal(accessLines(output, '/nowhere').length, 1, output.join('\n'));
  });
});
