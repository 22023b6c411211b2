/**
 * The live page's script, bundled into one inline script by the api's build and allowed by its hash.
 * It polls ./instance (counts nothing) through the edge, one request at a time, and draws from the
 * answers: who answers and how often, who appeared or went, the state of the edge, the instances and
 * Redis, and the visit count as read. Buttons count a visit, send a burst, and run /load at a rate.
 */
import { routes } from '@three-tier/shared/browser';
import { liveSettings } from '../live-settings.js';
import { BehindLines } from './behind.js';
import { call, instanceBody } from './call.js';
import { $, announce } from './dom.js';
import { InstanceList } from './instances.js';
import { LoadRun } from './load-run.js';
import { wireBurstButton, wireCountButton } from './visits.js';

/** A poll slower than the api's own deadline for /instance says something is slow. */
const pollTimeoutMs = routes.instance.timeoutMs;

function start(): void {
  for (const element of document.querySelectorAll<HTMLElement>('[data-live]')) element.hidden = false;
  const instances = new InstanceList($('hostname').textContent, Date.now());
  const behind = new BehindLines();
  const load = new LoadRun(instances);

  const draw = (): void => {
    const now = Date.now();
    try {
      instances.draw(now);
      behind.draw(now, instances);
      load.draw(now);
    } catch (error) {
      announce(`The page failed to draw: ${error instanceof Error ? error.message : String(error)}`);
      console.error(error);
    }
  };

  const pollForever = async (): Promise<never> => {
    for (;;) {
      const began = Date.now();
      const result = await call(`.${routes.instance.path}`, pollTimeoutMs);
      const now = Date.now();
      behind.onPoll(result, now);
      const body = instanceBody(result);
      if (body) {
        instances.onAnswer(body, now);
        behind.onAnswer(body, now);
      } else {
        instances.onMiss(now);
      }
      draw();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, liveSettings.pollEveryMs - (Date.now() - began))));
    }
  };

  wireCountButton(instances);
  wireBurstButton(instances);
  load.wire();
  // Drawn on a clock too: the cards' ages move on while a poll hangs.
  setInterval(draw, 500);
  void pollForever();
}

start();
