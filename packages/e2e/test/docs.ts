/**
 * The documentation as the tests read it: README.md and every page of docs/, their sections, the
 * commands of their `sh` blocks, and their links.
 */
import { readdir, readFile } from 'node:fs/promises';
import { repoRoot } from '@three-tier/cli-kit';

/** A page of the documentation: its path from the repository's root, and its text. */
export interface DocPage {
  readonly file: string;
  readonly text: string;
}

/** One page, by its path from the repository's root. */
export function readDoc(file: string): Promise<string> {
  return readFile(`${repoRoot}${file}`, 'utf8');
}

/** README.md, then docs/*.md in name order. */
export async function readDocs(): Promise<DocPage[]> {
  const pages = (await readdir(`${repoRoot}docs`)).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`);
  return Promise.all(['README.md', ...pages].map(async (file) => ({ file, text: await readDoc(file) })));
}

/** The text without its fenced code blocks (a `#` line in a YAML block is no heading). */
export function withoutFences(text: string): string {
  return text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
}

/** The text with each line of its fenced code blocks kept, but a leading `#` there made a space. */
function withoutFenceHeadings(text: string): string {
  return text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, (block) => block.replace(/^#/gm, ' '));
}

/**
 * A section: from its heading (any level, matched at the start of the heading's text) to the next
 * heading of its level or above; empty when there is none.
 */
export function docSection(text: string, heading: string): string {
  const escaped = heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const start = text.search(new RegExp(`^#{1,6} ${escaped}`, 'm'));
  if (start < 0) return '';
  const level = /^#+/.exec(text.slice(start))?.[0].length ?? 2;
  // From the line after the heading: the heading itself is no end.
  const body = text.indexOf('\n', start) + 1;
  if (body === 0) return text.slice(start);
  const end = withoutFenceHeadings(text.slice(body)).search(new RegExp(`^#{1,${level}} `, 'm'));
  return end < 0 ? text.slice(start) : text.slice(start, body + end);
}

/** Each line of the `sh` blocks, its trailing comment dropped. */
export function shellLines(text: string): string[] {
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((match) => (match[1] ?? '').split('\n'))
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter(Boolean);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a page's headings give, numbered as GitHub numbers repeats (`-1`, `-2`). */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const match of withoutFences(text).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = headingAnchor(match[1] ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

/** The relative link targets of a page (images included), outside code blocks and inline code. */
export function relativeLinks(text: string): string[] {
  const prose = withoutFences(text).replace(/`[^`\n]*`/g, '``');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? '').filter((target) => !/^[a-z][a-z+.-]*:/i.test(target));
}
