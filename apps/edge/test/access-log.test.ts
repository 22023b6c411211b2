import assert from 'node:assert/strict';
import { ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { routes } from '@three-tier/shared';
import { accessLogEntry } from '../src/access-log.js';
import { noBody } from '../src/body.js';
import { EdgeRequest, Forwarding } from '../src/edge-request.js';
import { createRouting, type ProxiedDestination } from '../src/routing.js';
import { upstreamOf } from '../src/upstream.js';

function request(): { req: EdgeRequest; res: ServerResponse } {
  const req = new EdgeRequest(new Socket());
  req.method = 'GET';
  req.url = '/redis?x=1';
  req.requestId = 'req-1';
  req.remoteAddr = '127.0.0.1';
  req.started = 1_000;
  return { req, res: new ServerResponse(req) };
}

describe('accessLogEntry', () => {
  test('an exchange the edge answered itself: no upstream; a client gone before the end: 499', () => {
    const { req, res } = request();
    assert.deepEqual(accessLogEntry(req, res, 1_234.4), {
      requestId: 'req-1',
      remoteAddr: '127.0.0.1',
      method: 'GET',
      uri: '/redis?x=1',
      status: 499,
      seconds: 0.234,
      upstream: undefined,
    });
  });

  test('a forwarded exchange names the instance of its last try', () => {
    const { req, res } = request();
    const destination = createRouting()(routes.redis.path) as ProxiedDestination;
    const forwarding = new Forwarding(req, res, destination, noBody, 'key-1');
    req.forwarding = forwarding;
    for (const url of ['http://127.0.0.1:3001', 'http://127.0.0.1:3002']) {
      forwarding.tries.attempts.push({ index: 0, upstream: upstreamOf(url), connected: true, timedOut: false });
    }
    assert.equal(accessLogEntry(req, res, 1_000).upstream, 'http://127.0.0.1:3002');
  });
});
