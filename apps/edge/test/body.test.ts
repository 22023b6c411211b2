import assert from 'node:assert/strict';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { BodySource, hasBody, noBody, readBody } from '../src/body.js';

/** A request whose body is `chunks`, as the server would hand it over. */
function requestWith(headers: Record<string, string>, chunks: readonly string[] = []): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.headers = headers;
  for (const chunk of chunks) req.push(Buffer.from(chunk));
  req.push(null);
  return req;
}

/** What a writable got, once it ended. */
function collector(): { writable: Writable; text: () => string; ended: Promise<void> } {
  const chunks: Buffer[] = [];
  const writable = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  const ended = new Promise<void>((resolve) => writable.on('finish', resolve));
  return { writable, text: () => Buffer.concat(chunks).toString(), ended };
}

describe('hasBody', () => {
  test('without Content-Length or Transfer-Encoding there is no body to wait for', () => {
    assert.equal(hasBody(requestWith({})), false);
    assert.equal(hasBody(requestWith({ 'content-length': '0' })), true);
    assert.equal(hasBody(requestWith({ 'transfer-encoding': 'chunked' })), true);
  });
});

describe('readBody', () => {
  test('reads a body of exactly the limit', async () => {
    const body = await readBody(requestWith({ 'content-length': '10' }, ['12345', '67890']), 10);
    assert.equal(body?.toString(), '1234567890');
  });

  test('a body one byte over the limit is undefined', async () => {
    assert.equal(await readBody(requestWith({ 'transfer-encoding': 'chunked' }, ['12345', '678901']), 10), undefined);
  });
});

describe('BodySource', () => {
  test('hands its body to every try that pipes it, the same each time', async () => {
    const source = new BodySource(Buffer.from('x=1'));
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const { writable, text, ended } = collector();
      assert.equal(source.pipe(writable), writable);
      await ended;
      assert.equal(text(), 'x=1');
    }
  });

  test('noBody ends the request with nothing', async () => {
    const { writable, text, ended } = collector();
    noBody.pipe(writable);
    await ended;
    assert.equal(text(), '');
  });
});
