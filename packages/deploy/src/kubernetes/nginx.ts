import { createHash } from 'node:crypto';
import { generateFiles, kubernetesTarget } from '@three-tier/nginx';
import { edge, ports, services } from '@three-tier/shared';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import {
  containerSecurity,
  httpProbe,
  image,
  labels,
  nginxShutdownSeconds,
  podSecurity,
  preStopSeconds,
  resources,
  selectorLabels,
  spread,
  tmpMount,
  tmpVolume,
} from './common.js';

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
  const deployment = new Deployment({
    metadata: { name, labels: labels('edge') },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels('edge') },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: labels('edge'),
          // A new config rolls the pods (a subPath mount would not see the change).
          annotations: { 'three-tier/nginx-config-sha256': createHash('sha256').update(config).digest('hex') },
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurity('edge'),
          terminationGracePeriodSeconds: preStopSeconds + nginxShutdownSeconds + 4,
          topologySpreadConstraints: spread('edge'),
          containers: [
            {
              name,
              image: image('edge'),
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: ports.edge, protocol: 'TCP' }],
              resources: resources(['50m', '500m'], ['32Mi', '64Mi']),
              securityContext: containerSecurity,
              startupProbe: httpProbe(edge.healthPath, 1, 30),
              livenessProbe: httpProbe(edge.healthPath, 10, 3),
              readinessProbe: httpProbe(edge.healthPath, 5, 2),
              // SIGQUIT after the wait: nginx finishes what is in flight.
              lifecycle: { preStop: { exec: { command: ['sleep', String(preStopSeconds)] } } },
              volumeMounts: [tmpMount, { name: 'config', mountPath: configPath, subPath: 'nginx.conf', readOnly: true }],
            },
          ],
          volumes: [tmpVolume, { name: 'config', configMap: { name: `${name}-config` } }],
        },
      },
    },
  });
  const service = new Service({
    metadata: { name, labels: labels('edge') },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels('edge'),
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    },
  });
  const budget = new PodDisruptionBudget({
    metadata: { name, labels: labels('edge') },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels('edge') } },
  });
  return [configMap, deployment, service, budget];
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
