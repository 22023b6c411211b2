import { describeFaults, faultNames, faultRoutes, instanceName, rotationRule, type FaultName, type Faults } from '@three-tier/shared';
import { maxApiInstances } from '@three-tier/runner';
import { killInSet, redisKills, SingleRedisError, type RedisKill, type SetKill } from './chaos-redis-set.js';
import { scaleCompose, type ChaosInstance, type ChaosStack, type RedisAction } from './chaos-stacks.js';
import { takeBaseline, watch } from './chaos-watch.js';

/** A mistake on the command line: said with the usage, exit 2. */
export class UsageError extends Error {}

/** An action that cannot be done (scale natively: exit 2), or was refused by the stack (exit 1). */
export class RefusedError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

export interface ChaosOptions {
  readonly stack: ChaosStack;
  readonly watchSeconds: number;
  /** For `scale` in compose: the project and the environment compose runs with. */
  readonly composeProject: string;
  readonly env: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
}

/** The instance `name` names (hostname, alias, port or container, or 1-based index), or a random one. */
export function pickInstance(instances: readonly ChaosInstance[], name: string | undefined, inRotation?: ReadonlySet<string>): ChaosInstance {
  if (instances.length === 0) throw new RefusedError('no api instance is running');
  if (name === undefined) {
    // Unnamed, an instance the edge is sending to: one that is out already (just restarted, passed
    // over after a failure) could not be seen to leave, and the watch would have nothing to show.
    const answering = instances.filter((instance) => inRotation?.has(instance.hostname) ?? false);
    const pool = answering.length > 0 ? answering : instances;
    return pool[Math.floor(Math.random() * pool.length)] as ChaosInstance;
  }
  const found = instances.find((instance) => instance.hostname === name || instance.alias === name || instance.names.includes(name));
  if (found) return found;
  if (/^[1-9][0-9]?$/.test(name) && Number(name) <= instances.length) return instances[Number(name) - 1] as ChaosInstance;
  const list = instances.map((instance, index) => `${index + 1}: ${instanceName(instance.hostname)} at ${instance.where}`).join('; ');
  throw new UsageError(`no api instance is named ${JSON.stringify(name)}; there are ${list}`);
}

function faultsOf(body: string): string {
  try {
    const words = describeFaults(JSON.parse(body) as Faults);
    return words.length > 0 ? words.join(', ') : 'no faults';
  } catch {
    return body.trim();
  }
}

/** `set unready`, `set latency=300`, `set errors=0.2`: the fault route and its query. */
function faultRequest(spec: string | undefined): { path: string; what: string } {
  const [name, value] = (spec ?? '').split('=');
  if (name === 'unready' && value === undefined) return { path: faultRoutes.unready.path, what: 'unready' };
  if (name === 'latency' && value !== undefined) return { path: `${faultRoutes.latency.path}?ms=${encodeURIComponent(value)}`, what: `latency +${value} ms` };
  if (name === 'errors' && value !== undefined) return { path: `${faultRoutes.errors.path}?rate=${encodeURIComponent(value)}`, what: `errors at rate ${value}` };
  throw new UsageError(`fault set takes unready, latency=MS or errors=RATE (got ${JSON.stringify(spec ?? '')})`);
}

type Say = (line: string) => void;

/**
 * Runs `act`, saying every `everyMs` how long it has taken since `since`: an action may take seconds
 * (compose up, a container's graceful stop), and chaos never goes quiet meanwhile.
 */
export async function sayingWhileActing<T>(act: () => Promise<T>, say: Say, since = Date.now(), everyMs = 1_000): Promise<T> {
  const ticker = setInterval(() => {
    say(`+${((Date.now() - since) / 1_000).toFixed(1)} s  still acting...`);
  }, everyMs);
  try {
    return await act();
  } finally {
    clearInterval(ticker);
  }
}
/** The instance an action is for, chosen once the rotation is known (the hostnames answering). */
type ChooseTarget = (inRotation: ReadonlySet<string>) => ChaosInstance;
/** Follows the stack by other means than /instance while the watch runs (a replicated Redis's members); resolves with the exit code. */
type Follow = (print: Say, since: number, signal?: AbortSignal) => Promise<number>;
/** Acts on the stack (on the chosen instance, if any), then watches what it does; resolves with the exit code. */
type ActAndWatch = (act: (target: ChaosInstance | undefined) => Promise<string>, choose?: ChooseTarget, follow?: () => Follow | undefined) => Promise<number>;

/** Acts, then watches what the stack does for CHAOS_WATCH_SECONDS and says it. */
async function actAndWatch(
  options: ChaosOptions,
  print: Say,
  act: (target: ChaosInstance | undefined) => Promise<string>,
  choose?: ChooseTarget,
  follow?: () => Follow | undefined,
): Promise<number> {
  const { stack } = options;
  const say = (line: string): void => print(`chaos | ${line}`);
  say(
    `watching ${stack.url}/instance until each instance has had ${rotationRule.turnsMissed} turns ` +
      `(${rotationRule.minSilentMs / 1_000} s at least), to know the rotation before acting`,
  );
  const baseline = await takeBaseline(stack.url);
  say(
    `in the rotation: ${[...baseline.hosts.keys()].map(instanceName).sort().join(', ') || 'nobody answers'}` +
      (baseline.redis ? `; redis is ${baseline.redis}` : '') +
      (baseline.master ? `, its master ${baseline.master}` : ''),
  );
  const target = choose?.(new Set(baseline.hosts.keys()));
  const known = (await stack.instances()).map((instance) => instance.hostname);
  const since = new Date();
  say(await sayingWhileActing(() => act(target), say, since.getTime()));
  const following = follow?.()?.(print, since.getTime(), options.signal) ?? Promise.resolve(0);
  if (options.watchSeconds === 0) return following;
  say(`watching ${stack.url}/instance 10 times a second for ${options.watchSeconds} s`);
  const report = await watch(
    {
      url: stack.url,
      seconds: options.watchSeconds,
      baseline,
      known,
      since: since.getTime(),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(target ? { target: { hostname: target.hostname, probe: () => stack.probe(target) } } : {}),
    },
    print,
  );
  say(`requests: ${report.requests}, failed: ${report.failed} (non-2xx or network errors), instances answering: ${report.answering.length}`);
  const retries = await stack.retries(since).catch((error: unknown) => `retries unknown: ${(error as Error).message}`);
  say(
    typeof retries === 'number'
      ? `the edge retried ${retries} request(s) on another instance since the action (from its log; nginx ` +
          'does not log the /instance polls, so there these are the other clients\' requests, e.g. npm run load or visits)'
      : retries,
  );
  return following;
}

/**
 * Acts on the instance `name` names, or unnamed on one the edge is sending to once the watch knows
 * the rotation. A wrong name is a usage error before any watch.
 */
function onInstance(
  instances: readonly ChaosInstance[],
  name: string | undefined,
  act: ActAndWatch,
  work: (instance: ChaosInstance) => Promise<string>,
): Promise<number> {
  if (name !== undefined) pickInstance(instances, name);
  return act(
    async (instance = pickInstance(instances, name)) => work(instance),
    (inRotation) => pickInstance(instances, name, inRotation),
  );
}

async function kill(args: readonly string[], stack: ChaosStack, act: ActAndWatch): Promise<number> {
  if (args.length > 1) throw new UsageError('kill takes at most one instance');
  const instances = await stack.instances();
  return onInstance(instances, args[0], act, async (instance) => `killing ${instanceName(instance.hostname)} at ${instance.where}: ${await stack.kill(instance)}`);
}

/** kill-master, kill-replica, kill-sentinel: one member of a replicated Redis SIGKILLed, and the set followed until it is whole again. */
async function killInRedisSet(stack: ChaosStack, action: RedisKill, act: ActAndWatch): Promise<number> {
  let set;
  try {
    set = await stack.redisSet();
  } catch (error) {
    if (error instanceof SingleRedisError) throw new RefusedError(`redis ${action}: ${error.message}`);
    throw error;
  }
  let killed: SetKill | undefined;
  return act(
    async () => {
      killed = await killInSet(set, action);
      return killed.said;
    },
    undefined,
    () => killed?.follow,
  );
}

async function redis(args: readonly string[], stack: ChaosStack, say: Say, act: ActAndWatch): Promise<number> {
  const [what, ...more] = args;
  if (more.length === 0 && redisKills.includes(what as RedisKill)) return killInRedisSet(stack, what as RedisKill, act);
  if (more.length > 0 || !['freeze', 'thaw', 'stop', 'start'].includes(what ?? '')) {
    throw new UsageError(`redis takes one of freeze, thaw, stop, start, ${redisKills.join(', ')}`);
  }
  if (stack.kind === 'native' && what === 'start') {
    say(await stack.redis('start'));
    return 0;
  }
  return act(() => stack.redis(what as RedisAction));
}

async function scale(args: readonly string[], options: ChaosOptions, say: Say, act: ActAndWatch): Promise<number> {
  const [count, ...more] = args;
  if (more.length > 0 || count === undefined || !/^[1-9][0-9]?$/.test(count)) throw new UsageError('scale takes a replica count, 1 to 99');
  if (options.stack.kind === 'native') {
    throw new RefusedError(
      'npm start fixes the number of api instances when it starts: stop it and start it again with API_INSTANCES=' +
        `${count} (1 to ${maxApiInstances}). Only the compose stack scales while it runs.`,
      2,
    );
  }
  return act(async () => {
    await scaleCompose(options.composeProject, count, options.env, say);
    return `compose now runs ${count} api replica(s)`;
  });
}

/** Runs one chaos action, then watches the stack respond. Returns the exit code. */
export async function runChaos(args: readonly string[], options: ChaosOptions, print: (line: string) => void): Promise<number> {
  const { stack } = options;
  const [action, ...rest] = args;
  const say = (line: string): void => print(`chaos | ${line}`);
  const act: ActAndWatch = (work, choose, follow) => actAndWatch(options, print, work, choose, follow);
  switch (action) {
    case 'kill':
      return kill(rest, stack, act);
    case 'redis':
      return redis(rest, stack, say, act);
    case 'scale':
      return scale(rest, options, say, act);
    case 'fault':
      return fault(rest, options, say, act);
    default:
      throw new UsageError(action === undefined ? 'an action is needed' : `unknown action ${JSON.stringify(action)}`);
  }
}

/** Answers the fault route's call with its body, or refuses with what the instance said. */
type FaultCall = (instance: ChaosInstance, method: string, path: string) => Promise<string>;

async function fault(
  args: readonly string[],
  options: ChaosOptions,
  say: Say,
  actAndWatch: ActAndWatch,
): Promise<number> {
  const { stack } = options;
  const [verb, ...rest] = args;
  const instances = await stack.instances();
  const call: FaultCall = async (instance, method, path) => {
    const answer = await stack.call(instance, method, path);
    if (answer.status >= 400 || answer.status === 0) {
      throw new RefusedError(`${method} ${path} on ${instanceName(instance.hostname)} answered ${answer.status}: ${answer.body.trim()}`);
    }
    return answer.body;
  };
  switch (verb) {
    case 'list':
      return faultList(rest, stack, instances, say);
    case 'set':
      return faultSet(rest, instances, call, actAndWatch);
    case 'clear':
      return faultClear(rest, instances, call, actAndWatch);
    case 'exit':
      return faultExit(rest, instances, call, actAndWatch);
    default:
      throw new UsageError('fault takes set, clear, exit or list');
  }
}

/** Every instance's faults, as it answers them; no watch. */
async function faultList(args: readonly string[], stack: ChaosStack, instances: readonly ChaosInstance[], say: Say): Promise<number> {
  if (args.length > 0) throw new UsageError('fault list takes nothing more');
  // Nothing to list is a stack not found (a compose project of another name, say): not a success.
  if (instances.length === 0) throw new RefusedError(`no api instance is running in ${stack.where}`);
  for (const [index, instance] of instances.entries()) {
    const answer = await stack.call(instance, 'GET', faultRoutes.list.path).catch((error: unknown) => ({ status: 0, body: (error as Error).message }));
    say(`${index + 1}: ${instanceName(instance.hostname)} at ${instance.where}: ${answer.status === 200 ? faultsOf(answer.body) : `no answer (${answer.body.trim()})`}`);
  }
  return 0;
}

async function faultSet(args: readonly string[], instances: readonly ChaosInstance[], call: FaultCall, act: ActAndWatch): Promise<number> {
  const [spec, name, ...more] = args;
  if (more.length > 0) throw new UsageError('fault set takes a fault and at most one instance');
  const request = faultRequest(spec);
  return onInstance(instances, name, act, async (instance) => {
    const body = await call(instance, 'PUT', request.path);
    return `${instanceName(instance.hostname)} at ${instance.where} is switched to ${request.what}; its faults now: ${faultsOf(body)}`;
  });
}

/** One fault or all of them, on one instance or, unnamed, on every instance: whatever was set anywhere is cleared. */
async function faultClear(args: readonly string[], instances: readonly ChaosInstance[], call: FaultCall, act: ActAndWatch): Promise<number> {
  const [first, second, ...more] = args;
  const which = faultNames.includes(first as FaultName) ? (first as FaultName) : undefined;
  const name = which ? second : first;
  if (more.length > 0 || (which === undefined && second !== undefined)) throw new UsageError('fault clear takes [unready|latency|errors] [instance]');
  const targets = name === undefined ? instances : [pickInstance(instances, name)];
  const path = which ? faultRoutes[which].path : faultRoutes.list.path;
  const [only] = targets;
  return act(async () => {
    const lines: string[] = [];
    for (const instance of targets) lines.push(`${instanceName(instance.hostname)}: ${faultsOf(await call(instance, 'DELETE', path))}`);
    return `cleared ${which ?? 'every fault'} on ${targets.length === 1 ? 'one instance' : `${targets.length} instances`}; now ${lines.join('; ')}`;
  }, only && targets.length === 1 ? () => only : undefined);
}

async function faultExit(args: readonly string[], instances: readonly ChaosInstance[], call: FaultCall, act: ActAndWatch): Promise<number> {
  const [name, ...more] = args;
  if (more.length > 0) throw new UsageError('fault exit takes at most one instance');
  return onInstance(instances, name, act, async (instance) => {
    await call(instance, 'POST', faultRoutes.exit.path);
    return `${instanceName(instance.hostname)} at ${instance.where} exits with code 1 now, as a crash would`;
  });
}
