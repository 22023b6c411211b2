import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generate, generateFiles, type Block, type Directive, type Node } from '@three-tier/nginx';
import { checkNginxConfigInScratch, findBinaries } from '@three-tier/processes';
import { edge, ports, services } from '@three-tier/shared';
import { composeConnectTimeoutMs, composeDnsValidSeconds, composeTarget, dockerDnsResolver, generatedFiles, kubernetesTarget, privateNetworks } from '../src/index.js';

function blocks(nodes: readonly Node[], name: string): Block[] {
  return nodes.flatMap((node) =>
    node.kind === 'block' ? [...(node.name === name ? [node] : []), ...blocks(node.children, name)] : [],
  );
}

function directives(node: Block, name: string): Directive[] {
  return node.children.filter((child): child is Directive => child.kind === 'directive' && child.name === name);
}

describe('the compose nginx target', () => {
  test('follows replicas through Docker DNS instead of a fixed upstream', () => {
    const tree = generate(composeTarget());
    assert.equal(blocks(tree, 'upstream').length, 0);
    const [http] = blocks(tree, 'http');
    assert.ok(http);
    assert.deepEqual(directives(http, 'resolver')[0]?.args, [dockerDnsResolver, `valid=${composeDnsValidSeconds}s`, 'ipv6=off']);
    const [server] = blocks(tree, 'server');
    assert.ok(server);
    assert.deepEqual(directives(server, 'set')[0]?.args, ['$api_upstream', `${services.api}:${ports.api}`]);
    assert.deepEqual(directives(server, 'listen')[0]?.args, [String(ports.edge)]);
  });

  test('gives up a connect within a tenth of a second: the address of a replica that left answers nothing', () => {
    const [server] = blocks(generate(composeTarget()), 'server');
    assert.ok(server);
    assert.deepEqual(directives(server, 'proxy_connect_timeout')[0]?.args, [`${composeConnectTimeoutMs}ms`]);
    assert.ok(composeConnectTimeoutMs <= 100 && composeConnectTimeoutMs < edge.upstreamConnectTimeoutMs);
  });

  test('is the file the nginx image ships (docker/nginx/nginx.conf), and passes the real nginx -t', async () => {
    const target = composeTarget();
    assert.equal(generatedFiles()['docker/nginx/nginx.conf'], generateFiles(target)['nginx.conf']);
    const check = await checkNginxConfigInScratch(
      findBinaries(process.env).nginx,
      (prefix) => generateFiles({ ...target, pidFile: `${prefix}/nginx.pid`, tempDir: `${prefix}/tmp` })['nginx.conf'] ?? '',
    );
    assert.ok(check.ok, check.output);
  });
});

describe('the kubernetes nginx target', () => {
  test('believes the ingress controller (private networks) for the client address and scheme', () => {
    const tree = generate(kubernetesTarget());
    const [http] = blocks(tree, 'http');
    assert.ok(http);
    assert.deepEqual(
      directives(http, 'set_real_ip_from').map((d) => d.args[0]),
      [...privateNetworks],
    );
    assert.deepEqual(privateNetworks, ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']);
    const [server] = blocks(tree, 'server');
    assert.ok(server);
    const set = Object.fromEntries(directives(server, 'proxy_set_header').map((d) => [String(d.args[0]), d.args[1]]));
    assert.equal(set['X-Forwarded-Proto'], '$forwarded_proto');
  });

  test('reaches the api through its Service name, resolved at start', () => {
    const [upstream] = blocks(generate(kubernetesTarget()), 'upstream');
    assert.ok(upstream);
    assert.deepEqual(directives(upstream, 'server')[0]?.args.slice(0, 1), [`${services.api}:${ports.api}`]);
  });
});
