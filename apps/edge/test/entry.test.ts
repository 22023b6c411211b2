import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { Child, freePort, waitFor } from '@three-tier/processes';
import { budgets, edge, gracePeriodMs } from '@three-tier/shared';

const entry = fileURLToPath(new URL('../src/index.js', import.meta.url));

describe('the edge process', () => {
  test('bad variables exit 1 naming each, without a stack trace', () => {
    const result = spawnSync(process.execPath, [entry], {
      env: { PATH: process.env.PATH, EDGE_PORT: '0', API_UPSTREAM: 'redis://api:3000' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^edge: invalid configuration:/);
    assert.match(result.stderr, /EDGE_PORT must be an integer from 1 to 65535/);
    assert.match(result.stderr, /API_UPSTREAM must be http:\/\/ URLs/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  test('on SIGTERM it drains for budgets.edgeDrainMs, as nginx and compose count, then exits 0', async () => {
    const lines: Record<string, unknown>[] = [];
    const child = new Child({
      name: 'edge',
      command: process.execPath,
      args: [entry],
      env: { PATH: process.env.PATH, EDGE_PORT: String(await freePort()), EDGE_HOST: '127.0.0.1', API_UPSTREAM: `http://127.0.0.1:${await freePort()}`, LOG_FORMAT: 'json' },
      onLine: (line) => {
        if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    });
    try {
      await waitFor(() => lines.find((line) => line.msg === 'listening'), { what: 'the edge to listen' });
      child.signal('SIGTERM');
      const draining = await waitFor(() => lines.find((line) => line.msg === 'shutting down: draining'), { what: 'the drain to begin' });
      assert.equal(draining.timeoutMs, budgets.edgeDrainMs);
      // nginx's worker_shutdown_timeout, compose's stop_grace_period and the runner's kill.
      assert.equal(gracePeriodMs(draining.timeoutMs), gracePeriodMs(budgets.edgeDrainMs));
      assert.ok(budgets.edgeDrainMs < budgets.edgeRequestTimeoutMs, `a drain of one try (${budgets.edgeDrainMs} ms), not of all ${edge.upstreamTries}`);
      const exit = await child.exited;
      assert.equal(exit.code, 0, 'nothing in flight: it stops at once');
    } finally {
      await child.kill();
    }
  });
});
