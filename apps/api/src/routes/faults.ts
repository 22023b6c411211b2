import { faultLimits, faultRoutes, type FaultMethod, type FaultName, type FaultRoute } from '@three-tier/shared';
import type { Express, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { FaultSwitch } from '../faults/fault-switch.js';
import { HttpError } from '../http/problem.js';
import { sendJson } from '../http/send-json.js';
import type { Instance } from '../instance.js';

export interface FaultRouteDependencies {
  readonly faults: FaultSwitch;
  readonly instance: Instance;
  readonly logger: Logger;
  /** Ends the process at once, code 1, no drain: what the exit fault asks for. */
  readonly exit: () => void;
}

/** How long the exit fault waits for its client to take the answer and hang up. */
const exitAfterAnswerMs = 500;

const msError = `ms must be an integer from ${faultLimits.minLatencyMs} to ${faultLimits.maxLatencyMs}.`;
const rateError = 'rate must be a number from 0 to 1, e.g. 0.2 for one request in five.';

function parseLatency(value: unknown): number {
  if (typeof value !== 'string' || !/^[1-9][0-9]{0,4}$/.test(value)) throw new HttpError(400, msError);
  const ms = Number(value);
  if (ms > faultLimits.maxLatencyMs) throw new HttpError(400, msError);
  return ms;
}

function parseRate(value: unknown): number {
  if (typeof value !== 'string' || !/^(0|1|0?\.[0-9]{1,6}|[01]\.[0-9]{1,6})$/.test(value)) throw new HttpError(400, rateError);
  const rate = Number(value);
  if (rate > 1) throw new HttpError(400, rateError);
  return rate;
}

/** Mounts one fault route: its handlers by method, HEAD through GET, 405 with `Allow` otherwise. */
function mount(app: Express, route: FaultRoute, handlers: Partial<Record<FaultMethod, RequestHandler>>): void {
  const allow = route.methods.join(', ');
  const label: RequestHandler = (_req, res, next) => {
    res.locals.route = route.path;
    next();
  };
  const chain = app.route(route.path).all(label);
  for (const [method, handler] of Object.entries(handlers)) {
    chain[method.toLowerCase() as 'get' | 'put' | 'post' | 'delete'](handler);
  }
  chain.all(() => {
    throw new HttpError(405, `${route.path} answers ${allow} only.`, { Allow: allow });
  });
}

/**
 * The fault routes (see `faultRoutes` in @three-tier/shared), on the api's port only: the edges
 * answer 404 under /faults. Every change is logged, and each answer is the faults now in force.
 */
export function mountFaultRoutes(app: Express, deps: FaultRouteDependencies): void {
  const { faults, logger, instance } = deps;
  const change =
    (apply: (query: Record<string, unknown>) => void, what: string): RequestHandler =>
    (req, res) => {
      apply(req.query);
      logger.warn({ faults: faults.state }, `fault ${what} on demand`);
      sendJson(res, faults.state);
    };
  const clear = (name: FaultName): RequestHandler => change(() => faults.clear(name), `${name} cleared`);

  mount(app, faultRoutes.list, {
    GET: (_req, res) => sendJson(res, faults.state),
    DELETE: change(() => faults.clear(), 'all cleared'),
  });
  mount(app, faultRoutes.unready, {
    PUT: change(() => faults.set({ unready: true }), 'unready set'),
    DELETE: clear('unready'),
  });
  mount(app, faultRoutes.latency, {
    PUT: change((query) => faults.set({ latencyMs: parseLatency(query.ms) }), 'latency set'),
    DELETE: clear('latency'),
  });
  mount(app, faultRoutes.errors, {
    PUT: change((query) => faults.set({ errorRate: parseRate(query.rate) }), 'errors set'),
    DELETE: clear('errors'),
  });
  mount(app, faultRoutes.exit, {
    POST: (req, res) => {
      // The answer first, then the crash: once the client has it and the connection is closed,
      // or after a bound if the client lingers.
      const socket = req.socket;
      res.once('finish', () => {
        const timer = setTimeout(deps.exit, exitAfterAnswerMs);
        socket.once('close', () => {
          clearTimeout(timer);
          deps.exit();
        });
      });
      res.setHeader('Connection', 'close');
      sendJson(res, { status: 'exiting', hostname: instance.hostname, detail: 'exits with code 1 now, as a crash would: no drain' }, 202);
    },
  });
}
