import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { checkNginxConfig, findBinaries, preparePrefix } from '@three-tier/processes';
import { edge, headerNames, routeList, upstreamReadTimeoutMs } from '@three-tier/shared';
import { generate, generateFiles, nativeExample, nativeTarget, type Block, type Directive, type Node } from '../src/index.js';

const golden = fileURLToPath(new URL('../../test/golden/native.conf', import.meta.url));
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

describe('the generated nginx.conf', () => {
  test('matches the golden file (UPDATE_GOLDEN=1 rewrites it after an intended change)', async () => {
    const text = generateFiles(nativeTarget(nativeExample))['nginx.conf'] ?? '';
    if (process.env.UPDATE_GOLDEN === '1') await writeFile(golden, text);
    assert.equal(text, await readFile(golden, 'utf8'));
  });

  test('passes the real nginx -t', async () => {
    const { nginx } = findBinaries(process.env);
    assert.ok(nginx, 'nginx must be installed (npm test installs it as root)');
    const prefix = await mkdtemp(join(tmpdir(), 'nginx-generate-'));
    try {
      const target = nativeTarget({ ...nativeExample, prefix });
      const file = await preparePrefix(prefix, generateFiles(target)['nginx.conf'] ?? '');
      const check = checkNginxConfig(nginx, prefix, file);
      assert.ok(check.ok, check.output);
    } finally {
      await rm(prefix, { recursive: true, force: true });
    }
  });

  test('every public route is proxied with the read timeout the table implies', () => {
    for (const route of routeList.filter((candidate) => candidate.exposure === 'public')) {
      const location = locationFor(tree, route.path);
      assert.deepEqual(directives(location, 'proxy_pass')[0]?.args, ['http://api'], route.path);
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
