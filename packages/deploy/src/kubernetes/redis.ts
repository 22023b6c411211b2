import { budgets, gracePeriodMs, ports, services } from '@three-tier/shared';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { redisAuthDir, redisPasswordFile } from '../images.js';
import { redisSecret } from './api.js';
import {
  componentService,
  containerSecurity,
  image,
  labels,
  podSecurity,
  resources,
  selectorLabels,
  tmpMount,
  tmpVolume,
} from './common.js';

/** Redis's shutdown (its AOF flushed) within the pod's grace period; the replicated set's members too. */
export const redisTerminationGraceSeconds = Math.ceil(gracePeriodMs(budgets.redisShutdownTimeoutMs) / 1_000);

const healthcheck = { exec: { command: ['/usr/local/bin/redis-healthcheck.sh'] }, timeoutSeconds: 3 };

/**
 * Redis: one replica with its data on a PersistentVolumeClaim (the AOF), so deleting the pod
 * loses nothing; the password from the Secret the user created; reached through a headless Service.
 */
export function redisManifests() {
  const name = services.redis;
  const statefulSet = new StatefulSet({
    metadata: { name, labels: labels('redis') },
    spec: {
      serviceName: name,
      replicas: 1,
      // The same as OrderedReady for one pod; chosen so that the replicated-redis component, which
      // needs it, applies over this StatefulSet (the field cannot change on a running one).
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selectorLabels('redis') },
      template: {
        metadata: { labels: labels('redis') },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { ...podSecurity('redis'), fsGroupChangePolicy: 'OnRootMismatch' },
          terminationGracePeriodSeconds: redisTerminationGraceSeconds,
          containers: [
            {
              name,
              image: image('redis'),
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'redis', containerPort: ports.redis, protocol: 'TCP' }],
              env: [{ name: 'REDIS_PASSWORD_FILE', value: redisPasswordFile }],
              resources: resources('redis'),
              securityContext: containerSecurity,
              startupProbe: { ...healthcheck, periodSeconds: 1, failureThreshold: 60 },
              livenessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
              readinessProbe: { ...healthcheck, periodSeconds: 5, failureThreshold: 2 },
              volumeMounts: [
                { name: 'data', mountPath: '/data' },
                tmpMount,
                { name: 'redis-auth', mountPath: redisAuthDir, readOnly: true },
              ],
            },
          ],
          volumes: [tmpVolume, { name: 'redis-auth', secret: { secretName: redisSecret, defaultMode: 0o444 } }],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels: labels('redis') },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ],
    },
  });
  return [statefulSet, componentService('redis', ports.redis, 'redis', true)];
}
