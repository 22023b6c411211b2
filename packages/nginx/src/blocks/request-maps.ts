import { headerNames, tokenPattern } from '@three-tier/shared';
import { block, comment, directive, type Block, type Node } from '../ast.js';
import { headerVariable, vars } from '../variables.js';
import { badIdempotencyKey, errorUri } from './edge-errors.js';

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

/** The Idempotency-Key the api gets: the same on every try of one request. */
export function idempotencyKeyMap(): Node[] {
  const header = headerVariable(headerNames.idempotencyKey);
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
export function idempotencyKeyGuard(): Block {
  return block('if', [`(${vars.idempotencyKey}`, '=', '', ')'], [
    directive('rewrite', '^', errorUri(badIdempotencyKey.name), 'last'),
  ]);
}
