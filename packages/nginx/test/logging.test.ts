import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accessLogging } from '../src/blocks/logging.js';
import { bufferedLogTarget, quietLogTarget, staticTarget } from './targets.js';
import { blocks, directivesIn } from './tree.js';

describe('the access log', () => {
  test('keeps every request unless the target asks for less', () => {
    const nodes = accessLogging(staticTarget);
    assert.deepEqual(directivesIn(nodes, 'access_log')[0]?.args, ['/dev/stdout', 'json']);
    assert.equal(blocks(nodes, 'map').length, 0);
  });

  test('keeps answers from statusFrom up, and requests nginx tried on more than one instance', () => {
    const nodes = accessLogging(quietLogTarget);
    assert.deepEqual(directivesIn(nodes, 'access_log')[0]?.args, ['/dev/stdout', 'json', 'if=$access_logged']);
    const [status, logged] = blocks(nodes, 'map');
    assert.deepEqual(status?.args, ['$status', '$access_log_status']);
    assert.equal(status?.children.length, 2, 'default and one pattern');
    assert.ok(status);
    const pattern = directivesIn(status.children, '~^[4-9]')[0]?.name ?? '';
    const statusRegex = new RegExp(pattern.slice(1));
    for (const code of ['200', '204', '304', '399']) assert.doesNotMatch(code, statusRegex, code);
    for (const code of ['400', '404', '429', '499', '502']) assert.match(code, statusRegex, code);
    assert.deepEqual(logged?.args, ['$upstream_addr', '$access_logged']);
    const entries = Object.fromEntries(logged?.children.flatMap((child) => (child.kind === 'directive' ? [[child.name, child.args[0]]] : [])) ?? []);
    // A comma in $upstream_addr: nginx tried several instances; otherwise the status decides.
    assert.deepEqual(entries, { default: '$access_log_status', '~,': 1 });
  });

  test('is buffered where the target asks, in nginx’s units', () => {
    const nodes = accessLogging(bufferedLogTarget);
    assert.deepEqual(directivesIn(nodes, 'access_log')[0]?.args, ['/dev/stdout', 'json', 'buffer=8k', 'flush=1500ms']);
  });
});
