import { createHash } from 'node:crypto';
import { generateFiles } from '@three-tier/nginx';
import { budgets, edge, gracePeriodMs, ports, services } from '@three-tier/shared';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import {
  componentService,
  disruptionBudget,
  hardenedDeployment,
  httpProbe,
  labels,
  preStopSeconds,
  resources,
} from './common.js';
import { kubernetesTarget } from '../nginx-targets.js';

/** Where the image reads its config; the ConfigMap's copy is mounted over it. */
const configPath = '/etc/nginx/three-tier.conf';

/** nginx: the config generated for the kubernetes target, two replicas, the Ingress's backend. */
export function nginxManifests() {
  const name = services.edge;
  const config = generateFiles(kubernetesTarget())['nginx.conf'] ?? '';
  const configMap = new ConfigMap({
    metadata: { name: `${name}-config`, labels: labels('edge') },
    data: { 'nginx.conf': config },
  });
  const deployment = hardenedDeployment('edge', {
    replicas: 2,
    terminationGracePeriodSeconds: preStopSeconds + Math.ceil(gracePeriodMs(budgets.edgeDrainMs) / 1_000),
    // A new config rolls the pods (a subPath mount would not see the change).
    podAnnotations: { 'three-tier/nginx-config-sha256': createHash('sha256').update(config).digest('hex') },
    container: {
      ports: [{ name: 'http', containerPort: ports.edge, protocol: 'TCP' }],
      resources: resources('edge'),
      startupProbe: httpProbe(edge.healthPath, 1, 30),
      livenessProbe: httpProbe(edge.healthPath, 10, 3),
      readinessProbe: httpProbe(edge.healthPath, 5, 2),
      volumeMounts: [{ name: 'config', mountPath: configPath, subPath: 'nginx.conf', readOnly: true }],
    },
    volumes: [{ name: 'config', configMap: { name: `${name}-config` } }],
  });
  // The Ingress's backend, on plain port 80.
  return [configMap, deployment, componentService('edge', 80, 'http'), disruptionBudget('edge')];
}

/**
 * The way in: every host and path to nginx (the cluster's default ingress class). To serve one
 * host only, add `host:` to the rule.
 */
export function ingressManifests() {
  return [
    new Ingress({
      metadata: { name: 'three-tier', labels: labels('edge') },
      spec: {
        rules: [
          {
            http: {
              paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: services.edge, port: { name: 'http' } } } }],
            },
          },
        ],
      },
    }),
  ];
}
