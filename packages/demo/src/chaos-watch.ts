import { setTimeout as sleep } from 'node:timers/promises';
import { instanceAlias, instanceName, Rotation, type InstanceBody } from '@three-tier/shared';

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

/** One second's polls, for the progress line. */
interface SecondTally {
  requests: number;
  failed: number;
  /** Each failure is said once a second, the first time it happens. */
  failures: Map<string, number>;
  hosts: Set<string>;
}

const newSecond = (): SecondTally => ({ requests: 0, failed: 0, failures: new Map(), hosts: new Set() });

/** A watch's state as its polls answer: the rotation, who left and joined, and the states last seen. */
class RotationWatch {
  readonly #options: WatchOptions;
  readonly #print: (line: string) => void;
  readonly #start = Date.now();
  readonly #rotation: Rotation;
  readonly #everSeen: Set<string>;
  readonly #left: string[] = [];
  readonly #joined: string[] = [];
  readonly #states: Map<string, string>;
  #redisState: string | undefined;
  /** A replicated Redis: the master the api writes to, as the last answer said. */
  #redisMaster: string | undefined;
  #requests = 0;
  #failed = 0;
  #second = newSecond();
  readonly #pending = new Set<Promise<void>>();
  /** Why the target is out, while its probe says so. */
  #targetDown: string | undefined;
  /** The most instances seen answering at once: as many again make the rotation whole. */
  #allBack: number;
  #probing: Promise<void> = Promise.resolve();
  #lastProbe = 0;

  constructor(options: WatchOptions, print: (line: string) => void) {
    this.#options = options;
    this.#print = print;
    this.#rotation = new Rotation(this.#start, options.baseline.hosts.keys());
    this.#everSeen = new Set([...options.baseline.hosts.keys(), ...(options.known ?? [])]);
    this.#states = new Map(options.baseline.hosts);
    this.#redisState = options.baseline.redis;
    this.#redisMaster = options.baseline.master;
    this.#allBack = this.#rotation.present().length;
  }

  /** Polls at the rate asked until the time is up or the signal aborts, then waits for the answers still out. */
  async run(): Promise<WatchReport> {
    const rate = this.#options.rate ?? 10;
    const end = this.#start + this.#options.seconds * 1_000;
    let nextProgress = this.#start + 1_000;
    while (Date.now() < end && !this.#options.signal?.aborted) {
      const sent = Date.now();
      this.#send();
      this.#sweep(Date.now());
      this.#probeTarget();
      if (Date.now() >= nextProgress) {
        this.#sayProgress();
        nextProgress += 1_000;
      }
      this.#allBack = Math.max(this.#allBack, this.#rotation.present().length);
      await sleep(Math.max(0, sent + 1_000 / rate - Date.now()));
    }
    await Promise.all([...this.#pending, this.#probing]);
    return { requests: this.#requests, failed: this.#failed, answering: this.#rotation.present().sort(), left: this.#left, joined: this.#joined };
  }

  #at(time = Date.now()): string {
    return `+${((time - this.#options.since) / 1_000).toFixed(1)} s`.padEnd(8);
  }

  #say(line: string, time?: number): void {
    this.#print(`${this.#at(time)} ${line}`);
  }

  /** One GET /instance, not awaited: its answer is counted when it comes. */
  #send(): void {
    this.#requests += 1;
    this.#second.requests += 1;
    const request = poll(this.#options.url).then(({ body, failure }) => {
      if (body) this.#onAnswer(body, Date.now());
      else this.#onFailure(failure ?? 'unknown', Date.now());
    });
    this.#pending.add(request);
    void request.finally(() => this.#pending.delete(request));
  }

  #onAnswer(body: InstanceBody, time: number): void {
    const host = body.hostname;
    this.#second.hosts.add(host);
    // A late answer of the target, sent before its probe found it down, does not bring it back: to
    // the others it is only a turn they did not take.
    const heldOut = host === this.#options.target?.hostname && this.#targetDown !== undefined;
    if (heldOut) this.#rotation.miss(time);
    else if (this.#rotation.answer(host, time) !== undefined) this.#onArrival(host, time);
    this.#noteStates(body, time);
  }

  /** Not in the baseline, or gone: it joins, or comes back. */
  #onArrival(host: string, time: number): void {
    const back = this.#everSeen.has(host);
    this.#everSeen.add(host);
    this.#joined.push(host);
    this.#say(`${instanceName(host)} ${back ? 'came back into the rotation' : 'joined'}`, time);
    const answering = this.#rotation.present().length;
    if (answering >= this.#allBack && this.#left.length > 0) this.#say(`the rotation is whole again: ${answering} instances answer`, time);
  }

  /** Says how the instance's state and Redis's (as the instance sees it) changed since they were last seen. */
  #noteStates(body: InstanceBody, time: number): void {
    const host = body.hostname;
    const was = this.#states.get(host);
    if (was !== undefined && was !== body.state) this.#say(`${instanceName(host)} is ${body.state} now (was ${was})`, time);
    this.#states.set(host, body.state);
    if (this.#redisState !== undefined && this.#redisState !== body.redis.state) {
      this.#say(`redis is ${body.redis.state} now, as ${instanceAlias(host)} sees it${body.redis.detail ? `: ${body.redis.detail}` : ''}`, time);
    }
    this.#redisState = body.redis.state;
    const master = body.redis.master;
    if (master !== undefined && this.#redisMaster !== undefined && master !== this.#redisMaster) {
      this.#say(`the api writes to a new redis master: ${master} (was ${this.#redisMaster}), as ${instanceAlias(host)} sees it`, time);
    }
    if (master !== undefined) this.#redisMaster = master;
  }

  /** A turn nobody took. */
  #onFailure(failure: string, time: number): void {
    this.#rotation.miss(time);
    this.#failed += 1;
    this.#second.failed += 1;
    if (!this.#second.failures.has(failure)) this.#say(`a request failed: ${failure}`, time);
    this.#second.failures.set(failure, (this.#second.failures.get(failure) ?? 0) + 1);
  }

  /** Those the rotation rule now counts as gone. */
  #sweep(now: number): void {
    for (const member of this.#rotation.sweep(now)) {
      this.#left.push(member.hostname);
      this.#say(`${instanceName(member.hostname)} left the rotation (last answer at ${this.#at(member.lastAnswerAt).trim()})`, now);
    }
  }

  // The target, asked directly a few times a second: the edge's answers alone would show it gone
  // only after a silence, and a quick restart could hide in one.
  #probeTarget(): void {
    const target = this.#options.target;
    if (!target || Date.now() - this.#lastProbe < 250) return;
    this.#lastProbe = Date.now();
    this.#probing = this.#probing.then(async () => {
      const reason = await target.probe();
      this.#onProbe(target.hostname, reason, Date.now());
    });
  }

  /** The target is out the moment its probe says so (and leaves the rotation), and back when it no longer does. */
  #onProbe(hostname: string, reason: string | undefined, time: number): void {
    if (reason && !this.#targetDown) {
      this.#say(`${instanceName(hostname)} is out: ${reason}`, time);
      if (this.#rotation.leave(hostname)) {
        this.#left.push(hostname);
        this.#say(`${instanceName(hostname)} left the rotation`, time);
      }
    } else if (!reason && this.#targetDown) {
      this.#say(`${instanceName(hostname)} is up and ready again`, time);
    }
    this.#targetDown = reason;
  }

  #sayProgress(): void {
    const { requests, failed, hosts } = this.#second;
    const answering = [...hosts].map((host) => instanceAlias(host)).sort().join(', ') || 'none';
    this.#say(`${requests} requests, ${failed} failed; answering: ${answering}`);
    this.#second = newSecond();
  }
}

/**
 * Polls GET /instance through the edge and says, as it happens, which instance left the rotation
 * (the rotation rule's call, or at once for the target its probe finds down), which joined or came
 * back, how Redis and each instance's state changed, and which requests failed; a progress line
 * every second, so it is never silent.
 */
export async function watch(options: WatchOptions, print: (line: string) => void): Promise<WatchReport> {
  return new RotationWatch(options, print).run();
}

/** The rotation before an action: each hostname answering with its state, and Redis's state. */
export interface Baseline {
  readonly hosts: ReadonlyMap<string, string>;
  readonly redis?: string;
  /** A replicated Redis's master, as the instances name it. */
  readonly master?: string;
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
  let master: string | undefined;
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
        master = body.redis.master ?? master;
      }),
    );
    await sleep(1_000 / rate);
    rotation.sweep(Date.now());
  }
  await Promise.all(polls);
  const hosts = new Map(rotation.present().map((host) => [host, states.get(host) ?? '?']));
  return { hosts, ...(redis ? { redis } : {}), ...(master ? { master } : {}) };
}
