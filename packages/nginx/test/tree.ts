import assert from 'node:assert/strict';
import type { Block, Directive, Node } from '../src/index.js';

/** Every block of that name, at any depth. */
export function blocks(nodes: readonly Node[], name: string): Block[] {
  return nodes.flatMap((node) =>
    node.kind === 'block' ? [...(node.name === name ? [node] : []), ...blocks(node.children, name)] : [],
  );
}

/** A block's own directives of that name (not those of blocks inside it). */
export function directives(node: Block, name: string): Directive[] {
  return node.children.filter((child): child is Directive => child.kind === 'directive' && child.name === name);
}

/** The same, over a list of nodes. */
export function directivesIn(nodes: readonly Node[], name: string): Directive[] {
  return directives({ kind: 'block', name: '', args: [], children: nodes }, name);
}

export function locationFor(tree: readonly Node[], path: string): Block {
  const found = blocks(tree, 'location').find((location) => location.args[0] === '=' && location.args[1] === path);
  assert.ok(found, `a location for ${path}`);
  return found;
}
