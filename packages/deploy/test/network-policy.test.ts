import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allows, inCidr, policyTypes, selectorMatches, strictSubset, type Connection, type Endpoint, type NetworkPolicy, type Namespaces, type Pod } from './network-policy.js';

const namespaces: Namespaces = {
  app: { team: 'web' },
  monitoring: { team: 'ops', purpose: 'metrics' },
  other: {},
};

let nextIp = 10;
const pod = (namespace: string, labels: Record<string, string>, ports: Pod['ports'] = []): Pod => ({
  kind: 'pod',
  namespace,
  labels,
  ip: `10.0.0.${String(nextIp++)}`,
  ports,
});
const external = (ip: string): Endpoint => ({ kind: 'external', ip });

const web = pod('app', { app: 'web', tier: 'front' }, [{ name: 'http', containerPort: 8080 }]);
const api = pod('app', { app: 'api', tier: 'back' }, [
  { name: 'http', containerPort: 3000 },
  { name: 'dns', containerPort: 3000, protocol: 'UDP' },
]);
const unlabelled = pod('app', {});
const prometheus = pod('monitoring', { app: 'prometheus' });
const webElsewhere = pod('other', { app: 'web', tier: 'front' });
const apiElsewhere = pod('other', { app: 'api' });

const policy = (name: string, spec: NetworkPolicy['spec'], namespace = 'app'): NetworkPolicy => ({ metadata: { name, namespace }, spec });
/** Isolates the api for ingress, admitting only what `from` and `ports` say. */
const apiIngress = (rule: NonNullable<NetworkPolicy['spec']['ingress']>[number]): NetworkPolicy[] => [
  policy('api-in', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Ingress'], ingress: [rule] }),
];
const to = (destination: Endpoint, from: Endpoint, port = 3000, protocol: Connection['protocol'] = 'TCP'): Connection => ({
  from,
  to: destination,
  port,
  protocol,
});

/**
 * Each case pairs a connection the policies must admit with a near twin they must reject, so an
 * evaluator that always says yes, or always no, fails every one of them.
 */
const cases: { name: string; policies: NetworkPolicy[]; admits: Connection; rejects: Connection }[] = [
  {
    name: 'no policy selects the pod: everything is allowed; a policy that selects it denies the rest',
    policies: [policy('web-only', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] })],
    admits: to(api, unlabelled),
    rejects: to(web, unlabelled, 8080),
  },
  {
    name: 'default deny with an empty podSelector isolates every pod of its namespace, not of others',
    policies: [policy('deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })],
    admits: to(apiElsewhere, webElsewhere),
    rejects: to(api, webElsewhere),
  },
  {
    name: 'Egress isolation is checked on the source, apart from the destination’s ingress',
    policies: [policy('web-out', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'api' } } }] }] })],
    admits: to(api, web),
    rejects: to(prometheus, web),
  },
  {
    name: 'an Egress-only policy does not isolate ingress',
    policies: [policy('web-out', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'] })],
    admits: to(web, unlabelled, 8080),
    rejects: to(unlabelled, web, 8080),
  },
  {
    name: 'policyTypes omitted: Ingress, plus Egress only when there are egress rules',
    policies: [
      policy('web-implicit', { podSelector: { matchLabels: { app: 'web' } } }),
      policy('api-implicit', { podSelector: { matchLabels: { app: 'api' } }, egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }] }] }),
    ],
    admits: to(unlabelled, web, 8080),
    rejects: to(unlabelled, api, 8080),
  },
  {
    name: 'policyTypes omitted with `egress: []`: no egress section, so egress is not governed; with Egress listed, all egress is denied',
    policies: [
      policy('web-implicit', { podSelector: { matchLabels: { app: 'web' } }, egress: [] }),
      policy('api-no-egress', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Egress'], egress: [] }),
    ],
    admits: to(unlabelled, web, 8080),
    rejects: to(unlabelled, api),
  },
  {
    name: 'egress rules under policyTypes without Egress govern nothing',
    policies: [
      policy('web-ingress-only', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'api' } } }] }] }),
      policy('api-both', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Ingress', 'Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }] }] }),
    ],
    admits: to(unlabelled, web, 8080),
    rejects: to(unlabelled, api, 8080),
  },
  {
    name: 'policyTypes: [] is defaulted as if omitted: Ingress (here no ingress rule, so none admitted)',
    policies: [policy('api-empty-types', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: [] })],
    admits: to(web, api, 8080),
    rejects: to(api, web),
  },
  {
    name: 'both sides must allow: egress allowed is not enough when the destination denies ingress',
    policies: [
      policy('web-out', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'], egress: [{}] }),
      ...apiIngress({ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }),
    ],
    admits: to(api, web),
    rejects: to(api, unlabelled),
  },
  {
    name: 'a policy applies only in its own namespace',
    policies: [policy('deny-other', { podSelector: {}, policyTypes: ['Ingress'] }, 'other')],
    admits: to(api, web),
    rejects: to(apiElsewhere, web),
  },
  {
    name: 'matchLabels needs every pair',
    policies: apiIngress({ from: [{ podSelector: { matchLabels: { app: 'web', tier: 'front' } } }] }),
    admits: to(api, web),
    rejects: to(api, pod('app', { app: 'web', tier: 'back' })),
  },
  {
    name: 'In matches a listed value only',
    policies: apiIngress({ from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'edge'] }] } }] }),
    admits: to(api, web),
    rejects: to(api, unlabelled),
  },
  {
    name: 'NotIn rejects a listed value',
    policies: apiIngress({ from: [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] } }] }),
    admits: to(api, pod('app', { app: 'worker' })),
    rejects: to(api, web),
  },
  {
    name: 'NotIn matches a pod without the key at all',
    policies: apiIngress({ from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] } }] }),
    admits: to(api, unlabelled),
    rejects: to(api, web),
  },
  {
    name: 'Exists needs the key, whatever its value',
    policies: apiIngress({ from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }] }),
    admits: to(api, pod('app', { tier: '' })),
    rejects: to(api, unlabelled),
  },
  {
    name: 'DoesNotExist needs the key absent',
    policies: apiIngress({ from: [{ podSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] } }] }),
    admits: to(api, unlabelled),
    rejects: to(api, web),
  },
  {
    name: 'matchLabels and matchExpressions are ANDed',
    policies: apiIngress({
      from: [{ podSelector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] } }],
    }),
    admits: to(api, pod('app', { app: 'web' })),
    rejects: to(api, web),
  },
  {
    name: 'a podSelector alone looks in the policy’s namespace only',
    policies: apiIngress({ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }),
    admits: to(api, web),
    rejects: to(api, webElsewhere),
  },
  {
    name: 'an empty podSelector in a peer means every pod of the policy’s namespace',
    policies: apiIngress({ from: [{ podSelector: {} }] }),
    admits: to(api, unlabelled),
    rejects: to(api, prometheus),
  },
  {
    name: 'namespaceSelector matchLabels selects namespaces by their labels',
    policies: apiIngress({ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }] }),
    admits: to(api, prometheus),
    rejects: to(api, web),
  },
  {
    name: 'namespaceSelector expressions see the kubernetes.io/metadata.name label',
    policies: apiIngress({ from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['other'] }] } }] }),
    admits: to(api, webElsewhere),
    rejects: to(api, prometheus),
  },
  {
    name: 'namespaceSelector NotIn and Exists on namespace labels',
    policies: apiIngress({
      from: [{ namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'Exists' }, { key: 'team', operator: 'NotIn', values: ['ops'] }] } }],
    }),
    admits: to(api, web),
    rejects: to(api, webElsewhere),
  },
  {
    name: 'an empty namespaceSelector means every namespace, but no address outside the cluster',
    policies: apiIngress({ from: [{ namespaceSelector: {} }] }),
    admits: to(api, prometheus),
    rejects: to(api, external('10.0.0.200')),
  },
  {
    name: 'namespaceSelector and podSelector in one peer: both must match (AND)',
    policies: apiIngress({ from: [{ namespaceSelector: { matchLabels: { team: 'web' } }, podSelector: { matchLabels: { app: 'web' } } }] }),
    admits: to(api, web),
    rejects: to(api, webElsewhere),
  },
  {
    name: 'namespaceSelector and podSelector as two peers: either may match (OR)',
    policies: apiIngress({ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }, { podSelector: { matchLabels: { app: 'web' } } }] }),
    admits: to(api, prometheus),
    rejects: to(api, webElsewhere),
  },
  {
    name: 'ipBlock selects addresses, not pods by label: an outside address in the CIDR',
    policies: apiIngress({ from: [{ ipBlock: { cidr: '203.0.113.0/24' } }] }),
    admits: to(api, external('203.0.113.7')),
    rejects: to(api, external('198.51.100.7')),
  },
  {
    name: 'ipBlock except carves holes out of the CIDR',
    policies: apiIngress({ from: [{ ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.128/25'] } }] }),
    admits: to(api, external('203.0.113.127')),
    rejects: to(api, external('203.0.113.128')),
  },
  {
    name: 'ipBlock matches a pod by its address only, not by being in the namespace',
    policies: apiIngress({ from: [{ ipBlock: { cidr: `${web.ip}/32` } }] }),
    admits: to(api, web),
    rejects: to(api, unlabelled),
  },
  {
    name: 'egress to an ipBlock: the internet except the cluster network',
    policies: [
      policy('web-out', {
        podSelector: { matchLabels: { app: 'web' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }],
      }),
    ],
    admits: to(external('93.184.215.14'), web, 443),
    rejects: to(api, web),
  },
  {
    name: 'a numeric port matches that port only, TCP by default',
    policies: apiIngress({ ports: [{ port: 3000 }] }),
    admits: to(api, web, 3000),
    rejects: to(api, web, 3001),
  },
  {
    name: 'the protocol must match',
    policies: apiIngress({ ports: [{ port: 3000, protocol: 'TCP' }] }),
    admits: to(api, web, 3000, 'TCP'),
    rejects: to(api, web, 3000, 'UDP'),
  },
  {
    name: 'a port range with endPort',
    policies: apiIngress({ ports: [{ port: 3000, endPort: 3010 }] }),
    admits: to(api, web, 3010),
    rejects: to(api, web, 3011),
  },
  {
    name: 'a protocol without a port matches every port of it',
    policies: apiIngress({ ports: [{ protocol: 'UDP' }] }),
    admits: to(api, web, 53, 'UDP'),
    rejects: to(api, web, 53, 'TCP'),
  },
  {
    name: 'a named port resolves against the destination pod’s container ports',
    policies: apiIngress({ ports: [{ port: 'http' }] }),
    admits: to(api, web, 3000),
    rejects: to(api, web, 8080),
  },
  {
    name: 'a named port resolves with its protocol',
    policies: apiIngress({ ports: [{ port: 'dns', protocol: 'UDP' }] }),
    admits: to(api, web, 3000, 'UDP'),
    rejects: to(api, web, 3000, 'TCP'),
  },
  {
    name: 'a named egress port resolves against the destination, not the source',
    policies: [
      policy('web-out', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] }),
    ],
    admits: to(api, web, 3000),
    rejects: to(api, web, 8080),
  },
  {
    name: 'a named port never matches an address outside the cluster',
    policies: [
      policy('web-out', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] }),
    ],
    admits: to(api, web, 3000),
    rejects: to(external('93.184.215.14'), web, 3000),
  },
  {
    name: 'peers and ports of one rule are ANDed; rules and policies are ORed',
    policies: [
      ...apiIngress({ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 3000 }] }),
      policy('api-metrics', {
        podSelector: { matchLabels: { app: 'api' } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { purpose: 'metrics' } } }], ports: [{ port: 9090 }] }],
      }),
    ],
    admits: to(api, prometheus, 9090),
    rejects: to(api, prometheus, 3000),
  },
  {
    name: 'a peer with a namespace and a pod selector needs both: Prometheus in the monitoring namespace, not any pod there',
    policies: apiIngress({
      from: [{ namespaceSelector: { matchLabels: { purpose: 'metrics' } }, podSelector: { matchLabels: { app: 'prometheus' } } }],
      ports: [{ protocol: 'TCP', port: 3000 }],
    }),
    admits: to(api, prometheus),
    rejects: to(api, pod('monitoring', { app: 'grafana' })),
  },
  {
    name: 'the same selectors as two peers admit either: any pod of the monitoring namespace',
    policies: apiIngress({
      from: [{ namespaceSelector: { matchLabels: { purpose: 'metrics' } } }, { podSelector: { matchLabels: { app: 'prometheus' } } }],
    }),
    admits: to(api, pod('monitoring', { app: 'grafana' })),
    rejects: to(api, pod('other', { app: 'grafana' })),
  },
  {
    name: 'an empty rule admits everything; an empty rule list admits nothing',
    policies: [
      policy('web-all', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [{}] }),
      policy('api-none', { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Ingress'], ingress: [] }),
    ],
    admits: to(web, external('198.51.100.1'), 1),
    rejects: to(api, web),
  },
];

describe('the NetworkPolicy evaluator', () => {
  for (const { name, policies, admits, rejects } of cases) {
    test(name, () => {
      assert.equal(allows(policies, namespaces, admits), true, 'admits');
      assert.equal(allows(policies, namespaces, rejects), false, 'rejects');
    });
  }

  test('refuses what the API server would reject instead of guessing', () => {
    const invalid: NetworkPolicy['spec']['ingress'][] = [
      [{ from: [{ podSelector: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] } }] }],
      [{ from: [{ podSelector: { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] } }] }],
      [{ from: [{ podSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } }] }],
      [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }],
      [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['192.168.0.0/16'] } }] }],
      [{ from: [{}] }],
    ];
    for (const ingress of invalid) {
      assert.throws(() => allows([policy('bad', { podSelector: {}, ingress })], namespaces, to(api, web)), JSON.stringify(ingress));
    }
    assert.throws(() => allows([{ metadata: { name: 'nameless' }, spec: { podSelector: {} } }], namespaces, to(api, web)), /no namespace/);
  });

  test('an ipBlock except leaves out every address inside the excepted CIDR, its first, middle and last, and nothing beside it', () => {
    const policies = apiIngress({ from: [{ ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.128/26', '203.0.113.7/32'] } }] });
    const from = (ip: string): boolean => allows(policies, namespaces, to(api, external(ip)));
    assert.deepEqual(['203.0.113.128', '203.0.113.160', '203.0.113.191', '203.0.113.7'].map(from), [false, false, false, false]);
    assert.deepEqual(['203.0.113.127', '203.0.113.192', '203.0.113.6', '203.0.113.8', '203.0.113.255'].map(from), [true, true, true, true, true]);
  });

  test('an except must be a strict subset of its cidr, as the API server checks, whatever its first address', () => {
    const peer = (except: string): NetworkPolicy[] => apiIngress({ from: [{ ipBlock: { cidr: '10.1.0.0/16', except: [except] } }] });
    assert.equal(allows(peer('10.1.2.0/24'), namespaces, to(api, external('10.1.3.4'))), true);
    // Its first address lies inside the cidr, but it is as wide, or wider, or (host bits set) its network lies outside.
    for (const except of ['10.1.0.0/16', '10.1.0.0/8', '10.1.2.3/8', '10.2.0.0/24']) {
      assert.throws(() => allows(peer(except), namespaces, to(api, external('10.1.3.4'))), /not a strict subset/, except);
    }
    assert.equal(strictSubset('10.1.2.0/24', '10.1.0.0/16'), true);
    assert.equal(strictSubset('10.1.0.0/16', '10.1.0.0/16'), false);
  });

  test('policyTypes as the API server defaults them', () => {
    const spec = (extra: Partial<NetworkPolicy['spec']>): NetworkPolicy => policy('p', { podSelector: {}, ...extra });
    assert.deepEqual(policyTypes(spec({})), ['Ingress']);
    assert.deepEqual(policyTypes(spec({ egress: [] })), ['Ingress']);
    assert.deepEqual(policyTypes(spec({ policyTypes: [], egress: [{}] })), ['Ingress', 'Egress']);
    assert.deepEqual(policyTypes(spec({ policyTypes: ['Egress'], ingress: [{}] })), ['Egress']);
  });

  test('selectors and CIDRs on their own', () => {
    assert.equal(selectorMatches({}, {}), true);
    assert.equal(selectorMatches({ matchLabels: { a: '1' } }, { a: '2' }), false);
    assert.equal(inCidr('10.1.2.3', '10.0.0.0/8'), true);
    assert.equal(inCidr('11.0.0.0', '10.0.0.0/8'), false);
    assert.equal(inCidr('203.0.113.5', '0.0.0.0/0'), true);
    assert.throws(() => inCidr('10.0.0.1', '10.0.0.0/33'));
    assert.throws(() => inCidr('10.0.0.256', '10.0.0.0/8'));
  });
});
