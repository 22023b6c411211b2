/**
 * npm run chaos on the compose stack: this run's own images and project, three api replicas. Kill
 * one, scale to two, freeze and thaw Redis, switch one replica unready: each does what it says,
 * and chaos says what the stack did (through nginx, and nginx's retries from its access log).
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { composeFlavours, freePort, runCommand, waitFor } from '@three-tier/processes';
import { dockerAnswers, resolveBaseImages, shareBuildCa } from '@three-tier/release';
import { repoRoot } from '@three-tier/cli-kit';
import { instanceAlias, services } from '@three-tier/shared';
import { ComposeStack } from '../src/index.js';
import { composeStackLock } from './docker-lock.js';

const chaosCli = fileURLToPath(new URL('cli.js', import.meta.resolve('@three-tier/demo')));

const log = (line: string): void => {
  if (process.env.STACK_TEST_LOGS) console.log(line);
};

let stack: ComposeStack;
let env: NodeJS.ProcessEnv;
const project = `threetierchaos${process.pid}`;

/** `npm run chaos -- <args>` against this run's compose project, watching `seconds` after acting. */
async function chaos(args: readonly string[], seconds: number): Promise<{ code: number | null; out: string }> {
  const { code, output } = await runCommand(process.execPath, [chaosCli, 'chaos', ...args], {
    cwd: repoRoot,
    env: {
      ...env,
      CHAOS_STACK: 'compose',
      COMPOSE_PROJECT_NAME: project,
      HTTP_PORT: String(stack.options.httpPort),
      HTTP_HOST: '127.0.0.1',
      CHAOS_WATCH_SECONDS: String(seconds),
    },
  });
  log(output);
  return { code, out: output };
}

let unlock: () => Promise<void> = () => Promise.resolve();

before(async () => {
  assert.ok(await dockerAnswers(), 'a Docker engine must answer (CI starts dockerd; locally: sudo systemctl start docker)');
  unlock = await composeStackLock('chaos on compose');
  const [flavour] = await composeFlavours(process.env);
  assert.ok(flavour, 'Docker Compose must be installed: docker-compose, or the Compose v2 plugin');
  // Images of this run's own (compose names them for the project): removing them afterwards cannot pull one from under another run.
  env = { ...process.env };
  Object.assign(env, await resolveBaseImages(env, log));
  await shareBuildCa(env);
  stack = await ComposeStack.create({ project, httpPort: await freePort(), env, onOutput: log, flavour });
  await stack.down(true);
  await stack.build();
  await stack.up(3);
});
after(async () => {
  await stack.down(true);
  await stack.removeImages();
  await unlock();
  assert.deepEqual(await stack.leftovers(), [], 'compose down and the image cleanup leave nothing of this project');
});

test('chaos kill, scale 2, redis freeze and thaw, fault set unready: each acts on the compose stack and says what it did', async () => {
  // kill: one replica, by its container's name; chaos sees it leave the rotation.
  const [victim] = await stack.containers(services.api);
  assert.ok(victim);
  const killed = await chaos(['kill', victim.name], 10);
  assert.equal(killed.code, 0, killed.out);
  assert.match(killed.out, new RegExp(`chaos \\| the compose stack \\(compose project ${project}\\), edge ${stack.url}`));
  assert.match(killed.out, new RegExp(`killing ${instanceAlias(victim.hostname)} \\(${victim.hostname}\\) at ${victim.name}: sent SIGKILL to the api process`));
  assert.match(killed.out, new RegExp(`${victim.hostname}\\) left the rotation`));
  // A crash, not a stop asked for: Docker restarts the container, and it comes back.
  assert.match(killed.out, new RegExp(`${victim.hostname}\\) is up and ready again`));
  assert.match(killed.out, new RegExp(`${victim.hostname}\\) came back into the rotation`));
  assert.match(killed.out, /requests: \d+, failed: 0 \(non-2xx or network errors\), instances answering: 3/);
  assert.match(killed.out, /the edge retried \d+ request\(s\) on another instance since the action/);

  // scale 2: compose brings the api back to two running replicas.
  const scaled = await chaos(['scale', '2'], 4);
  assert.equal(scaled.code, 0, scaled.out);
  assert.match(scaled.out, new RegExp(`running: docker(-compose| compose) -p ${project} up -d --no-recreate --no-build --scale api=2 api`));
  assert.match(scaled.out, /compose now runs 2 api replica\(s\)/);
  // Whether compose took a second here depends on the machine: that chaos speaks while an action
  // lasts is shown by packages/demo/test/still-acting.test.ts.
  await waitFor(async () => ((await stack.containers(services.api)).filter((container) => container.running).length === 2 ? true : undefined), {
    what: 'two running api replicas',
    timeoutMs: 60_000,
  });

  // redis freeze, then thaw: the api says frozen, then up.
  const frozen = await chaos(['redis', 'freeze'], 4);
  try {
    assert.equal(frozen.code, 0, frozen.out);
    assert.match(frozen.out, /docker pause \S+: its processes are frozen/);
    assert.match(frozen.out, /redis is frozen now, as [a-z-]+ sees it/);
  } finally {
    const thawed = await chaos(['redis', 'thaw'], 4);
    assert.equal(thawed.code, 0, thawed.out);
    assert.match(thawed.out, /docker unpause \S+: it answers again/);
    assert.match(thawed.out, /redis is up now, as [a-z-]+ sees it/);
  }

  // fault set unready on one replica (through docker exec): it leaves the rotation, none fails.
  await stack.waitHealthy(2);
  const [unready] = (await stack.containers(services.api)).filter((container) => container.running);
  assert.ok(unready);
  // Visits alongside, on fresh connections: nginx logs them (not chaos's /instance polls), so
  // chaos counts the ones it replayed on the other replica.
  let visiting = true;
  let visitFailures = 0;
  const visits = (async () => {
    while (visiting) {
      const response = await fetch(`${stack.url}/redis`, { headers: { connection: 'close' } }).catch(() => undefined);
      if (response?.status !== 200) visitFailures += 1;
      await response?.body?.cancel();
    }
  })();
  const set = await chaos(['fault', 'set', 'unready', unready.hostname], 5).finally(() => {
    visiting = false;
  });
  await visits;
  assert.equal(set.code, 0, set.out);
  assert.equal(visitFailures, 0, 'no visit failed while the replica was unready');
  assert.match(set.out, /the edge retried [1-9]\d* request\(s\) on another instance since the action/);
  assert.match(set.out, new RegExp(`${unready.hostname}\\) at ${unready.name} is switched to unready; its faults now: unready`));
  assert.match(set.out, new RegExp(`${unready.hostname}\\) left the rotation`));
  assert.match(set.out, /failed: 0 \(non-2xx or network errors\), instances answering: 1/);
  const list = await chaos(['fault', 'list'], 0);
  assert.match(list.out, new RegExp(`${unready.hostname}\\) at ${unready.name}: unready`));
});
