import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { generateFiles } from '@three-tier/nginx';
import { nativeTarget } from '@three-tier/runner';
import { freePort, Nginx, NodeService } from '@three-tier/processes';
import { edge as edgeContract, headerNames, type CounterBody } from '@three-tier/shared';
import { FlakyUpstream } from './flaky-upstream.js';
import { requiredBinaries, startStack, type TestStack } from './helpers.js';

type Edge = { readonly url: string; stop(): Promise<unknown> };

/** nginx or the http-proxy edge in front of two upstreams: a flaky one first, then the real api. */
async function startEdge(kind: 'nginx' | 'http-proxy', flakyPort: number, apiPort: number, dir: string): Promise<Edge> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const healthUrl = `${url}${edgeContract.healthPath}`;
  if (kind === 'nginx') {
    const prefix = await mkdtemp(join(dir, 'nginx-'));
    const target = {
      ...nativeTarget({ listenHost: '127.0.0.1', edgePort: port, apiPort, prefix, accessLogPath: '/dev/null' }),
      upstream: { kind: 'static' as const, servers: [`127.0.0.1:${flakyPort}`, `127.0.0.1:${apiPort}`] },
    };
    const nginx = new Nginx({ bin: requiredBinaries().nginx, prefix, config: generateFiles(target)['nginx.conf'] ?? '', healthUrl });
    await nginx.start();
    return { url, stop: () => nginx.stop() };
  }
  const service = new NodeService({
    name: 'edge',
    entry: fileURLToPath(import.meta.resolve('@three-tier/edge')),
    env: {
      PATH: process.env.PATH,
      LOG_LEVEL: 'silent',
      EDGE_PORT: String(port),
      EDGE_HOST: '127.0.0.1',
      API_UPSTREAM: `http://127.0.0.1:${flakyPort},http://127.0.0.1:${apiPort}`,
    },
    healthUrl,
  });
  await service.start();
  return { url, stop: () => service.stop() };
}

for (const kind of ['nginx', 'http-proxy'] as const) {
  describe(`${kind}: when an api instance dies under a request`, () => {
    let running: TestStack;
    let dir: string;
    let apiPort: number;

    before(async () => {
      running = await startStack('http-proxy');
      apiPort = running.stack.options.ports.api;
      dir = await mkdtemp(join(tmpdir(), 'retries-'));
    });
    after(async () => {
      await running.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    async function scenario(mode: 'reset' | 'counted-then-reset', run: (url: string) => Promise<void>): Promise<FlakyUpstream> {
      const flaky = await FlakyUpstream.start(mode, apiPort);
      const edge = await startEdge(kind, flaky.port, apiPort, dir);
      try {
        await run(edge.url);
      } finally {
        await edge.stop();
        await flaky.close();
      }
      return flaky;
    }

    const count = async (): Promise<number> =>
      ((await (await fetch(`http://127.0.0.1:${apiPort}/redis`)).json()) as CounterBody).hits;

    test('a GET is retried on another instance and succeeds', async () => {
      const flaky = await scenario('reset', async (url) => {
        const res = await fetch(`${url}/`);
        assert.equal(res.status, 200);
        await res.body?.cancel();
      });
      assert.equal(flaky.hits, 1, 'the first try went to the dying instance');
    });

    test('a POST that reached an instance is not replayed: 502, not a second delivery', async () => {
      const flaky = await scenario('reset', async (url) => {
        const res = await fetch(`${url}/redis`, { method: 'POST', body: 'x' });
        assert.equal(res.status, 502);
        assert.equal((await res.json() as { detail: string }).detail, 'No api instance could be reached.');
      });
      assert.equal(flaky.hits, 1);
    });

    test('a visit counted by an instance that died before answering is counted once', async () => {
      const before = await count();
      let answered = 0;
      const flaky = await scenario('counted-then-reset', async (url) => {
        const res = await fetch(`${url}/redis`, { headers: { [headerNames.requestId]: `retry-${kind}` } });
        assert.equal(res.status, 200);
        answered = ((await res.json()) as CounterBody).hits;
      });
      assert.equal(flaky.hits, 1, 'the dying instance counted it first');
      assert.equal(answered, before + 1, 'the retry got the count the first try made');
      assert.equal(await count(), before + 2, 'one increment for the retried visit, one for this check');
    });
  });
}
