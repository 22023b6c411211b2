/**
 * k8s/components/monitoring: what a prometheus-operator (Rancher Monitoring, kube-prometheus-stack)
 * needs to watch the stack: a ServiceMonitor for the api's replicas, the rules of the compose
 * profile as a PrometheusRule, the dashboard as a ConfigMap for Grafana's sidecar, and the one
 * NetworkPolicy that lets the monitoring namespace's Prometheus reach the api's port.
 */
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { dashboard, ruleGroups } from '@three-tier/observability';
import { ports, routes, services } from '@three-tier/shared';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { labels, namespace, selectorLabels } from './common.js';

export interface MonitoringOptions {
  /** Where Prometheus runs: Rancher Monitoring's namespace by default. */
  readonly namespace: string;
  /** The labels of its Prometheus pods (the operator's own label on every Prometheus it runs). */
  readonly prometheusPodLabels: Readonly<Record<string, string>>;
  /** How often the api is scraped. */
  readonly scrapeInterval: `${number}s`;
}

export const rancherMonitoring: MonitoringOptions = {
  namespace: 'cattle-monitoring-system',
  prometheusPodLabels: { 'app.kubernetes.io/name': 'prometheus' },
  scrapeInterval: '15s',
};

/**
 * A cluster's Prometheus watches other apps too (another `api` job, another install): the rules
 * and the dashboard read only this namespace's series. The operator labels every target with it.
 */
export const monitoringScope = { namespace } as const;

/** The file name Grafana's sidecar gives the dashboard. */
export const dashboardFile = 'three-tier.json';

export function monitoringManifests(options: MonitoringOptions = rancherMonitoring) {
  const name = `${services.api}-metrics`;
  return {
    'service-monitor.yaml': [
      new ServiceMonitor({
        metadata: { name: services.api, labels: labels('api') },
        spec: {
          selector: { matchLabels: selectorLabels('api') },
          // The Service's port name: every ready replica behind it is a target of its own.
          endpoints: [{ port: 'http', path: routes.metrics.path, interval: options.scrapeInterval, scheme: 'http' }],
        },
      }),
    ],
    'prometheus-rule.yaml': [
      new PrometheusRule({
        metadata: { name: 'three-tier', labels: labels('api') },
        spec: {
          groups: ruleGroups(monitoringScope).groups.map((group) => ({
            name: group.name,
            rules: group.rules.map((rule) => ({ ...rule })),
          })),
        },
      }),
    ],
    'grafana-dashboard.yaml': [
      new ConfigMap({
        // grafana_dashboard: the label Grafana's dashboard sidecar looks for (Rancher's and kube-prometheus-stack's).
        metadata: { name: 'three-tier-dashboard', labels: { ...labels('api'), grafana_dashboard: '1' } },
        data: { [dashboardFile]: `${JSON.stringify(dashboard(monitoringScope), null, 2)}\n` },
      }),
    ],
    'network-policy.yaml': [
      new NetworkPolicy({
        metadata: { name },
        spec: {
          podSelector: { matchLabels: selectorLabels('api') },
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [
                {
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': options.namespace } },
                  podSelector: { matchLabels: { ...options.prometheusPodLabels } },
                },
              ],
              ports: [{ protocol: 'TCP', port: ports.api }],
            },
          ],
        },
      }),
    ],
  };
}
