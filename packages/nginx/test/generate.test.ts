import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { checkNginxConfig, findBinaries, preparePrefix } from '@three-tier/processes';
import { edge, headerNames, routeList, upstreamReadTimeoutMs } from '@three-tier/shared';
import {
  composeTarget,
  kubernetesTarget,
  generate,
  generateFiles,
  nativeExample,
  nativeTarget,
  type Block,
  type Directive,
  type Node,
  type Target,
} from '../src/index.js';

const goldenDir = fileURLToPath(new URL('../../test/golden/', import.meta.url));
const golden = join(goldenDir, 'native.conf');
const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

function blocks(nodes: readonly Node[], name: string): Block[] {
  return nodes.flatMap((node) =>
    node.kind === 'block' ? [...(node.name === name ? [node] : []), ...blocks(node.children, name)] : [],
  );
}

function directives(node: Block, name: string): Directive[] {
  return node.children.filter((child): child is Directive => child.kind === 'directive' && child.name === name);
}

function locationFor(tree: readonly Node[], path: string): Block {
  const found = blocks(tree, 'location').find((location) => location.args[0] === '=' && location.args[1] === path);
  assert.ok(found, `a location for ${path}`);
  return found;
}

const tree = generate(nativeTarget(nativeExample));

/** Every target, with the file its output is pinned to. */
const targets: readonly { readonly target: Target; readonly golden: string }[] = [
  { target: nativeTarget(nativeExample), golden: 'native.conf' },
  { target: composeTarget(), golden: 'compose.conf' },
  { target: kubernetesTarget(), golden: 'kubernetes.conf' },
];

/** Names a target resolves when nginx starts, pointed at this machine for the check. */
function hostsFor(target: Target): Record<string, string> {
  if (target.upstream.kind !== 'static') return {};
  const names = target.upstream.servers.map((server) => server.slice(0, server.lastIndexOf(':')));
  return Object.fromEntries(names.filter((name) => !/^[\d.]+$/.test(name)).map((name) => [name, '127.0.0.1']));
}

for (const { target, golden: file } of targets) {
  describe(`the ${target.name} target`, () => {
    test(`matches test/golden/${file} (UPDATE_GOLDEN=1 rewrites it after an intended change)`, async () => {
      const text = generateFiles(target)['nginx.conf'] ?? '';
      if (process.env.UPDATE_GOLDEN === '1') await writeFile(join(goldenDir, file), text);
      assert.equal(text, await readFile(join(goldenDir, file), 'utf8'));
    });

    test('passes the real nginx -t', async () => {
      const { nginx } = findBinaries(process.env);
      assert.ok(nginx, 'nginx must be installed (npm test installs it as root)');
      const prefix = await mkdtemp(join(tmpdir(), 'nginx-generate-'));
      try {
        // The same config, its pid and temp files moved into a scratch prefix so the check
        // writes nothing elsewhere on this machine.
        const relocated = { ...target, pidFile: `${prefix}/nginx.pid`, tempDir: `${prefix}/tmp` };
        const configFile = await preparePrefix(prefix, generateFiles(relocated)['nginx.conf'] ?? '');
        const check = checkNginxConfig(nginx, prefix, configFile, hostsFor(target));
        assert.ok(check.ok, check.output);
      } finally {
        await rm(prefix, { recursive: true, force: true });
      }
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

describe('the compose target', () => {
  test('follows replicas through Docker DNS instead of a fixed upstream', () => {
    const tree = generate(composeTarget());
    assert.equal(blocks(tree, 'upstream').length, 0);
    const [http] = blocks(tree, 'http');
    assert.ok(http);
    assert.deepEqual(directives(http, 'resolver')[0]?.args, ['127.0.0.11', 'valid=2s', 'ipv6=off']);
    const [server] = blocks(tree, 'server');
    assert.ok(server);
    assert.deepEqual(directives(server, 'set')[0]?.args, ['$api_upstream', `api:3000`]);
    assert.deepEqual(directives(server, 'listen')[0]?.args, ['8080']);
  });
});

describe('the kubernetes target', () => {
  test('believes the ingress controller (private networks) for the client address and scheme', () => {
    const tree = generate(kubernetesTarget());
    const [http] = blocks(tree, 'http');
    assert.ok(http);
    assert.deepEqual(
      directives(http, 'set_real_ip_from').map((d) => d.args[0]),
      ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
    );
    assert.deepEqual(directives(http, 'real_ip_header')[0]?.args, ['X-Forwarded-For']);
    const [server] = blocks(tree, 'server');
    assert.ok(server);
    const set = Object.fromEntries(directives(server, 'proxy_set_header').map((d) => [String(d.args[0]), d.args[1]]));
    assert.equal(set['X-Forwarded-Proto'], '$forwarded_proto');
  });

  test('reaches the api through its Service name, resolved at start', () => {
    const [upstream] = blocks(generate(kubernetesTarget()), 'upstream');
    assert.ok(upstream);
    assert.deepEqual(directives(upstream, 'server')[0]?.args.slice(0, 1), ['api:3000']);
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
    const text = generateFiles(nativeTarget(nativeExample))['nginx.conf'] ?? '';
    assert.match(text, /^\s*server_tokens off;$/m);
    for (const [, path] of text.matchAll(/_temp_path (\S+);/g)) assert.ok(path?.startsWith(`${nativeExample.prefix}/`));
    assert.match(text, new RegExp(`^pid ${nativeExample.prefix}/nginx.pid;$`, 'm'));
  });
});

describe('nginx-config (the CLI)', () => {
  test('prints the golden config by default', async () => {
    const result = spawnSync(process.execPath, [cli], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, await readFile(golden, 'utf8'));
  });

  test('takes ports and a prefix', () => {
    const result = spawnSync(process.execPath, [cli, '--edge-port', '9090', '--api-port', '4000', '--prefix', '/tmp/p'], {
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /listen 127\.0\.0\.1:9090;/);
    assert.match(result.stdout, /server 127\.0\.0\.1:4000 /);
    assert.match(result.stdout, /pid \/tmp\/p\/nginx\.pid;/);
  });

  test('refuses bad options with exit code 2 and a message', () => {
    for (const args of [['--edge-port', 'x'], ['--target', 'mars'], ['--nope']]) {
      const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
      assert.equal(result.status, 2, args.join(' '));
      assert.match(result.stderr, /^nginx-config: /);
    }
  });

  test('npm run nginx:config (the README command) prints the same', async () => {
    const result = spawnSync('npm', ['run', '--silent', 'nginx:config'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, await readFile(golden, 'utf8'));
  });
});
