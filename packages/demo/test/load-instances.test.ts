/**
 * npm run load's account of the instances, against an edge of the test's own that answers GET /load
 * from a script of hostnames: slowly from one instance at first (a loaded machine), then from two,
 * then one of them leaves and a new one comes up. Which does it call the baseline, new and gone?
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { instanceAlias, type LoadBody } from '@three-tier/shared';
import { runLoad } from '../src/load.js';

/** Who answers at `ms` after the first request, and after how long. */
function script(ms: number): { hostnames: readonly string[]; delayMs: number } {
  // A machine so loaded that the first 3.5 s see a few answers, all from host-1: host-2 is up all along.
  if (ms < 3_500) return { hostnames: ['host-1'], delayMs: 700 };
  if (ms < 5_000) return { hostnames: ['host-1', 'host-2'], delayMs: 20 };
  return { hostnames: ['host-1', 'host-3'], delayMs: 20 };
}

describe('npm run load: the baseline, new and gone instances, by the rotation rule', () => {
  let server: Server;
  let url: string;
  let first: number | undefined;
  let turn = 0;

  before(async () => {
    server = createServer((_request, response) => {
      first ??= Date.now();
      const { hostnames, delayMs } = script(Date.now() - first);
      const body: LoadBody = { requestedMs: 1, cpuMs: 1, hostname: hostnames[turn++ % hostnames.length] ?? '' };
      setTimeout(() => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(body));
      }, delayMs);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  test('one the first seconds missed is of the baseline; one that comes up later is new; one that stops is gone', async () => {
    const lines: string[] = [];
    const report = await runLoad({ url, ms: 1, concurrency: 1, seconds: 9 }, (line) => lines.push(line));
    const output = lines.join('\n');
    assert.equal(report.errors, 0, output);
    const baseline = /^answering: (.+) \(the first \d+ s\)$/m.exec(output);
    assert.ok(baseline, output);
    assert.deepEqual(baseline[1]?.split(', '), ['host-1', 'host-2'].map((host) => `${instanceAlias(host)} (${host})`), output);
    assert.doesNotMatch(output, /new instance answers: .*host-2/, output);
    assert.match(output, /^\+ a new instance answers: [a-z]+-[a-z]+ \(host-3\)/m, output);
    assert.match(output, /^- [a-z]+-[a-z]+ \(host-2\) is gone: no answer for \d+ s$/m, output);
    assert.doesNotMatch(output, /host-1\) is gone/, output);
  });
});
