import { releaseVersion } from '@three-tier/cli-kit';
import { containerResources, services, tmpSizeMiB } from '@three-tier/shared';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IIoK8sApiCoreV1Container } from 'kubernetes-models/v1/Container';
import type { IIoK8sApiCoreV1PodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { IIoK8sApiCoreV1Probe } from 'kubernetes-models/v1/Probe';
import type { IIoK8sApiCoreV1ResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import { Service } from 'kubernetes-models/v1/Service';
import type { IIoK8sApiCoreV1Volume } from 'kubernetes-models/v1/Volume';
import { defaultImagePrefix, imageRepository, imageUsers, type ImageName } from '../images.js';

/** The namespace the kustomization puts everything in (kustomize can change it). */
export const namespace = 'three-tier';

/** The release version: image tags are pinned to it, never `latest`. */
export const version = releaseVersion();

/** Labels that select a component's pods; stable across releases (no version in them). */
export function selectorLabels(image: ImageName): Record<string, string> {
  return { 'app.kubernetes.io/name': services[image], 'app.kubernetes.io/part-of': 'three-tier' };
}

export function labels(image: ImageName): Record<string, string> {
  return { ...selectorLabels(image), 'app.kubernetes.io/version': version };
}

export function image(name: ImageName): string {
  return `${imageRepository(defaultImagePrefix, name)}:${version}`;
}

/** Every pod: unprivileged as its image's user, the runtime's default seccomp profile. */
export function podSecurity(name: ImageName): IIoK8sApiCoreV1PodSecurityContext {
  const { uid, gid } = imageUsers[name];
  return { runAsNonRoot: true, runAsUser: uid, runAsGroup: gid, fsGroup: gid, seccompProfile: { type: 'RuntimeDefault' } };
}

/** Every container: no privileges, no capabilities, nothing writable but its volumes. */
export const containerSecurity: IIoK8sApiCoreV1Container['securityContext'] = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/** Kubernetes CPU: whole CPUs as `1`, fractions in millicores (`100m`). */
const cpuQuantity = (cpus: number): string => (Number.isInteger(cpus) ? String(cpus) : `${Math.round(cpus * 1_000)}m`);

/** Requests and limits from the shared container sizes (compose's limits are the same). */
export function resources(name: ImageName): IIoK8sApiCoreV1ResourceRequirements {
  const { cpu, memoryMiB } = containerResources[name];
  return {
    requests: { cpu: cpuQuantity(cpu.request), memory: `${memoryMiB.request}Mi` },
    limits: { cpu: cpuQuantity(cpu.limit), memory: `${memoryMiB.limit}Mi` },
  };
}

export function httpProbe(path: string, periodSeconds: number, failureThreshold: number): IIoK8sApiCoreV1Probe {
  return { httpGet: { path, port: 'http' }, periodSeconds, timeoutSeconds: 2, failureThreshold };
}

/** The scratch space a read-only root leaves: /tmp, in memory, small. */
export const tmpVolume = { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: `${tmpSizeMiB}Mi` } };
export const tmpMount = { name: 'tmp', mountPath: '/tmp' };

/** Spread replicas over nodes when there are several; never refuse to schedule for it. */
export function spread(name: ImageName) {
  return [
    {
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway' as const,
      labelSelector: { matchLabels: selectorLabels(name) },
    },
  ];
}

/**
 * A pod marked for deletion keeps serving this long before SIGTERM (preStop), while its endpoint
 * leaves the Service and the ingress controller: no new request is sent to a pod that stops.
 */
export const preStopSeconds = 5;

export interface StatelessComponent {
  readonly replicas: number;
  readonly terminationGracePeriodSeconds: number;
  /** The container, less what every container here gets the same (name, image, security, preStop, /tmp). */
  readonly container: Omit<IIoK8sApiCoreV1Container, 'name' | 'image' | 'imagePullPolicy' | 'securityContext' | 'lifecycle'>;
  readonly volumes?: IIoK8sApiCoreV1Volume[];
  readonly podAnnotations?: Record<string, string>;
}

/**
 * A Deployment with what every stateless component here gets: unprivileged and read-only, no
 * service-account token or service links, spread over nodes, rolled one new pod at a time, and a
 * preStop wait before SIGTERM so it leaves the Service first.
 */
export function hardenedDeployment(name: ImageName, component: StatelessComponent): Deployment {
  const { container } = component;
  return new Deployment({
    metadata: { name: services[name], labels: labels(name) },
    spec: {
      replicas: component.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(name) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: labels(name), ...(component.podAnnotations ? { annotations: component.podAnnotations } : {}) },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurity(name),
          terminationGracePeriodSeconds: component.terminationGracePeriodSeconds,
          topologySpreadConstraints: spread(name),
          containers: [
            {
              name: services[name],
              image: image(name),
              imagePullPolicy: 'IfNotPresent',
              ...container,
              securityContext: containerSecurity,
              lifecycle: { preStop: { exec: { command: ['sleep', String(preStopSeconds)] } } },
              volumeMounts: [tmpMount, ...(container.volumeMounts ?? [])],
            },
          ],
          volumes: [tmpVolume, ...(component.volumes ?? [])],
        },
      },
    },
  });
}

/** A Service on a component's named container port; headless for Redis. */
export function componentService(name: ImageName, port: number, targetPort: string, headless = false): Service {
  return new Service({
    metadata: { name: services[name], labels: labels(name) },
    spec: {
      ...(headless ? { clusterIP: 'None' } : { type: 'ClusterIP' as const }),
      selector: selectorLabels(name),
      ports: [{ name: targetPort, port, targetPort, protocol: 'TCP' }],
    },
  });
}

/** Voluntary disruptions (drains, upgrades) take one pod at a time. */
export function disruptionBudget(name: ImageName): PodDisruptionBudget {
  return new PodDisruptionBudget({
    metadata: { name: services[name], labels: labels(name) },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(name) } },
  });
}
