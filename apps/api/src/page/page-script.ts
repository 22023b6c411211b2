import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The live page's script (bundled from script/ by the build) and the CSP source that allows it. */
export interface PageScript {
  readonly text: string;
  /** `'sha256-...'`: allows exactly this text as an inline script, and nothing else. */
  readonly hash: string;
}

/** The CSP source allowing exactly `text` inline, as browsers hash it. */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

/**
 * Reads the script the build bundled (`@three-tier/api/page-script`, dist/page/live-page.js) and
 * hashes it. Called once, at boot: a build without it fails the start, not a visitor's request.
 */
export function loadPageScript(file = fileURLToPath(import.meta.resolve('@three-tier/api/page-script'))): PageScript {
  const text = readFileSync(file, 'utf8');
  // Inline, these would end the script element early or change how the HTML parser reads it.
  if (/<\/script|<!--/i.test(text)) throw new Error(`${file} cannot be inlined: it contains "</script" or "<!--"`);
  return { text, hash: cspHash(text) };
}
