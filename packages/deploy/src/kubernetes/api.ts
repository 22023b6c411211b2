import { ports, routes, services, type ApiEnvName } from '@three-tier/shared';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { redisAuthDir, redisPasswordFile } from '../images.js';
import {
  apiShutdownTimeoutMs,
  containerSecurity,
  httpProbe,
  image,
  labels,
  podSecurity,
  preStopSeconds,
  resources,
  selectorLabels,
  spread,
  tmpMount,
  tmpVolume,
} from './common.js';

/** The name of the Secret (key `password`) the user creates before applying. */
export const redisSecret = 'redis-auth';

const environment: Partial<Record<ApiEnvName, string>> = {
  PORT: String(ports.api),
  REDIS_URL: `redis://${services.redis}:${ports.redis}`,
  REDIS_PASSWORD_FILE: redisPasswordFile,
  // The preStop hook does the waiting; after SIGTERM the api only drains.
  SHUTDOWN_DELAY_MS: '0',
  SHUTDOWN_TIMEOUT_MS: String(apiShutdownTimeoutMs),
  LOG_LEVEL: 'info',
};

/** The api: two replicas and up (HPA), never fewer than one during a drain (PDB). */
export function apiManifests() {
  const name = services.api;
  const deployment = new Deployment({
    metadata: { name, labels: labels('api') },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels('api') },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: labels('api') },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurity('api'),
          terminationGracePeriodSeconds: preStopSeconds + Math.ceil(apiShutdownTimeoutMs / 1_000) + 5,
          topologySpreadConstraints: spread('api'),
          containers: [
            {
              name,
              image: image('api'),
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: ports.api, protocol: 'TCP' }],
              env: Object.entries(environment).map(([key, value]) => ({ name: key, value })),
              resources: resources(['100m', '1'], ['96Mi', '256Mi']),
              securityContext: containerSecurity,
              startupProbe: httpProbe(routes.healthz.path, 1, 30),
              livenessProbe: httpProbe(routes.healthz.path, 10, 3),
              readinessProbe: httpProbe(routes.readyz.path, 5, 2),
              lifecycle: { preStop: { exec: { command: ['sleep', String(preStopSeconds)] } } },
              volumeMounts: [tmpMount, { name: 'redis-auth', mountPath: redisAuthDir, readOnly: true }],
            },
          ],
          volumes: [tmpVolume, { name: 'redis-auth', secret: { secretName: redisSecret, defaultMode: 0o444 } }],
        },
      },
    },
  });
  const service = new Service({
    metadata: { name, labels: labels('api') },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels('api'),
      ports: [{ name: 'http', port: ports.api, targetPort: 'http', protocol: 'TCP' }],
    },
  });
  const budget = new PodDisruptionBudget({
    metadata: { name, labels: labels('api') },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels('api') } },
  });
  const autoscaler = new HorizontalPodAutoscaler({
    metadata: { name, labels: labels('api') },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      // Quick to scale up for the demo; a minute of calm before scaling down.
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0 },
        scaleDown: { stabilizationWindowSeconds: 60 },
      },
    },
  });
  return [deployment, service, budget, autoscaler];
}
