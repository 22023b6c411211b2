import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { headerNames, tokenPattern } from '@three-tier/shared';
import { badIdempotencyKey, errorUri } from '../src/blocks/edge-errors.js';
import { idempotencyKeyGuard, idempotencyKeyHeader, idempotencyKeyMap, requestIdMap } from '../src/blocks/request-maps.js';
import { directive, type Block } from '../src/index.js';
import { dnsTarget, serviceTarget, singleServerTarget, staticTarget } from './targets.js';
import { blocks, directives } from './tree.js';

/** A map block's entries, value by key. */
function entries(map: Block): Record<string, unknown> {
  return Object.fromEntries(map.children.flatMap((child) => (child.kind === 'directive' ? [[child.name, child.args[0]]] : [])));
}

describe('the request maps', () => {
  test("X-Request-ID: a well-formed one passes through, anything else gets nginx's own id", () => {
    const [map] = blocks(requestIdMap(), 'map');
    assert.ok(map);
    assert.deepEqual(map.args, ['$http_x_request_id', '$request_id_out']);
    assert.deepEqual(entries(map), { default: '$request_id', [`~${tokenPattern}`]: '$http_x_request_id' });
  });

  test('Idempotency-Key, where nginx may retry elsewhere: absent gets one per request, well-formed passes, malformed maps to empty and is refused', () => {
    for (const target of [staticTarget, serviceTarget, dnsTarget]) {
      const [map] = blocks(idempotencyKeyMap(target), 'map');
      assert.ok(map);
      assert.deepEqual(map.args, ['$http_idempotency_key', '$idempotency_key_out']);
      assert.deepEqual(entries(map), { '': '$request_id', [`~${tokenPattern}`]: '$http_idempotency_key', default: '' });
      const guard = idempotencyKeyGuard(target);
      assert.deepEqual(guard.args, ['($idempotency_key_out', '=', '', ')']);
      assert.deepEqual(directives(guard, 'rewrite')[0]?.args, ['^', errorUri(badIdempotencyKey.name), 'last']);
      assert.deepEqual(idempotencyKeyHeader(target), [directive('proxy_set_header', headerNames.idempotencyKey, '$idempotency_key_out')]);
    }
  });

  test('Idempotency-Key, with one api process: none made, the client\'s passes as sent, malformed is refused', () => {
    const [map] = blocks(idempotencyKeyMap(singleServerTarget), 'map');
    assert.ok(map);
    assert.deepEqual(map.args, ['$http_idempotency_key', '$idempotency_key_accepted']);
    assert.deepEqual(entries(map), { '': 1, [`~${tokenPattern}`]: 1, default: '' });
    const guard = idempotencyKeyGuard(singleServerTarget);
    assert.deepEqual(guard.args, ['($idempotency_key_accepted', '=', '', ')']);
    assert.deepEqual(directives(guard, 'rewrite')[0]?.args, ['^', errorUri(badIdempotencyKey.name), 'last']);
    // No proxy_set_header: nginx passes the client's header on by itself.
    assert.deepEqual(idempotencyKeyHeader(singleServerTarget), []);
  });
});
