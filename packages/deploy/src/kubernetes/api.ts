import { budgets, gracePeriodMs, ports, routes, services, type ApiEnvName } from '@three-tier/shared';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { redisAuthDir, redisPasswordFile } from '../images.js';
import {
  componentService,
  disruptionBudget,
  hardenedDeployment,
  httpProbe,
  labels,
  preStopSeconds,
  resources,
} from './common.js';

/** The name of the Secret (key `password`) the user creates before applying. */
export const redisSecret = 'redis-auth';

const environment: Partial<Record<ApiEnvName, string>> = {
  PORT: String(ports.api),
  REDIS_URL: `redis://${services.redis}:${ports.redis}`,
  REDIS_PASSWORD_FILE: redisPasswordFile,
  // The preStop hook does the waiting; after SIGTERM the api only drains.
  SHUTDOWN_DELAY_MS: '0',
  SHUTDOWN_TIMEOUT_MS: String(budgets.apiShutdownTimeoutMs),
  LOG_LEVEL: 'info',
};

/** The api: two replicas and up (HPA), never fewer than one during a drain (PDB). */
export function apiManifests() {
  const name = services.api;
  const deployment = hardenedDeployment('api', {
    replicas: 2,
    terminationGracePeriodSeconds: preStopSeconds + Math.ceil(gracePeriodMs(budgets.apiShutdownTimeoutMs) / 1_000),
    container: {
      ports: [{ name: 'http', containerPort: ports.api, protocol: 'TCP' }],
      env: Object.entries(environment).map(([key, value]) => ({ name: key, value })),
      resources: resources('api'),
      startupProbe: httpProbe(routes.healthz.path, 1, 30),
      livenessProbe: httpProbe(routes.healthz.path, 10, 3),
      readinessProbe: httpProbe(routes.readyz.path, 5, 2),
      volumeMounts: [{ name: 'redis-auth', mountPath: redisAuthDir, readOnly: true }],
    },
    volumes: [{ name: 'redis-auth', secret: { secretName: redisSecret, defaultMode: 0o444 } }],
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
  return [deployment, componentService('api', ports.api, 'http'), disruptionBudget('api'), autoscaler];
}
