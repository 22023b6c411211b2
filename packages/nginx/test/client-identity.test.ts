import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientIdentity, forwardedHeaders } from '../src/blocks/client-identity.js';
import { behindProxiesTarget, staticTarget } from './targets.js';
import { blocks, directivesIn } from './tree.js';

const forwarded = (nodes: ReturnType<typeof forwardedHeaders>): Record<string, unknown> =>
  Object.fromEntries(directivesIn(nodes, 'proxy_set_header').map((d) => [String(d.args[0]), d.args[1]]));

describe('the client identity', () => {
  test('without trusted proxies, nginx is the first hop: no realip, the scheme it saw itself', () => {
    assert.deepEqual(clientIdentity(staticTarget), []);
    assert.deepEqual(forwarded(forwardedHeaders(staticTarget)), {
      'X-Forwarded-For': '$remote_addr',
      'X-Forwarded-Proto': '$scheme',
      'X-Forwarded-Host': '$host',
    });
  });

  test("behind trusted proxies, their X-Forwarded-For and X-Forwarded-Proto are believed, and only theirs", () => {
    const identity = clientIdentity(behindProxiesTarget);
    assert.deepEqual(directivesIn(identity, 'set_real_ip_from').map((d) => d.args[0]), ['10.0.0.0/8', 'fc00::/7']);
    assert.deepEqual(directivesIn(identity, 'real_ip_header')[0]?.args, ['X-Forwarded-For']);
    assert.deepEqual(directivesIn(identity, 'real_ip_recursive')[0]?.args, ['on']);
    const [protoMap] = blocks(identity, 'map');
    assert.ok(protoMap);
    assert.equal(protoMap.args[0], '$http_x_forwarded_proto');
    // The api is told the scheme the map computes, not what a client wrote.
    const headers = forwarded(forwardedHeaders(behindProxiesTarget));
    assert.equal(headers['X-Forwarded-Proto'], protoMap.args[1]);
    assert.equal(headers['X-Forwarded-For'], '$remote_addr');
  });
});
