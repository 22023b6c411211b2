import { edgeAnswerWithinMs, routes } from '@three-tier/shared/browser';
import { liveSettings } from '../live-settings.js';
import { answeredBy, call, counterBody, failure, mayBeCounted } from './call.js';
import { $, byId, clock } from './dom.js';
import type { InstanceList } from './instances.js';
import { drawTally, failureKey } from './tally.js';

const visitPath = `.${routes.redis.path}`;
/** A visit the edge is still trying on another instance may yet be counted: wait for its every try. */
const visitTimeoutMs = edgeAnswerWithinMs(routes.redis);

/** The count button: one visit, its count shown as the headline and the counter. */
export function wireCountButton(instances: InstanceList): void {
  const button = byId('count', HTMLButtonElement);
  button.addEventListener('click', () => {
    void (async () => {
      button.disabled = true;
      const result = await call(visitPath, visitTimeoutMs);
      button.disabled = false;
      const body = counterBody(result);
      if (body) {
        $('message').textContent = body.message;
        $('message').classList.remove('unavailable');
        $('hits').textContent = String(body.hits);
        instances.sawAnswer(body.hostname, Date.now());
        $('count-result').textContent = `${clock()} · Visit ${body.hits} counted by ${instances.nameOf(body.hostname)}.`;
      } else {
        $('count-result').textContent = `${clock()} · ${mayBeCounted(result) ? 'Maybe counted' : 'Not counted'}: ${failure(result)}`;
      }
    })();
  });
}

/**
 * The burst asks /redis: each answer is a real visit, counted by whichever instance the edge chose,
 * so the tally and the counter tell one story (20 more visits, shared out).
 */
export function wireBurstButton(instances: InstanceList): void {
  const { size, parallel } = liveSettings.burst;
  const button = byId('burst', HTMLButtonElement);
  button.addEventListener('click', () => {
    void (async () => {
      button.disabled = true;
      $('burst-result').textContent = `Sending ${size} visits...`;
      const counts = new Map<string, number>();
      let next = 0;
      let counted = 0;
      const worker = async (): Promise<void> => {
        while (next < size) {
          next += 1;
          const result = await call(visitPath, visitTimeoutMs);
          const hostname = answeredBy(result);
          const key = hostname ?? `${failureKey}${failure(result)}`;
          if (result.ok) {
            counted += 1;
            if (hostname) instances.sawAnswer(hostname, Date.now());
          }
          counts.set(key, (counts.get(key) ?? 0) + 1);
          drawTally($('burst-tally'), counts, instances);
        }
      };
      await Promise.all(Array.from({ length: parallel }, worker));
      button.disabled = false;
      const shared = [...counts.keys()].filter((key) => !key.startsWith(failureKey)).length;
      $('burst-result').textContent = `Burst: ${counted} of ${size} counted, by ${shared}${shared === 1 ? ' instance.' : ' instances.'}`;
    })();
  });
}
