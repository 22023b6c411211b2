import { separated, type Node } from './ast.js';
import { httpBlock } from './blocks/http.js';
import { eventsBlock, fileComment, mainContext } from './blocks/main.js';
import { render } from './render.js';
import type { Target } from './target.js';

export { upstreamTries } from './blocks/upstream.js';

/**
 * The whole nginx.conf for a target, as a tree: each part built by its own builder in blocks/.
 * Pure: same target, same tree.
 */
export function generate(target: Target): Node[] {
  return separated([[fileComment(target), ...mainContext(target)], eventsBlock(), httpBlock(target)]);
}

/** The files of a target, by name. nginx.conf is the only one today. */
export function generateFiles(target: Target): Record<string, string> {
  return { 'nginx.conf': render(generate(target)) };
}
