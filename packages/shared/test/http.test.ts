import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  clientClosedRequest,
  lockedDownCsp,
  malformedRequest,
  problem,
  problemContentType,
  recordedStatus,
  safeJson,
  securityHeaders,
  targetPath,
  type RequestHead,
} from '../src/index.js';

describe('problem+json', () => {
  test('is the RFC 9457 media type', () => {
    assert.equal(problemContentType, 'application/problem+json');
  });

  test('a problem carries the status’s reason phrase as its title, and its extensions', () => {
    assert.deepEqual(problem(404, 'No route for /x.'), { type: 'about:blank', title: 'Not Found', status: 404, detail: 'No route for /x.' });
    assert.deepEqual(problem(503, 'busy', { requestId: 'r-1', instance: '/load' }), {
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: 'busy',
      requestId: 'r-1',
      instance: '/load',
    });
  });

  test('a status without a reason phrase is titled Error', () => {
    assert.equal(problem(599, 'odd').title, 'Error');
  });

  test('safeJson escapes <, > and & so nothing quoted comes back as markup, and still parses to the same value', () => {
    const value = { detail: 'No route for /<script>alert(1)</script>&x.' };
    const text = safeJson(value);
    assert.equal(text, '{"detail":"No route for /\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\\u0026x."}');
    assert.deepEqual(JSON.parse(text), value);
  });
});

describe('headers every tier sends', () => {
  test('the security set, pinned: a change here changes what three tiers answer', () => {
    assert.deepEqual(securityHeaders, {
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
    });
  });

  test('the locked-down CSP lets nothing load and nothing frame the answer', () => {
    assert.equal(lockedDownCsp, "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  });
});

describe('recordedStatus', () => {
  test('is the status sent, or 499 when the client hung up before the answer was finished', () => {
    assert.equal(recordedStatus({ writableFinished: true, statusCode: 503 }), 503);
    assert.equal(recordedStatus({ writableFinished: false, statusCode: 200 }), 499);
    assert.equal(clientClosedRequest, 499);
  });
});

describe('targetPath', () => {
  test('the origin form loses its query', () => {
    assert.equal(targetPath('/redis?x=1?y'), '/redis');
    assert.equal(targetPath('/'), '/');
  });

  test('the absolute form is routed by its path, as nginx routes it; no path is /', () => {
    assert.equal(targetPath('http://example.test/healthz?x'), '/healthz');
    assert.equal(targetPath('HTTPS://example.test:8080/a/b#frag'), '/a/b');
    assert.equal(targetPath('http://example.test'), '/');
    assert.equal(targetPath('http://example.test?q=1'), '/');
  });

  test('anything else has no path', () => {
    for (const url of ['*', '', 'redis', 'ftp://example.test/x', 'http:///x', 'http:/x', 'mailto:a@b', ' http://example.test/x']) {
      assert.equal(targetPath(url), undefined, url);
    }
  });
});

/** Limits small enough to reach: a line of 64 bytes at most, a body of 100. */
const limits = { maxBodyBytes: 100, maxHeaderBytes: 64 };

function head(overrides: Partial<RequestHead> = {}): RequestHead {
  return { method: 'GET', httpVersionMajor: 1, httpVersionMinor: 1, url: '/', headers: { host: 'x' }, rawHeaders: ['Host', 'x'], ...overrides };
}

function refused(overrides: Partial<RequestHead>): ReturnType<typeof malformedRequest> {
  return malformedRequest(head(overrides), limits);
}

describe('malformedRequest: what nginx refuses before routing', () => {
  test('a plain request passes, HTTP/1.0 as well as 1.1', () => {
    assert.equal(refused({}), undefined);
    assert.equal(refused({ httpVersionMinor: 0 }), undefined);
  });

  test('an HTTP version other than 1.x: 505', () => {
    for (const major of [0, 2, 3]) assert.equal(refused({ httpVersionMajor: major }), 'versionNotSupported', String(major));
  });

  test('a request line longer than the buffer (the target plus 16 bytes of method and version): 414', () => {
    const room = limits.maxHeaderBytes - 16;
    assert.equal(refused({ url: `/${'a'.repeat(room - 1)}` }), undefined);
    assert.equal(refused({ url: `/${'a'.repeat(room)}` }), 'uriTooLong');
  });

  test('no target at all is a 400, not a long line', () => {
    assert.equal(malformedRequest(head({ url: undefined }), { maxBodyBytes: 100, maxHeaderBytes: 20 }), 'badRequest');
  });

  test('a header line (name, ": ", value, CRLF) longer than the buffer: 431, whichever header it is', () => {
    const room = limits.maxHeaderBytes - 4;
    const fits = ['X-Pad', 'v'.repeat(room - 'X-Pad'.length)];
    const over = ['X-Pad', 'v'.repeat(room - 'X-Pad'.length + 1)];
    assert.equal(refused({ rawHeaders: ['Host', 'x', ...fits] }), undefined);
    assert.equal(refused({ rawHeaders: ['Host', 'x', ...over] }), 'headersTooLarge');
    assert.equal(refused({ rawHeaders: [...over, 'Host', 'x'] }), 'headersTooLarge');
    // Lines count one by one: two that fit together exceed the buffer, and pass.
    assert.equal(refused({ rawHeaders: ['Host', 'x', ...fits, ...fits] }), undefined);
  });

  test('one Host header passes; two are a 400, whatever their case', () => {
    assert.equal(refused({ rawHeaders: ['host', 'a'] }), undefined);
    // No Host at all: HTTP/1.0 needs none; HTTP/1.1 without one is a 400 (malformed-request.test.ts).
    assert.equal(refused({ rawHeaders: [], httpVersionMinor: 0 }), undefined);
    assert.equal(refused({ rawHeaders: ['Host', 'a', 'X-A', 'b', 'HOST', 'a'] }), 'badRequest');
  });

  test('a Host nginx finds invalid is a 400: empty, a slash, a backslash, "..", a space or a control byte', () => {
    for (const host of ['', 'a/b', 'a\\b', 'a..b', 'a b', 'a\tb', 'a\u0000b', 'a\u001fb', 'a\u007fb']) {
      assert.equal(refused({ rawHeaders: ['Host', host] }), 'badRequest', JSON.stringify(host));
    }
    for (const host of ['api', 'a.b.example:8080', '[::1]:80', '127.0.0.1', 'a~b']) {
      assert.equal(refused({ rawHeaders: ['Host', host] }), undefined, host);
    }
  });

  test('a header that only looks like Host is not one', () => {
    assert.equal(refused({ rawHeaders: ['Host', 'a', 'X-Host', '', 'Hostname', 'a/b'] }), undefined);
  });

  test('TRACE: 405, whatever the path', () => {
    assert.equal(refused({ method: 'TRACE', url: '/redis' }), 'methodNotAllowed');
    assert.equal(refused({ method: 'trace' }), undefined);
  });

  test('a transfer coding must end in chunked, and HTTP/1.0 takes none', () => {
    for (const coding of ['chunked', 'CHUNKED', 'gzip, chunked', 'gzip,chunked', 'gzip ,  chunked  ', ' chunked']) {
      assert.equal(refused({ headers: { 'transfer-encoding': coding } }), undefined, coding);
    }
    for (const coding of ['gzip', 'chunked, gzip', 'xchunked', 'chunkedx', 'gzip chunked', 'gzip,xchunked', 'gzip, chunked x', '']) {
      assert.equal(refused({ headers: { 'transfer-encoding': coding } }), 'badRequest', JSON.stringify(coding));
    }
    assert.equal(refused({ httpVersionMinor: 0, headers: { 'transfer-encoding': 'chunked' } }), 'badRequest');
  });

  test('a declared body over the limit: 413; at the limit it passes', () => {
    assert.equal(refused({ headers: { 'content-length': String(limits.maxBodyBytes) } }), undefined);
    assert.equal(refused({ headers: { 'content-length': String(limits.maxBodyBytes + 1) } }), 'payloadTooLarge');
  });

  test('the checks come in nginx’s order: version, line lengths, Host, TRACE, codings, body, target', () => {
    const everything: Partial<RequestHead> = {
      httpVersionMajor: 2,
      url: `/${'a'.repeat(100)}`,
      rawHeaders: ['Host', 'a', 'Host', 'b'],
      method: 'TRACE',
      headers: { 'transfer-encoding': 'gzip', 'content-length': '1000' },
    };
    assert.equal(refused(everything), 'versionNotSupported');
    assert.equal(refused({ ...everything, httpVersionMajor: 1 }), 'uriTooLong');
    assert.equal(refused({ ...everything, httpVersionMajor: 1, url: '/%zz', rawHeaders: ['X', 'y'.repeat(100)] }), 'headersTooLarge');
    assert.equal(refused({ ...everything, httpVersionMajor: 1, url: '/%zz' }), 'badRequest');
    assert.equal(refused({ ...everything, httpVersionMajor: 1, url: '/%zz', rawHeaders: ['Host', 'a'] }), 'methodNotAllowed');
    const tail: Partial<RequestHead> = { ...everything, httpVersionMajor: 1, url: '/%zz', rawHeaders: ['Host', 'a'], method: 'GET' };
    assert.equal(refused(tail), 'badRequest', 'the transfer coding, before the body');
    assert.equal(refused({ ...tail, headers: { 'content-length': '1000' } }), 'payloadTooLarge');
    assert.equal(refused({ ...tail, headers: {} }), 'badRequest', 'the target, last');
  });

  test('a target that is neither origin nor absolute form: 400; the absolute form is checked by its path', () => {
    assert.equal(refused({ url: '*' }), 'badRequest');
    assert.equal(refused({ url: 'http://example.test/a/%2e%2e/b' }), undefined);
    assert.equal(refused({ url: 'http://example.test/%2e%2e/b' }), 'badRequest');
  });

  test('a percent sign not followed by two hex digits: 400', () => {
    for (const url of ['/%', '/%4', '/a%4/b', '/%zz', '/%g0', '/%0g', '/%%41']) assert.equal(refused({ url }), 'badRequest', url);
    for (const url of ['/%41', '/%7e%7E', '/a%20b', '/%4a%4A', '/%ff']) assert.equal(refused({ url }), undefined, url);
  });

  test('an escaped NUL, control byte or DEL: 400; the escaped space and what follows it pass', () => {
    for (const url of ['/%00', '/a%0ab', '/%1f', '/%1F', '/%7f', '/%7F']) assert.equal(refused({ url }), 'badRequest', url);
    for (const url of ['/%20', '/%21', '/%7e', '/%80']) assert.equal(refused({ url }), undefined, url);
  });

  test('dot segments may climb back to the root, never above it', () => {
    for (const url of ['/a/..', '/a/b/../..', '/a/./..', '/.', '/./a', '/a//..', '/a/..?x=/../..', '/...', '/..a', '/%2e', '/a/%2e%2e']) {
      assert.equal(refused({ url }), undefined, url);
    }
    for (const url of ['/..', '/a/../..', '/./..', '//..', '/a/../../b', '/%2e%2e', '/%2E%2e/x', '/.%2e', '/a/%2e%2e/%2E%2E', '/..?x']) {
      assert.equal(refused({ url }), 'badRequest', url);
    }
  });
});
