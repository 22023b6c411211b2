import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { repoRoot } from '@three-tier/cli-kit';
import { apiEnvSchema, edge, edgeEnvSchema, routeList } from '@three-tier/shared';
import { runnerEnvSchema } from '@three-tier/runner';

const readme = await readFile(`${repoRoot}README.md`, 'utf8');

/** Where a README command is run for real: a file of the repository, and what in it runs the command. */
interface RunBy {
  /** From the repository's root. */
  readonly file: string;
  /** Text the file holds outside its comments: the command, or the call that runs it. */
  readonly runs: readonly string[];
  /** The file runs every command of this README section, read from the README itself. */
  readonly section?: string;
}

const ci = (command: string): RunBy[] => [{ file: '.ci/run', runs: [command] }];
const composeSuite = 'packages/e2e/test/compose.test.ts';
const composeStack = 'packages/e2e/src/compose-stack.ts';
const redisFailover = 'packages/e2e/test/redis-failover.test.ts';
const replicatedRedisHelpers = 'packages/e2e/test/replicated-redis.ts';
const demo: RunBy[] = [{ file: 'packages/e2e/test/demo.test.ts', runs: ["readme.indexOf('\\n## Demo')"], section: 'Demo' }];

/** Commands the README shows (environment assignments aside), and where each is run for real. */
const testedCommands: Record<string, readonly RunBy[]> = {
  'npm ci': ci('npm ci'),
  'npm start': [{ file: 'packages/runner/test/runner.test.ts', runs: ["command: ['npm', 'start']"] }],
  'npm test': ci('npm test'),
  'npm run --silent nginx:config': [{ file: 'packages/runner/test/nginx-config.test.ts', runs: ["'npm', ['run', '--silent', 'nginx:config']"] }],
  'npm run bench': ci('npm run bench'),
  'npm run generate': [{ file: 'packages/deploy/test/compose.test.ts', runs: ["'npm', ['run', '--silent', 'generate']"] }],
  'npm run images:push': [{ file: 'packages/e2e/test/push.test.ts', runs: ["'npm', ['run', '--silent', 'images:push']"] }],
  'eval "$(npm run --silent docker:bases)"': ci('eval "$(npm run --silent docker:bases)"'),
  'docker compose up --build': [{ file: composeSuite, runs: ['stack.build()', 'stack.up(1)'] }],
  'docker compose up --build --scale api=3': [{ file: composeSuite, runs: ['stack.build()', 'stack.up(3)'] }],
  'docker compose up': [{ file: composeSuite, runs: ['stack.down(false)', 'stack.up(1)'] }],
  'docker compose down': [{ file: composeSuite, runs: ['stack.down(false)'] }],
  'docker compose down --volumes': [
    { file: composeSuite, runs: ['stack.down(true)'] },
    { file: composeStack, runs: ["['--volumes']"] },
  ],
  'docker compose pull': [{ file: 'packages/e2e/test/push.test.ts', runs: ['stack.pull()'] }],
  'docker compose up --no-build': [
    { file: 'packages/e2e/test/push.test.ts', runs: ['stack.pull()', 'stack.up(1)'] },
    { file: composeStack, runs: ["'--no-build'"] },
  ],
  'kubectl kustomize k8s/': [
    { file: 'packages/deploy/test/kubernetes.test.ts', runs: ['kustomize(k8s)'] },
    { file: 'packages/deploy/test/kustomize.ts', runs: ["['kustomize', dir]"] },
  ],
  'docker compose -f docker-compose.replicated-redis.yml up --build --scale api=2': [
    { file: redisFailover, runs: ['file: replicatedRedisComposePath', 'stack.build()', 'stack.up(apiReplicas)', 'const apiReplicas = 2;'] },
  ],
  // In each Sentinel's container after every fault (docker exec on the container compose runs).
  "docker compose -f docker-compose.replicated-redis.yml exec sentinel-0 sh -c 'REDISCLI_AUTH=$(cat /run/redis-auth/password) redis-cli -p 26379 sentinel get-master-addr-by-name three-tier'": [
    { file: replicatedRedisHelpers, runs: ['REDISCLI_AUTH=$(cat /run/redis-auth/password) exec redis-cli', "'SENTINEL', 'get-master-addr-by-name', redisReplication.masterName"] },
  ],
  'docker compose -f docker-compose.replicated-redis.yml down --volumes': [{ file: redisFailover, runs: ['file: replicatedRedisComposePath', 'stack.down(true)'] }],
  'docker compose --profile observability up --build --scale api=3': [
    { file: 'packages/e2e/test/observability.test.ts', runs: ["profiles: ['observability']", 'stack.build()', 'stack.up(apiReplicas)', 'const apiReplicas = 3;'] },
  ],
  'docker compose --profile observability down --volumes': [{ file: 'packages/e2e/test/observability.test.ts', runs: ["profiles: ['observability']", 'stack.down(true)'] }],
  'npm run load': [{ file: 'packages/demo/test/load.test.ts', runs: ["'npm', ['run', '--silent', 'load']"] }],
  // By port rather than by index, and latency by alias: the same command, other ways to name an instance.
  'npm run chaos -- fault set unready 2': [{ file: 'packages/demo/test/chaos.test.ts', runs: ["['fault', 'set', 'unready', String(apiPort)]", "'npm', 'run', '--silent', 'chaos', '--'"] }],
  'npm run chaos -- fault list': [{ file: 'packages/demo/test/chaos.test.ts', runs: ["chaos(['fault', 'list'], 0, true)", "'npm', 'run', '--silent', 'chaos', '--'"] }],
  'npm run soak': [{ file: 'packages/e2e/test/soak.test.ts', runs: ["'npm', ['run', '--silent', 'soak']"] }],
  'npm run screenshot': [{ file: 'packages/e2e/test/screenshot.test.ts', runs: ["'npm', ['run', '--silent', 'screenshot'"] }],
  // The Demo section: demo.test.ts runs each, from the README, in order, on a compose stack.
  'docker compose up --build --detach --scale api=3': demo,
  'npm run chaos -- scale 5': demo,
  'npm run chaos -- kill': demo,
  'npm run chaos -- fault set unready': demo,
  'npm run chaos -- fault clear': demo,
  'npm run chaos -- redis freeze': demo,
  'npm run chaos -- redis thaw': demo,
};

/** A file's text without its comment lines (`//`, `#`, `*`, `/*`), so a mention is not a run. */
function withoutComments(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s*(\/\/|#|\*|\/\*)/.test(line))
    .map((line) => line.replace(/\s\/\/\s.*$/, ''))
    .join('\n');
}

/** A README section: from its heading to the next heading of its level or above. */
function readmeSection(text: string, heading: string): string {
  const start = text.search(new RegExp(`^#{2,3} ${heading}\\b`, 'm'));
  if (start < 0) return '';
  const level = /^#+/.exec(text.slice(start))?.[0].length ?? 2;
  const rest = text.slice(start + 1);
  const end = rest.search(new RegExp(`^#{2,${level}} `, 'm'));
  return end < 0 ? text.slice(start) : text.slice(start, start + 1 + end);
}

/** Why `command`'s entry does not show it run: a file missing, or not running it. Empty when it does. */
async function unproven(command: string, runBy: readonly RunBy[], readText: (file: string) => Promise<string | undefined>, readmeText: string): Promise<string[]> {
  if (runBy.length === 0) return [`"${command}": no file named`];
  const problems: string[] = [];
  for (const { file, runs, section } of runBy) {
    const text = await readText(file);
    if (text === undefined) {
      problems.push(`"${command}": ${file} does not exist`);
      continue;
    }
    const code = withoutComments(text);
    for (const part of runs) if (!code.includes(part)) problems.push(`"${command}": ${file} does not run it (no ${JSON.stringify(part)} outside comments)`);
    if (section !== undefined && !readmeSection(readmeText, section).includes(command)) problems.push(`"${command}": not in the README's ${section} section, which ${file} runs`);
  }
  return problems;
}

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

  test('each command of the map is run by the file it names (the file exists and runs it)', async () => {
    const readText = (file: string): Promise<string | undefined> => readFile(`${repoRoot}${file}`, 'utf8').catch(() => undefined);
    const problems: string[] = [];
    for (const [command, runBy] of Object.entries(testedCommands)) problems.push(...(await unproven(command, runBy, readText, readme)));
    assert.deepEqual(problems, []);
  });

  test('the map check fails on an entry whose file is gone, or does not run the command, or only mentions it', async () => {
    const files: Record<string, string> = {
      'a.test.ts': "await runCommand('npm', ['run', 'soak']);\n",
      'b.test.ts': '// npm run soak, some day\n',
    };
    const readText = (file: string): Promise<string | undefined> => Promise.resolve(files[file]);
    const readmeText = '## Demo\n\n```sh\nnpm run chaos -- kill\n```\n\n## Other\n\nnpm run chaos -- scale 5\n';
    assert.deepEqual(await unproven('npm run soak', [{ file: 'a.test.ts', runs: ["'npm', ['run', 'soak']"] }], readText, readmeText), []);
    assert.match((await unproven('npm run soak', [{ file: 'gone.test.ts', runs: ['soak'] }], readText, readmeText)).join(), /gone\.test\.ts does not exist/);
    assert.match((await unproven('npm run soak', [{ file: 'a.test.ts', runs: ["'npm', ['run', 'load']"] }], readText, readmeText)).join(), /a\.test\.ts does not run it/);
    assert.match((await unproven('npm run soak', [{ file: 'b.test.ts', runs: ['npm run soak'] }], readText, readmeText)).join(), /b\.test\.ts does not run it/);
    const section = [{ file: 'a.test.ts', runs: [], section: 'Demo' }];
    assert.deepEqual(await unproven('npm run chaos -- kill', section, readText, readmeText), []);
    assert.match((await unproven('npm run chaos -- scale 5', section, readText, readmeText)).join(), /not in the README's Demo section/);
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
