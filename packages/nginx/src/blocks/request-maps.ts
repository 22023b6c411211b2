import { headerNames, tokenPattern } from '@three-tier/shared';
import { block, comment, directive, type Block, type Node } from '../ast.js';
import type { Target } from '../target.js';
import { headerVariable, vars } from '../variables.js';
import { badIdempotencyKey, errorUri } from './edge-errors.js';
import { retriesElsewhere } from './upstream.js';

/** The request id every answer and log line carries. */
export function requestIdMap(): Node[] {
  const header = headerVariable(headerNames.requestId);
  return [
    comment(`A well-formed ${headerNames.requestId} passes through; anything else gets nginx's own id.`),
    block('map', [header, vars.requestId], [
      directive('default', '$request_id'),
      directive(`~${tokenPattern}`, header),
    ]),
  ];
}

/**
 * The Idempotency-Key the api gets. Where nginx may retry a request on another instance
 * (`retriesElsewhere`), one per request that stays the same on every try, so the api counts the
 * visit once; where it cannot, the client's own passes through as sent and a request without one
 * is counted plainly (the once-per-key count costs Redis a second key per request). Either way a
 * malformed key is refused (`idempotencyKeyGuard`).
 */
export function idempotencyKeyMap(target: Target): Node[] {
  const header = headerVariable(headerNames.idempotencyKey);
  if (!retriesElsewhere(target)) {
    return [
      comment(
        [
          `${headerNames.idempotencyKey}: the client's, passed on as sent. With one api instance nginx never tries a`,
          'request on another, so a request without one needs none to be counted once. A malformed one is',
          'refused (below), as the api refuses it.',
        ].join('\n'),
      ),
      block('map', [header, vars.idempotencyKeyAccepted], [
        directive('default', ''),
        directive('', 1),
        directive(`~${tokenPattern}`, 1),
      ]),
    ];
  }
  return [
    comment(
      [
        `${headerNames.idempotencyKey}: the client's, or one per request that stays the same when nginx retries`,
        'on another instance, so the api counts the visit once. A malformed one maps to nothing, and the',
        'request is refused (below), as the api refuses it: replacing it would drop the idempotency asked for.',
      ].join('\n'),
    ),
    block('map', [header, vars.idempotencyKey], [
      directive('default', ''),
      directive('', '$request_id'),
      directive(`~${tokenPattern}`, header),
    ]),
  ];
}

/** The refusal the idempotency map announces: its empty value means the client's key was malformed. */
export function idempotencyKeyGuard(target: Target): Block {
  const variable = retriesElsewhere(target) ? vars.idempotencyKey : vars.idempotencyKeyAccepted;
  return block('if', [`(${variable}`, '=', '', ')'], [
    directive('rewrite', '^', errorUri(badIdempotencyKey.name), 'last'),
  ]);
}

/** The key nginx sends the api, where it makes one (see idempotencyKeyMap); else the client's passes as is. */
export function idempotencyKeyHeader(target: Target): Node[] {
  return retriesElsewhere(target) ? [directive('proxy_set_header', headerNames.idempotencyKey, vars.idempotencyKey)] : [];
}
