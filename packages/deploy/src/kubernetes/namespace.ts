import { Namespace } from 'kubernetes-models/v1/Namespace';
import { namespace } from './common.js';

/** The namespace, held to the Pod Security Standards' restricted profile, which every pod here meets. */
export function namespaceManifests() {
  return [
    new Namespace({
      metadata: {
        name: namespace,
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
      },
    }),
  ];
}
