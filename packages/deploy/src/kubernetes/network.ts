import { ports } from '@three-tier/shared';
import { NetworkPolicy, type INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
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

/**
 * Nothing moves unless allowed: the ingress controller to nginx, nginx to the api, the api to
 * Redis, and every pod to the cluster DNS. Nothing else, in or out.
 */
export function networkPolicies() {
  const policy = (name: string, spec: NonNullable<INetworkPolicy['spec']>) => new NetworkPolicy({ metadata: { name }, spec });
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
    policy('nginx-to-api', {
      podSelector: { matchLabels: selectorLabels('edge') },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: selectorLabels('api') } }], ports: [{ protocol: 'TCP', port: ports.api }] }],
    }),
    policy('api-from-nginx', {
      podSelector: { matchLabels: selectorLabels('api') },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: selectorLabels('edge') } }], ports: [{ protocol: 'TCP', port: ports.api }] }],
    }),
    policy('api-to-redis', {
      podSelector: { matchLabels: selectorLabels('api') },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: selectorLabels('redis') } }], ports: [{ protocol: 'TCP', port: ports.redis }] }],
    }),
    policy('redis-from-api', {
      podSelector: { matchLabels: selectorLabels('redis') },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: selectorLabels('api') } }], ports: [{ protocol: 'TCP', port: ports.redis }] }],
    }),
  ];
}
