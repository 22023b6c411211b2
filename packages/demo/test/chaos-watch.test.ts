/**
 * chaos's watch against an edge of the test's own: an HTTP server that answers GET /instance in
 * round robin over a list of hostnames, and can leave one out for a number of requests, as nginx's
 * round robin sometimes does without any failure. When does chaos say an instance left the
 * rotation? Gaps are counted in requests, so a slow machine changes the timing, not the answer.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { InstanceBody } from '@three-tier/shared';
import { watch } from '../src/chaos-watch.js';

describe('chaos watch: leaving the rotation', () => {
  let server: Server;
  let url: string;
  let hosts: string[] = [];
  /** The host left out of the round robin, from which request and for how many. */
  let gap: { host: string; from: number; requests: number } | undefined;
  /** No answer goes out before this time: a machine too loaded to answer for a while. */
  let stalledUntil = 0;
  let served = 0;
  let turn = 0;

  before(async () => {
    server = createServer((request, response) => {
      const index = served++;
      const answering = hosts.filter((host) => !(gap && host === gap.host && index >= gap.from && index < gap.from + gap.requests));
      const hostname = answering[turn++ % answering.length] ?? '';
      const body: Partial<InstanceBody> = { hostname, state: 'ready', redis: { state: 'up' } };
      response.setHeader('content-type', 'application/json');
      setTimeout(() => response.end(request.url === '/instance' ? JSON.stringify(body) : '{}'), Math.max(0, stalledUntil - Date.now()));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** Watches 4.5 s while `host-1` of `count` gets no turn for `requests` requests, right after its second answer; who left? */
  async function leftWith(count: number, requests: number): Promise<readonly string[]> {
    hosts = Array.from({ length: count }, (_, index) => `host-${index + 1}`);
    stalledUntil = 0;
    served = 0;
    turn = 0;
    // Requests 0 and `count` go to host-1; the gap follows.
    gap = { host: 'host-1', from: count + 1, requests };
    const lines: string[] = [];
    const report = await watch(
      { url, seconds: 4.5, rate: 10, since: Date.now(), baseline: { hosts: new Map(hosts.map((host) => [host, 'ready'])), redis: 'up' } },
      (line) => lines.push(line),
    );
    assert.equal(report.failed, 0, lines.join('\n'));
    return report.left;
  }

  test('of three instances, one left out of 30 requests (15 of its turns, 3 s) has left', async () => {
    assert.deepEqual(await leftWith(3, 30), ['host-1']);
  });

  test('of five, one left out of 26 requests (6 or 7 of its turns, 2.6 s) is a gap in the round robin, not a departure', async () => {
    // At most 26 + 4 answers of the others before its turn comes back: under the 8 turns (32) it takes.
    assert.deepEqual(await leftWith(5, 26), []);
  });

  test('a kill on a loaded machine: nothing answers for 2.7 s, and only the killed instance leaves', async () => {
    // host-3 is killed: its probe says so at once, and the edge shares the polls between the other two.
    hosts = ['host-1', 'host-2'];
    gap = undefined;
    served = 0;
    turn = 0;
    stalledUntil = Date.now() + 2_700;
    const lines: string[] = [];
    const report = await watch(
      {
        url,
        seconds: 4,
        rate: 10,
        since: Date.now(),
        baseline: { hosts: new Map(['host-1', 'host-2', 'host-3'].map((host) => [host, 'ready'])), redis: 'up' },
        target: { hostname: 'host-3', probe: () => Promise.resolve('down') },
      },
      (line) => lines.push(line),
    );
    assert.equal(report.failed, 0, lines.join('\n'));
    assert.deepEqual(report.left, ['host-3'], lines.join('\n'));
    assert.deepEqual(report.answering, ['host-1', 'host-2']);
  });
});
