import { setTimeout as sleep } from 'node:timers/promises';
import { instanceAlias, Rotation, type Arrival, type InstanceBody } from '@three-tier/shared';

export interface WatchOptions {
  /** The edge: GET /instance through it shows who is in the rotation. */
  readonly url: string;
  readonly seconds: number;
  /** Polls a second. */
  readonly rate?: number;
  /** Who answered before the action, and how: the rotation and states to compare with. */
  readonly baseline: Baseline;
  /** The clock the "+0.4 s" offsets count from: the moment of the action. */
  readonly since: number;
  readonly signal?: AbortSignal;
  /** Every instance the stack listed before acting: one of them answering again "came back", others "joined". */
  readonly known?: readonly string[];
  /** The instance acted on, probed directly: it leaves the rotation the moment it is down or unready. */
  readonly target?: { readonly hostname: string; readonly probe: () => Promise<string | undefined> };
}

export interface WatchReport {
  readonly requests: number;
  readonly failed: number;
  /** Instances that answered in the last seconds of the watch. */
  readonly answering: readonly string[];
  readonly left: readonly string[];
  readonly joined: readonly string[];
}

/** "coral-walrus (host-3001)" */
export function nameOf(hostname: string): string {
  return `${instanceAlias(hostname)} (${hostname})`;
}

/** One answer of GET /instance, or why there was none. */
async function poll(url: string): Promise<{ body?: InstanceBody; failure?: string }> {
  try {
    const response = await fetch(`${url}/instance`, { signal: AbortSignal.timeout(3_000), headers: { connection: 'close' } });
    if (response.status !== 200) {
      const text = await response.text();
      let detail = '';
      try {
        detail = (JSON.parse(text) as { detail?: string }).detail ?? '';
      } catch {
        // not a problem+json answer
      }
      return { failure: `${response.status}${detail ? ` ${detail}` : ''}` };
    }
    return { body: (await response.json()) as InstanceBody };
  } catch (error) {
    return { failure: (error as Error).message };
  }
}

/**
 * Polls GET /instance through the edge and says, as it happens, which instance left the rotation
 * (the rotation rule's call, or at once for the target its probe finds down), which joined or came
 * back, how Redis and each instance's state changed, and which requests failed; a progress line
 * every second, so it is never silent.
 */
export async function watch(options: WatchOptions, print: (line: string) => void): Promise<WatchReport> {
  const rate = options.rate ?? 10;
  const at = (time = Date.now()): string => `+${((time - options.since) / 1_000).toFixed(1)} s`.padEnd(8);
  const say = (line: string, time?: number): void => print(`${at(time)} ${line}`);
  const start = Date.now();
  const rotation = new Rotation(start, options.baseline.hosts.keys());
  const everSeen = new Set([...options.baseline.hosts.keys(), ...(options.known ?? [])]);
  const left: string[] = [];
  const joined: string[] = [];
  const states = new Map<string, string>(options.baseline.hosts);
  let redisState: string | undefined = options.baseline.redis;
  let requests = 0;
  let failed = 0;
  const second = { requests: 0, failed: 0, failures: new Map<string, number>(), hosts: new Set<string>() };
  const end = start + options.seconds * 1_000;
  const pending = new Set<Promise<void>>();
  /** Why the target is out, while its probe says so. */
  let targetDown: string | undefined;
  let allBack = rotation.present().length;

  const onAnswer = (body: InstanceBody, time: number): void => {
    const host = body.hostname;
    second.hosts.add(host);
    // A late answer of the target, sent before its probe found it down, does not bring it back: to
    // the others it is only a turn they did not take.
    const heldOut = host === options.target?.hostname && targetDown !== undefined;
    let arrival: Arrival | undefined;
    if (heldOut) rotation.miss(time);
    else arrival = rotation.answer(host, time);
    // Not in the baseline, or gone: it joins, or comes back.
    if (arrival !== undefined) {
      const back = everSeen.has(host);
      everSeen.add(host);
      joined.push(host);
      say(`${nameOf(host)} ${back ? 'came back into the rotation' : 'joined'}`, time);
      const answering = rotation.present().length;
      if (answering >= allBack && left.length > 0) say(`the rotation is whole again: ${answering} instances answer`, time);
    }
    const state = body.state;
    if (states.has(host) && states.get(host) !== state) say(`${nameOf(host)} is ${state} now (was ${states.get(host) ?? '?'})`, time);
    states.set(host, state);
    if (redisState !== undefined && redisState !== body.redis.state) {
      say(`redis is ${body.redis.state} now, as ${instanceAlias(host)} sees it${body.redis.detail ? `: ${body.redis.detail}` : ''}`, time);
    }
    redisState = body.redis.state;
  };

  const checkLeavers = (now: number): void => {
    for (const member of rotation.sweep(now)) {
      left.push(member.hostname);
      say(`${nameOf(member.hostname)} left the rotation (last answer at ${at(member.lastAnswerAt).trim()})`, now);
    }
  };

  // The target, asked directly a few times a second: the edge's answers alone would show it gone
  // only after a silence, and a quick restart could hide in one.
  let probing: Promise<void> = Promise.resolve();
  let lastProbe = 0;
  const probeTarget = (): void => {
    const target = options.target;
    if (!target || Date.now() - lastProbe < 250) return;
    lastProbe = Date.now();
    probing = probing.then(async () => {
      const reason = await target.probe();
      const time = Date.now();
      if (reason && !targetDown) {
        say(`${nameOf(target.hostname)} is out: ${reason}`, time);
        if (rotation.leave(target.hostname)) {
          left.push(target.hostname);
          say(`${nameOf(target.hostname)} left the rotation`, time);
        }
      } else if (!reason && targetDown) {
        say(`${nameOf(target.hostname)} is up and ready again`, time);
      }
      targetDown = reason;
    });
  };

  let nextProgress = start + 1_000;
  while (Date.now() < end && !options.signal?.aborted) {
    const sent = Date.now();
    requests += 1;
    second.requests += 1;
    const request = poll(options.url).then(({ body, failure }) => {
      const time = Date.now();
      if (body) onAnswer(body, time);
      else {
        // A turn nobody took.
        rotation.miss(time);
        failed += 1;
        second.failed += 1;
        const key = failure ?? 'unknown';
        if (!second.failures.has(key)) say(`a request failed: ${key}`, time);
        second.failures.set(key, (second.failures.get(key) ?? 0) + 1);
      }
    });
    pending.add(request);
    void request.finally(() => pending.delete(request));
    checkLeavers(Date.now());
    probeTarget();
    if (Date.now() >= nextProgress) {
      say(
        `${second.requests} requests, ${second.failed} failed; answering: ` +
          ([...second.hosts].map((host) => instanceAlias(host)).sort().join(', ') || 'none'),
      );
      second.requests = 0;
      second.failed = 0;
      second.failures = new Map();
      second.hosts = new Set();
      nextProgress += 1_000;
    }
    allBack = Math.max(allBack, rotation.present().length);
    await sleep(Math.max(0, sent + 1_000 / rate - Date.now()));
  }
  await Promise.all([...pending, probing]);
  return { requests, failed, answering: rotation.present().sort(), left, joined };
}

/** The rotation before an action: each hostname answering with its state, and Redis's state. */
export interface Baseline {
  readonly hosts: ReadonlyMap<string, string>;
  readonly redis?: string;
}

/**
 * Who answers GET /instance through `url`, and how: polled until the rotation rule has settled,
 * when an instance that has not answered would have missed its turns (8 of each other's answers,
 * and 2.5 s at least), so a gap in the round robin does not leave one out.
 */
export async function takeBaseline(url: string, rate = 10): Promise<Baseline> {
  const rotation = new Rotation(Date.now());
  const states = new Map<string, string>();
  let redis: string | undefined;
  const polls: Promise<void>[] = [];
  while (!rotation.settled) {
    polls.push(
      poll(url).then(({ body }) => {
        if (!body) {
          rotation.miss(Date.now());
          return;
        }
        rotation.answer(body.hostname, Date.now());
        states.set(body.hostname, body.state);
        redis = body.redis.state;
      }),
    );
    await sleep(1_000 / rate);
    rotation.sweep(Date.now());
  }
  await Promise.all(polls);
  const hosts = new Map(rotation.present().map((host) => [host, states.get(host) ?? '?']));
  return { hosts, ...(redis ? { redis } : {}) };
}
