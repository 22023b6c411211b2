import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { edge, malformedRequest, targetPath, type RequestHead } from '../src/index.js';

/** A well-formed HTTP/1.1 GET /redis, changed by `overrides`; `rawHeaders` gives the headers too. */
function head(overrides: Partial<RequestHead> = {}): RequestHead {
  const rawHeaders = overrides.rawHeaders ?? ['Host', 'x'];
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    // As Node joins repeated headers.
    headers[name] = headers[name] === undefined ? (rawHeaders[i + 1] ?? '') : `${headers[name]}, ${rawHeaders[i + 1] ?? ''}`;
  }
  return { method: 'GET', httpVersionMajor: 1, httpVersionMinor: 1, url: '/redis', headers, ...overrides, rawHeaders };
}

describe('malformedRequest: what nginx refuses before it routes', () => {
  test('a well-formed request is not refused', () => {
    assert.equal(malformedRequest(head(), edge), undefined);
  });

  test('HTTP/1.1 without Host is a 400, as RFC 9112 asks; HTTP/1.0 needs none', () => {
    assert.equal(malformedRequest(head({ rawHeaders: [] }), edge), 'badRequest');
    assert.equal(malformedRequest(head({ rawHeaders: ['X-Other', 'x'] }), edge), 'badRequest');
    assert.equal(malformedRequest(head({ rawHeaders: [], httpVersionMinor: 0 }), edge), undefined);
  });

  test('two Transfer-Encoding lines are a 400, whatever they say: nginx refuses a repeated one', () => {
    const joined = ['Host', 'x', 'Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'chunked'];
    assert.equal(malformedRequest(head({ rawHeaders: joined }), edge), 'badRequest');
    const twice = ['Host', 'x', 'Transfer-Encoding', 'chunked', 'transfer-encoding', 'chunked'];
    assert.equal(malformedRequest(head({ rawHeaders: twice }), edge), 'badRequest');
    assert.equal(malformedRequest(head({ rawHeaders: ['Host', 'x', 'Transfer-Encoding', 'chunked'] }), edge), undefined);
  });

  test('CONNECT to a path is a 405, as nginx answers it; to an authority, a 400: the target is no path', () => {
    assert.equal(malformedRequest(head({ method: 'CONNECT' }), edge), 'methodNotAllowed');
    assert.equal(malformedRequest(head({ method: 'CONNECT', url: 'example.test:443' }), edge), 'badRequest');
  });

  test('a #fragment ends the path, as nginx reads it: what follows is neither routed nor checked', () => {
    assert.equal(malformedRequest(head({ url: '/redis#fragment' }), edge), undefined);
    assert.equal(malformedRequest(head({ url: '/redis#/../../%zz' }), edge), undefined);
    assert.equal(malformedRequest(head({ url: '/%zz#fragment' }), edge), 'badRequest');
  });
});

describe('targetPath', () => {
  test('the path of an origin-form or absolute-form target, without its query or fragment', () => {
    assert.equal(targetPath('/redis'), '/redis');
    assert.equal(targetPath('/redis?x=1#y'), '/redis');
    assert.equal(targetPath('/redis#y?x=1'), '/redis');
    assert.equal(targetPath('http://example.test/redis#y'), '/redis');
    assert.equal(targetPath('http://example.test#y'), '/');
    assert.equal(targetPath('example.test:443'), undefined);
    assert.equal(targetPath('*'), undefined);
  });
});
