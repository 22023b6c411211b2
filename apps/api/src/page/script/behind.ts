import type { InstanceBody } from '@three-tier/shared/browser';
import { liveSettings } from '../live-settings.js';
import { describeFailover, MasterWatch, redisLine } from '../redis-line.js';
import { formatUptime } from '../uptime.js';
import type { CallResult } from './call.js';
import { failure } from './call.js';
import { $, announce, statusLine, type Level } from './dom.js';
import type { InstanceList } from './instances.js';

/**
 * The "what is behind it" lines: the edge (did the last poll get an answer, and how many of the last
 * failed), the api instances (how many answer, in which state) and Redis (as the last answer saw it),
 * with the visit count as read. Changes of the edge's and Redis's state are announced once.
 */
export class BehindLines {
  /** Whether each poll of the share window got an answer. */
  readonly #polls: { readonly at: number; readonly ok: boolean }[] = [];
  #lastPoll: (CallResult & { readonly at: number }) | undefined;
  #lastAnswer: { readonly at: number; readonly body: InstanceBody } | undefined;
  #redisSaid = '';
  #edgeSaid: Level = '';
  readonly #masters = new MasterWatch();

  onPoll(result: CallResult, now: number): void {
    this.#lastPoll = { ...result, at: now };
    this.#polls.push({ at: now, ok: result.ok });
  }

  onAnswer(body: InstanceBody, now: number): void {
    this.#lastAnswer = { at: now, body };
    // The state, not its detail: instances word the same outage differently, and the status line
    // would flap between them.
    const redis = body.redis;
    if (this.#redisSaid && redis.state !== this.#redisSaid) announce(`Redis is ${redis.state}${redis.detail ? `: ${redis.detail}` : '.'}`);
    this.#redisSaid = redis.state;
    const failover = this.#masters.onAnswer(redis, now);
    if (failover) announce(`Redis failover: ${describeFailover(failover)}.`);
  }

  draw(now: number, instances: InstanceList): void {
    this.#drawEdge(now);
    this.#drawApi(instances);
    this.#drawRedis(now);
  }

  #drawEdge(now: number): void {
    const polls = this.#polls;
    while (polls.length > 0 && (polls[0]?.at ?? now) < now - liveSettings.shareWindowMs) polls.shift();
    const failed = polls.filter((poll) => !poll.ok).length;
    const tail = failed > 0 ? ` · ${failed} of the last ${polls.length} polls failed` : '';
    const last = this.#lastPoll;
    let text: string;
    let level: Level;
    if (!last) {
      text = 'waiting for the first answer';
      level = '';
    } else if (last.ok) {
      text = `answers · ${Math.round(last.ms)} ms${tail}`;
      level = failed > 0 ? 'warn' : 'ok';
    } else if (last.status === 0) {
      text = `no answer: ${last.error ?? ''}${tail}`;
      level = 'bad';
    } else {
      const gateway = last.status >= 502 && last.status <= 504;
      text = `${gateway ? 'answers, but no instance did: ' : 'answered '}${failure(last)}${tail}`;
      level = 'bad';
    }
    statusLine('edge-line', level, text);
    if (level === 'bad' && this.#edgeSaid !== 'bad') announce(`Edge: ${text}`);
    if (level !== 'bad' && this.#edgeSaid === 'bad') announce('Edge: answers again.');
    this.#edgeSaid = level;
  }

  #drawApi(instances: InstanceList): void {
    const { live, gone, states } = instances.census();
    const parts = [...states.keys()].sort().map((state) => `${states.get(state) ?? 0} ${state}`);
    const text =
      `${live}${live === 1 ? ' instance answers' : ' instances answer'}` + (parts.length ? ` · ${parts.join(', ')}` : '') + (gone ? ` · ${gone} gone` : '');
    statusLine('api-line', live === 0 ? 'bad' : states.get('ready') === live && gone === 0 ? 'ok' : 'warn', text);
  }

  #drawRedis(now: number): void {
    const last = this.#lastAnswer;
    if (!last) {
      statusLine('redis-line', '', 'unknown: no instance has answered yet');
      return;
    }
    const { redis, hits } = last.body;
    const age = now - last.at;
    const stale = age > liveSettings.staleAfterMs ? ` (as of ${formatUptime(age / 1000)} ago)` : '';
    const line = redisLine(redis, this.#masters.recent(now), now);
    statusLine('redis-line', line.level, `${line.text}${stale}`);
    $('hits').textContent = typeof hits === 'number' ? String(hits) : '—';
    $('hits-note').textContent =
      typeof hits === 'number' ? 'as read from Redis by the polls, which count nothing' : `Redis is ${redis.state}: the count cannot be read`;
  }
}
