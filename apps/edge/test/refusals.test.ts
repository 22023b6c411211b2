import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { edgeProblems, headerNames, problemContentType, type RequestHead } from '@three-tier/shared';
import { clientIdempotencyKey, headRefusal, sendProblem, token } from '../src/refusals.js';
import { send } from './helpers.js';

/** A well-formed GET /redis, changed by `overrides`. */
function head(overrides: Partial<RequestHead> = {}): RequestHead {
  return {
    method: 'GET',
    httpVersionMajor: 1,
    httpVersionMinor: 1,
    url: '/redis',
    headers: { host: 'edge.test' },
    rawHeaders: ['Host', 'edge.test'],
    ...overrides,
  };
}

describe('clientIdempotencyKey', () => {
  test('reads the key whatever the case of its name', () => {
    assert.equal(clientIdempotencyKey(['Host', 'x', 'idempotency-KEY', 'k-1']), 'k-1');
  });

  test('of repeated keys, the first, as nginx reads it', () => {
    assert.equal(clientIdempotencyKey(['Idempotency-Key', 'first', 'Idempotency-Key', 'second']), 'first');
  });

  test('an empty key is none at all; so is a header of the same length with another name', () => {
    assert.equal(clientIdempotencyKey(['Idempotency-Key', '']), undefined);
    assert.equal(clientIdempotencyKey(['Idempotency-Kex', 'k-1']), undefined);
    assert.equal(clientIdempotencyKey([]), undefined);
  });
});

describe('headRefusal: what is refused before any path is looked at', () => {
  test('a well-formed request, with or without a valid key, is not refused', () => {
    assert.equal(headRefusal(head(), undefined), undefined);
    assert.equal(headRefusal(head(), 'order-42:retry_1.a'), undefined);
  });

  test('a malformed request is refused as nginx refuses it, before its key is looked at', () => {
    assert.equal(headRefusal(head({ method: 'TRACE' }), 'not a key!'), edgeProblems.methodNotAllowed);
    assert.equal(headRefusal(head({ httpVersionMajor: 2 }), undefined), edgeProblems.versionNotSupported);
    assert.equal(headRefusal(head({ url: '/../etc/passwd' }), undefined), edgeProblems.badRequest);
    assert.equal(headRefusal(head({ headers: { host: 'edge.test', 'content-length': '999999' } }), undefined), edgeProblems.payloadTooLarge);
  });

  test('a key that is not a token is a 400, never replaced', () => {
    for (const key of ['not a key!', 'x'.repeat(129), 'clé', 'a,b']) {
      assert.equal(headRefusal(head(), key), edgeProblems.badIdempotencyKey, key);
    }
    assert.equal(headRefusal(head(), 'x'.repeat(128)), undefined, '128 characters is the longest key');
  });
});

describe('token', () => {
  test('a single header value of 1 to 128 token characters, and nothing else', () => {
    assert.equal(token('abc-1'), 'abc-1');
    assert.equal(token('a b'), undefined);
    assert.equal(token(['abc', 'def']), undefined);
    assert.equal(token(undefined), undefined);
    assert.equal(token(''), undefined);
  });
});

describe('sendProblem', () => {
  let server: Server;
  let port: number;

  before(async () => {
    // GET /<name>: answers edgeProblems[name] the way the edge does, after its request id is set.
    server = createServer((req, res) => {
      res.setHeader(headerNames.requestId, 'req-1');
      const name = (req.url ?? '').slice(1) as keyof typeof edgeProblems;
      sendProblem(req, res, edgeProblems[name]);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('answers problem+json with the status, its title, the detail and the request id', async () => {
    const res = await send(port, '/notFound');
    assert.equal(res.status, 404);
    assert.equal(res.headers['content-type'], problemContentType);
    assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body));
    assert.deepEqual(JSON.parse(res.body), {
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: edgeProblems.notFound.detail,
      requestId: 'req-1',
    });
    assert.equal(res.headers['retry-after'], undefined, 'a 404 says nothing of retrying');
  });

  test('a problem the client may retry says when: Retry-After', async () => {
    const res = await send(port, '/tooManyRequests');
    assert.equal(res.status, 429);
    assert.equal(res.headers['retry-after'], String(edgeProblems.tooManyRequests.retryAfterSeconds));
  });

  test('HEAD gets the same head, with the length of the body it does not get', async () => {
    const get = await send(port, '/badGateway');
    const headAnswer = await send(port, '/badGateway', { method: 'HEAD' });
    assert.equal(headAnswer.status, 502);
    assert.equal(headAnswer.body, '');
    assert.equal(headAnswer.headers['content-length'], get.headers['content-length']);
    assert.equal(headAnswer.headers['content-type'], problemContentType);
  });
});
