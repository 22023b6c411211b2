import { el, swatch } from './dom.js';
import type { InstanceList } from './instances.js';

/** A failure's key in a tally: its words after this mark, so it never reads as a hostname. */
export const failureKey = '!';

/**
 * Who took a button's requests: in the instance list's order, failures last, so the same instance
 * is in the same place everywhere.
 */
export function drawTally(list: HTMLElement, counts: ReadonlyMap<string, number>, instances: InstanceList): void {
  const order = instances.order();
  const rank = (key: string): number => {
    if (key.startsWith(failureKey)) return order.length + 1;
    const index = order.indexOf(key);
    return index < 0 ? order.length : index;
  };
  const entries = [...counts.entries()].sort((a, b) => rank(a[0]) - rank(b[0]));
  list.replaceChildren(
    ...entries.map(([key, count]) => {
      const item = el('li');
      const isHost = !key.startsWith(failureKey);
      if (isHost) item.append(swatch(instances.hueOf(key)));
      item.append(el('span', isHost ? '' : 'problem', `${isHost ? instances.nameOf(key) : key.slice(failureKey.length)}: ${count}`));
      return item;
    }),
  );
}
