/**
 * nginx configuration as data: directives and blocks. Generators build trees of these; only
 * `render` turns them into text, so quoting and indentation live in one place.
 */

export type Arg = string | number;

export interface Directive {
  readonly kind: 'directive';
  readonly name: string;
  readonly args: readonly Arg[];
}

export interface Block {
  readonly kind: 'block';
  readonly name: string;
  readonly args: readonly Arg[];
  readonly children: readonly Node[];
}

/** A `# comment` line: the generated file explains itself. */
export interface Comment {
  readonly kind: 'comment';
  readonly text: string;
}

export interface Blank {
  readonly kind: 'blank';
}

export type Node = Directive | Block | Comment | Blank;

export function directive(name: string, ...args: Arg[]): Directive {
  return { kind: 'directive', name, args };
}

export function block(name: string, args: readonly Arg[], children: readonly Node[]): Block {
  return { kind: 'block', name, args, children };
}

export function comment(text: string): Comment {
  return { kind: 'comment', text };
}

export const blank: Blank = { kind: 'blank' };

/**
 * Sections with a blank line between each, as a file is read: a single node is a section of its
 * own, and an empty section (a part the target does not need) leaves no blank behind.
 */
export function separated(sections: readonly (Node | readonly Node[])[]): Node[] {
  const nonEmpty = sections
    .map((section): readonly Node[] => (isNodeList(section) ? section : [section]))
    .filter((section) => section.length > 0);
  return nonEmpty.flatMap((section, index) => (index === 0 ? section : [blank, ...section]));
}

function isNodeList(section: Node | readonly Node[]): section is readonly Node[] {
  return Array.isArray(section);
}
