import { findBinary, waitFor } from '@three-tier/processes';
import { routes, type InstanceBody } from '@three-tier/shared';
import { chromium, type Browser, type BrowserContextOptions, type ConsoleMessage, type Page, type Request } from 'playwright-core';

/** Debian's Chromium, headless, quiet: this machine's network is closed to everything but loopback. */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Launches Debian's Chromium, found on `env`'s PATH. */
export async function launchChromium(env: NodeJS.ProcessEnv): Promise<Browser> {
  const executablePath = findBinary('chromium', env);
  if (!executablePath) throw new Error('chromium must be installed: npm test installs it as root, or: sudo apt-get install -y chromium');
  return chromium.launch({ executablePath, args: chromiumArgs });
}

/** A request of the page's polls, as the browser sent it. */
function isPoll(request: Request): boolean {
  return new URL(request.url()).pathname.endsWith(routes.instance.path);
}

/**
 * The live page open in a browser tab, with what its console said sorted out: CSP violations,
 * failed requests (Chromium logs each 4xx/5xx fetch) and everything else; and its polls counted
 * as the browser saw them go and come back.
 */
export class LivePage {
  readonly cspViolations: string[] = [];
  readonly failedRequests: string[] = [];
  /**
   * Requests Chromium itself failed because the host's addresses changed under it
   * (net::ERR_NETWORK_CHANGED: it drops its connections in flight when an interface comes or goes,
   * as when another test's container starts on the same host). The host's, not the page's or the
   * stack's, so kept apart from failedRequests.
   */
  readonly networkChanges: string[] = [];
  readonly otherErrors: string[] = [];
  /** The polls that came back, answered or failed, since the page opened. */
  polls = 0;

  private constructor(readonly page: Page) {
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      if (/Content Security Policy/.test(text)) this.cspViolations.push(text);
      else if (/^Failed to load resource: net::ERR_NETWORK_CHANGED$/.test(text)) this.networkChanges.push(message.location().url);
      else if (/^Failed to load resource/.test(text)) this.failedRequests.push(`${text} (${message.location().url})`);
      else this.otherErrors.push(text);
    });
    page.on('pageerror', (error) => this.otherErrors.push(error.message));
    const countPoll = (request: Request): void => {
      if (isPoll(request)) this.polls += 1;
    };
    page.on('requestfinished', countPoll);
    page.on('requestfailed', countPoll);
  }

  /** Opens `url`/html in a new tab of `browser`, with `options` (viewport, colour scheme...). */
  static async open(browser: Browser, url: string, options: BrowserContextOptions = {}): Promise<LivePage> {
    const live = new LivePage(await browser.newPage(options));
    const response = await live.page.goto(`${url}${routes.html.path}`);
    if (response?.status() !== 200) throw new Error(`${routes.html.path} answered ${response?.status() ?? 'nothing'}`);
    return live;
  }

  async text(selector: string): Promise<string> {
    return (await this.page.textContent(selector)) ?? '';
  }

  /** The instances the page lists, by hostname, with their badges and share. */
  async rows(): Promise<Map<string, { gone: boolean; badges: string[]; percent: number }>> {
    // A string, evaluated in the page: this package compiles without the DOM's types.
    const rows = await this.page.evaluate<{ hostname: string; gone: boolean; badges: string[]; percent: number }[]>(`[...document.querySelectorAll('#instances li')].map((row) => ({
      hostname: row.dataset.hostname,
      gone: row.classList.contains('gone'),
      badges: [...row.querySelectorAll('.badge')].map((badge) => badge.textContent),
      percent: Number.parseInt(row.querySelector('.pct').textContent, 10),
    }))`);
    return new Map(rows.map(({ hostname, ...row }) => [hostname, row]));
  }

  /** Waits until the page lists these hostnames as answering (not gone). */
  async waitListed(hostnames: readonly string[], what: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(
      async () => {
        const rows = await this.rows();
        return hostnames.every((hostname) => rows.get(hostname)?.gone === false) ? true : undefined;
      },
      { what, timeoutMs, intervalMs: 100 },
    );
  }

  async waitGone(hostname: string, what: string, timeoutMs = 15_000): Promise<void> {
    await waitFor(async () => ((await this.rows()).get(hostname)?.gone ? true : undefined), { what, timeoutMs, intervalMs: 100 });
  }

  /** Waits until `selector`'s text matches. */
  async waitText(selector: string, pattern: RegExp, what: string, timeoutMs = 10_000): Promise<string> {
    return waitFor(
      async () => {
        const text = await this.text(selector);
        return pattern.test(text) ? text : undefined;
      },
      { what: `${what} (${selector} to match ${String(pattern)})`, timeoutMs, intervalMs: 100 },
    );
  }

  /** Waits until the page's polls that came back number `count` since it opened. */
  async waitPolls(count: number, what: string, timeoutMs = 15_000): Promise<void> {
    await waitFor(() => (this.polls >= count ? true : undefined), { what: `${what} (until ${count} polls are back; ${this.polls} were)`, timeoutMs, intervalMs: 50 });
  }

  /**
   * Starts keeping every text the status line (#status) takes, in order: what the page announces.
   * The observer is the test's, installed over the DevTools protocol (the page's CSP does not apply).
   */
  async recordStatus(): Promise<void> {
    await this.page.evaluate(`{
      const status = document.getElementById('status');
      window.statusLog = [];
      new MutationObserver((records) => {
        for (const record of records) for (const node of record.addedNodes) window.statusLog.push(node.textContent);
      }).observe(status, { childList: true, characterData: true, subtree: true });
    }`);
  }

  /** The texts #status took since recordStatus. */
  async statusLog(): Promise<string[]> {
    return this.page.evaluate<string[]>('window.statusLog');
  }

  /** The answers the polls got over the last 10 s, summed over the instances the page lists. */
  async pollAnswers(): Promise<number> {
    const meta = await this.page.evaluate<string[]>(`[...document.querySelectorAll('#instances .meta')].map((meta) => meta.textContent)`);
    const totals = meta.map((text) => Number(/of the last (\d+) answers/.exec(text)?.[1] ?? 0));
    return Math.max(0, ...totals);
  }
}

/** Who an instance is, asked on its own port (not through the edge). */
export async function instanceAt(apiUrl: string): Promise<InstanceBody> {
  const res = await fetch(`${apiUrl}${routes.instance.path}`);
  if (res.status !== 200) throw new Error(`${apiUrl}${routes.instance.path} answered ${res.status}`);
  return (await res.json()) as InstanceBody;
}
