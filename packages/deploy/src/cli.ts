#!/usr/bin/env node
/**
 * deploy-generate (`npm run generate`): writes every generated deployment file into the repository
 * and says which it wrote, or that nothing changed. With --check it only reads: it exits 1 naming
 * the files that differ from their generator.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { exitWith, parseCommandLine, repoRoot } from '@three-tier/cli-kit';
import { generatedFiles } from './files.js';

const usage = `usage: deploy-generate [--check]

Writes the files generated from the shared contract into the repository and prints each one it
changed, or that nothing changed:
  docker-compose.yml                 the compose stack (images named for the compose project)
  docker-compose.registry.yml        over it: the pushed images, by IMAGE_PREFIX and TAG
  docker-compose.replicated-redis.yml  the stack with a replicated Redis (Sentinel) instead
  docker/redis/data-node.conf        its data nodes' settings,
  docker/redis/sentinel.conf         and its Sentinels' seed
  docker/nginx/nginx.conf            the config the nginx image ships
  docker/prometheus/prometheus.yml   Prometheus of the compose profile observability,
  docker/prometheus/rules.yml        and its recording and alert rules
  docker/prometheus/prometheus-replicated-redis.yml   the same beside the replicated Redis
  grafana/three-tier-dashboard.json  the dashboard
  k8s/*.yaml                         the Kubernetes manifests and their kustomization
  k8s/components/monitoring/*.yaml   the monitoring component (prometheus-operator, Grafana)
  k8s/components/replicated-redis/*.yaml   the replicated Redis component (Sentinel)

  --check     write nothing; exit 1 naming the files that differ from their generator
  -h, --help  this text
`;

const cli = { program: 'deploy-generate', usage };
const { values, positionals } = parseCommandLine(cli, { check: { type: 'boolean' } });
if (positionals.length > 0) exitWith(cli, `unexpected arguments: ${positionals.join(' ')}`, 2);
const check = values.check === true;

const files = Object.entries(generatedFiles());
const changed: string[] = [];
for (const [path, content] of files) {
  const file = join(repoRoot, path);
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === content) continue;
  changed.push(path);
  if (check) continue;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  process.stdout.write(`wrote ${path}\n`);
}

if (check && changed.length > 0) exitWith(cli, `out of date (run npm run generate): ${changed.join(', ')}`);
if (changed.length === 0) process.stdout.write(`${files.length} generated files, all up to date: nothing changed\n`);
