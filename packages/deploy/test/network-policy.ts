/**
 * A NetworkPolicy evaluator for tests: given policies, the cluster's namespaces and one connection,
 * answers whether Kubernetes (networking.k8s.io/v1 semantics) lets it through. Not a CNI: it models
 * what the API promises, and refuses (throws) on what the API server would reject.
 *
 * Modelling choices, where the API leaves room:
 * - Every endpoint has an IPv4 address. ipBlock matches by address, pods included: the docs say
 *   ipBlock is meant for cluster-external IPs but leave pod IPs to the implementation (Calico matches
 *   them), so a test that relies on "ipBlock cannot reach a pod" would prove nothing.
 * - Traffic between two endpoints no policy governs is allowed; an endpoint outside the cluster is
 *   governed by nothing.
 * - Kubelet probes and host-network traffic are out of scope.
 */

export type Labels = Readonly<Record<string, string>>;

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Labels;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface PolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface PolicyPort {
  readonly protocol?: Protocol;
  readonly port?: number | string;
  readonly endPort?: number;
}

export interface PolicyRule {
  readonly from?: readonly PolicyPeer[];
  readonly to?: readonly PolicyPeer[];
  readonly ports?: readonly PolicyPort[];
}

export interface NetworkPolicy {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec: {
    readonly podSelector: LabelSelector;
    readonly policyTypes?: readonly ('Ingress' | 'Egress')[];
    readonly ingress?: readonly PolicyRule[];
    readonly egress?: readonly PolicyRule[];
  };
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: Protocol;
}

export interface Pod {
  readonly kind: 'pod';
  readonly namespace: string;
  readonly labels: Labels;
  readonly ip: string;
  /** Every container's ports: named ports in a policy resolve against these. */
  readonly ports?: readonly ContainerPort[];
}

/** Makes pods with an address each in `subnet` ("10.42.0"), from .10 on. */
export function podMaker(subnet: string): (namespace: string, labels: Labels, ports?: Pod['ports']) => Pod {
  let host = 10;
  return (namespace, labels, ports = []) => ({ kind: 'pod', namespace, labels, ip: `${subnet}.${String(host++)}`, ports });
}

/** An address outside the cluster: no policy selects it, only an ipBlock can name it. */
export interface External {
  readonly kind: 'external';
  readonly ip: string;
}

export type Endpoint = Pod | External;

export interface Connection {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly port: number;
  readonly protocol?: Protocol;
}

/** Namespaces by name, with their labels; each also carries `kubernetes.io/metadata.name`, as the API server sets it. */
export type Namespaces = Readonly<Record<string, Labels>>;

const namespaceNameLabel = 'kubernetes.io/metadata.name';

/** Whether `labels` satisfy a LabelSelector: every matchLabels pair and every expression. An empty selector matches everything. */
export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
  const pairs = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  return pairs && (selector.matchExpressions ?? []).every((requirement) => requirementMatches(requirement, labels));
}

function requirementMatches({ key, operator, values = [] }: LabelSelectorRequirement, labels: Labels): boolean {
  const has = Object.hasOwn(labels, key);
  switch (operator) {
    case 'In':
    case 'NotIn': {
      if (values.length === 0) throw new Error(`${key} ${operator}: values must be non-empty`);
      const listed = has && values.includes(labels[key] ?? '');
      // NotIn also matches pods that do not have the key at all.
      return operator === 'In' ? listed : !listed;
    }
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) throw new Error(`${key} ${operator}: values must be empty`);
      return operator === 'Exists' ? has : !has;
    default:
      throw new Error(`unknown selector operator ${operator}`);
  }
}

function ipv4(address: string): number {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) {
    throw new Error(`not an IPv4 address: ${address}`);
  }
  return parts.reduce((sum, part) => sum * 256 + Number(part), 0);
}

/** A CIDR's first address and prefix length (IPv4, `a.b.c.d/n`); the address is masked, as Go's ParseCIDR does. */
function parseCidr(cidr: string): { network: number; length: number } {
  const [base = '', bits = ''] = cidr.split('/');
  const length = Number(bits);
  if (!/^\d{1,2}$/.test(bits) || length > 32) throw new Error(`not a CIDR: ${cidr}`);
  const size = 2 ** (32 - length);
  return { network: Math.floor(ipv4(base) / size) * size, length };
}

/** Whether `address` lies in `cidr` (IPv4, `a.b.c.d/n`). */
export function inCidr(address: string, cidr: string): boolean {
  const { network, length } = parseCidr(cidr);
  const size = 2 ** (32 - length);
  return Math.floor(ipv4(address) / size) * size === network;
}

/**
 * Whether `inner` is a strict subset of `outer`, as the API server requires of an ipBlock's except:
 * its network inside `outer`, and its prefix longer (an except as wide as its cidr, or wider, is refused).
 */
export function strictSubset(inner: string, outer: string): boolean {
  const { network, length } = parseCidr(inner);
  const parts = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256);
  return length > parseCidr(outer).length && inCidr(parts.join('.'), outer);
}

function namespaceLabels(namespaces: Namespaces, name: string): Labels {
  const labels = namespaces[name];
  if (!labels) throw new Error(`unknown namespace ${name}`);
  return { ...labels, [namespaceNameLabel]: name };
}

/** Whether one peer of a rule in a policy of `policyNamespace` names `endpoint`. */
function peerMatches(peer: PolicyPeer, policyNamespace: string, endpoint: Endpoint, namespaces: Namespaces): boolean {
  if (peer.ipBlock) {
    if (peer.podSelector || peer.namespaceSelector) throw new Error('ipBlock cannot be combined with a selector in one peer');
    const { cidr, except = [] } = peer.ipBlock;
    for (const hole of except) {
      if (!strictSubset(hole, cidr)) throw new Error(`except ${hole} is not a strict subset of ${cidr}`);
    }
    return inCidr(endpoint.ip, cidr) && !except.some((hole) => inCidr(endpoint.ip, hole));
  }
  if (!peer.podSelector && !peer.namespaceSelector) throw new Error('a peer needs a podSelector, a namespaceSelector or an ipBlock');
  // Selectors name pods only; an address outside the cluster is reachable through an ipBlock alone.
  if (endpoint.kind !== 'pod') return false;
  // Without a namespaceSelector, a podSelector looks in the policy's own namespace only.
  const namespaceOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, namespaceLabels(namespaces, endpoint.namespace))
    : endpoint.namespace === policyNamespace;
  return namespaceOk && selectorMatches(peer.podSelector ?? {}, endpoint.labels);
}

/** Whether a rule's port entry covers the connection; named ports resolve against the destination pod. */
function portMatches(entry: PolicyPort, destination: Endpoint, port: number, protocol: Protocol): boolean {
  if ((entry.protocol ?? 'TCP') !== protocol) return false;
  if (entry.port === undefined) return true;
  if (typeof entry.port === 'string') {
    if (entry.endPort !== undefined) throw new Error('endPort needs a numeric port');
    if (destination.kind !== 'pod') return false;
    return (destination.ports ?? []).some(
      (candidate) => candidate.name === entry.port && candidate.containerPort === port && (candidate.protocol ?? 'TCP') === protocol,
    );
  }
  if (entry.endPort !== undefined && entry.endPort < entry.port) throw new Error('endPort below port');
  return port >= entry.port && port <= (entry.endPort ?? entry.port);
}

/**
 * The directions a policy governs: its policyTypes; when they are omitted or empty, the API server
 * defaults them (SetDefaults_NetworkPolicy): Ingress, plus Egress when the policy has at least one
 * egress rule. So `egress: []` without policyTypes governs no egress, and egress rules under
 * policyTypes without Egress are ignored.
 */
export function policyTypes(policy: NetworkPolicy): readonly ('Ingress' | 'Egress')[] {
  const { policyTypes: given = [], egress = [] } = policy.spec;
  if (given.length > 0) return given;
  return egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

function policyNamespace(policy: NetworkPolicy): string {
  const { namespace } = policy.metadata;
  if (namespace === undefined) throw new Error(`NetworkPolicy ${policy.metadata.name} has no namespace`);
  return namespace;
}

/**
 * One side of a connection: `pod` is isolated for `direction` when any policy of its namespace
 * selects it with that type; then some rule of those policies must name `other` and the port.
 */
function sideAllows(
  policies: readonly NetworkPolicy[],
  namespaces: Namespaces,
  direction: 'Ingress' | 'Egress',
  pod: Endpoint,
  other: Endpoint,
  destination: Endpoint,
  port: number,
  protocol: Protocol,
): boolean {
  if (pod.kind !== 'pod') return true;
  const governing = policies.filter(
    (policy) =>
      policyNamespace(policy) === pod.namespace && policyTypes(policy).includes(direction) && selectorMatches(policy.spec.podSelector, pod.labels),
  );
  if (governing.length === 0) return true;
  return governing.some((policy) =>
    ((direction === 'Ingress' ? policy.spec.ingress : policy.spec.egress) ?? []).some((rule) => {
      const peers = direction === 'Ingress' ? rule.from : rule.to;
      // An absent or empty list of peers or ports matches all of them.
      const peerOk = !peers?.length || peers.some((peer) => peerMatches(peer, policyNamespace(policy), other, namespaces));
      const portOk = !rule.ports?.length || rule.ports.some((entry) => portMatches(entry, destination, port, protocol));
      return peerOk && portOk;
    }),
  );
}

/** Whether the policies let `connection` through: the source's egress and the destination's ingress must both allow it. */
export function allows(policies: readonly NetworkPolicy[], namespaces: Namespaces, connection: Connection): boolean {
  const { from, to, port } = connection;
  const protocol = connection.protocol ?? 'TCP';
  return (
    sideAllows(policies, namespaces, 'Egress', from, to, to, port, protocol) &&
    sideAllows(policies, namespaces, 'Ingress', to, from, to, port, protocol)
  );
}
