import { describeFaults, Rotation, type Faults, type InstanceBody, type Member } from '@three-tier/shared/browser';
import { liveSettings } from '../live-settings.js';
import { formatUptime } from '../uptime.js';
import { $, announce, el, part, swatch } from './dom.js';

interface Known {
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
 * (served this page, new, gone, its state and faults) and how long it has been up. Who is new or
 * gone is the rotation rule's call (@three-tier/shared's Rotation), as for npm run load and chaos.
 */
export class InstanceList {
  readonly #known = new Map<string, Known>();
  readonly #rotation: Rotation;
  /** Who answered each poll of the share window. */
  readonly #samples: { readonly at: number; readonly hostname: string }[] = [];

  constructor(
    /** The instance that served the page. */
    private readonly servedBy: string,
    startedAt: number,
  ) {
    this.#rotation = new Rotation(startedAt);
  }

  /** A poll's answer: the instance is listed, or back. */
  onAnswer(body: InstanceBody, now: number): void {
    this.#samples.push({ at: now, hostname: body.hostname });
    const known = this.#known.get(body.hostname);
    if (known) known.body = body;
    else this.#known.set(body.hostname, { body });
    const arrival = this.#rotation.answer(body.hostname, now);
    if (arrival === 'new') announce(`${body.alias || body.hostname} (${body.hostname}) appeared and takes requests.`);
    if (arrival === 'back') announce(`${this.nameOf(body.hostname)} answers again.`);
  }

  /** A poll nobody answered: a turn every instance missed. */
  onMiss(now: number): void {
    this.#rotation.miss(now);
  }

  /**
   * Answers to the buttons are turns in the edge's round robin too: without them, the polls alone
   * could miss an instance the buttons' requests lined up with, alive all along.
   */
  sawAnswer(hostname: string, now: number): void {
    if (this.#rotation.member(hostname)?.gone === false) this.#rotation.answer(hostname, now);
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
    for (const [hostname, known] of this.#known) {
      if (this.#rotation.member(hostname)?.gone) gone += 1;
      else states.set(known.body.state, (states.get(known.body.state) ?? 0) + 1);
    }
    return { live: this.#known.size - gone, gone, states };
  }

  draw(now: number): void {
    const samples = this.#samples;
    while (samples.length > 0 && (samples[0]?.at ?? now) < now - liveSettings.shareWindowMs) samples.shift();
    const shares = new Map<string, number>();
    for (const sample of samples) shares.set(sample.hostname, (shares.get(sample.hostname) ?? 0) + 1);
    for (const left of this.#rotation.sweep(now)) {
      announce(`${this.nameOf(left.hostname)} is gone: no answer for ${Math.round((now - left.lastAnswerAt) / 1000)} s.`);
    }
    for (const [hostname, known] of this.#known) {
      const member = this.#rotation.member(hostname);
      if (!member || now - member.lastAnswerAt > liveSettings.forgetAfterMs) {
        known.row?.remove();
        this.#known.delete(hostname);
        this.#rotation.forget(hostname);
        continue;
      }
      this.#drawRow(known, member, shares.get(hostname) ?? 0, samples.length, now);
    }
    $('no-instances').hidden = this.#known.size > 0;
  }

  #drawRow(known: Known, member: Member, count: number, total: number, now: number): void {
    const { hostname, gone } = member;
    if (!known.row) {
      known.row = newRow(hostname);
      $('instances').append(known.row);
    }
    const { row, body } = known;
    row.style.setProperty('--hue', String(body.hue));
    row.classList.toggle('gone', gone);
    part(row, '.alias').textContent = body.alias || hostname;
    part(row, '.host').textContent = hostname;
    const badges: Badge[] = [];
    if (hostname === this.servedBy) badges.push(['served this page', '']);
    if (gone) badges.push(['gone', 'bad']);
    else if (member.isNew && now - member.firstAnswerAt < liveSettings.newForMs) badges.push(['new', 'ok']);
    if (body.state !== 'ready') badges.push([body.state, body.state === 'draining' ? 'warn' : 'bad']);
    part(row, '.badges').replaceChildren(...[...badges, ...faultBadges(body.faults)].map(([text, level]) => el('span', `badge ${level}`, text)));
    const percent = total > 0 ? Math.round((100 * count) / total) : 0;
    part(row, '.bar span').style.width = `${percent}%`;
    part(row, '.pct').textContent = `${percent}%`;
    const silent = now - member.lastAnswerAt;
    const up = gone ? `last answer ${formatUptime(silent / 1000)} ago` : `up ${formatUptime(body.uptimeSeconds + silent / 1000)}`;
    part(row, '.meta').textContent = `${count} of the last ${total} answers · ${up} · v${body.version}`;
    row.setAttribute('aria-label', `${body.alias} ${hostname}: ${percent} percent of answers${gone ? ', gone' : ''}`);
  }
}
