/**
 * The README and docs/ against the code: every route, variable and command is documented, every
 * command shown is run by a test or CI, and every link between the pages (and to the repository's
 * files) resolves, anchors included.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '@three-tier/cli-kit';
import { apiEnvSchema, edge, edgeEnvSchema, routeList } from '@three-tier/shared';
import { runnerEnvSchema } from '@three-tier/runner';
import { anchors, docSection, readDocs, relativeLinks, shellLines, type DocPage } from './docs.js';

const pages = await readDocs();
/** Every page's text, for what must be documented somewhere. */
const documented = pages.map((page) => page.text).join('\n');

/** Where a documented command is run for real: a file of the repository, and what in it runs the command. */
interface RunBy {
  /** From the repository's root. */
  readonly file: string;
  /** Text the file holds outside its comments: the command, or the call that runs it. */
  readonly runs: readonly string[];
  /** The file runs every command of this section of a page, read from the page itself. */
  readonly section?: { readonly page: string; readonly heading: string };
}

const ci = (command: string): RunBy[] => [{ file: '.ci/run', runs: [command] }];
const composeSuite = 'packages/e2e/test/compose.test.ts';
const composeStack = 'packages/e2e/src/compose-stack.ts';
const redisFailover = 'packages/e2e/test/redis-failover.test.ts';
const replicatedRedisHelpers = 'packages/e2e/test/replicated-redis.ts';
const demo: RunBy[] = [
  { file: 'packages/e2e/test/demo.test.ts', runs: ["readDoc('docs/demo.md')", "'The demo'"], section: { page: 'docs/demo.md', heading: 'The demo' } },
];
const testsPage: RunBy[] = [
  { file: 'packages/e2e/test/docs-commands.test.ts', runs: ["readDoc('docs/tests.md')", "'Running them'"], section: { page: 'docs/tests.md', heading: 'Running them' } },
];

/** Commands the pages show (environment assignments aside), and where each is run for real. */
const testedCommands: Record<string, readonly RunBy[]> = {
  'npm ci': ci('npm ci'),
  'npm start': [{ file: 'packages/runner/test/runner.test.ts', runs: ["command: ['npm', 'start']"] }],
  'npm test': ci('npm test'),
  'npm run --silent nginx:config': [{ file: 'packages/runner/test/nginx-config.test.ts', runs: ["'npm', ['run', '--silent', 'nginx:config']"] }],
  'npm run bench': ci('npm run bench'),
  'npm run mutate -- nginx': ci('npm run mutate -- nginx'),
  'npm run mutate -- --changed HEAD^ api-faults api-visits': ci('npm run mutate -- --changed HEAD^ api-faults api-visits'),
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
  'docker compose -f docker-compose.yml -f docker-compose.registry.yml pull': [
    { file: 'packages/e2e/test/push.test.ts', runs: ['registry: { prefix, tag }', 'stack.pull()'] },
    { file: composeStack, runs: ["config: ['docker-compose.yml', registryComposePath]"] },
  ],
  'docker compose -f docker-compose.yml -f docker-compose.registry.yml up --no-build': [
    { file: 'packages/e2e/test/push.test.ts', runs: ['registry: { prefix, tag }', 'stack.pull()', 'stack.up(1)'] },
    { file: composeStack, runs: ["config: ['docker-compose.yml', registryComposePath]", "'--no-build'"] },
  ],
  'kubectl kustomize k8s/': [
    { file: 'packages/deploy/test/kubernetes.test.ts', runs: ['kustomize(k8s)'] },
    { file: 'packages/deploy/test/kustomize.ts', runs: ["spawnSync(kubectl, ['kustomize', dir]"] },
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
  'npm run chaos -- redis kill-master': [{ file: 'packages/demo/test/chaos-redis-set.test.ts', runs: ["chaos(['redis', 'kill-master'], 6, true)", "'npm', 'run', '--silent', 'chaos', '--'"] }],
  'npm run chaos -- redis kill-replica': [{ file: 'packages/demo/test/chaos-redis-set.test.ts', runs: ["chaos(['redis', 'kill-replica'])"] }],
  'npm run chaos -- redis kill-sentinel': [{ file: 'packages/demo/test/chaos-redis-set.test.ts', runs: ["chaos(['redis', 'kill-sentinel'])"] }],
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
  // docs/tests.md's one package and one file: docs-commands.test.ts runs each, from the page.
  'cd packages/cli-kit && npm test': testsPage,
  'cd packages/cli-kit && npx tsc -p tsconfig.json && node --test dist-test/test/cli-kit.test.js': testsPage,
};

/** A file's text without its comment lines (`//`, `#`, `*`, `/*`), so a mention is not a run. */
function withoutComments(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s*(\/\/|#|\*|\/\*)/.test(line))
    .map((line) => line.replace(/\s\/\/\s.*$/, ''))
    .join('\n');
}

/**
 * The commands of a page's `sh` blocks as the map names them: `a && b` is two commands (but a line
 * that starts with `cd` is one, run in that folder), without leading environment assignments or a
 * redirect of the output, which change nothing about what runs.
 */
function commandsOf(text: string): string[] {
  return shellLines(text)
    .flatMap((line) => (line.startsWith('cd ') ? [line] : line.split('&&').map((part) => part.trim())))
    .map(withoutEnv);
}

/** `IMAGE_PREFIX=... npm run images:push > out` is `npm run images:push`. */
function withoutEnv(command: string): string {
  return command.replace(/^([A-Z_]+=\S+\s+)+/, '').replace(/\s+>\s+\S+$/, '');
}

/**
 * Why each relative link of the pages does not resolve: a file or folder that is not there, a path
 * out of the repository, or an anchor no heading of the target page gives. Empty when all resolve.
 */
async function brokenLinks(docs: readonly DocPage[], readText: (file: string) => Promise<string | undefined>, exists: (file: string) => Promise<boolean>): Promise<string[]> {
  const problems: string[] = [];
  for (const page of docs) {
    for (const link of relativeLinks(page.text)) {
      const [path = '', anchor] = link.split('#');
      const target = path === '' ? page.file : posix.normalize(posix.join(posix.dirname(page.file), path)).replace(/\/$/, '');
      if (target.startsWith('..')) {
        problems.push(`${page.file}: ${link} leaves the repository`);
      } else if (!(await exists(target))) {
        problems.push(`${page.file}: ${link}: no ${target}`);
      } else if (anchor !== undefined && !anchors((await readText(target)) ?? '').has(anchor)) {
        problems.push(`${page.file}: ${link}: no heading of ${target} gives #${anchor}`);
      }
    }
  }
  return problems;
}

/** Why `command`'s entry does not show it run: a file missing, or not running it. Empty when it does. */
async function unproven(command: string, runBy: readonly RunBy[], readText: (file: string) => Promise<string | undefined>): Promise<string[]> {
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
    if (section === undefined) continue;
    const page = (await readText(section.page)) ?? '';
    if (!shellLines(docSection(page, section.heading)).some((line) => withoutEnv(line) === command)) {
      problems.push(`"${command}": not in ${section.page}'s section "${section.heading}", which ${file} runs`);
    }
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

/** Table rows (headers and rules aside) that more than one page holds: a fact with two homes. */
function repeatedRows(docs: readonly DocPage[]): string[] {
  const homes = new Map<string, string[]>();
  for (const page of docs) {
    const lines = page.text.split('\n');
    lines.forEach((line, index) => {
      const header = lines[index + 1]?.startsWith('| ---') ?? false;
      if (!line.startsWith('| ') || line.startsWith('| ---') || header) return;
      homes.set(line, [...new Set([...(homes.get(line) ?? []), page.file])]);
    });
  }
  return [...homes].filter(([, files]) => files.length > 1).map(([row, files]) => `${files.join(' and ')}: ${row}`);
}

const readText = (file: string): Promise<string | undefined> => readFile(`${repoRoot}${file}`, 'utf8').catch(() => undefined);
const exists = (file: string): Promise<boolean> => stat(`${repoRoot}${file}`).then(() => true, () => false);

describe('the README and docs/', () => {
  test('read the README and every page of docs/', () => {
    assert.equal(pages[0]?.file, 'README.md');
    for (const page of ['docs/course.md', 'docs/demo.md', 'docs/configuration.md', 'docs/tests.md']) assert.ok(pages.some((doc) => doc.file === page), page);
  });

  test('open each page of docs/ with what its reader will be able to do', () => {
    for (const page of pages.filter((doc) => doc.file.startsWith('docs/'))) {
      assert.match(page.text, /^# .+\n\nAfter this page you can /, `${page.file} opens with what its reader will be able to do`);
    }
  });

  test('list every route of the table and the edge health path', () => {
    for (const route of [...routeList.map((entry) => entry.path), edge.healthPath]) {
      assert.ok(documented.includes(`| \`${route}`), `the docs list ${route}`);
    }
  });

  test('document every environment variable of the api, the edge and npm start', () => {
    const names = [
      ...Object.keys(apiEnvSchema.shape),
      ...Object.keys(edgeEnvSchema.shape),
      ...Object.keys(runnerEnvSchema.shape),
    ];
    for (const name of names) assert.ok(documented.includes(`\`${name}\``), `the docs document ${name}`);
  });

  test('document every variable the compose files and npm run images:push read', async () => {
    const files = (await readdir(repoRoot)).filter((file) => /^docker-compose.*\.yml$/.test(file));
    const compose = (await Promise.all(files.map((file) => readFile(`${repoRoot}${file}`, 'utf8')))).join('\n');
    const names = new Set([...compose.matchAll(/\$\{([A-Z_]+)/g)].map((match) => match[1] ?? ''));
    assert.ok(names.has('HTTP_PORT') && names.has('IMAGE_PREFIX'));
    for (const name of [...names, 'REGISTRY', 'REGISTRY_USER', 'REGISTRY_PASSWORD']) {
      assert.ok(documented.includes(`\`${name}\``), `the docs document ${name}`);
    }
  });

  test('each command of the map is run by the file it names (the file exists and runs it)', async () => {
    const problems: string[] = [];
    for (const [command, runBy] of Object.entries(testedCommands)) problems.push(...(await unproven(command, runBy, readText)));
    assert.deepEqual(problems, []);
  });

  test('the map check fails on an entry whose file is gone, or does not run the command, or only mentions it', async () => {
    const files: Record<string, string> = {
      'a.test.ts': "await runCommand('npm', ['run', 'soak']);\n",
      'b.test.ts': '// npm run soak, some day\n',
      'docs/demo.md': '## The demo\n\n```sh\nnpm run chaos -- kill\n```\n\n## Other\n\n```sh\nnpm run chaos -- scale 5\n```\n',
    };
    const fake = (file: string): Promise<string | undefined> => Promise.resolve(files[file]);
    assert.deepEqual(await unproven('npm run soak', [{ file: 'a.test.ts', runs: ["'npm', ['run', 'soak']"] }], fake), []);
    assert.match((await unproven('npm run soak', [{ file: 'gone.test.ts', runs: ['soak'] }], fake)).join(), /gone\.test\.ts does not exist/);
    assert.match((await unproven('npm run soak', [{ file: 'a.test.ts', runs: ["'npm', ['run', 'load']"] }], fake)).join(), /a\.test\.ts does not run it/);
    assert.match((await unproven('npm run soak', [{ file: 'b.test.ts', runs: ['npm run soak'] }], fake)).join(), /b\.test\.ts does not run it/);
    const section = [{ file: 'a.test.ts', runs: [], section: { page: 'docs/demo.md', heading: 'The demo' } }];
    assert.deepEqual(await unproven('npm run chaos -- kill', section, fake), []);
    assert.match((await unproven('npm run chaos -- scale 5', section, fake)).join(), /not in docs\/demo\.md's section "The demo"/);
  });

  test('show only commands that CI or a test runs', () => {
    const commands = pages.flatMap((page) => commandsOf(page.text));
    assert.ok(commands.length > 0);
    const unrun = commands.filter((command) => !clusterOnly.has(command) && !(command in testedCommands));
    assert.deepEqual(unrun, [], 'every command shown is run by a test or CI (add it to the map)');
    assert.ok(commands.some((command) => clusterOnly.has(command)), 'the cluster-only list is not stale');
  });

  test('hold each table row in one page: one home per fact, linked from the others', () => {
    assert.deepEqual(repeatedRows(pages), []);
    const twice = '| Variable | Default |\n| --- | --- |\n| `SOAK_SECONDS` | `60` |\n';
    assert.deepEqual(repeatedRows([{ file: 'README.md', text: twice }, { file: 'docs/a.md', text: twice }]), ['README.md and docs/a.md: | `SOAK_SECONDS` | `60` |']);
  });

  test("list every end-to-end test file in docs/tests.md's table of the suites", async () => {
    const table = docSection((await readText('docs/tests.md')) ?? '', 'The end-to-end suites');
    const files = (await readdir(`${repoRoot}packages/e2e/test`)).filter((name) => name.endsWith('.test.ts'));
    assert.ok(files.length > 10);
    assert.deepEqual(files.filter((name) => !table.includes(`\`${name}\``)), []);
  });

  test('link to files and headings that exist', async () => {
    assert.deepEqual(await brokenLinks(pages, readText, exists), []);
  });

  test('the link check fails on a missing file, a path out of the repository and a missing anchor', async () => {
    const docs: DocPage[] = [
      { file: 'README.md', text: '# Top\n\nSee [a](docs/a.md#the-soak), [b](docs/b.md), [c](#nowhere), [d](../x), [e](#top) and [web](https://example.com/).\n' },
      { file: 'docs/a.md', text: '# A\n\n## `npm run soak`\n\n```yaml\n# the-soak\n```\n\n[back](../README.md#top)\n' },
    ];
    const fake = (file: string): Promise<string | undefined> => Promise.resolve(docs.find((doc) => doc.file === file)?.text);
    const there = (file: string): Promise<boolean> => Promise.resolve(docs.some((doc) => doc.file === file));
    assert.deepEqual(await brokenLinks(docs, fake, there), [
      'README.md: docs/a.md#the-soak: no heading of docs/a.md gives #the-soak',
      'README.md: docs/b.md: no docs/b.md',
      'README.md: #nowhere: no heading of README.md gives #nowhere',
      'README.md: ../x leaves the repository',
    ]);
    assert.ok(anchors(docs[1]?.text ?? '').has('npm-run-soak'));
  });
});
