import { ports } from '@three-tier/shared';
import { NetworkPolicy, type INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { ImageName } from '../images.js';
import { selectorLabels } from './common.js';

/**
 * Where ingress controllers usually run (ingress-nginx's own namespace; kube-system for the RKE2
 * and k3s ones) and what they are called there. Only those pods may reach nginx: adjust both lists
 * to your controller.
 */
export const ingressControllerNamespaces = ['ingress-nginx', 'kube-system'];
export const ingressControllerNames = ['ingress-nginx', 'rke2-ingress-nginx', 'traefik'];

const inNamespaces = (names: string[]) => ({
  namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: names }] },
});

const policy = (name: string, spec: NonNullable<INetworkPolicy['spec']>): NetworkPolicy => new NetworkPolicy({ metadata: { name }, spec });

/** A component by the name its policies use and the image its pods run. */
interface Party {
  readonly name: string;
  readonly image: ImageName;
}

/** `from` may reach `to` on TCP `port`: an egress policy on the caller and its ingress twin on the callee. */
function connection(from: Party, to: Party, port: number): NetworkPolicy[] {
  const allowed = (image: ImageName) => [{ podSelector: { matchLabels: selectorLabels(image) } }];
  // Fresh objects each time: a YAML writer would print a shared one as an anchor.
  const tcp = () => [{ protocol: 'TCP' as const, port }];
  return [
    policy(`${from.name}-to-${to.name}`, {
      podSelector: { matchLabels: selectorLabels(from.image) },
      policyTypes: ['Egress'],
      egress: [{ to: allowed(to.image), ports: tcp() }],
    }),
    policy(`${to.name}-from-${from.name}`, {
      podSelector: { matchLabels: selectorLabels(to.image) },
      policyTypes: ['Ingress'],
      ingress: [{ from: allowed(from.image), ports: tcp() }],
    }),
  ];
}

/**
 * Nothing moves unless allowed: the ingress controller to nginx, nginx to the api, the api to
 * Redis, and every pod to the cluster DNS. Nothing else, in or out.
 */
export function networkPolicies() {
  return [
    policy('default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    policy('dns', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ ...inNamespaces(['kube-system']), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    }),
    policy('ingress-to-nginx', {
      podSelector: { matchLabels: selectorLabels('edge') },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            {
              ...inNamespaces(ingressControllerNamespaces),
              podSelector: { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ingressControllerNames }] },
            },
          ],
          ports: [{ protocol: 'TCP', port: ports.edge }],
        },
      ],
    }),
    ...connection({ name: 'nginx', image: 'edge' }, { name: 'api', image: 'api' }, ports.api),
    ...connection({ name: 'api', image: 'api' }, { name: 'redis', image: 'redis' }, ports.redis),
  ];
}
