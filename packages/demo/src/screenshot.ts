import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, freeStackPorts, waitFor } from '@three-tier/processes';
import { NativeStack } from '@three-tier/runner';
import { faultRoutes, instanceHue } from '@three-tier/shared';
import { launchChromium, LivePage } from './live-page.js';

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

const instances = 4;

function hueDistance(a: number, b: number): number {
  const apart = Math.abs(a - b) % 360;
  return Math.min(apart, 360 - apart);
}

/**
 * The first of `instances` free consecutive ports (npm start puts its api instances on API_PORT,
 * API_PORT+1...) whose instances' colours are far apart: close hues are hard to tell apart in a
 * picture. The runner names each instance <hostname>-<port>.
 */
async function apiPortOfDistinctHues(): Promise<number> {
  const fallback = await freePorts(instances);
  for (let tries = 0; tries < 300; tries += 1) {
    const first = await freePorts(instances);
    const hues = Array.from({ length: instances }, (_, index) => instanceHue(`${hostname()}-${first + index}`));
    if (hues.every((hue, index) => hues.slice(index + 1).every((other) => hueDistance(hue, other) >= 360 / (2 * instances)))) return first;
  }
  return fallback;
}

/**
 * The README's picture of the live page, in a state that shows what it is for: four instances behind
 * nginx, one of them stopped (gone), one slowed by a latency fault, a burst shared out and a load
 * run under way. Everything real: npm start's stack on free ports, Debian's Chromium.
 */
export async function screenshotLivePage(options: ScreenshotOptions): Promise<void> {
  const step = options.onStep ?? (() => undefined);
  step(`starting redis-server, ${instances} api instances and nginx on free ports (npm start's stack, API_INSTANCES=${instances})`);
  const root = await mkdtemp(join(tmpdir(), 'screenshot-'));
  const ports = await freeStackPorts(instances, await apiPortOfDistinctHues());
  const stack = await NativeStack.create({
    edge: 'nginx',
    ports,
    apiInstances: instances,
    edgeHost: '127.0.0.1',
    dataDir: join(root, 'data'),
    runDir: join(root, 'run'),
    bin: options.bin,
    baseEnv: { PATH: options.env.PATH },
    logLevel: 'warn',
  });
  const cleanup = async (): Promise<void> => {
    await stack.stop();
    await rm(root, { recursive: true, force: true });
  };
  let browser;
  try {
    await stack.start();
    browser = await launchChromium(options.env);
  } catch (error) {
    await cleanup();
    throw error;
  }
  try {
    const hostnames = stack.apis.map(({ instanceId }) => instanceId);
    const live = await LivePage.open(browser, stack.url, {
      viewport: { width: options.width, height: 900 },
      colorScheme: options.colorScheme,
    });
    await live.waitListed(hostnames, 'the page to list the four instances');
    step('slowing one instance down (latency fault), sending a burst, stopping another');
    const slowed = stack.apis[1];
    const stopped = stack.apis[3];
    const stoppedName = hostnames[3];
    if (!slowed || !stopped || !stoppedName) throw new Error(`${instances} instances expected`);
    const fault = await fetch(`http://127.0.0.1:${slowed.port}${faultRoutes.latency.path}?ms=300`, { method: 'PUT' });
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
    await cleanup();
  }
}
