import type { Arg, Node } from './ast.js';

const indentUnit = '    ';

/** Characters that end or split a bare nginx token. */
const needsQuotes = /[\s;{}"'#\\]|^$/;

/** One argument as nginx reads it: bare when safe, else single-quoted with ' and \ escaped. */
export function renderArg(arg: Arg): string {
  const text = String(arg);
  if (!needsQuotes.test(text)) return text;
  return `'${text.replace(/[\\']/g, (char) => `\\${char}`)}'`;
}

function renderNode(node: Node, depth: number): string[] {
  const indent = indentUnit.repeat(depth);
  switch (node.kind) {
    case 'blank':
      return [''];
    case 'comment':
      return node.text.split('\n').map((line) => `${indent}# ${line}`.trimEnd());
    case 'directive':
      // The name is quoted too: inside `map`, it is a value (a regex, say).
      return [`${indent}${[node.name, ...node.args].map(renderArg).join(' ')};`];
    case 'block':
      return [
        `${indent}${[node.name, ...node.args].map(renderArg).join(' ')} {`,
        ...node.children.flatMap((child) => renderNode(child, depth + 1)),
        `${indent}}`,
      ];
  }
}

/** The one serializer: a tree in, nginx.conf text out. */
export function render(nodes: readonly Node[]): string {
  return `${nodes.flatMap((node) => renderNode(node, 0)).join('\n')}\n`;
}
