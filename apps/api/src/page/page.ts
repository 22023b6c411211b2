import { createHash } from 'node:crypto';
import { counterMessage, load } from '@three-tier/shared';

/**
 * The HTML page of GET /html. Self-contained (no CDN, no external file) and under a strict CSP:
 * its one style and one script are allowed by hash, so nothing injected could run.
 */

const style = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; color: CanvasText; }
main { max-width: 40rem; padding: 2rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
.served { opacity: .8; margin: 0 0 1.5rem; }
code { font-size: 1.05em; padding: .1em .35em; border-radius: .3em; background: color-mix(in srgb, CanvasText 10%, transparent); }
.actions { display: flex; flex-wrap: wrap; align-items: center; gap: .75rem; margin: 1rem 0; }
button { font: inherit; padding: .45rem .9rem; border-radius: .4rem; border: 1px solid currentColor; background: none; color: inherit; cursor: pointer; }
button:disabled { opacity: .5; cursor: progress; }
input { font: inherit; width: 6rem; padding: .35rem; }
.unavailable { color: #c0392b; }
#status { min-height: 1.5em; }
`;

const script = `
(() => {
  const $ = (id) => document.getElementById(id);
  const status = $('status');
  async function call(path) {
    const response = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || response.status + ' ' + response.statusText);
    return body;
  }
  function busy(button, work) {
    button.disabled = true;
    status.textContent = '';
    work().catch((error) => { status.textContent = error.message; }).finally(() => { button.disabled = false; });
  }
  $('count').addEventListener('click', (event) => busy(event.currentTarget, async () => {
    const body = await call('./redis');
    $('message').textContent = body.message;
    $('message').classList.remove('unavailable');
    $('hostname').textContent = body.hostname;
    status.textContent = 'Counted by ' + body.hostname + '.';
  }));
  $('burn').addEventListener('click', (event) => busy(event.currentTarget, async () => {
    const body = await call('./load?ms=' + encodeURIComponent($('ms').value));
    status.textContent = body.hostname + ' burnt ' + body.cpuMs + ' ms of CPU.';
  }));
})();
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

/** Allows exactly this page's style and script, fetches to its own origin, and nothing else. */
export const pageCsp = [
  "default-src 'none'",
  `style-src ${sha256(style)}`,
  `script-src ${sha256(script)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => entities[char] ?? char);
}

export interface PageModel {
  /** The count this visit made, or undefined when Redis could not count it. */
  readonly hits: number | undefined;
  readonly hostname: string;
  readonly version: string;
}

export function renderPage({ hits, hostname, version }: PageModel): string {
  const host = escapeHtml(hostname);
  const headline =
    hits === undefined
      ? '<h1 id="message" class="unavailable">The visit counter is unavailable: Redis is not answering.</h1>'
      : `<h1 id="message">${escapeHtml(counterMessage(hits))}</h1>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Visits · ${host}</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body>
<main>
${headline}
<p class="served">Served by <code id="hostname">${host}</code> · version ${escapeHtml(version)}</p>
<div class="actions">
<button id="count" type="button">Count another visit</button>
<a href="./redis">/redis</a>
</div>
<div class="actions">
<label>CPU ms <input id="ms" type="number" min="${load.minMs}" max="${load.maxMs}" value="500"></label>
<button id="burn" type="button">Burn CPU</button>
<a href="./load?ms=500">/load?ms=500</a>
</div>
<p id="status" role="status" aria-live="polite"></p>
</main>
<script>${script}</script>
</body>
</html>
`;
}
