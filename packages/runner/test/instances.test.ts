/**
 * API_INSTANCES=3 natively: nginx and the http-proxy edge balance three api instances, each
 * supervised on its own. One instance stopped or switched unready under load fails no client
 * request: the edge takes the work elsewhere, and the instance comes back.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { changeProblems, describeLatency, freePort, RetryLog, retryLogName, TimedClients, waitFor } from '@three-tier/processes';
import { routes, stackChangeBudget, stackChangeChance, stackChangeQuietMs, type InstanceBody } from '@three-tier/shared';
import { cli, freshTmp, loopClients, recordedServices, runnerSettingSuite, startRunner, type Runner, type RunnerSetting } from './helpers.js';

const instances = 3;
/** As in the brief of issue 20: eight clients, each on a connection of its own. */
const loadClients = 8;

/** The hostname that answered GET /instance through `url`, or undefined if the request failed. */
async function whoAnswers(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${url}/instance`, { signal: AbortSignal.timeout(5_000) });
    if (response.status !== 200) return undefined;
    return ((await response.json()) as InstanceBody).hostname;
  } catch {
    return undefined;
  }
}

/** Hostnames answering through `url` until all of `expected` did. */
async function allAnswer(url: string, expected: readonly string[]): Promise<void> {
  const seen = new Set<string>();
  await waitFor(
    async () => {
      const host = await whoAnswers(url);
      if (host) seen.add(host);
      return expected.every((name) => seen.has(name)) ? true : undefined;
    },
    { what: `every instance (${expected.join(', ')}) answering through ${url}; seen ${[...seen].join(', ')}`, timeoutMs: 20_000 },
  );
}

/** Only 200s, nothing refused, reset or failed. */
function assertAllOk(clients: ReturnType<typeof loopClients>): void {
  const statuses = [...clients.statuses.keys()];
  assert.deepEqual(statuses, ['200'], `${statuses.join(', ')}\n${clients.details.join('\n')}`);
}

describe('API_INSTANCES', () => {
  let setting: RunnerSetting;
  runnerSettingSuite('instances-test', (made) => (setting = made));

  test('a range of ports that takes the edge or Redis port is refused before anything starts, saying which', async () => {
    const apiPort = await freePort();
    const result = spawnSync(process.execPath, [cli, 'up'], {
      env: { PATH: process.env.PATH, API_INSTANCES: '3', API_PORT: String(apiPort), EDGE_PORT: String(apiPort + 2), REDIS_PORT: '6399' },
      encoding: 'utf8',
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, new RegExp(`API_INSTANCES=3 puts the api on ports ${apiPort} to ${apiPort + 2}, which takes EDGE_PORT \\(${apiPort + 2}\\)`));
    const tooMany = spawnSync(process.execPath, [cli, 'up'], { env: { PATH: process.env.PATH, API_INSTANCES: '17' }, encoding: 'utf8' });
    assert.equal(tooMany.status, 1);
    assert.match(tooMany.stderr, /API_INSTANCES must be a whole number from 1 to 16/);
  });

  for (const edge of ['nginx', 'http-proxy'] as const) {
    describe(`through ${edge}`, () => {
      let runner: Runner;
      let url: string;
      let tmp: string;
      const apiPort = (index: number): number => Number(setting.env.API_PORT) + index;
      const ids = (): string[] => Array.from({ length: instances }, (_, index) => `${hostname()}-${apiPort(index)}`);

      before(async () => {
        tmp = await freshTmp(setting.root);
        runner = startRunner({ ...setting.env, STACK_EDGE: edge, API_INSTANCES: String(instances), TMPDIR: tmp });
        url = await runner.ready;
      });
      after(async () => {
        runner.child.kill('SIGTERM');
        assert.equal(await runner.exited, 0, runner.output.join('\n'));
      });

      test('all three instances answer, each under its own name; the run folder records each pid and port', async () => {
        const ready = runner.output.find((line) => line.startsWith('ready: ')) ?? '';
        assert.equal(ready, `ready: ${url} (api instances: ${ids().map((id, index) => `${apiPort(index)} ${id}`).join(', ')})`);
        await allAnswer(url, ids());
        const services = await recordedServices(tmp, instances + 2);
        for (let index = 0; index < instances; index += 1) {
          const recorded = services[`api ${apiPort(index)}`];
          assert.ok(recorded, `api ${apiPort(index)} recorded: ${JSON.stringify(services)}`);
          assert.equal(recorded.port, apiPort(index));
        }
      });

      test('one instance SIGTERMed under load: no request on a kept-alive connection fails or waits past the budget, and the runner restarts that one', async (t) => {
        const services = await recordedServices(tmp, instances + 2);
        const victim = services[`api ${apiPort(1)}`];
        assert.ok(victim);
        const clients = new TimedClients({ url: `${url}${routes.redis.path}`, clients: loadClients });
        const sigterm = `SIGTERM to api ${apiPort(1)}`;
        const quiet = `api ${apiPort(1)} back, nothing changing`;
        try {
          await clients.acknowledge(100, 'before the SIGTERM');
          clients.mark(sigterm);
          process.kill(victim.pid, 'SIGTERM');
          await runner.line(new RegExp(`stack \\| api ${apiPort(1)} exited on its own \\(exit code 0\\)`));
          await runner.line(new RegExp(`stack \\| api ${apiPort(1)} is back \\(pid \\d+\\)`));
          await clients.acknowledge(100, 'after the restart');
          await clients.quietWindow(sigterm, quiet, stackChangeQuietMs);
        } finally {
          await clients.stop();
        }
        const verdict = clients.judgeChange(sigterm, quiet, stackChangeBudget, stackChangeChance(loadClients));
        const { budget } = verdict;
        t.diagnostic(`${edge}, SIGTERM of one of ${instances} instances: ${describeLatency(verdict.change)}; slowest: ${clients.slowest(3, clients.between(sigterm, quiet)).join('; ')}`);
        t.diagnostic(`then with no change: ${describeLatency(verdict.quiet)}, worst p99 of its parts as long as the change ${verdict.quiet.worstP99Ms.toFixed(0)} ms; budget: max ${budget.maxMs} ms, p99 ${budget.p99Ms} ms; the machine's failures: ${verdict.machine.join('; ') || 'none'}`);
        const failed = verdict.unexplained.map((sample) => clients.describe(sample));
        const problems = changeProblems(verdict, failed);
        assert.deepEqual(problems, [], `no request may fail or wait past the budget because of the SIGTERM: ${problems.join('; ')}`);
        // The others were never restarted.
        assert.ok(!runner.output.some((line) => new RegExp(`api (${apiPort(0)}|${apiPort(2)}) exited`).test(line)), runner.output.join('\n'));
        await allAnswer(url, ids());
      });

      test('one instance switched unready under load leaves the rotation, fails no request, and comes back', async () => {
        const [, , victim = ''] = ids();
        const faultUrl = `http://127.0.0.1:${apiPort(2)}/faults/unready`;
        const switched = new Date();
        const clients = loopClients(url, 4);
        await waitFor(() => (clients.acknowledged.length > 50 ? true : undefined), { what: 'visits under load', timeoutMs: 20_000 });
        assert.equal((await fetch(faultUrl, { method: 'PUT' })).status, 200);
        // Asked after the switch: 60 answers, none from the unready instance, both others there.
        const after: string[] = [];
        for (let i = 0; i < 60; i += 1) after.push((await whoAnswers(url)) ?? 'failed');
        assert.ok(!after.includes(victim) && !after.includes('failed'), after.join(' '));
        assert.deepEqual([...new Set(after)].sort(), ids().slice(0, 2).sort());
        const atSwitch = clients.acknowledged.length;
        await waitFor(() => (clients.acknowledged.length > atSwitch + 50 ? true : undefined), { what: 'visits while unready', timeoutMs: 20_000 });
        assert.equal((await fetch(faultUrl, { method: 'DELETE' })).status, 200);
        await allAnswer(url, ids());
        await clients.stop();
        assertAllOk(clients);
        // The requests the unready instance dropped were tried again elsewhere, and the run folder
        // lists them for npm run chaos (nginx's access log reaches the runner a second late).
        const [folder = ''] = (await readdir(tmp)).filter((name) => name.startsWith('three-tier-'));
        await waitFor(async () => ((await RetryLog.countSince(join(tmp, folder, retryLogName), switched)) > 0 ? true : undefined), {
          what: `a retry listed in ${join(tmp, folder, retryLogName)}`,
          timeoutMs: 10_000,
        });
      });
    });
  }
});
