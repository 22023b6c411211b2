import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { edge } from '@three-tier/shared';
import { proxySettings } from '../src/blocks/proxy-settings.js';
import { proxyPass, retriesElsewhere, upstreamAddress, upstreamDefinition, upstreamTries } from '../src/blocks/upstream.js';
import { dnsTarget, serviceTarget, singleServerTarget, staticTarget } from './targets.js';
import { blocks, directives, directivesIn } from './tree.js';

describe('where nginx finds the api', () => {
  test('a static upstream: an upstream block of the servers with keep-alive, named by proxy_pass, no resolver', () => {
    const definition = upstreamDefinition(staticTarget);
    const [upstream] = blocks(definition, 'upstream');
    assert.ok(upstream);
    assert.deepEqual(upstream.args, ['api']);
    assert.deepEqual(directives(upstream, 'server').map((d) => d.args[0]), ['127.0.0.1:3000', '127.0.0.1:3001']);
    assert.deepEqual(directives(upstream, 'keepalive')[0]?.args, [edge.upstreamKeepaliveConnections]);
    assert.equal(directivesIn(definition, 'resolver').length, 0);
    assert.deepEqual(upstreamAddress(staticTarget), []);
    assert.equal(proxyPass(staticTarget), 'http://api');
  });

  test('a dns upstream: a resolver and a variable looked up per request, no upstream block', () => {
    const definition = upstreamDefinition(dnsTarget);
    assert.equal(blocks(definition, 'upstream').length, 0);
    assert.deepEqual(directivesIn(definition, 'resolver')[0]?.args, ['127.0.0.53', 'valid=2s', 'ipv6=off']);
    const [set] = directivesIn(upstreamAddress(dnsTarget), 'set');
    assert.deepEqual(set?.args, ['$api_upstream', 'api:3000']);
    // proxy_pass names the variable the server sets: a variable is what makes nginx resolve per request.
    assert.equal(proxyPass(dnsTarget), `http://${String(set?.args[0])}`);
  });

  test('tries twice on a static upstream, every address a dns name gave (0: no count)', () => {
    assert.equal(upstreamTries(staticTarget), edge.upstreamTries);
    assert.equal(upstreamTries(dnsTarget), 0);
  });

  test("waits for a connect the dns target's own time (an address that left never answers), a static upstream the edge's", () => {
    const connectTimeout = (target: typeof dnsTarget): unknown => directivesIn(proxySettings(target), 'proxy_connect_timeout')[0]?.args[0];
    assert.equal(connectTimeout(dnsTarget), '100ms');
    assert.equal(connectTimeout(staticTarget), `${edge.upstreamConnectTimeoutMs / 1_000}s`);
  });

  test('a retry may reach another instance, unless the one server is one process', () => {
    assert.equal(retriesElsewhere(dnsTarget), true);
    assert.equal(retriesElsewhere(staticTarget), true);
    assert.equal(retriesElsewhere(serviceTarget), true, 'one address spreading over several instances');
    assert.equal(retriesElsewhere(singleServerTarget), false);
    // The native stack with several instances: each server one process, yet a retry goes to the next.
    const processes = { ...singleServerTarget, upstream: { kind: 'static', servers: ['127.0.0.1:3000', '127.0.0.1:3001'], oneInstancePerServer: true } } as const;
    assert.equal(retriesElsewhere(processes), true);
  });
});
