import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from '@three-tier/cli-kit';
import { apiEnvSchema, budgets, parseEnv, ports, redisReplication, redisReplicationNames, services } from '@three-tier/shared';
import { ingressControllerNames, ingressControllerNamespaces, namespace, redisPasswordFile, redisSecret, replicatedRedisComponent, type Manifest } from '../src/index.js';
import { kustomize } from './kustomize.js';
import { allows, type Endpoint, type Namespaces, type NetworkPolicy, type Pod } from './network-policy.js';
import { strictErrors } from './openapi.js';

interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  startupProbe?: unknown;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}
interface Workload {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: {
    replicas?: number;
    serviceName?: string;
    podManagementPolicy?: string;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        containers: Container[];
        securityContext?: Record<string, unknown>;
        automountServiceAccountToken?: boolean;
        topologySpreadConstraints?: { topologyKey: string; whenUnsatisfiable: string; nodeTaintsPolicy?: string; labelSelector: { matchLabels: Record<string, string> } }[];
        volumes?: { name: string; secret?: { secretName: string } }[];
      };
    };
    volumeClaimTemplates?: unknown[];
  };
}

/** `kubectl kustomize` of a kustomization beside the checkout: k8s/, with or without the component. */
async function build(dir: string, withComponent: boolean): Promise<Manifest[]> {
  const lines = ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', `namespace: ${namespace}`, 'resources:', `  - ${relative(dir, join(repoRoot, 'k8s'))}`];
  if (withComponent) lines.push('components:', `  - ${relative(dir, join(repoRoot, replicatedRedisComponent))}`);
  await writeFile(join(dir, 'kustomization.yaml'), `${lines.join('\n')}\n`);
  return kustomize(dir);
}

describe(`${replicatedRedisComponent}, built with kubectl kustomize over k8s/ (the README's kustomization)`, () => {
  let dir = '';
  let single: Manifest[] = [];
  let built: Manifest[] = [];
  const find = (kind: string, name: string) => {
    const found = built.find((manifest) => manifest.kind === kind && manifest.metadata?.name === name);
    assert.ok(found, `${kind}/${name}`);
    return found;
  };
  const statefulSet = () => find('StatefulSet', services.redis) as unknown as Workload;
  const container = (workload: Workload, name: string) => {
    const found = workload.spec.template.spec.containers.find((candidate) => candidate.name === name);
    assert.ok(found, `${workload.metadata.name}/${name}`);
    return found;
  };
  const envOf = (c: Container) => Object.fromEntries((c.env ?? []).map((entry) => [entry.name, entry.value]));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'replicated-kustomize-'));
    single = await build(dir, false);
    built = await build(dir, true);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('every object passes kubernetes-models validation and the strict OpenAPI walk, in the namespace', async () => {
    for (const manifest of built) {
      const module = (await import(`kubernetes-models/${manifest.apiVersion}/${manifest.kind}`)) as Record<string, new (data: unknown) => { validate(): void }>;
      const Model = module[manifest.kind];
      assert.ok(Model, `${manifest.apiVersion} ${manifest.kind}`);
      assert.doesNotThrow(() => new Model(manifest).validate(), `${manifest.kind}/${manifest.metadata?.name ?? ''}`);
      assert.deepEqual(strictErrors(manifest), [], `${manifest.kind}/${manifest.metadata?.name ?? ''}`);
      if (manifest.kind !== 'Namespace') assert.equal((manifest.metadata as { namespace?: string }).namespace, namespace);
    }
  });

  test('the strict walk does fail on a field a container does not have (the check can fail)', () => {
    const broken = structuredClone(statefulSet());
    (broken.spec.template.spec.containers[1] as unknown as Record<string, unknown>).sentinelPort = 26379;
    assert.equal(strictErrors(broken as unknown as Manifest).length, 1);
  });

  test('adds the disruption budget and the four policies, removes nothing', () => {
    const key = (m: Manifest) => `${m.kind}/${m.metadata?.name ?? ''}`;
    const added = built.map(key).filter((name) => !single.map(key).includes(name));
    assert.deepEqual(added.sort(), ['NetworkPolicy/api-to-sentinel', 'NetworkPolicy/redis-from-redis', 'NetworkPolicy/redis-to-redis', 'NetworkPolicy/sentinel-from-api', `PodDisruptionBudget/${services.redis}`].sort());
    assert.deepEqual(single.map(key).filter((name) => !built.map(key).includes(name)), []);
  });

  test('the StatefulSet keeps the single one\'s identity (it applies over it), with three pods of a data node and a Sentinel', () => {
    const before = single.find((m) => m.kind === 'StatefulSet') as unknown as Workload;
    const after = statefulSet();
    // The fields a running StatefulSet cannot change: the same, or kubectl apply is refused.
    for (const field of ['serviceName', 'selector', 'volumeClaimTemplates', 'podManagementPolicy'] as const) assert.deepEqual(after.spec[field], before.spec[field], field);
    // All pods at once: one after the other, a whole-set restart waits for redis-0 to be ready, which as a replica waits for its master's pod.
    assert.equal(after.spec.podManagementPolicy, 'Parallel');
    assert.equal(after.spec.replicas, redisReplicationNames.dataNodes.length);
    assert.deepEqual(after.spec.template.spec.containers.map((c) => c.name), [services.redis, 'sentinel']);
    const dataNode = container(after, services.redis);
    const sentinel = container(after, 'sentinel');
    assert.deepEqual(dataNode.command, ['/usr/local/bin/start-data-node.sh']);
    assert.deepEqual(sentinel.command, ['/usr/local/bin/start-sentinel.sh']);
    assert.deepEqual(dataNode.ports?.map((p) => p.containerPort), [ports.redis]);
    assert.deepEqual(sentinel.ports?.map((p) => p.containerPort), [ports.sentinel]);
    // The AOF on the claim; Sentinel's rewritten configuration on the same claim, in a folder of its own.
    assert.ok(dataNode.volumeMounts?.some((m) => m.name === 'data' && m.mountPath === '/data' && m.subPath === undefined));
    assert.ok(sentinel.volumeMounts?.some((m) => m.name === 'data' && m.subPath === 'sentinel'));
    for (const c of [dataNode, sentinel]) {
      const env = envOf(c);
      assert.equal(env.REDIS_PASSWORD_FILE, redisPasswordFile);
      assert.equal(env.REDIS_ANNOUNCE_HOST, `$(POD_NAME).${services.redis}`);
      assert.equal(env.REDIS_DATA_NODES, redisReplicationNames.dataNodes.map((pod) => `${pod}.${services.redis}`).join(' '));
      assert.equal(env.REDIS_MASTER_NAME, redisReplication.masterName);
      assert.equal(env.REDIS_FAILOVER_WITHIN_MS, String(budgets.failoverWithinMs));
      assert.equal(env.REDIS_DOWN_AFTER_STAGGER_MS, String(redisReplication.downAfterStaggerMs));
      assert.ok(c.env?.findIndex((e) => e.name === 'POD_NAME') === 0, 'POD_NAME first, so $(POD_NAME) expands');
    }
    assert.ok(after.spec.template.spec.volumes?.some((volume) => volume.secret?.secretName === redisSecret));
  });

  test('every container: probes, requests and limits, non-root, read-only, no capabilities', () => {
    const pod = statefulSet().spec.template.spec;
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    for (const c of pod.containers) {
      assert.ok(c.startupProbe && c.livenessProbe && c.readinessProbe, `${c.name}: probes`);
      for (const kind of ['requests', 'limits'] as const) assert.ok(c.resources?.[kind]?.cpu && c.resources[kind].memory, `${c.name}: ${kind}`);
      assert.deepEqual(c.securityContext, { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } }, c.name);
    }
  });

  test('the pods spread evenly over the nodes they may run on (strictly) and over zones; the budget keeps a majority', () => {
    const { template } = statefulSet().spec;
    const constraints = template.spec.topologySpreadConstraints ?? [];
    assert.deepEqual(constraints.map((c) => [c.topologyKey, c.whenUnsatisfiable, c.nodeTaintsPolicy]), [
      ['kubernetes.io/hostname', 'DoNotSchedule', 'Honor'],
      ['topology.kubernetes.io/zone', 'ScheduleAnyway', 'Honor'],
    ]);
    for (const c of constraints) assert.deepEqual(c.labelSelector.matchLabels, statefulSet().spec.selector.matchLabels);
    const budget = find('PodDisruptionBudget', services.redis) as unknown as { spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } } };
    assert.deepEqual(budget.spec.selector.matchLabels, statefulSet().spec.selector.matchLabels);
    assert.ok(redisReplicationNames.dataNodes.length - budget.spec.maxUnavailable >= redisReplication.quorum, 'a quorum of Sentinels stays');
  });

  test('the headless Service publishes not-ready pods (names keep resolving) on both ports, by the containers\' port names', () => {
    const service = find('Service', services.redis) as unknown as { spec: { clusterIP: string; publishNotReadyAddresses: boolean; ports: { name: string; port: number; targetPort: string }[] } };
    assert.equal(service.spec.clusterIP, 'None');
    assert.equal(service.spec.publishNotReadyAddresses, true);
    const named = statefulSet().spec.template.spec.containers.flatMap((c) => c.ports ?? []);
    const mapped = service.spec.ports.map((p) => [p.port, named.find((n) => n.name === p.targetPort)?.containerPort]);
    assert.deepEqual(mapped.sort(), [
      [ports.sentinel, ports.sentinel],
      [ports.redis, ports.redis],
    ].sort());
  });

  test('the api is in Sentinel mode: no REDIS_URL, the Sentinels by their pods\' names, the password from the same Secret', () => {
    const api = find('Deployment', services.api) as unknown as Workload;
    const c = container(api, services.api);
    const env = envOf(c);
    assert.equal(env.REDIS_URL, undefined);
    for (const name of Object.keys(env)) assert.ok(name in apiEnvSchema.shape, name);
    const parsed = parseEnv(apiEnvSchema, env);
    assert.deepEqual(parsed.REDIS_SENTINELS, redisReplicationNames.dataNodes.map((pod) => ({ host: `${pod}.${services.redis}`, port: ports.sentinel })));
    assert.equal(parsed.REDIS_MASTER_NAME, redisReplication.masterName);
    assert.equal(env.REDIS_PASSWORD_FILE, redisPasswordFile);
    assert.ok(api.spec.template.spec.volumes?.some((volume) => volume.secret?.secretName === redisSecret));
  });

  test('no file of the component holds a password', async () => {
    for (const file of await readdir(join(repoRoot, replicatedRedisComponent))) {
      assert.doesNotMatch(await readFile(join(repoRoot, replicatedRedisComponent, file), 'utf8'), /requirepass|auth-pass|password:\s*\S/i, file);
    }
  });

  describe('the NetworkPolicies', () => {
    const [controllerNamespace = '', systemNamespace = ''] = ingressControllerNamespaces;
    const namespaces: Namespaces = { [namespace]: {}, [controllerNamespace]: {}, [systemNamespace]: {}, default: {} };
    let host = 10;
    const pod = (podNamespace: string, labels: Record<string, string>, podPorts: Pod['ports'] = []): Pod => ({ kind: 'pod', namespace: podNamespace, labels, ip: `10.42.1.${String(host++)}`, ports: podPorts });
    const ours = (kind: string, name: string) => {
      const { template } = (find(kind, name) as unknown as Workload).spec;
      return pod(namespace, template.metadata.labels, template.spec.containers.flatMap((c) => c.ports ?? []));
    };
    const portsToTry = [ports.edge, ports.api, ports.redis, ports.sentinel, 53, 80, 443];

    const policiesOf = (manifests: Manifest[]) =>
      manifests
        .filter((manifest) => manifest.kind === 'NetworkPolicy')
        .map((manifest) => ({ ...(manifest as unknown as NetworkPolicy), metadata: { name: manifest.metadata?.name ?? '', namespace } }));

    /** Every flow the policies admit between the peers (one end in the namespace), as "from -> to:port/protocol". */
    const admittedFlows = (policies: NetworkPolicy[]): string[] => {
      const peers: Record<string, Endpoint> = {
        'ingress controller': pod(controllerNamespace, { 'app.kubernetes.io/name': ingressControllerNames[0] ?? '' }),
        nginx: ours('Deployment', services.edge),
        api: ours('Deployment', services.api),
        'redis-0': ours('StatefulSet', services.redis),
        'redis-1': ours('StatefulSet', services.redis),
        'cluster DNS': pod(systemNamespace, { 'k8s-app': 'kube-dns' }),
        'another pod here': pod(namespace, { app: 'stranger' }),
        'a pod posing as redis elsewhere': pod('default', statefulSet().spec.template.metadata.labels),
        'a pod posing as the api elsewhere': pod('default', (find('Deployment', services.api) as unknown as Workload).spec.template.metadata.labels),
        'the internet': { kind: 'external', ip: '203.0.113.9' },
      };
      const inNamespace = (endpoint: Endpoint) => endpoint.kind === 'pod' && endpoint.namespace === namespace;
      const admitted: string[] = [];
      for (const [fromName, from] of Object.entries(peers)) {
        for (const [toName, to] of Object.entries(peers)) {
          if (fromName === toName || (!inNamespace(from) && !inNamespace(to))) continue;
          for (const port of portsToTry) {
            for (const protocol of port === 53 ? (['UDP', 'TCP'] as const) : (['TCP'] as const)) {
              if (allows(policies, namespaces, { from, to, port, protocol })) admitted.push(`${fromName} -> ${toName}:${String(port)}/${protocol}`);
            }
          }
        }
      }
      return admitted.sort();
    };

    test('admit exactly the stack\'s flows plus the api to the Sentinels and the set\'s pods to each other', () => {
      const redisPods = ['redis-0', 'redis-1'];
      const dns = ['nginx', 'api', ...redisPods, 'another pod here'].flatMap((name) => [`${name} -> cluster DNS:53/UDP`, `${name} -> cluster DNS:53/TCP`]);
      const both = (from: string, to: string) => [`${from} -> ${to}:${String(ports.redis)}/TCP`, `${from} -> ${to}:${String(ports.sentinel)}/TCP`];
      assert.deepEqual(
        admittedFlows(policiesOf(built)),
        [
          `ingress controller -> nginx:${String(ports.edge)}/TCP`,
          `nginx -> api:${String(ports.api)}/TCP`,
          ...redisPods.flatMap((redis) => both('api', redis)),
          ...both('redis-0', 'redis-1'),
          ...both('redis-1', 'redis-0'),
          ...dns,
        ].sort(),
      );
    });

    test('each of the component\'s policies is needed: without any one of them, a flow of the set is refused', () => {
      const all = policiesOf(built);
      const everyFlow = admittedFlows(all);
      const added = all.filter((policy) => !policiesOf(single).some((other) => other.metadata.name === policy.metadata.name));
      assert.equal(added.length, 4);
      for (const policy of added) {
        const without = admittedFlows(all.filter((other) => other !== policy));
        assert.ok(without.length < everyFlow.length, `${policy.metadata.name} admits something no other policy does`);
      }
    });

    test('without the component\'s policies the Sentinels are out of reach (the admitted list above depends on them)', () => {
      const policies = policiesOf(single);
      const api = ours('Deployment', services.api);
      const redis = ours('StatefulSet', services.redis);
      assert.equal(allows(policies, namespaces, { from: api, to: redis, port: ports.sentinel }), false);
      assert.equal(allows(policies, namespaces, { from: redis, to: ours('StatefulSet', services.redis), port: ports.redis }), false);
      assert.equal(allows(policies, namespaces, { from: api, to: redis, port: ports.redis }), true);
    });
  });
});
