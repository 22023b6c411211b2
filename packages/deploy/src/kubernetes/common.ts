import { readFileSync } from 'node:fs';
import { edge, routes, services } from '@three-tier/shared';
import type { IIoK8sApiCoreV1Container } from 'kubernetes-models/v1/Container';
import type { IIoK8sApiCoreV1PodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { IIoK8sApiCoreV1Probe } from 'kubernetes-models/v1/Probe';
import type { IIoK8sApiCoreV1ResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import { defaultImagePrefix, imageRepository, imageUsers, type ImageName } from '../images.js';

/** The namespace the kustomization puts everything in (kustomize can change it). */
export const namespace = 'three-tier';

/** The release version: image tags are pinned to it, never `latest`. */
export const version = (JSON.parse(readFileSync(new URL('../../../../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

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

export function resources(cpu: [string, string], memory: [string, string]): IIoK8sApiCoreV1ResourceRequirements {
  return { requests: { cpu: cpu[0], memory: memory[0] }, limits: { cpu: cpu[1], memory: memory[1] } };
}

export function httpProbe(path: string, periodSeconds: number, failureThreshold: number): IIoK8sApiCoreV1Probe {
  return { httpGet: { path, port: 'http' }, periodSeconds, timeoutSeconds: 2, failureThreshold };
}

/** The scratch space a read-only root leaves: /tmp, in memory, small. */
export const tmpVolume = { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } };
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

/** In-flight requests get this long after SIGTERM: the longest route's deadline. */
export const apiShutdownTimeoutMs = routes.load.timeoutMs;

/** nginx lets in-flight requests finish (worker_shutdown_timeout) within this. */
export const nginxShutdownSeconds = Math.ceil((Math.max(...Object.values(routes).map((route) => route.timeoutMs)) + edge.upstreamMarginMs + 5_000) / 1_000);
