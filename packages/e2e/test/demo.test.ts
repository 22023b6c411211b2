/**
 * The demo, run as written: every command of docs/demo.md's section "The demo", in order, against a
 * real compose stack of this run's own (project, port and image names), each checked for what the
 * page says to watch. A command added to the section without an expectation here fails.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, runCommand, waitFor, type CommandResult } from '@three-tier/processes';
import { repoRoot } from '@three-tier/cli-kit';
import { routes, services, type InstanceBody } from '@three-tier/shared';
import { dockerAnswers, resolveBaseImages, shareBuildCa } from '@three-tier/release';
import { observabilityProfile } from '@three-tier/deploy';
import { prometheusServer } from '@three-tier/observability';
import { ComposeStack } from '../src/index.js';
import { composeStackLock } from './docker-lock.js';
import { docSection, readDoc, shellLines } from './docs.js';

const section = docSection(await readDoc('docs/demo.md'), 'The demo');
assert.ok(section, 'docs/demo.md has its section "The demo"');
// The section's own commands, up to the next heading (the other sections document, they are not steps).
const commands = shellLines(section);

/** What each step must show, beyond exiting 0; `first` readies the stack for it, `then` checks the stack afterwards. */
interface Expectation {
  readonly first?: (stack: ComposeStack) => Promise<void>;
  readonly output: readonly RegExp[];
  readonly then?: (stack: ComposeStack, ran: CommandResult) => Promise<void>;
}

async function apiReplicas(stack: ComposeStack): Promise<number> {
  return (await stack.containers(services.api)).filter((container) => container.running).length;
}

const expectations: Record<string, Expectation> = {
  'docker compose up --build --detach --scale api=3': {
    output: [],
    then: async (stack) => {
      await stack.waitHealthy(3);
      const page = await fetch(`${stack.url}${routes.html.path}`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<!doctype html>/);
    },
  },
  'npm run chaos -- scale 5': {
    output: [/joined/],
    then: async (stack) => assert.equal(await apiReplicas(stack), 5),
  },
  'npm run chaos -- kill': { output: [/left the rotation/, /failed: 0\b/] },
  'npm run chaos -- fault set unready': { output: [/left the rotation/, /failed: 0\b/] },
  'npm run chaos -- fault clear': { output: [/joined|back/] },
  'npm run chaos -- redis freeze': {
    output: [/frozen/],
    then: async (stack) => {
      const visit = await fetch(`${stack.url}${routes.redis.path}`);
      assert.equal(visit.status, 503, 'a visit while Redis is frozen is refused, with why');
      assert.match(((await visit.json()) as { detail: string }).detail, /Redis/);
    },
  },
  'npm run chaos -- redis thaw': {
    output: [/\bup\b/],
    then: async (stack) => {
      await waitFor(
        async () => {
          const res = await fetch(`${stack.url}${routes.instance.path}`);
          return res.ok && ((await res.json()) as InstanceBody).redis.state === 'up' ? true : undefined;
        },
        { what: 'Redis up again, seen through nginx', timeoutMs: 30_000 },
      );
    },
  },
  'LOAD_URL=http://127.0.0.1:${HTTP_PORT:-80} LOAD_CONCURRENCY=32 LOAD_MS=200 npm run load': {
    // The totals line: both kinds of refusal happened, each counted apart, and nothing else failed.
    output: [/^done: \d+ jobs .*, [1-9]\d* × 429 \(rate limit\), [1-9]\d* × 503 \(saturated\), 0 errors, /m],
  },
  'docker compose --profile observability down --volumes': {
    // A reader who also followed docs/observability.md runs the profile's Prometheus, with its own
    // networks and volume: the teardown must take those down too.
    first: async (stack) => {
      const started = await runCommand('docker', ['compose', '--profile', observabilityProfile, 'up', '--detach', prometheusServer.service], { cwd: repoRoot, env: stack.options.env });
      assert.equal(started.code, 0, started.output.slice(-2_000));
      assert.ok((await stack.containers(prometheusServer.service)).some((container) => container.running), 'Prometheus runs before the teardown');
    },
    output: [],
    then: async (stack) => assert.deepEqual(await stack.resources(), [], 'no container, network or volume of the project is left'),
  },
};

describe('the demo of docs/demo.md, command by command, on a compose stack of its own', () => {
  let stack: ComposeStack;
  let env: NodeJS.ProcessEnv;
  let tmp: string;
  let unlock: () => Promise<void> = () => Promise.resolve();

  before(async () => {
    assert.ok(await dockerAnswers(), 'a Docker engine must answer (CI starts dockerd)');
    // Its load step saturates the replicas: no other compose suite runs under it.
    unlock = await composeStackLock('the demo');
    const project = `threetierdemo${process.pid}`;
    const httpPort = await freePort();
    // chaos drives npm start's stack when it finds one live in TMPDIR: here, as on a machine where
    // only compose runs, it finds none, even while other tests run npm start's stacks beside it.
    tmp = await mkdtemp(join(tmpdir(), 'demo-test-'));
    env = {
      ...process.env,
      TMPDIR: tmp,
      COMPOSE_PROJECT_NAME: project,
      HTTP_PORT: String(httpPort),
      PROMETHEUS_PORT: String(await freePort()),
      // Short watches and loads: the steps are the page's, the durations a test's.
      CHAOS_WATCH_SECONDS: '6',
      LOAD_SECONDS: '12',
    };
    Object.assign(env, await resolveBaseImages(env, () => undefined, { monitoring: true }));
    await shareBuildCa(env);
    // The profile too, so that the cleanup takes down and removes whatever of it the steps started.
    stack = await ComposeStack.create({ project, httpPort, env, flavour: 'plugin', profiles: [observabilityProfile] });
  });
  after(async () => {
    try {
      await stack.down(true);
      await stack.removeImages();
    } finally {
      await unlock();
      await rm(tmp, { recursive: true, force: true });
    }
    assert.deepEqual(await stack.leftovers(), [], 'the demo leaves nothing of its project behind');
  });

  test('every command of the section has an expectation here', () => {
    assert.ok(commands.length >= 8, `the demo has its steps: ${commands.join(' | ')}`);
    for (const command of commands) assert.ok(command in expectations, `no expectation for "${command}"`);
  });

  for (const command of commands) {
    test(command, async (t) => {
      const expectation = expectations[command];
      assert.ok(expectation, `no expectation for "${command}"`);
      await expectation.first?.(stack);
      let ran = await runCommand('bash', ['-c', command], { cwd: repoRoot, env });
      // Docker 20.10 now and then refuses to remove a network whose last container it has just
      // removed ("has active endpoints": the endpoint's release lags the container's removal).
      // What a reader does then is run the teardown again; anything else still fails.
      if (ran.code !== 0 && /error while removing network: .* has active endpoints/.test(ran.output)) {
        t.diagnostic(`Docker kept a network's endpoint after its container went; ran again:\n${ran.output.slice(-500)}`);
        ran = await runCommand('bash', ['-c', command], { cwd: repoRoot, env });
      }
      t.diagnostic(ran.output.trim().split('\n').slice(-12).join('\n'));
      assert.equal(ran.code, 0, `exit ${ran.code}:\n${ran.output.slice(-3_000)}`);
      for (const pattern of expectation.output) assert.match(ran.output, pattern);
      await expectation.then?.(stack, ran);
    });
  }
});
