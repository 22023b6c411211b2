import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { Script } from 'node:vm';
import { freePort } from '@three-tier/processes';
import { counterMessage, edgeProblems, instanceAlias, instanceHue, problemContentType } from '@three-tier/shared';
import express from 'express';
import { pino } from 'pino';
import request from 'supertest';
import { problemHandler } from '../src/http/problem.js';
import { escapeHtml, formatUptime, renderPage, type PageModel } from '../src/page/page.js';
import { loadPageScript } from '../src/page/page-script.js';
import { pageHandler } from '../src/routes/page.js';
import { buildApp, redisReady, startRedis, testInstance } from './helpers.js';

const pageScript = loadPageScript();

const model: PageModel = {
  hits: 42,
  hostname: 'c0ffee123456',
  alias: instanceAlias('c0ffee123456'),
  hue: instanceHue('c0ffee123456'),
  version: '9.9.9-test',
  uptimeSeconds: 125,
};

/** The document's inline style and script elements, with what is between their tags. */
function inlineCode(html: string): { kind: string; code: string }[] {
  return [...html.matchAll(/<(script|style)\b[^>]*>([\s\S]*?)<\/\1>/g)].map(([, kind = '', code = '']) => ({ kind, code }));
}

function directive(csp: string, name: string): string[] {
  const found = csp.split(';').map((part) => part.trim().split(/\s+/)).find(([directiveName]) => directiveName === name);
  return found ? found.slice(1) : [];
}

/** The document without the parts only the script shows (hidden until it runs): what a browser without JavaScript shows. */
function withoutLiveParts(html: string): string {
  return html.replace(/<section [^>]*data-live hidden>[\s\S]*?<\/section>/g, '').replace(/<script>[\s\S]*?<\/script>/g, '');
}

describe('the page renderer', () => {
  test('allows exactly its one style and one script, each by its sha256, and nothing inline else', () => {
    const { html, csp } = renderPage(model, pageScript);
    const inline = inlineCode(html);
    assert.deepEqual(inline.map(({ kind }) => kind).sort(), ['script', 'style']);
    for (const { kind, code } of inline) {
      const hash = `'sha256-${createHash('sha256').update(code).digest('base64')}'`;
      assert.deepEqual(directive(csp, `${kind}-src`), [hash], `${kind}-src allows this ${kind} and nothing else`);
    }
    assert.deepEqual(directive(csp, 'default-src'), ["'none'"]);
    assert.deepEqual(directive(csp, 'connect-src'), ["'self'"], 'the polls go to the page’s own origin only');
    assert.doesNotMatch(csp, /unsafe-|\*|https?:/);
    assert.doesNotMatch(html, /\sstyle=|\son[a-z]+=/i, 'no style or event attribute: the CSP would block them');
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no external resource');
  });

  test('each hue has its own style sheet and hash, and the hash always matches the sheet', () => {
    const seen = new Set<string>();
    for (const hue of [0, 1, 180, 359]) {
      const { html, csp } = renderPage({ ...model, hue }, pageScript);
      const style = inlineCode(html).find(({ kind }) => kind === 'style');
      assert.ok(style);
      assert.match(style.code, new RegExp(`--served-hue: ${hue};`));
      const hash = `'sha256-${createHash('sha256').update(style.code).digest('base64')}'`;
      assert.deepEqual(directive(csp, 'style-src'), [hash]);
      seen.add(hash);
    }
    assert.equal(seen.size, 4);
  });

  test('its script is valid JavaScript that cannot end its own element early', () => {
    // Parsed, not run: a syntax error would only show in a browser otherwise.
    assert.doesNotThrow(() => new Script(pageScript.text, { filename: 'live-page.js' }));
    assert.doesNotMatch(pageScript.text, /<\/script|<!--/i);
  });

  test('escapes everything it shows', () => {
    const hostile = '<img src=x onerror=alert(1)>"\'&';
    const { html } = renderPage({ ...model, hits: undefined, hostname: hostile, alias: hostile, version: hostile, visitProblem: hostile }, pageScript);
    assert.doesNotMatch(html, /<img src=x/);
    assert.ok(html.includes(escapeHtml(hostile)));
    assert.equal(escapeHtml(hostile), '&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
  });

  test('without JavaScript it still shows the count this visit made, who served it, and the links', () => {
    const { html } = renderPage(model, pageScript);
    const still = withoutLiveParts(html);
    assert.ok(still.includes(`<h1 id="message">${counterMessage(42)}</h1>`));
    assert.ok(still.includes(`<strong id="alias">${model.alias}</strong>`));
    assert.ok(still.includes('<code id="hostname">c0ffee123456</code>'));
    assert.ok(still.includes('<dd id="version">9.9.9-test</dd>'));
    assert.ok(still.includes('<dd id="uptime">2 min 5 s</dd>'));
    for (const link of ['./redis', './instance', './load?ms=500', './readyz']) assert.ok(still.includes(`href="${link}"`), link);
    assert.match(still, /<noscript>[\s\S]*reload[\s\S]*<\/noscript>/);
    // The live parts need the script: without it they stay hidden instead of showing dead buttons.
    const live = [...html.matchAll(/<section [^>]*data-live[^>]*>/g)];
    assert.ok(live.length >= 4);
    for (const [section] of live) assert.match(section, / hidden>$/);
    assert.doesNotMatch(still, /<button/, 'no button that would do nothing without the script');
  });

  test('when the visit was not counted, says why in the headline', () => {
    const { html } = renderPage({ ...model, hits: undefined, visitProblem: 'Redis is not answering. Try again shortly.' }, pageScript);
    assert.match(html, /<h1 id="message" class="unavailable">Not counted: Redis is not answering\. Try again shortly\.<\/h1>/);
  });

  test('formats uptime as the script does', () => {
    assert.equal(formatUptime(0), '0 s');
    assert.equal(formatUptime(59.9), '59 s');
    assert.equal(formatUptime(3_599), '59 min 59 s');
    assert.equal(formatUptime(7_260), '2 h 1 min');
    assert.equal(formatUptime(90_000), '1 d 1 h');
  });
});

/** The script as the build wrote it, read here on its own rather than through the loader under test. */
function builtScript(): Promise<string> {
  return readFile(fileURLToPath(new URL('../../dist/page/live-page.js', import.meta.url)), 'utf8');
}

describe('the live page script the build bundled (src/page/script, dist/page/live-page.js)', () => {
  test('GET /html inlines it byte for byte, and its CSP allows that script’s sha256 and no other', async () => {
    const built = await builtScript();
    const redis = await startRedis();
    const api = await buildApp({ redisUrl: redis.url });
    try {
      await redisReady(api.redis);
      const res = await request(api.server).get('/html').expect(200);
      const scripts = inlineCode(res.text).filter(({ kind }) => kind === 'script');
      assert.equal(scripts.length, 1);
      assert.ok(scripts[0]?.code === built, 'the inline script is the built file, unchanged');
      const hash = `'sha256-${createHash('sha256').update(built).digest('base64')}'`;
      assert.deepEqual(directive(res.headers['content-security-policy'] ?? '', 'script-src'), [hash]);
    } finally {
      await api.close();
      await redis.cleanup();
    }
  });

  test('is refused at boot if it could not be inlined: "</script" or "<!--" in it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'page-script-'));
    try {
      for (const text of ['const s = "</script>";', 'const s = "<!--";']) {
        const file = join(dir, 'live-page.js');
        await writeFile(file, text);
        assert.throws(() => loadPageScript(file), /cannot be inlined/);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('is one self-contained classic script: nothing imported or fetched from elsewhere', async () => {
    const built = await builtScript();
    assert.doesNotMatch(built, /^\s*(import|export)\s|\bimport\(|\brequire\(/m, 'bundled: no module syntax left');
    assert.doesNotMatch(built, /https?:\/\//, 'no address of another origin');
    assert.doesNotThrow(() => new Script(built, { filename: 'live-page.js' }));
  });
});

describe('GET /html with Redis down', () => {
  test('answers 503 with the page, the 503 detail in its headline and the instance that served it', async () => {
    // Nothing listens on this port: the client is refused at once.
    const api = await buildApp({ redisUrl: `redis://127.0.0.1:${await freePort()}`, instance: { name: 'api', version: '1.2.3', hostname: 'abc' } });
    try {
      const res = await request(api.server).get('/html').expect(503);
      assert.equal(res.headers['retry-after'], '1');
      assert.match(res.text, /<h1 id="message" class="unavailable">Not counted: The visit counter is unavailable: Redis is not answering\./);
      assert.ok(res.text.includes(`<strong id="alias">${instanceAlias('abc')}</strong>`));
      const style = inlineCode(res.text).find(({ kind }) => kind === 'style');
      assert.match(style?.code ?? '', new RegExp(`--served-hue: ${instanceHue('abc')};`));
      const hash = `'sha256-${createHash('sha256').update(style?.code ?? '').digest('base64')}'`;
      assert.deepEqual(directive(res.headers['content-security-policy'] ?? '', 'style-src'), [hash]);
    } finally {
      await api.close();
    }
  });
});

describe('the page handler on its own', () => {
  test('a visit refused for a malformed Idempotency-Key is that 400 problem, not a page', async () => {
    // In the app, refuseMalformed answers first; on its own, the handler must still not dress a
    // refusal up as the page it shows when Redis is down.
    const api = await buildApp({ redisUrl: `redis://127.0.0.1:${await freePort()}` });
    const app = express();
    const silent = pino({ level: 'silent' });
    app.get('/html', pageHandler(api.counter, testInstance, silent, pageScript));
    app.use(problemHandler(silent));
    try {
      const res = await request(app).get('/html').set('Idempotency-Key', 'no spaces allowed');
      assert.equal(res.status, 400);
      assert.equal(res.type, problemContentType);
      assert.equal(res.body.detail, edgeProblems.badIdempotencyKey.detail);
    } finally {
      await api.close();
    }
  });
});
