import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tokenPattern } from '@three-tier/shared';
import { badIdempotencyKey, errorUri } from '../src/blocks/edge-errors.js';
import { idempotencyKeyGuard, idempotencyKeyMap, requestIdMap } from '../src/blocks/request-maps.js';
import type { Block } from '../src/index.js';
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

  test('Idempotency-Key: absent gets one per request, well-formed passes, malformed maps to empty and is refused', () => {
    const [map] = blocks(idempotencyKeyMap(), 'map');
    assert.ok(map);
    assert.deepEqual(map.args, ['$http_idempotency_key', '$idempotency_key_out']);
    assert.deepEqual(entries(map), { '': '$request_id', [`~${tokenPattern}`]: '$http_idempotency_key', default: '' });
    const guard = idempotencyKeyGuard();
    assert.deepEqual(guard.args, ['($idempotency_key_out', '=', '', ')']);
    assert.deepEqual(directives(guard, 'rewrite')[0]?.args, ['^', errorUri(badIdempotencyKey.name), 'last']);
  });
});
