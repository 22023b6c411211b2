import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkNginxConfigInScratch, findBinaries } from '@three-tier/processes';
import { edge, headerNames, routeList, upstreamReadTimeoutMs } from '@three-tier/shared';
import { generate, generateFiles, type Target } from '../src/index.js';
import { behindProxiesTarget, dnsTarget, prefix, staticTarget, targets } from './targets.js';
import { blocks, directives, locationFor } from './tree.js';

const tree = generate(staticTarget);

/** Names a target resolves when nginx starts, pointed at this machine for the check. */
function hostsFor(target: Target): Record<string, string> {
  if (target.upstream.kind !== 'static') return {};
  const names = target.upstream.servers.map((server) => server.slice(0, server.lastIndexOf(':')));
  return Object.fromEntries(names.filter((name) => !/^[\d.]+$/.test(name)).map((name) => [name, '127.0.0.1']));
}

for (const target of targets) {
  describe(`the ${target.name} target`, () => {
    test('passes the real nginx -t', async () => {
      const check = await checkNginxConfigInScratch(
        findBinaries(process.env).nginx,
        (prefix) => generateFiles({ ...target, pidFile: `${prefix}/nginx.pid`, tempDir: `${prefix}/tmp` })['nginx.conf'] ?? '',
        hostsFor(target),
      );
      assert.ok(check.ok, check.output);
    });

    test('proxies every public route where the target says the api is', () => {
      const tree = generate(target);
      const expected = target.upstream.kind === 'static' ? 'http://api' : 'http://$api_upstream';
      for (const route of routeList.filter((candidate) => candidate.exposure === 'public')) {
        assert.deepEqual(directives(locationFor(tree, route.path), 'proxy_pass')[0]?.args, [expected], route.path);
      }
    });
  });
}

describe('stub_status', () => {
  test('is served by a server of its own, on its own listener, and by no other', () => {
    const servers = blocks(generate(dnsTarget), 'server');
    const withStatus = servers.filter((server) => blocks(server.children, 'location').some((location) => directives(location, 'stub_status').length > 0));
    assert.equal(withStatus.length, 1);
    const [status] = withStatus;
    assert.ok(status);
    assert.deepEqual(directives(status, 'listen').map((listen) => listen.args), [['8081']]);
    assert.deepEqual(locationFor([status], '/stub_status').args, ['=', '/stub_status']);
    const publicServer = servers.find((server) => server !== status);
    assert.ok(publicServer);
    assert.deepEqual(directives(publicServer, 'listen').map((listen) => listen.args), [['8080']]);
  });

  test('is absent when the target asks for none', () => {
    assert.equal(blocks(generate(staticTarget), 'server').length, 1);
    assert.doesNotMatch(generateFiles(staticTarget)['nginx.conf'] ?? '', /stub_status/);
  });
});

describe('a dns upstream', () => {
  test('follows replicas through the resolver instead of a fixed upstream', () => {
    const tree = generate(dnsTarget);
    assert.equal(blocks(tree, 'upstream').length, 0);
    const [http] = blocks(tree, 'http');
    assert.ok(http);
    assert.deepEqual(directives(http, 'resolver')[0]?.args, ['127.0.0.53', 'valid=2s', 'ipv6=off']);
    const [server] = blocks(tree, 'server');
    assert.ok(server);
    assert.deepEqual(directives(server, 'set')[0]?.args, ['$api_upstream', `api:3000`]);
    assert.deepEqual(directives(server, 'listen')[0]?.args, ['8080']);
  });

  test('tries every address the name gave (replicas stopping together), where a fixed upstream tries two', () => {
    const [server] = blocks(generate(dnsTarget), 'server');
    assert.ok(server);
    assert.deepEqual(directives(server, 'proxy_next_upstream_tries')[0]?.args, [0]);
    // Still bounded: every location has a next-upstream deadline.
    for (const location of blocks(server.children, 'location').filter((block) => directives(block, 'proxy_pass').length > 0)) {
      assert.equal(directives(location, 'proxy_next_upstream_timeout').length, 1);
    }
  });
});

describe('trusted proxies', () => {
  test('are believed for the client address and scheme, and nobody else', () => {
    const tree = generate(behindProxiesTarget);
    const [http] = blocks(tree, 'http');
    assert.ok(http);
    assert.deepEqual(
      directives(http, 'set_real_ip_from').map((d) => d.args[0]),
      ['10.0.0.0/8', 'fc00::/7'],
    );
    assert.deepEqual(directives(http, 'real_ip_header')[0]?.args, ['X-Forwarded-For']);
    const [server] = blocks(tree, 'server');
    assert.ok(server);
    const set = Object.fromEntries(directives(server, 'proxy_set_header').map((d) => [String(d.args[0]), d.args[1]]));
    assert.equal(set['X-Forwarded-Proto'], '$forwarded_proto');
    const [plainHttp] = blocks(generate(staticTarget), 'http');
    assert.ok(plainHttp);
    assert.equal(directives(plainHttp, 'set_real_ip_from').length, 0);
  });
});

describe('the generated nginx.conf', () => {
  test('every public route has the read timeout the table implies', () => {
    for (const route of routeList.filter((candidate) => candidate.exposure === 'public')) {
      const location = locationFor(tree, route.path);
      const timeout = upstreamReadTimeoutMs(route);
      const rendered = timeout % 1_000 === 0 ? `${timeout / 1_000}s` : `${timeout}ms`;
      assert.deepEqual(directives(location, 'proxy_read_timeout')[0]?.args, [rendered], route.path);
      assert.equal(directives(location, 'access_log').length, route.quiet ? 1 : 0, `${route.path} quiet`);
    }
  });

  test('internal routes answer 404 at the edge and are never proxied', () => {
    for (const route of routeList.filter((candidate) => candidate.exposure === 'internal')) {
      const location = locationFor(tree, route.path);
      assert.equal(directives(location, 'proxy_pass').length, 0);
      assert.equal(directives(location, 'return')[0]?.args[0], 404);
    }
  });

  test('only expensive routes are rate limited', () => {
    for (const route of routeList) {
      if (route.exposure !== 'public') continue;
      const limited = directives(locationFor(tree, route.path), 'limit_req').length > 0;
      assert.equal(limited, route.rateLimit === 'expensive', route.path);
    }
  });

  test('proxies keep-alive, pass request ids and retry only on errors and timeouts', () => {
    const [server] = blocks(tree, 'server');
    assert.ok(server);
    const set = Object.fromEntries(directives(server, 'proxy_set_header').map((d) => [String(d.args[0]), d.args[1]]));
    assert.equal(set.Connection, '');
    assert.equal(set[headerNames.requestId], '$request_id_out');
    assert.equal(set[headerNames.idempotencyKey], '$idempotency_key_out');
    assert.equal(set['X-Forwarded-For'], '$remote_addr');
    assert.deepEqual(directives(server, 'proxy_next_upstream')[0]?.args, ['error', 'timeout']);
    assert.deepEqual(directives(server, 'proxy_next_upstream_tries')[0]?.args, [edge.upstreamTries]);
    const [upstream] = blocks(tree, 'upstream');
    assert.ok(upstream);
    assert.deepEqual(directives(upstream, 'keepalive')[0]?.args, [edge.upstreamKeepaliveConnections]);
  });

  test('hides the version and writes only under its prefix', () => {
    const text = generateFiles(staticTarget)['nginx.conf'] ?? '';
    assert.match(text, /^\s*server_tokens off;$/m);
    for (const [, path] of text.matchAll(/_temp_path (\S+);/g)) assert.ok(path?.startsWith(`${prefix}/`));
    assert.match(text, new RegExp(`^pid ${prefix}/nginx.pid;$`, 'm'));
  });
});
