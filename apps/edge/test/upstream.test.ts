import assert from 'node:assert/strict';
import { parse } from 'node:url';
import { describe, test } from 'node:test';
import { upstreamOf } from '../src/upstream.js';

describe('upstreamOf', () => {
  test('parses a URL once into the fields http-proxy would get from its own url.parse', () => {
    for (const url of ['http://127.0.0.1:3001', 'http://api:3000/', 'http://api', 'http://[::1]:3000', 'http://api:3000/prefix?x=1']) {
      // The reference: what http-proxy does with a string target on every try.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      const reference = parse(url);
      const { target } = upstreamOf(url);
      assert.deepEqual(
        target,
        { protocol: reference.protocol, host: reference.host, hostname: reference.hostname, port: reference.port ?? '', path: reference.path },
        url,
      );
    }
  });

  test('keeps the URL as configured, for the logs', () => {
    assert.equal(upstreamOf('http://api:3000').url, 'http://api:3000');
  });
});
