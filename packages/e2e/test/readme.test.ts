import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { apiEnvSchema, edge, edgeEnvSchema, repoRoot, routeList } from '@three-tier/shared';
import { runnerEnvSchema } from '@three-tier/runner';

const readme = await readFile(`${repoRoot}README.md`, 'utf8');

/** Commands the README shows (environment assignments aside), and where each is run for real. */
const testedCommands: Record<string, string> = {
  'npm ci': '.ci/run',
  'npm start': 'runner.test.ts runs npm start itself',
  'npm test': '.ci/run',
  'npm run --silent nginx:config': 'packages/runner nginx-config.test.ts runs it',
  'npm run bench': '.ci/run',
  'npm run generate': 'packages/deploy compose.test.ts runs its --check',
  'npm run images:push': 'push.test.ts runs it against a real registry',
  'eval "$(npm run --silent docker:bases)"': '.ci/run, where Docker Hub is unreachable',
  'docker compose up --build': 'compose.test.ts: build, then up',
  'docker compose up --build --scale api=3': 'compose.test.ts: up with three replicas',
  'docker compose up': 'compose.test.ts: up again after down',
  'docker compose down': 'compose.test.ts: down keeping the volumes',
  'docker compose down --volumes': 'compose.test.ts: down at the end',
  'docker compose pull': 'push.test.ts: the pushed images pulled back',
  'docker compose up --no-build': 'push.test.ts: the pulled images run',
  'kubectl kustomize k8s/': 'packages/deploy kubernetes.test.ts',
  'docker compose -f docker-compose.replicated-redis.yml up --build --scale api=2': 'redis-failover.test.ts: build, then up with two replicas',
  "docker compose -f docker-compose.replicated-redis.yml exec sentinel-0 sh -c 'REDISCLI_AUTH=$(cat /run/redis-auth/password) redis-cli -p 26379 sentinel get-master-addr-by-name three-tier'":
    'redis-failover.test.ts asks every Sentinel this, in its container, after each fault',
  'docker compose -f docker-compose.replicated-redis.yml down --volumes': 'redis-failover.test.ts: down at the end',
  'docker compose --profile observability up --build --scale api=3': 'observability.test.ts: build, then up with the profile and three replicas',
  'docker compose --profile observability down --volumes': 'observability.test.ts: down at the end',
  'npm run load': 'packages/demo load.test.ts runs it against the native stack',
  'npm run chaos -- fault set unready 2': 'packages/demo chaos.test.ts sets unready by port, latency by alias',
  'npm run chaos -- fault list': 'packages/demo chaos.test.ts runs it through npm run',
  'npm run soak': 'packages/e2e soak.test.ts runs it (60 s in CI)',
  'npm run screenshot': 'packages/e2e screenshot.test.ts runs it into a temporary directory',
  // The Demo section: demo.test.ts runs each, from the README, in order, on a compose stack.
  'docker compose up --build --detach --scale api=3': 'demo.test.ts',
  'npm run chaos -- scale 5': 'demo.test.ts',
  'npm run chaos -- kill': 'demo.test.ts',
  'npm run chaos -- fault set unready': 'demo.test.ts',
  'npm run chaos -- fault clear': 'demo.test.ts',
  'npm run chaos -- redis freeze': 'demo.test.ts',
  'npm run chaos -- redis thaw': 'demo.test.ts',
};

/**
 * Commands that need a Kubernetes cluster. None can run here (no kind, k3s or minikube images);
 * what they apply is checked offline instead: schema, policies, kustomize, nginx -t.
 */
const clusterOnly = new Set([
  'kubectl create namespace three-tier',
  'kubectl -n three-tier create secret generic redis-auth --from-literal=password="$(head -c 32 /dev/urandom | base64)"',
  'kubectl apply -k k8s/',
  'kubectl apply -k my-three-tier/',
  'kubectl -n three-tier rollout status deployment/api',
  'kubectl -n three-tier port-forward deployment/api 3000:3000',
  'curl -X PUT http://127.0.0.1:3000/faults/unready',
  'curl -X DELETE http://127.0.0.1:3000/faults',
]);

describe('the README', () => {
  test('lists every route of the table and the edge health path', () => {
    for (const route of [...routeList.map((entry) => entry.path), edge.healthPath]) {
      assert.ok(readme.includes(`| \`${route}`), `README lists ${route}`);
    }
  });

  test('documents every environment variable of the api, the edge and npm start', () => {
    const names = [
      ...Object.keys(apiEnvSchema.shape),
      ...Object.keys(edgeEnvSchema.shape),
      ...Object.keys(runnerEnvSchema.shape),
    ];
    for (const name of names) assert.ok(readme.includes(`\`${name}\``), `README documents ${name}`);
  });

  test('documents every variable docker-compose.yml and npm run images:push read', async () => {
    const compose = await readFile(`${repoRoot}docker-compose.yml`, 'utf8');
    const names = new Set([...compose.matchAll(/\$\{([A-Z_]+)/g)].map((match) => match[1] ?? ''));
    assert.ok(names.has('HTTP_PORT') && names.has('IMAGE_PREFIX'));
    for (const name of [...names, 'REGISTRY', 'REGISTRY_USER', 'REGISTRY_PASSWORD']) {
      assert.ok(readme.includes(`\`${name}\``), `README documents ${name}`);
    }
  });

  test('shows only commands that CI or a test runs', () => {
    const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
    const commands = blocks
      .flatMap((block) => block.split('\n'))
      .map((line) => line.replace(/\s#\s.*$/, '').trim())
      .filter(Boolean)
      .flatMap((line) => line.split('&&').map((part) => part.trim()))
      // IMAGE_PREFIX=... npm run images:push is npm run images:push with an environment; a
      // redirect of its output changes nothing either.
      .map((command) => command.replace(/^([A-Z_]+=\S+\s+)+/, '').replace(/\s+>\s+\S+$/, ''));
    assert.ok(commands.length > 0);
    for (const command of commands) {
      if (clusterOnly.has(command)) continue;
      assert.ok(command in testedCommands, `"${command}" is run by a test or CI`);
    }
    assert.ok(commands.some((command) => clusterOnly.has(command)), 'the cluster-only list is not stale');
  });
});
