/**
 * chaos's watch against an edge of the test's own: an HTTP server that answers GET /instance in
 * round robin over a list of hostnames, and can leave one out for a while, as nginx's round robin
 * sometimes does without any failure. When does chaos say an instance left the rotation?
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
  /** The host left out of the round robin, and when. */
  let gap: { host: string; from: number; until: number } | undefined;
  let turn = 0;

  before(async () => {
    server = createServer((request, response) => {
      const now = Date.now();
      const answering = hosts.filter((host) => !(gap && host === gap.host && now >= gap.from && now < gap.until));
      const hostname = answering[turn++ % answering.length] ?? '';
      const body: Partial<InstanceBody> = { hostname, state: 'ready', redis: { state: 'up' } };
      response.setHeader('content-type', 'application/json');
      response.end(request.url === '/instance' ? JSON.stringify(body) : '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** Watches 4.5 s while `host` of `count` gets no turn from +0.3 s for `gapMs`; who left? */
  async function leftWith(count: number, gapMs: number): Promise<readonly string[]> {
    hosts = Array.from({ length: count }, (_, index) => `host-${index + 1}`);
    const since = Date.now();
    // It answers at first, as in a real rotation, then gets no turn for gapMs.
    gap = { host: 'host-1', from: since + 300, until: since + 300 + gapMs };
    const lines: string[] = [];
    const report = await watch(
      { url, seconds: 4.5, rate: 10, since, baseline: { hosts: new Map(hosts.map((host) => [host, 'ready'])), redis: 'up' } },
      (line) => lines.push(line),
    );
    assert.equal(report.failed, 0, lines.join('\n'));
    return report.left;
  }

  test('of three instances, one silent 2.8 s has left', async () => {
    assert.deepEqual(await leftWith(3, 2_800), ['host-1']);
  });

  test('of five, the same 2.8 s is a gap in the round robin (fewer than 8 of its turns), not a departure', async () => {
    assert.deepEqual(await leftWith(5, 2_800), []);
  });
});
