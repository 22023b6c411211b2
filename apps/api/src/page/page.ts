import { counterMessage, load, routes } from '@three-tier/shared';
import { inWords, liveSettings } from './live-settings.js';
import { cspHash, type PageScript } from './page-script.js';
import { pageStyle } from './page-style.js';
import { formatUptime } from './uptime.js';

export { formatUptime } from './uptime.js';

/**
 * The HTML page of GET /html. One self-contained document (no CDN, no external file) under a strict
 * CSP: its one style and one script are allowed by hash, so nothing injected could run. What the
 * server knows (the count this visit made, who served it, the links) needs no JavaScript; the live
 * view is the script's, and stays hidden without it.
 */

/**
 * The served instance's hue sits in the style sheet (a style attribute would need 'unsafe-inline'),
 * so the sheet and its hash differ per hue: 360 of them at most, each hashed once.
 */
const styles = new Map<number, { readonly text: string; readonly hash: string }>();

function styleFor(hue: number): { readonly text: string; readonly hash: string } {
  let style = styles.get(hue);
  if (!style) {
    const text = `\n:root { --served-hue: ${hue}; }${pageStyle}`;
    style = { text, hash: cspHash(text) };
    styles.set(hue, style);
  }
  return style;
}

/** Allows exactly the page's style and script, fetches to its own origin, and nothing else. */
function csp(styleHash: string, scriptHash: string): string {
  return [
    "default-src 'none'",
    `style-src ${styleHash}`,
    `script-src ${scriptHash}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => entities[char] ?? char);
}

export interface PageModel {
  /** The count this visit made; undefined when Redis could not count it. */
  readonly hits: number | undefined;
  /** Why the visit was not counted: the 503's detail. */
  readonly visitProblem?: string | undefined;
  /** The 503 said the visit may have been counted (`visit: unconfirmed`), so the page must not say it was not. */
  readonly visitMayBeCounted?: boolean | undefined;
  readonly hostname: string;
  /** The readable name derived from the hostname (instanceAlias). */
  readonly alias: string;
  /** The instance's stable colour, 0 to 359 (instanceHue). */
  readonly hue: number;
  readonly version: string;
  readonly uptimeSeconds: number;
}

export interface RenderedPage {
  readonly html: string;
  /** The Content-Security-Policy this document needs: its own style and script hashes. */
  readonly csp: string;
}

const links = [routes.redis.path, routes.instance.path, `${routes.load.path}?ms=500`, routes.info.path, routes.readyz.path];

const { burst, load: loadRun } = liveSettings;

/** The page for `model`, with `script` (loaded once, at boot) inline. */
export function renderPage(model: PageModel, script: PageScript): RenderedPage {
  const hue = Math.round(Math.abs(model.hue)) % 360;
  const style = styleFor(Number.isFinite(hue) ? hue : 0);
  const host = escapeHtml(model.hostname);
  const alias = escapeHtml(model.alias);
  const headline =
    model.hits === undefined
      ? `<h1 id="message" class="unavailable">${model.visitMayBeCounted ? 'Maybe counted' : 'Not counted'}: ${escapeHtml(model.visitProblem ?? 'Redis is not answering.')}</h1>`
      : `<h1 id="message">${escapeHtml(counterMessage(model.hits))}</h1>`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${alias} · three-tier</title>
<link rel="icon" href="data:,">
<style>${style.text}</style>
</head>
<body>
<main>
<header>
<p class="kicker">three-tier · edge → api → Redis</p>
${headline}
</header>
<div class="grid">
<section class="card served" aria-labelledby="served-title">
<h2 id="served-title">This page was served by</h2>
<p class="who"><span class="swatch" aria-hidden="true"></span><strong id="alias">${alias}</strong> <code id="hostname">${host}</code></p>
<dl class="facts">
<dt>version</dt><dd id="version">${escapeHtml(model.version)}</dd>
<dt>up for</dt><dd id="uptime">${formatUptime(model.uptimeSeconds)}</dd>
</dl>
<noscript><p class="note">The live view below needs JavaScript. Without it, reload to be served again, perhaps by another instance.</p></noscript>
</section>
<section class="card" aria-labelledby="behind-title" data-live hidden>
<h2 id="behind-title">What is behind it <small>live</small></h2>
<ul class="behind">
<li><span class="tier">edge</span><span id="edge-line">waiting for the first answer</span></li>
<li><span class="tier">api</span><span id="api-line">waiting for the first answer</span></li>
<li><span class="tier">Redis</span><span id="redis-line">waiting for the first answer</span></li>
</ul>
</section>
<section class="card wide" aria-labelledby="instances-title" data-live hidden>
<h2 id="instances-title">Instances <small>share of answers to the polls, last ${liveSettings.shareWindowMs / 1000} s</small></h2>
<ul id="instances" class="instances"></ul>
<p id="no-instances" class="empty">No instance has answered yet.</p>
<p class="note">The page asks <a href=".${routes.instance.path}">${routes.instance.path}</a> ${inWords(Math.round(1000 / liveSettings.pollEveryMs))} times a second through the edge; it counts no visit.</p>
</section>
<section class="card" aria-labelledby="visits-title" data-live hidden>
<h2 id="visits-title">Visits</h2>
<p class="big" id="hits">${model.hits ?? '—'}</p>
<p class="note" id="hits-note">counted so far</p>
<div class="row"><button id="count" type="button">Count a visit</button></div>
<p id="count-result" class="note" role="status" aria-live="polite"></p>
</section>
<section class="card" aria-labelledby="burst-title" data-live hidden>
<h2 id="burst-title">Burst</h2>
<p class="note">${burst.size} visits to ${routes.redis.path}, ${inWords(burst.parallel)} at a time: each is counted, by whichever instance the edge picks.</p>
<div class="row"><button id="burst" type="button" class="secondary">Send ${burst.size} requests</button></div>
<p id="burst-result" class="note" role="status" aria-live="polite"></p>
<ul id="burst-tally" class="tally"></ul>
</section>
<section class="card wide" aria-labelledby="load-title" data-live hidden>
<h2 id="load-title">Load <small>CPU work on /load, rate limited at the edge</small></h2>
<div class="row">
<label for="load-ms">CPU ms per request<input id="load-ms" type="number" inputmode="numeric" min="${load.minMs}" max="${load.maxMs}" value="${loadRun.defaultMs}" required></label>
<label for="load-rate">requests per second<input id="load-rate" type="number" inputmode="numeric" min="1" max="${loadRun.maxRate}" value="${loadRun.defaultRate}" required></label>
<button id="load-toggle" type="button" aria-pressed="false">Start load</button>
</div>
<dl class="numbers">
<div><dt>answered</dt><dd id="load-throughput">—</dd></div>
<div><dt>sent</dt><dd id="load-sent">0</dd></div>
<div><dt>429 rate limited</dt><dd id="load-429">0</dd></div>
<div><dt>503 saturated</dt><dd id="load-503">0</dd></div>
<div><dt>other failures</dt><dd id="load-other">0</dd></div>
</dl>
<ul id="load-tally" class="tally" aria-label="which instances took the work"></ul>
<p class="note" id="load-note"></p>
</section>
</div>
<p id="status" role="status" aria-live="polite"></p>
<footer>${links.map((path) => `<a href=".${escapeHtml(path)}">${escapeHtml(path)}</a>`).join(' ')}</footer>
</main>
<script>${script.text}</script>
</body>
</html>
`;
  return { html, csp: csp(style.hash, script.hash) };
}
