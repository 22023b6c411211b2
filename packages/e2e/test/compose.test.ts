import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { imageUsers, redisAuthDir } from '@three-tier/deploy';
import { freePort, waitFor } from '@three-tier/processes';
import { headerNames, ports, services, type CounterBody } from '@three-tier/shared';
import { dockerAnswers, resolveBaseImages, shareBuildCa } from '@three-tier/release';
import {
  ComposeStack,
  composeFlavours,
  dockerBridgeClient,
  probeTarget,
  type ComposeFlavour,
  type ProbeTarget,
} from '../src/index.js';
import { probeSuite } from './helpers.js';

const log = (line: string): void => {
  if (process.env.STACK_TEST_LOGS) console.log(line);
};

/**
 * Visits /redis `clients` at a time until `stop()` says so; each visit carries its own
 * Idempotency-Key and is retried with it until acknowledged, so the count must match exactly.
 */
function visitors(url: string, clients: number) {
  let stopping = false;
  let acknowledged = 0;
  const failures: string[] = [];
  const hostnames = new Map<string, number>();
  const run = async (): Promise<void> => {
    while (!stopping) {
      const key = randomUUID();
      for (let attempt = 0; ; attempt += 1) {
        try {
          const res = await fetch(`${url}/redis`, { headers: { [headerNames.idempotencyKey]: key }, signal: AbortSignal.timeout(20_000) });
          if (res.status === 200) {
            const body = (await res.json()) as CounterBody;
            acknowledged += 1;
            hostnames.set(body.hostname, (hostnames.get(body.hostname) ?? 0) + 1);
            break;
          }
          failures.push(`status ${res.status}`);
          await res.body?.cancel();
        } catch (error) {
          const code = error instanceof Error ? (error.cause as { code?: string } | undefined)?.code : undefined;
          failures.push(`${error instanceof Error ? error.message : String(error)} ${code ?? ''}`.trim());
        }
        if (attempt > 50) throw new Error(`visit ${key} never acknowledged: ${failures.slice(-3).join('; ')}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  const done = Promise.all(Array.from({ length: clients }, run));
  return {
    hostnames,
    failures,
    get acknowledged() {
      return acknowledged;
    },
    async stop() {
      stopping = true;
      await done;
    },
  };
}

async function hits(url: string): Promise<number> {
  const res = await fetch(`${url}/redis`);
  assert.equal(res.status, 200);
  return ((await res.json()) as CounterBody).hits;
}

const flavours = await composeFlavours(process.env);
assert.ok(flavours.length > 0, 'Docker Compose must be installed: docker-compose, or the Compose v2 plugin');
const names: Record<ComposeFlavour, string> = { plugin: 'docker compose (v2 plugin)', standalone: 'docker-compose (standalone)' };

// Every compose this machine has runs the whole suite: the file must work with each.
for (const flavour of flavours) describe(`${names[flavour]} up`, () => {
  let stack: ComposeStack;
  let target: ProbeTarget;

  before(async () => {
    assert.ok(await dockerAnswers(), 'a Docker engine must answer (CI starts dockerd; locally: sudo systemctl start docker)');
    const env = { ...process.env, IMAGE_PREFIX: 'three-tier-test', TAG: 'test' };
    Object.assign(env, await resolveBaseImages(env, log));
    await shareBuildCa(env);
    stack = await ComposeStack.create({ project: `threetier${flavour}${process.pid}`, httpPort: await freePort(), env, onOutput: log, flavour });
    await stack.down(true);
    await stack.build();
    await stack.up(1);
    // Published through Docker's NAT: the api sees the bridge gateway, not 127.0.0.1.
    target = probeTarget(stack.url, dockerBridgeClient);
  });
  after(async () => {
    await stack.down(true);
  });

  describe('the probe suite through the nginx container', () => {
    probeSuite(() => target);
  });

  describe('the containers', () => {
    test('run as their unprivileged users, read-only, without capabilities or new privileges, under init', async () => {
      const expected: Record<string, string> = {
        [services.api]: `${imageUsers.api.uid}:${imageUsers.api.gid}`,
        [services.edge]: `${imageUsers.edge.uid}:${imageUsers.edge.gid}`,
        [services.redis]: `${imageUsers.redis.uid}:${imageUsers.redis.gid}`,
      };
      const containers = await stack.containers();
      assert.equal(containers.length, 3);
      for (const container of containers) {
        assert.equal(container.user, expected[container.service], `${container.service} user`);
        assert.equal(container.readOnlyRoot, true, `${container.service} read-only root`);
        assert.deepEqual(container.capDrop, ['ALL'], `${container.service} capabilities`);
        assert.ok(container.securityOpt.includes('no-new-privileges:true'), `${container.service} no-new-privileges`);
        assert.equal(container.init, true, `${container.service} init`);
      }
    });

    test('only nginx is published, on 127.0.0.1; Redis has no host port', async () => {
      for (const container of await stack.containers()) {
        const expected = container.service === services.edge ? [`127.0.0.1:${stack.options.httpPort}`] : [];
        assert.deepEqual(container.publishedPorts, expected, container.service);
      }
    });

    test('Redis is unreachable from nginx: they share no network', async () => {
      const [redis] = await stack.containers(services.redis);
      const [nginx] = await stack.containers(services.edge);
      assert.ok(redis && nginx);
      assert.equal(redis.networks.filter((network) => nginx.networks.includes(network)).length, 0);
      const attempt = await stack.exec(services.edge, ['wget', '-q', '-T', '2', '-O', '/dev/null', `http://${services.redis}:${ports.redis}/`]);
      assert.notEqual(attempt.exitCode, 0);
    });

    test('Redis requires its password; the api reads it from the shared volume', async () => {
      const noAuth = await stack.exec(services.redis, ['redis-cli', '-h', '127.0.0.1', 'incr', 'hits']);
      assert.match(noAuth.out + noAuth.err, /NOAUTH/);
      const readable = await stack.exec(services.api, ['test', '-s', `${redisAuthDir}/password`]);
      assert.equal(readable.exitCode, 0);
    });
  });

  describe('the counter lives outside the containers', () => {
    test('it survives docker compose down && docker compose up', async () => {
      const before = await hits(stack.url);
      await stack.down(false);
      await stack.up(1);
      assert.equal(await hits(stack.url), before + 1);
    });

    test('it survives killing and recreating the Redis container: acknowledged visits == the count', async () => {
      const start = await hits(stack.url);
      const load = visitors(stack.url, 4);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const [redis] = await stack.containers(services.redis);
      assert.ok(redis);
      await stack.kill(redis.id, 'SIGKILL');
      await stack.recreate(services.redis, 1);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await load.stop();
      assert.ok(load.acknowledged > 10, `${load.acknowledged} visits acknowledged`);
      assert.ok(load.failures.length > 0, 'Redis was really down for a while (503s were seen)');
      assert.equal(await hits(stack.url), start + load.acknowledged + 1);
    });
  });

  describe('scaled to three api replicas', () => {
    before(async () => {
      await stack.up(3);
    });

    test('nginx spreads /redis over several replicas', async () => {
      const seen = new Set<string>();
      await waitFor(
        async () => {
          const res = await fetch(`${stack.url}/redis`);
          seen.add(((await res.json()) as CounterBody).hostname);
          return seen.size === 3 ? true : undefined;
        },
        { what: 'answers from all three replicas', timeoutMs: 15_000, intervalMs: 20 },
      );
      const apiHostnames = (await stack.containers(services.api)).map((container) => container.hostname);
      assert.deepEqual([...seen].sort(), apiHostnames.sort());
    });

    test('SIGKILL of one replica under load fails no client request, and counts every visit once', async () => {
      const start = await hits(stack.url);
      const load = visitors(stack.url, 6);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const [victim] = await stack.containers(services.api);
      assert.ok(victim);
      await stack.kill(victim.id, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      await load.stop();
      assert.deepEqual(load.failures, [], 'no request failed');
      assert.ok(load.acknowledged > 50, `${load.acknowledged} visits`);
      assert.equal(await hits(stack.url), start + load.acknowledged + 1);
      assert.ok((load.hostnames.get(victim.hostname) ?? 0) > 0, 'the victim served before it died');
    });
  });
});
