import { describeFaults, type Faults, type InstanceBody } from '@three-tier/shared/browser';
import { liveSettings } from '../live-settings.js';
import { formatUptime } from '../uptime.js';
import { $, announce, el, part, swatch } from './dom.js';

interface Known {
  readonly hostname: string;
  readonly firstSeen: number;
  lastSeen: number;
  gone: boolean;
  /** Came up while the page watched: marked new. */
  readonly fresh: boolean;
  /** What it said of itself in its last answer to a poll. */
  body: InstanceBody;
  row?: HTMLLIElement;
}

type Badge = readonly [text: string, level: '' | 'ok' | 'warn' | 'bad'];

function faultBadges(faults: Faults): Badge[] {
  return describeFaults(faults).map((words) => [`fault: ${words}`, words === 'unready' ? 'bad' : 'warn']);
}

function newRow(hostname: string): HTMLLIElement {
  const row = el('li', 'instance');
  row.dataset.hostname = hostname;
  const name = el('div', 'name');
  name.append(swatch(), el('strong', 'alias'), el('code', 'host'), el('span', 'badges'));
  const bar = el('div', 'bar');
  bar.setAttribute('aria-hidden', 'true');
  bar.append(el('span'));
  row.append(name, bar, el('span', 'pct'), el('div', 'meta'));
  return row;
}

/**
 * The instances the polls found, each with its card: its share of the last answers, its badges
 * (served this page, new, gone, its state and faults) and how long it has been up.
 */
export class InstanceList {
  readonly #known = new Map<string, Known>();
  /** Who answered each poll of the share window. */
  readonly #samples: { readonly at: number; readonly hostname: string }[] = [];

  constructor(
    /** The instance that served the page. */
    private readonly servedBy: string,
    private readonly startedAt: number,
  ) {}

  /** A poll's answer: the instance is listed, or back. */
  onAnswer(body: InstanceBody, now: number): void {
    this.#samples.push({ at: now, hostname: body.hostname });
    let known = this.#known.get(body.hostname);
    if (!known) {
      known = { hostname: body.hostname, firstSeen: now, lastSeen: now, gone: false, fresh: now - this.startedAt > liveSettings.settleMs, body };
      this.#known.set(body.hostname, known);
      if (known.fresh) announce(`${body.alias || body.hostname} (${body.hostname}) appeared and takes requests.`);
    } else if (known.gone) {
      known.gone = false;
      announce(`${this.nameOf(body.hostname)} answers again.`);
    }
    known.body = body;
    known.lastSeen = now;
  }

  /**
   * Answers to the buttons count as signs of life too: the edge's round robin can line the polls
   * up with other requests so that one instance misses the polls for a while, alive all along.
   */
  sawAnswer(hostname: string, now: number): void {
    const known = this.#known.get(hostname);
    if (known && !known.gone) known.lastSeen = Math.max(known.lastSeen, now);
  }

  nameOf(hostname: string): string {
    const alias = this.#known.get(hostname)?.body.alias;
    return alias ? `${alias} (${hostname})` : hostname;
  }

  hueOf(hostname: string): number | undefined {
    return this.#known.get(hostname)?.body.hue;
  }

  /** Hostnames in the list's order. */
  order(): string[] {
    return [...this.#known.keys()];
  }

  /** How many answer, in which state, and how many are gone. */
  census(): { readonly live: number; readonly gone: number; readonly states: ReadonlyMap<string, number> } {
    const states = new Map<string, number>();
    let gone = 0;
    for (const known of this.#known.values()) {
      if (known.gone) gone += 1;
      else states.set(known.body.state, (states.get(known.body.state) ?? 0) + 1);
    }
    return { live: this.#known.size - gone, gone, states };
  }

  draw(now: number): void {
    const samples = this.#samples;
    while (samples.length > 0 && (samples[0]?.at ?? now) < now - liveSettings.shareWindowMs) samples.shift();
    const shares = new Map<string, number>();
    for (const sample of samples) shares.set(sample.hostname, (shares.get(sample.hostname) ?? 0) + 1);
    // Round robin reaches each of n instances every n polls; a few rounds missed is gone.
    const goneAfterMs = Math.max(4000, 4 * liveSettings.pollEveryMs * Math.max(this.census().live, 1));
    for (const known of this.#known.values()) {
      const silent = now - known.lastSeen;
      if (silent > liveSettings.forgetAfterMs) {
        known.row?.remove();
        this.#known.delete(known.hostname);
        continue;
      }
      if (!known.gone && silent > goneAfterMs) {
        known.gone = true;
        announce(`${this.nameOf(known.hostname)} is gone: no answer for ${Math.round(silent / 1000)} s.`);
      }
      this.#drawRow(known, shares.get(known.hostname) ?? 0, samples.length, now);
    }
    $('no-instances').hidden = this.#known.size > 0;
  }

  #drawRow(known: Known, count: number, total: number, now: number): void {
    if (!known.row) {
      known.row = newRow(known.hostname);
      $('instances').append(known.row);
    }
    const { row, body } = known;
    row.style.setProperty('--hue', String(body.hue));
    row.classList.toggle('gone', known.gone);
    part(row, '.alias').textContent = body.alias || known.hostname;
    part(row, '.host').textContent = known.hostname;
    const badges: Badge[] = [];
    if (known.hostname === this.servedBy) badges.push(['served this page', '']);
    if (known.gone) badges.push(['gone', 'bad']);
    else if (known.fresh && now - known.firstSeen < liveSettings.newForMs) badges.push(['new', 'ok']);
    if (body.state !== 'ready') badges.push([body.state, body.state === 'draining' ? 'warn' : 'bad']);
    part(row, '.badges').replaceChildren(...[...badges, ...faultBadges(body.faults)].map(([text, level]) => el('span', `badge ${level}`, text)));
    const percent = total > 0 ? Math.round((100 * count) / total) : 0;
    part(row, '.bar span').style.width = `${percent}%`;
    part(row, '.pct').textContent = `${percent}%`;
    const silent = now - known.lastSeen;
    const up = known.gone ? `last answer ${formatUptime(silent / 1000)} ago` : `up ${formatUptime(body.uptimeSeconds + silent / 1000)}`;
    part(row, '.meta').textContent = `${count} of the last ${total} answers · ${up} · v${body.version}`;
    row.setAttribute('aria-label', `${body.alias} ${known.hostname}: ${percent} percent of answers${known.gone ? ', gone' : ''}`);
  }
}
