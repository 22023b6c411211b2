import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { dashboard, ruleGroups } from '@three-tier/observability';
import { repoRoot } from '@three-tier/cli-kit';
import { ports, routes, services } from '@three-tier/shared';
import { NetworkPolicy as NetworkPolicyModel } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { parseAllDocuments } from 'yaml';
import { dashboardFile, kubernetesManifests, monitoringScope, namespace, rancherMonitoring, type Manifest } from '../src/index.js';
import { allows, podMaker, type Endpoint, type Namespaces, type NetworkPolicy } from './network-policy.js';
import { kustomize } from './kustomize.js';
import { strictErrors } from './openapi.js';

const component = join(repoRoot, 'k8s', 'components', 'monitoring');

/** The component as committed, read back as a cluster would. */
async function committed(file: string): Promise<Manifest[]> {
  return parseAllDocuments(await readFile(join(component, file), 'utf8')).map((document) => document.toJS() as Manifest);
}

const [serviceMonitor] = await committed('service-monitor.yaml');
const [prometheusRule] = await committed('prometheus-rule.yaml');
const [dashboardMap] = await committed('grafana-dashboard.yaml');
const [monitoringPolicy] = await committed('network-policy.yaml');

describe('k8s/components/monitoring', () => {
  test('the ServiceMonitor and the PrometheusRule pass @kubernetes-models/prometheus-operator validation', () => {
    assert.ok(serviceMonitor && prometheusRule);
    assert.doesNotThrow(() => new ServiceMonitor(serviceMonitor as never).validate());
    assert.doesNotThrow(() => new PrometheusRule(prometheusRule as never).validate());
  });

  test('the validation does fail on a broken ServiceMonitor (the check can fail)', () => {
    const broken = structuredClone(serviceMonitor) as unknown as { spec: { endpoints: unknown } };
    broken.spec.endpoints = 'http';
    assert.throws(() => new ServiceMonitor(broken as never).validate());
  });

  test('the ConfigMap and the NetworkPolicy pass kubernetes-models and the strict schema walk', () => {
    assert.ok(dashboardMap && monitoringPolicy);
    assert.doesNotThrow(() => new ConfigMap(dashboardMap).validate());
    assert.doesNotThrow(() => new NetworkPolicyModel(monitoringPolicy).validate());
    assert.deepEqual(strictErrors(dashboardMap), []);
    assert.deepEqual(strictErrors(monitoringPolicy), []);
  });

  test('the ServiceMonitor selects the api Service and scrapes /metrics on a port that Service names', () => {
    const api = kubernetesManifests()['api.yaml']?.find((manifest) => manifest.kind === 'Service') as
      | { metadata: { labels: Record<string, string> }; spec: { ports: { name: string; port: number }[] } }
      | undefined;
    assert.ok(api);
    const spec = (serviceMonitor as unknown as { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } }).spec;
    for (const [key, value] of Object.entries(spec.selector.matchLabels)) assert.equal(api.metadata.labels[key], value, key);
    const [endpoint] = spec.endpoints;
    assert.equal(endpoint?.path, routes.metrics.path);
    assert.deepEqual(api.spec.ports.filter((port) => port.name === endpoint?.port).map((port) => port.port), [ports.api]);
  });

  test('the PrometheusRule holds the rules of the compose profile (the ones promtool tests), limited to the namespace', () => {
    assert.deepEqual(monitoringScope, { namespace });
    assert.deepEqual((prometheusRule as unknown as { spec: unknown }).spec, JSON.parse(JSON.stringify(ruleGroups(monitoringScope))));
    const names = (groups: ReturnType<typeof ruleGroups>) => groups.groups.flatMap((group) => group.rules.map((rule) => ('record' in rule ? rule.record : rule.alert)));
    assert.deepEqual(names(ruleGroups(monitoringScope)), names(ruleGroups()));
  });

  test('the dashboard ConfigMap is labelled for Grafana\'s sidecar and holds the generated dashboard', () => {
    const map = dashboardMap as unknown as { metadata: { labels: Record<string, string> }; data: Record<string, string> };
    assert.equal(map.metadata.labels.grafana_dashboard, '1');
    assert.deepEqual(JSON.parse(map.data[dashboardFile] ?? '{}'), JSON.parse(JSON.stringify(dashboard(monitoringScope))));
  });

  describe('kubectl kustomize, as a kustomization of a user\'s own (the README\'s) lists the component', () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'monitoring-kustomize-'));
      await writeFile(
        join(dir, 'kustomization.yaml'),
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          `namespace: ${namespace}`,
          'resources:',
          `  - ${relative(dir, join(repoRoot, 'k8s'))}`,
          'components:',
          `  - ${relative(dir, component)}`,
          '',
        ].join('\n'),
      );
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    test('builds the stack and its monitoring, all in the namespace', () => {
      const built = kustomize(dir);
      const kinds = built.map((manifest) => `${manifest.kind}/${manifest.metadata.name ?? ''}`);
      for (const kind of ['ServiceMonitor/api', 'PrometheusRule/three-tier', 'ConfigMap/three-tier-dashboard', 'NetworkPolicy/api-metrics', `Deployment/${services.api}`]) {
        assert.ok(kinds.includes(kind), kind);
      }
      for (const manifest of built.filter((m) => m.kind !== 'Namespace')) assert.equal(manifest.metadata.namespace, namespace, `${manifest.kind}/${manifest.metadata.name ?? ''}`);
    });
  });

  describe('NetworkPolicies with the component', () => {
    // The stack's own policies and the component's, in the namespace the kustomization gives them.
    const policies = [...(kubernetesManifests()['network-policies.yaml'] ?? []), monitoringPolicy].map((policy) => {
      const typed = policy as unknown as NetworkPolicy;
      return { ...typed, metadata: { ...typed.metadata, namespace } };
    });
    const monitoringNamespace = rancherMonitoring.namespace;
    const namespaces: Namespaces = { [namespace]: {}, [monitoringNamespace]: {}, 'other-monitoring': {} };
    const pod = podMaker('10.43.0');
    const workloadLabels = (name: string) => {
      const workload = Object.values(kubernetesManifests())
        .flat()
        .find((manifest) => ['Deployment', 'StatefulSet'].includes(manifest.kind) && manifest.metadata?.name === name) as
        | { spec: { template: { metadata: { labels: Record<string, string> } } } }
        | undefined;
      assert.ok(workload, name);
      return workload.spec.template.metadata.labels;
    };
    const api = pod(namespace, workloadLabels(services.api), [{ name: 'http', containerPort: ports.api }]);
    const nginx = pod(namespace, workloadLabels(services.edge));
    const redis = pod(namespace, workloadLabels(services.redis));
    const prometheusLabels = { ...rancherMonitoring.prometheusPodLabels };
    const peers: Record<string, Endpoint> = {
      'Rancher\'s Prometheus': pod(monitoringNamespace, prometheusLabels),
      'Grafana in the monitoring namespace': pod(monitoringNamespace, { 'app.kubernetes.io/name': 'grafana' }),
      'a Prometheus in another namespace': pod('other-monitoring', prometheusLabels),
      'a pod posing as Prometheus here': pod(namespace, prometheusLabels),
    };

    test('admit the monitoring namespace\'s Prometheus to the api\'s port, and nothing else of it', () => {
      const admitted: string[] = [];
      for (const [fromName, from] of Object.entries(peers)) {
        for (const [toName, to] of Object.entries({ api, nginx, redis })) {
          for (const port of [ports.api, ports.edge, ports.redis, 9090]) {
            if (allows(policies, namespaces, { from, to, port, protocol: 'TCP' })) admitted.push(`${fromName} -> ${toName}:${String(port)}`);
          }
        }
      }
      assert.deepEqual(admitted, [`Rancher's Prometheus -> api:${String(ports.api)}`]);
    });

    test('without the component, Prometheus is refused (the policy is what admits it)', () => {
      const stackOnly = policies.filter((policy) => policy.metadata.name !== 'api-metrics');
      const prometheus = peers['Rancher\'s Prometheus'];
      assert.ok(prometheus);
      assert.equal(allows(stackOnly, namespaces, { from: prometheus, to: api, port: ports.api, protocol: 'TCP' }), false);
    });
  });
});
