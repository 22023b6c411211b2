import { edgeAnswerWithinMs, routes } from '@three-tier/shared/browser';
import { liveSettings } from '../live-settings.js';
import { announce, $, byId } from './dom.js';
import { call, failure, loadBody } from './call.js';
import type { InstanceList } from './instances.js';
import { drawTally } from './tally.js';

const { parallel, windowMs } = liveSettings.load;
const loadTimeoutMs = edgeAnswerWithinMs(routes.load);

/**
 * The load card: /load at a rate the page sets, at most `parallel` waiting at once, with the answers
 * of the last seconds, the edge's 429s and the saturated instances' 503s counted apart.
 */
export class LoadRun {
  #timer: ReturnType<typeof setInterval> | undefined;
  #startedAt = 0;
  #inFlight = 0;
  #sent = 0;
  /** Ticks that sent nothing: `parallel` requests were already waiting. */
  #skipped = 0;
  #results: { readonly at: number; readonly ok: boolean }[] = [];
  #hosts = new Map<string, number>();
  /** Failures by status ('none': no answer at all). */
  #statuses = new Map<string, number>();
  #lastProblem = '';

  constructor(private readonly instances: InstanceList) {}

  /** Wires the start/stop button. */
  wire(): void {
    const button = byId('load-toggle', HTMLButtonElement);
    button.addEventListener('click', () => {
      if (this.#timer === undefined) this.#start(button);
      else this.#stop(button);
    });
  }

  draw(now: number): void {
    const results = this.#results;
    while (results.length > 0 && (results[0]?.at ?? now) < now - windowMs) results.shift();
    const done = results.filter((result) => result.ok).length;
    const elapsed = Math.min(windowMs, now - (this.#startedAt || now)) || windowMs;
    $('load-throughput').textContent = this.#timer !== undefined || done > 0 ? `${(done / (elapsed / 1000)).toFixed(1)}/s` : '—';
    $('load-sent').textContent = String(this.#sent);
    $('load-429').textContent = String(this.#statuses.get('429') ?? 0);
    $('load-503').textContent = String(this.#statuses.get('503') ?? 0);
    let other = 0;
    for (const [status, count] of this.#statuses) if (status !== '429' && status !== '503') other += count;
    $('load-other').textContent = String(other);
    $('load-note').textContent =
      (this.#skipped > 0 ? `${this.#skipped} not sent: ${parallel} already waiting (the browser keeps connections for the polls). ` : '') +
      (other > 0 && this.#lastProblem ? `Last other failure: ${this.#lastProblem}` : '');
    drawTally($('load-tally'), this.#hosts, this.instances);
  }

  #start(button: HTMLButtonElement): void {
    const ms = byId('load-ms', HTMLInputElement);
    const rate = byId('load-rate', HTMLInputElement);
    if (!ms.reportValidity() || !rate.reportValidity()) return;
    this.#sent = 0;
    this.#skipped = 0;
    this.#results = [];
    this.#hosts = new Map();
    this.#statuses = new Map();
    this.#startedAt = Date.now();
    this.#lastProblem = '';
    this.#timer = setInterval(() => this.#tick(), 1000 / Number(rate.value));
    this.#tick();
    button.setAttribute('aria-pressed', 'true');
    button.textContent = 'Stop load';
    announce(`Load started: ${routes.load.path}?ms=${ms.value} at ${rate.value} requests/s.`);
  }

  #stop(button: HTMLButtonElement): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    button.setAttribute('aria-pressed', 'false');
    button.textContent = 'Start load';
    announce(`Load stopped after ${this.#sent} requests.`);
  }

  #tick(): void {
    if (this.#inFlight >= parallel) {
      this.#skipped += 1;
      return;
    }
    this.#inFlight += 1;
    this.#sent += 1;
    const ms = byId('load-ms', HTMLInputElement).value;
    void call(`.${routes.load.path}?ms=${encodeURIComponent(ms)}`, loadTimeoutMs).then((result) => {
      this.#inFlight -= 1;
      this.#results.push({ at: Date.now(), ok: result.ok });
      const body = loadBody(result);
      if (body) {
        this.#hosts.set(body.hostname, (this.#hosts.get(body.hostname) ?? 0) + 1);
        this.instances.sawAnswer(body.hostname, Date.now());
        return;
      }
      const key = result.status === 0 ? 'none' : String(result.status);
      this.#statuses.set(key, (this.#statuses.get(key) ?? 0) + 1);
      if (result.status !== 429 && result.status !== 503) this.#lastProblem = failure(result);
    });
  }
}
