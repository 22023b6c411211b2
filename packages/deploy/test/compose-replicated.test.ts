import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '@three-tier/cli-kit';
import { exporters, prometheusConfig, prometheusServer } from '@three-tier/observability';
import { findBinary } from '@three-tier/processes';
import { apiEnvSchema, budgets, parseEnv, ports, redisReplication, redisReplicationNames, services } from '@three-tier/shared';
import { parse } from 'yaml';
import {
  composeFile,
  composeRedisTargets,
  dataNodeConfig,
  observabilityProfile,
  replicatedPrometheusConfig,
  replicatedPrometheusConfigFile,
  replicatedRedisComposeFile,
  replicatedRedisComposePath,
  sentinelSeedConfig,
} from '../src/index.js';

const { dataNodes, sentinels } = redisReplicationNames;
const members = [...dataNodes, ...sentinels];
const compose = replicatedRedisComposeFile();
const service = (name: string) => {
  const found = compose.services?.[name];
  assert.ok(found, `service ${name}`);
  return found;
};
const environment = (name: string) => service(name).environment as Record<string, string>;

/** Every compose on this machine, as a command and its leading arguments; at least one. */
function composes(): [string, string[]][] {
  const found: [string, string[]][] = [];
  const standalone = findBinary('docker-compose', process.env);
  if (standalone) found.push([standalone, []]);
  if (spawnSync('docker', ['compose', 'version']).status === 0) found.push(['docker', ['compose']]);
  assert.ok(found.length > 0, 'a compose must be installed (npm test installs docker-compose as root)');
  return found;
}

describe(replicatedRedisComposePath, () => {
  test('runs the data nodes and Sentinels of the contract in place of redis; the rest is docker-compose.yml\'s', () => {
    const single = Object.keys(composeFile().services ?? {}).filter((name) => name !== services.redis);
    assert.deepEqual(Object.keys(compose.services ?? {}).sort(), [...members, ...single].sort());
    for (const name of [services.edge, 'nginx-exporter']) assert.deepEqual(service(name), composeFile().services?.[name], name);
    assert.deepEqual(Object.keys(compose.volumes ?? {}).sort(), ['prometheus-data', 'redis-auth', ...dataNodes.map((n) => `${n}-data`), ...sentinels.map((n) => `${n}-config`)].sort());
  });

  test('every member is hardened like the single Redis, on the internal network only, with no published port', () => {
    const single = composeFile().services?.[services.redis];
    assert.ok(single);
    for (const name of members) {
      const s = service(name);
      for (const field of ['build', 'image', 'read_only', 'cap_drop', 'security_opt', 'init', 'restart', 'tmpfs', 'logging'] as const) {
        assert.deepEqual(s[field], single[field], `${name} ${field}`);
      }
      assert.deepEqual(s.networks, ['backend'], name);
      assert.equal(s.ports, undefined, name);
      assert.ok(s.healthcheck?.test, `${name} health check`);
      // A stopped member's name is looked up for 1 s at most (Sentinel goes into TILT past 2 s).
      assert.deepEqual(s.dns_opt, ['timeout:1', 'attempts:1'], name);
    }
    assert.deepEqual(compose.networks?.backend, { internal: true });
  });

  test('each member knows itself by its service name, and the set as the contract names it', () => {
    for (const name of members) {
      const env = environment(name);
      assert.equal(env.REDIS_ANNOUNCE_HOST, name);
      assert.equal(env.REDIS_DATA_NODES, dataNodes.join(' '));
      assert.equal(env.REDIS_SENTINELS, sentinels.map((s) => `${s}:${String(ports.sentinel)}`).join(','));
      assert.equal(env.REDIS_MASTER_NAME, redisReplication.masterName);
      assert.equal(env.REDIS_FAILOVER_WITHIN_MS, String(budgets.failoverWithinMs));
      assert.equal(env.REDIS_DOWN_AFTER_STAGGER_MS, String(redisReplication.downAfterStaggerMs));
      assert.equal(env.REDIS_PASSWORD, '${REDIS_PASSWORD:-}');
    }
    for (const name of dataNodes) assert.deepEqual(service(name).entrypoint, ['/usr/local/bin/start-data-node.sh']);
    for (const name of sentinels) assert.deepEqual(service(name).entrypoint, ['/usr/local/bin/start-sentinel.sh']);
  });

  test('the Sentinels depend on every data node, so compose stops them first; the api waits for every member healthy', () => {
    for (const name of sentinels) assert.deepEqual(Object.keys(service(name).depends_on ?? {}).sort(), [...dataNodes].sort(), name);
    assert.deepEqual(service(services.api).depends_on, Object.fromEntries(members.map((name) => [name, { condition: 'service_healthy' }])));
  });

  test('the api is in Sentinel mode, with variables its schema knows', () => {
    const env = environment(services.api);
    assert.equal(env.REDIS_URL, undefined);
    for (const name of Object.keys(env)) assert.ok(name in apiEnvSchema.shape, name);
    // LOG_LEVEL is a compose substitution here, read as compose reads it by default.
    const parsed = parseEnv(apiEnvSchema, { ...env, LOG_LEVEL: 'info' });
    assert.deepEqual(parsed.REDIS_SENTINELS, sentinels.map((host) => ({ host, port: ports.sentinel })));
    assert.equal(parsed.REDIS_MASTER_NAME, redisReplication.masterName);
    const single = composeFile().services?.[services.api]?.environment as Record<string, string>;
    for (const [name, value] of Object.entries(single)) if (name !== 'REDIS_URL') assert.equal(env[name], value, name);
  });

  test('the profile observability scrapes every data node through the exporter, logged in by the file the nodes write', () => {
    const exporter = service(exporters.redis.service);
    assert.deepEqual(exporter.profiles, [observabilityProfile]);
    assert.ok((exporter.command as string[]).includes('--redis.addr='));
    for (const name of dataNodes) assert.equal(environment(name).REDIS_EXPORTER_ADDR, composeRedisTargets.join(' '));
    assert.deepEqual(composeRedisTargets, dataNodes.map((node) => `redis://${node}:${String(ports.redis)}`));
    const config = replicatedPrometheusConfig(prometheusConfig({ intervalSeconds: 5, ruleFile: '/rules.yml' })) as { scrape_configs: { job_name: string; static_configs?: { targets: string[] }[]; metrics_path?: string }[] };
    const redis = config.scrape_configs.find((job) => job.job_name === 'redis');
    assert.deepEqual(redis?.static_configs?.[0]?.targets, composeRedisTargets);
    assert.equal(redis?.metrics_path, '/scrape');
    assert.ok((service(prometheusServer.service).command as string[]).includes(`--config.file=${replicatedPrometheusConfigFile}`));
  });

  test('Prometheus\'s image holds both configs, and the command differs from its own only in the config file', async () => {
    const dockerfile = await readFile(join(repoRoot, 'docker/prometheus/Dockerfile'), 'utf8');
    assert.match(dockerfile, /^COPY .*prometheus-replicated-redis\.yml.* \/etc\/prometheus\/three-tier\/$/m);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    const command = service(prometheusServer.service).command as string[];
    assert.deepEqual(command.slice(1), cmd.slice(1));
    assert.equal(replicatedPrometheusConfigFile, '/etc/prometheus/three-tier/prometheus-replicated-redis.yml');
  });

  test('data-node.conf and sentinel.conf carry the contract', () => {
    assert.match(dataNodeConfig(), new RegExp(`^min-replicas-to-write ${String(redisReplication.minReplicasToWrite)}$`, 'm'));
    const sentinel = sentinelSeedConfig();
    assert.match(sentinel, new RegExp(`^sentinel monitor ${redisReplication.masterName} ${dataNodes[0] ?? ''} ${String(ports.redis)} ${String(redisReplication.quorum)}$`, 'm'));
    // resolve-hostnames must come before the monitor line, which names the master by its name.
    assert.ok(sentinel.indexOf('resolve-hostnames yes') < sentinel.indexOf('sentinel monitor'));
    assert.doesNotMatch(sentinel + dataNodeConfig(), /requirepass|auth-pass|masterauth/);
  });

  test('takes the same settings as docker-compose.yml (REDIS_PASSWORD, HTTP_PORT, the base images...), and compose substitutes them', async () => {
    const variables = (text: string) => [...new Set([...text.matchAll(/\$\{([A-Z_]+)/g)].map((match) => match[1]))].sort();
    const read = (file: string) => readFile(join(repoRoot, file), 'utf8');
    assert.deepEqual(variables(await read(replicatedRedisComposePath)), variables(await read('docker-compose.yml')));
    const settings = { REDIS_PASSWORD: 'a pass word', HTTP_PORT: '18080', REDIS_IMAGE: 'redis:7.4-alpine' };
    type Resolved = { environment?: Record<string, string>; ports?: (string | { published: string | number })[]; build?: { args?: Record<string, string> } };
    for (const [command, prefix] of composes()) {
      const result = spawnSync(command, [...prefix, '-f', replicatedRedisComposePath, 'config'], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...settings } });
      assert.equal(result.status, 0, result.stderr);
      const resolved = (parse(result.stdout) as { services: Record<string, Resolved> }).services;
      for (const name of members) {
        assert.equal(resolved[name]?.build?.args?.REDIS_IMAGE, settings.REDIS_IMAGE, `${command}: ${name}`);
        assert.equal(resolved[name]?.environment?.REDIS_PASSWORD, settings.REDIS_PASSWORD, `${command}: ${name}`);
      }
      // docker-compose 1.29 writes a port as host:published:target, Compose v2 as an object.
      const [port] = resolved[services.edge]?.ports ?? [];
      assert.equal(typeof port === 'string' ? port.split(':').at(-2) : String(port?.published), settings.HTTP_PORT, command);
    }
  });

  test('is valid for every compose on this machine, with and without the profile observability', () => {
    for (const [command, prefix] of composes()) {
      for (const profile of [[], ['--profile', observabilityProfile]]) {
        const args = [...prefix, '-f', replicatedRedisComposePath, ...profile, 'config'];
        const result = spawnSync(command, args, { cwd: repoRoot, encoding: 'utf8' });
        assert.equal(result.status, 0, `${command} ${args.join(' ')}: ${result.stderr}`);
        const names = Object.keys((parse(result.stdout) as { services: Record<string, unknown> }).services).sort();
        assert.ok(members.every((name) => names.includes(name)), `${command}: ${names.join(', ')}`);
      }
    }
  });
});
