import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { createHttpServer } from '../src/server.js';

describe('the api’s HTTP server', () => {
  const app = express();
  const seen: { request: boolean; response: boolean }[] = [];
  app.get('/probe', (req, res) => {
    seen.push({ request: Object.getPrototypeOf(req) === app.request, response: Object.getPrototypeOf(res) === app.response });
    res.json({ path: req.path, query: req.query, ip: req.ip });
  });
  const server = createHttpServer(app);
  let base: string;
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  test('makes requests and responses with Express’s prototypes already, so Express never has to swap them (the bench prices it)', async () => {
    const res = await fetch(`${base}/probe?x=1`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { path: '/probe', query: { x: '1' }, ip: '127.0.0.1' });
    assert.deepEqual(seen, [{ request: true, response: true }]);
  });

  test('keeps Node’s behaviour: keep-alive, HEAD without a body, a clean 404 from Express', async () => {
    const head = await fetch(`${base}/probe`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    const missing = await fetch(`${base}/nothing`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('connection'), 'keep-alive');
  });
});
