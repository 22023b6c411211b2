/**
 * k8s/components/replicated-redis: the single Redis replaced by the contract's replicated set. The
 * StatefulSet `redis` keeps its name, selector, headless Service and claim template (so the
 * component applies over a running single Redis, whose data redis-0 keeps as the first master)
 * and gets three pods, each with a data node and a Sentinel beside it:
 *   - beside, not a StatefulSet of their own: a Sentinel shares its data node's failure domain, so
 *     spreading the pods spreads both, one disruption budget keeps two of three of each (a
 *     majority of Sentinels, a master and a replica), and every member is a name of one headless
 *     Service (redis-N.redis, Sentinel on its own port);
 *   - the Service publishes not-ready addresses: a Sentinel stalls on a name that stops
 *     resolving, and a pod that is not ready (a replica syncing, a master being replaced) must
 *     keep its name.
 * The api is patched into Sentinel mode (REDIS_SENTINELS, REDIS_MASTER_NAME, the password from the
 * same Secret), and NetworkPolicies admit the new flows only.
 */
import { ports, redisReplication, redisReplicationNames, services, type ApiEnvName } from '@three-tier/shared';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { NetworkPolicy, type INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IIoK8sApiCoreV1Container } from 'kubernetes-models/v1/Container';
import { memberEnvironment, sentinelConfigDir } from '../compose-replicated.js';
import { redisAuthDir, redisPasswordFile } from '../images.js';
import { redisSecret } from './api.js';
import { containerSecurity, image, labels, podSecurity, resources, selectorLabels, tmpMount, tmpVolume } from './common.js';
import { redisTerminationGraceSeconds } from './redis.js';

const name = services.redis;

/** A member's name in the cluster: its pod under the headless Service (redis-0.redis), as every pod of the namespace resolves it. */
const podHost = (pod: string): string => `${pod}.${name}`;

/** The Sentinels, beside the data nodes: REDIS_SENTINELS for the api and the members. */
export const kubernetesSentinels = redisReplicationNames.dataNodes.map((pod) => `${podHost(pod)}:${String(ports.sentinel)}`).join(',');

const members = memberEnvironment({ dataNodes: redisReplicationNames.dataNodes.map(podHost), sentinels: kubernetesSentinels });

/** Each container's environment: the set, the password file, and its own name from the pod's. */
function memberEnv(): NonNullable<IIoK8sApiCoreV1Container['env']> {
  return [
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'REDIS_ANNOUNCE_HOST', value: `$(POD_NAME).${name}` },
    { name: 'REDIS_PASSWORD_FILE', value: redisPasswordFile },
    ...Object.entries(members).map(([key, value]) => ({ name: key, value })),
  ];
}

const check = (script: string) => ({ exec: { command: [`/usr/local/bin/${script}`] }, timeoutSeconds: 3 });
const authMount = { name: 'redis-auth', mountPath: redisAuthDir, readOnly: true };

function dataNodeContainer(): IIoK8sApiCoreV1Container {
  return {
    name,
    image: image('redis'),
    imagePullPolicy: 'IfNotPresent',
    command: ['/usr/local/bin/start-data-node.sh'],
    ports: [{ name: 'redis', containerPort: ports.redis, protocol: 'TCP' }],
    env: memberEnv(),
    resources: resources('redis'),
    securityContext: containerSecurity,
    // A replica may wait for its master up to failoverWithinMs before it starts, then sync.
    startupProbe: { ...check('redis-healthcheck.sh'), periodSeconds: 1, failureThreshold: 120 },
    livenessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    // Ready: it answers, and a replica is linked to its master.
    readinessProbe: { ...check('redis-healthcheck.sh'), periodSeconds: 2, failureThreshold: 2 },
    volumeMounts: [{ name: 'data', mountPath: '/data' }, tmpMount, authMount],
  };
}

function sentinelContainer(): IIoK8sApiCoreV1Container {
  return {
    name: 'sentinel',
    image: image('redis'),
    imagePullPolicy: 'IfNotPresent',
    command: ['/usr/local/bin/start-sentinel.sh'],
    ports: [{ name: 'sentinel', containerPort: ports.sentinel, protocol: 'TCP' }],
    env: memberEnv(),
    resources: { requests: { cpu: '20m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
    securityContext: containerSecurity,
    startupProbe: { ...check('sentinel-healthcheck.sh'), periodSeconds: 1, failureThreshold: 60 },
    livenessProbe: { tcpSocket: { port: 'sentinel' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    // Ready: it knows the master.
    readinessProbe: { ...check('sentinel-healthcheck.sh'), periodSeconds: 5, failureThreshold: 2 },
    // Its rewritten configuration lives on the pod's claim, beside the data.
    volumeMounts: [{ name: 'data', mountPath: sentinelConfigDir, subPath: 'sentinel' }, tmpMount, authMount],
  };
}

/**
 * Evenly over the nodes, strictly (one pod per node on three nodes or more; on fewer, as evenly as
 * they allow, so a one-node cluster still runs the set), and over zones where there are several.
 * Nodes the pods may not run on (a tainted control plane) are not counted as places to spread to:
 * counted, an empty one would hold the third pod back on two workers.
 */
export function replicatedSpread() {
  const labelSelector = { matchLabels: selectorLabels('redis') };
  const spread = { maxSkew: 1, labelSelector, nodeTaintsPolicy: 'Honor' as const };
  return [
    { ...spread, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule' as const },
    { ...spread, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' as const },
  ];
}

/** The replicated StatefulSet: the single one's identity (name, selector, Service, claim) with three pods. */
export function replicatedStatefulSet(): StatefulSet {
  return new StatefulSet({
    metadata: { name, labels: labels('redis') },
    spec: {
      serviceName: name,
      replicas: redisReplicationNames.dataNodes.length,
      // All pods at once. One after the other (OrderedReady) deadlocks a restart of the whole set
      // after a failover: redis-0, now a replica, is not ready until its master (redis-1, say) runs,
      // and redis-1 is not created until redis-0 is ready. Updates still roll one pod at a time.
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selectorLabels('redis') },
      template: {
        metadata: { labels: labels('redis') },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { ...podSecurity('redis'), fsGroupChangePolicy: 'OnRootMismatch' },
          terminationGracePeriodSeconds: redisTerminationGraceSeconds,
          topologySpreadConstraints: replicatedSpread(),
          containers: [dataNodeContainer(), sentinelContainer()],
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
}

/** Voluntary disruptions take one pod at a time: two data nodes and two Sentinels (a majority) stay. */
export function replicatedDisruptionBudget(): PodDisruptionBudget {
  return new PodDisruptionBudget({
    metadata: { name, labels: labels('redis') },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels('redis') } },
  });
}

/** The headless Service as the component patches it: Sentinel's port too, and names for pods not ready. */
export function replicatedServicePatch(): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: {
      publishNotReadyAddresses: true,
      ports: [{ name: 'sentinel', port: ports.sentinel, targetPort: 'sentinel', protocol: 'TCP' }],
    },
  };
}

/** The api in Sentinel mode: REDIS_URL out, the Sentinels and the master's name in. */
export function sentinelApiPatch(): Record<string, unknown> {
  const env: Partial<Record<ApiEnvName, string>> = { REDIS_SENTINELS: kubernetesSentinels, REDIS_MASTER_NAME: redisReplication.masterName };
  const removed: ApiEnvName = 'REDIS_URL';
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: services.api },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: services.api,
              env: [{ name: removed, $patch: 'delete' }, ...Object.entries(env).map(([key, value]) => ({ name: key, value }))],
            },
          ],
        },
      },
    },
  };
}

/**
 * The flows the set adds to the stack's (which already admit the api to Redis's port): the api to
 * the Sentinels, and the pods of the set to each other on both ports (replication, Sentinels
 * watching the data nodes and talking to each other).
 */
export function replicatedNetworkPolicies(): NetworkPolicy[] {
  const policy = (policyName: string, spec: NonNullable<INetworkPolicy['spec']>) => new NetworkPolicy({ metadata: { name: policyName }, spec });
  const redis = { podSelector: { matchLabels: selectorLabels('redis') } };
  const api = { podSelector: { matchLabels: selectorLabels('api') } };
  const both = [
    { protocol: 'TCP' as const, port: ports.redis },
    { protocol: 'TCP' as const, port: ports.sentinel },
  ];
  return [
    policy('api-to-sentinel', { ...api, policyTypes: ['Egress'], egress: [{ to: [redis], ports: [{ protocol: 'TCP', port: ports.sentinel }] }] }),
    policy('sentinel-from-api', { ...redis, policyTypes: ['Ingress'], ingress: [{ from: [api], ports: [{ protocol: 'TCP', port: ports.sentinel }] }] }),
    policy('redis-to-redis', { ...redis, policyTypes: ['Egress'], egress: [{ to: [redis], ports: both }] }),
    policy('redis-from-redis', { ...redis, policyTypes: ['Ingress'], ingress: [{ from: [redis], ports: both }] }),
  ];
}
