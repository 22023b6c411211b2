import { waitFor } from '@three-tier/processes';
import { faultRoutes } from '@three-tier/shared';
import { instanceAt, launchChromium, LivePage } from './live-page.js';
import { startMultiStack } from './multi-api-stack.js';

export interface ScreenshotOptions {
  /** Where the PNG goes. */
  readonly out: string;
  readonly bin: { readonly redisServer: string; readonly nginx: string };
  /** Where chromium is looked for, and what the api processes inherit (PATH). */
  readonly env: NodeJS.ProcessEnv;
  readonly colorScheme: 'light' | 'dark';
  readonly width: number;
  readonly onStep?: (line: string) => void;
}

/**
 * The README's picture of the live page, in a state that shows what it is for: four instances behind
 * nginx, one of them stopped (gone), one slowed by a latency fault, a burst shared out and a load
 * run under way. Everything real: its own native stack on free ports, Debian's Chromium.
 */
export async function screenshotLivePage(options: ScreenshotOptions): Promise<void> {
  const step = options.onStep ?? (() => undefined);
  step('starting redis-server, four api instances and nginx on free ports');
  const stack = await startMultiStack(4, options.bin, options.env.PATH, { distinctHues: true });
  const browser = await launchChromium(options.env).catch(async (error: unknown) => {
    await stack.cleanup();
    throw error;
  });
  try {
    const hostnames = await Promise.all(stack.apis.map(async ({ url }) => (await instanceAt(url)).hostname));
    const live = await LivePage.open(browser, stack.url, {
      viewport: { width: options.width, height: 900 },
      colorScheme: options.colorScheme,
    });
    await live.waitListed(hostnames, 'the page to list the four instances');
    step('slowing one instance down (latency fault), sending a burst, stopping another');
    const slowed = stack.apis[1];
    const stopped = stack.apis[3];
    const stoppedName = hostnames[3];
    if (!slowed || !stopped || !stoppedName) throw new Error('four instances expected');
    const fault = await fetch(`${slowed.url}${faultRoutes.latency.path}?ms=300`, { method: 'PUT' });
    if (!fault.ok) throw new Error(`the latency fault answered ${fault.status}`);
    await live.page.click('#burst');
    await live.waitText('#burst-result', /Burst: 20 of 20 counted/, 'the burst');
    await stopped.service.stop();
    await live.waitGone(stoppedName, 'the stopped instance marked gone');
    step('running load: /load?ms=10 at 25/s, above the edge rate limit of 10/s');
    await live.page.fill('#load-ms', '10');
    await live.page.fill('#load-rate', '25');
    await live.page.click('#load-toggle');
    const settled = async (): Promise<boolean> =>
      (await live.pollAnswers()) >= 30 && Number(await live.text('#load-sent')) >= 60 && Number(await live.text('#load-429')) > 0;
    await waitFor(async () => ((await settled()) ? true : undefined), {
      what: 'polls and load to settle',
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    await live.page.screenshot({ path: options.out, fullPage: true });
    step(`wrote ${options.out}`);
    if (live.cspViolations.length > 0 || live.otherErrors.length > 0) {
      throw new Error(`the page reported errors: ${[...live.cspViolations, ...live.otherErrors].join('; ')}`);
    }
  } finally {
    await browser.close();
    await stack.cleanup();
  }
}
