import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { generateFiles } from '@three-tier/nginx';
import { checkNginxConfigInScratch, findBinaries } from '@three-tier/processes';
import { apiEnvSchema, edge, ports, routes, services } from '@three-tier/shared';
import { parseAllDocuments } from 'yaml';
import {
  composeFile,
  imageUsers,
  ingressControllerNames,
  kubernetesTarget,
  ingressControllerNamespaces,
  namespace,
  preStopSeconds,
  redisPasswordFile,
  redisSecret,
  registryOverride,
  version,
  type Manifest,
} from '../src/index.js';
import { allows, podMaker, type Endpoint, type Namespaces, type NetworkPolicy } from './network-policy.js';
import { kustomize } from './kustomize.js';
import { schemaRelease, strictErrors } from './openapi.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const k8s = join(root, 'k8s');

/** What is committed, read back as a cluster would: every document of every file. */
async function committed(): Promise<{ file: string; manifest: Manifest }[]> {
  const files = (await readdir(k8s)).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
  const all: { file: string; manifest: Manifest }[] = [];
  for (const file of files) {
    for (const document of parseAllDocuments(await readFile(join(k8s, file), 'utf8'))) {
      all.push({ file, manifest: document.toJS() as Manifest });
    }
  }
  return all;
}

const manifests = (await committed()).map(({ manifest }) => manifest);
const byKind = (kind: string) => manifests.filter((manifest) => manifest.kind === kind);
const named = (kind: string, name: string) => {
  const found = byKind(kind).find((manifest) => manifest.metadata?.name === name);
  assert.ok(found, `${kind}/${name}`);
  return found;
};

interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  startupProbe?: unknown;
  livenessProbe?: unknown;
  readinessProbe?: { httpGet?: { path: string } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}
interface PodSpec {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: unknown[];
  volumes?: { name: string; secret?: { secretName: string }; configMap?: { name: string } }[];
}
interface Workload {
  kind: string;
  metadata: { name: string };
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    volumeClaimTemplates?: { metadata: { name: string } }[];
  };
}

const workloads = manifests.filter((manifest) => ['Deployment', 'StatefulSet'].includes(manifest.kind)) as unknown as Workload[];
const workload = (name: string) => {
  const found = workloads.find((candidate) => candidate.metadata.name === name);
  assert.ok(found, `workload ${name}`);
  return found;
};
const container = (name: string) => {
  const [first] = workload(name).spec.template.spec.containers;
  assert.ok(first);
  return first;
};
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe(`the manifests against the Kubernetes OpenAPI schema (${schemaRelease}), strictly`, () => {
  test('every object passes kubernetes-models validation: types, enums, required fields', async () => {
    for (const manifest of manifests) {
      const path = manifest.apiVersion.includes('/') ? manifest.apiVersion : manifest.apiVersion;
      const module = (await import(`kubernetes-models/${path}/${manifest.kind}`)) as Record<string, new (data: unknown) => { validate(): void }>;
      const Model = module[manifest.kind];
      assert.ok(Model, `${manifest.apiVersion} ${manifest.kind} is a known model`);
      assert.doesNotThrow(() => new Model(manifest).validate(), `${manifest.kind}/${manifest.metadata?.name ?? ''}`);
    }
  });

  test('no object has a field the schema does not know, or a value of the wrong type', () => {
    for (const manifest of manifests) assert.deepEqual(strictErrors(manifest), [], `${manifest.kind}/${manifest.metadata?.name ?? ''}`);
  });

  test('the strict check does fail on an unknown field, a misplaced one, or a wrong type', () => {
    const deployment = structuredClone(named('Deployment', services.api)) as unknown as Workload;
    (deployment.spec.template.spec.containers[0] as unknown as Record<string, unknown>).livenesProbe = {};
    (deployment.spec as unknown as Record<string, unknown>).replica = 3;
    (deployment.spec.template.spec as unknown as Record<string, unknown>).terminationGracePeriodSeconds = 'thirty';
    const errors = strictErrors(deployment as unknown as Manifest);
    assert.equal(errors.length, 3, errors.join('\n'));
    assert.ok(errors.some((error) => /livenesProbe: unknown field of V1Container/.test(error)));
    assert.ok(errors.some((error) => /\.replica: unknown field of V1DeploymentSpec/.test(error)));
    assert.ok(errors.some((error) => /terminationGracePeriodSeconds: expected a number/.test(error)));
  });
});

describe('policy', () => {
  test('every container has probes, requests and limits, runs non-root, read-only, without capabilities', () => {
    for (const { metadata, spec } of workloads) {
      const pod = spec.template.spec;
      assert.equal(pod.automountServiceAccountToken, false, `${metadata.name}: no service account token`);
      assert.equal(pod.securityContext?.runAsNonRoot, true, `${metadata.name}: pod runAsNonRoot`);
      assert.deepEqual(pod.securityContext?.seccompProfile, { type: 'RuntimeDefault' }, `${metadata.name}: seccomp`);
      for (const c of pod.containers) {
        assert.ok(c.startupProbe && c.livenessProbe && c.readinessProbe, `${c.name}: probes`);
        for (const kind of ['requests', 'limits'] as const) {
          assert.ok(c.resources?.[kind]?.cpu && c.resources[kind].memory, `${c.name}: ${kind}`);
        }
        assert.deepEqual(
          c.securityContext,
          { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          c.name,
        );
      }
    }
  });

  test('run as the users their images were built for', () => {
    assert.equal(workload(services.api).spec.template.spec.securityContext?.runAsUser, imageUsers.api.uid);
    assert.equal(workload(services.edge).spec.template.spec.securityContext?.runAsUser, imageUsers.edge.uid);
    assert.equal(workload(services.redis).spec.template.spec.securityContext?.runAsUser, imageUsers.redis.uid);
  });

  test('images are pinned to the release, never latest', async () => {
    for (const { spec } of workloads) {
      for (const c of spec.template.spec.containers) {
        const tag = c.image.split(':')[1];
        assert.equal(tag, version, c.image);
      }
    }
    const kustomization = parseAllDocuments(await readFile(join(k8s, 'kustomization.yaml'), 'utf8'))[0]?.toJS() as {
      images: { newTag: string }[];
    };
    for (const image of kustomization.images) assert.equal(image.newTag, version);
  });

  test('selectors match their pod labels, and Services reach a container port by name', () => {
    for (const { metadata, spec } of workloads) {
      assert.ok(matches(spec.selector.matchLabels, spec.template.metadata.labels), `${metadata.name}: selector`);
    }
    for (const service of byKind('Service') as unknown as { metadata: { name: string }; spec: { selector: Record<string, string>; ports: { targetPort: string }[] } }[]) {
      const target = workloads.filter((w) => matches(service.spec.selector, w.spec.template.metadata.labels));
      assert.equal(target.length, 1, `Service ${service.metadata.name} selects one workload`);
      const portNames = target[0]?.spec.template.spec.containers.flatMap((c) => c.ports?.map((p) => p.name) ?? []) ?? [];
      for (const port of service.spec.ports) assert.ok(portNames.includes(port.targetPort), `${service.metadata.name} -> ${port.targetPort}`);
    }
  });

  test('the HPA and the PDBs target workloads that exist', () => {
    const [hpa] = byKind('HorizontalPodAutoscaler') as unknown as { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; metrics: { resource: { name: string } }[] } }[];
    assert.ok(hpa);
    assert.equal(workload(hpa.spec.scaleTargetRef.name).kind, hpa.spec.scaleTargetRef.kind);
    assert.ok(hpa.spec.minReplicas >= 2);
    assert.equal(hpa.spec.metrics[0]?.resource.name, 'cpu');
    const budgets = byKind('PodDisruptionBudget') as unknown as { metadata: { name: string }; spec: { selector: { matchLabels: Record<string, string> } } }[];
    assert.deepEqual(budgets.map((budget) => budget.metadata.name).sort(), [services.api, services.edge].sort());
    for (const budget of budgets) {
      assert.equal(workloads.filter((w) => matches(budget.spec.selector.matchLabels, w.spec.template.metadata.labels)).length, 1);
    }
  });

  test('the api and nginx spread over nodes and wait before SIGTERM, longer than their drain', () => {
    for (const name of [services.api, services.edge]) {
      const pod = workload(name).spec.template.spec;
      assert.ok((pod.topologySpreadConstraints ?? []).length > 0, `${name}: topology spread`);
      const preStop = pod.containers[0]?.lifecycle?.preStop?.exec?.command;
      assert.deepEqual(preStop, ['sleep', String(preStopSeconds)], `${name}: preStop`);
    }
    const api = workload(services.api).spec.template.spec;
    const timeoutMs = Number(container(services.api).env?.find((e) => e.name === 'SHUTDOWN_TIMEOUT_MS')?.value);
    assert.ok((api.terminationGracePeriodSeconds ?? 0) > preStopSeconds + timeoutMs / 1_000, 'api grace period');
  });

  test('Redis keeps its data on a claim, behind a headless Service, with a password no file here holds', async () => {
    const redis = workload(services.redis);
    assert.equal(redis.kind, 'StatefulSet');
    assert.deepEqual(redis.spec.volumeClaimTemplates?.map((claim) => claim.metadata.name), ['data']);
    assert.ok(container(services.redis).volumeMounts?.some((mount) => mount.name === 'data' && mount.mountPath === '/data'));
    assert.equal((named('Service', services.redis) as unknown as { spec: { clusterIP: string } }).spec.clusterIP, 'None');
    for (const name of [services.api, services.redis]) {
      assert.ok(workload(name).spec.template.spec.volumes?.some((volume) => volume.secret?.secretName === redisSecret), `${name} mounts the Secret`);
    }
    assert.equal(byKind('Secret').length, 0, 'the Secret is created by the user, never committed');
    // k8s/components included: every YAML file under k8s/.
    const files = (await readdir(k8s, { recursive: true })).filter((file) => file.endsWith('.yaml'));
    assert.ok(files.includes(join('components', 'monitoring', 'kustomization.yaml')));
    for (const file of files) assert.doesNotMatch(await readFile(join(k8s, file), 'utf8'), /requirepass|password:\s*\S/i, file);
  });

  test('the namespace enforces the restricted Pod Security Standard', () => {
    const ns = named('Namespace', namespace) as unknown as { metadata: { labels: Record<string, string> } };
    assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
  });
});

describe('NetworkPolicies', () => {
  // The kustomization puts every object in the namespace; the files leave it out.
  const policies = (byKind('NetworkPolicy') as unknown as NetworkPolicy[]).map((policy) => ({
    ...policy,
    metadata: { ...policy.metadata, namespace },
  }));
  const [controllerNamespace = '', systemNamespace = ''] = ingressControllerNamespaces;
  const namespaces: Namespaces = { [namespace]: {}, [controllerNamespace]: {}, [systemNamespace]: {}, default: {} };
  const pod = podMaker('10.42.0');
  const ours = (name: string) => {
    const { metadata, spec } = workload(name).spec.template;
    return pod(namespace, metadata.labels, spec.containers.flatMap((c) => c.ports ?? []));
  };
  const peers: Record<string, Endpoint> = {
    'ingress controller': pod(controllerNamespace, { 'app.kubernetes.io/name': ingressControllerNames[0] ?? '' }),
    'k3s traefik': pod(systemNamespace, { 'app.kubernetes.io/name': 'traefik' }),
    nginx: ours(services.edge),
    api: ours(services.api),
    redis: ours(services.redis),
    'cluster DNS': pod(systemNamespace, { 'k8s-app': 'kube-dns' }),
    'another pod here': pod(namespace, { app: 'stranger' }),
    'a pod posing as nginx elsewhere': pod('default', workload(services.edge).spec.template.metadata.labels),
    'another pod in the controller namespace': pod(controllerNamespace, { app: 'stranger' }),
    'another pod in kube-system': pod(systemNamespace, { 'k8s-app': 'metrics-server' }),
    'the internet': { kind: 'external', ip: '203.0.113.9' },
  };
  const inNamespace = (endpoint: Endpoint) => endpoint.kind === 'pod' && endpoint.namespace === namespace;
  const portsToTry = [ports.edge, ports.api, ports.redis, 53, 80, 443];

  test('admit exactly ingress -> nginx -> api -> Redis, and DNS', () => {
    const admitted: string[] = [];
    for (const [fromName, from] of Object.entries(peers)) {
      for (const [toName, to] of Object.entries(peers)) {
        // Traffic that never touches this namespace is not ours to police.
        if (fromName === toName || (!inNamespace(from) && !inNamespace(to))) continue;
        for (const port of portsToTry) {
          for (const protocol of port === 53 ? (['UDP', 'TCP'] as const) : (['TCP'] as const)) {
            if (allows(policies, namespaces, { from, to, port, protocol })) admitted.push(`${fromName} -> ${toName}:${port}/${protocol}`);
          }
        }
      }
    }
    const dns = ['nginx', 'api', 'redis', 'another pod here'].flatMap((name) => [`${name} -> cluster DNS:53/UDP`, `${name} -> cluster DNS:53/TCP`]);
    assert.deepEqual(
      admitted.sort(),
      [
        `ingress controller -> nginx:${ports.edge}/TCP`,
        `k3s traefik -> nginx:${ports.edge}/TCP`,
        `nginx -> api:${ports.api}/TCP`,
        `api -> redis:${ports.redis}/TCP`,
        ...dns,
      ].sort(),
    );
  });

  test('start from deny-all, in and out', () => {
    const deny = policies.find((policy) => policy.metadata.name === 'default-deny');
    assert.deepEqual(deny?.spec, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  });
});

describe('the nginx ConfigMap', () => {
  const configMap = named('ConfigMap', `${services.edge}-config`) as unknown as { data: Record<string, string> };
  const config = configMap.data['nginx.conf'] ?? '';

  test('is the generator’s kubernetes target, mounted where the image reads it', () => {
    assert.equal(config, generateFiles(kubernetesTarget())['nginx.conf']);
    const mount = container(services.edge).volumeMounts?.find((m) => m.name === 'config');
    assert.deepEqual(mount && { path: mount.mountPath, subPath: mount.subPath }, { path: '/etc/nginx/three-tier.conf', subPath: 'nginx.conf' });
  });

  test('passes the real nginx -t, with the api Service name resolving as in the cluster', async () => {
    const check = await checkNginxConfigInScratch(
      findBinaries(process.env).nginx,
      (prefix) => config.replaceAll('/tmp/', `${prefix}/tmp/`).replace(`${prefix}/tmp/nginx.pid`, `${prefix}/nginx.pid`),
      { [services.api]: '127.0.0.1' },
    );
    assert.ok(check.ok, check.output);
  });
});

describe('kubectl kustomize k8s/', () => {
  test('builds every object of k8s/, all in the namespace', () => {
    const built = kustomize(k8s);
    const key = (m: Manifest) => `${m.kind}/${m.metadata?.name ?? ''}`;
    assert.deepEqual(built.map(key).sort(), manifests.map(key).sort());
    for (const manifest of built) {
      if (manifest.kind !== 'Namespace') assert.equal(manifest.metadata.namespace, namespace, key(manifest));
    }
  });
});

describe('one contract: the route table, docker-compose.yml and the manifests agree', () => {
  const compose = composeFile();
  const composeApiEnv = compose.services?.[services.api]?.environment as Record<string, string>;
  const env = (name: string) => Object.fromEntries((container(name).env ?? []).map((e) => [e.name, e.value ?? '']));

  test('ports', () => {
    assert.equal(container(services.api).ports?.[0]?.containerPort, ports.api);
    assert.equal(composeApiEnv.PORT, String(ports.api));
    assert.equal(env(services.api).PORT, String(ports.api));
    assert.equal(container(services.edge).ports?.[0]?.containerPort, ports.edge);
    const published = compose.services?.[services.edge]?.ports?.[0];
    assert.ok(typeof published === 'string' && published.endsWith(`:${ports.edge}`));
    assert.equal(container(services.redis).ports?.[0]?.containerPort, ports.redis);
  });

  test('probe paths', () => {
    const probePath = (probe: unknown) => (probe as { httpGet?: { path: string } } | undefined)?.httpGet?.path;
    assert.equal(probePath(container(services.api).livenessProbe), routes.healthz.path);
    assert.equal(probePath(container(services.api).readinessProbe), routes.readyz.path);
    assert.equal(probePath(container(services.edge).readinessProbe), edge.healthPath);
    const nginxCheck = compose.services?.[services.edge]?.healthcheck?.test;
    assert.ok(Array.isArray(nginxCheck) && nginxCheck.some((arg) => arg.endsWith(edge.healthPath)));
  });

  test('environment names and the values both deployments share', () => {
    for (const name of Object.keys(env(services.api))) assert.ok(name in apiEnvSchema.shape, `k8s: ${name}`);
    for (const name of Object.keys(composeApiEnv)) assert.ok(name in apiEnvSchema.shape, `compose: ${name}`);
    for (const name of ['PORT', 'REDIS_URL', 'REDIS_PASSWORD_FILE'] as const) {
      assert.equal(env(services.api)[name], composeApiEnv[name], name);
    }
    assert.equal(env(services.api).REDIS_PASSWORD_FILE, redisPasswordFile);
    assert.equal(env(services.redis).REDIS_PASSWORD_FILE, redisPasswordFile);
  });

  test('image repositories: the names compose runs pushed images by', () => {
    const pushed = registryOverride(compose).services ?? {};
    for (const name of [services.api, services.edge, services.redis]) {
      const repository = container(name).image.split(':')[0];
      assert.ok(String(pushed[name]?.image).includes(`-${name}:`), name);
      assert.equal(repository, `three-tier-${name}`);
    }
  });
});
