import { pino, type DestinationStream, type Logger } from 'pino';

export interface LoggerOptions {
  readonly name: string;
  readonly level: string;
  /** pino-pretty in a worker thread; only when asked for (by default, on a terminal). */
  readonly pretty: boolean;
  /**
   * Censor credentials wherever a log call might carry them. Costs a few microseconds a line, so
   * the per-request logger, whose fields are fixed and hold none, goes without.
   */
  readonly redact?: boolean;
  /** Shared by the loggers of one process, so their lines never interleave; see `logDestination`. */
  readonly destination?: DestinationStream;
}

/** What a log write waits to fill before it goes out (the process is its stdout's only writer). */
const logBufferBytes = 4_096;
/** The longest a logged line waits to be written. */
const logFlushMs = 250;

/**
 * Standard output, written asynchronously and 4 KiB at a time: under load one write carries a
 * dozen lines where it carried the two or three logged while the last write was in flight, and
 * whatever reads the other end (the runner, Docker's log driver) wakes up that much less often.
 * A quiet process still shows a line within `logFlushMs`, as nginx's access log does (`flush=`),
 * and whatever is pending is written before the process exits (see `flushLogs`).
 */
export function logDestination(): DestinationStream {
  const destination = pino.destination({ dest: 1, sync: false, minLength: logBufferBytes, periodicFlush: logFlushMs });
  destinations.add(destination);
  return destination;
}

/** Every destination `logDestination` made: `abandonPendingLogs` reaches them before an exit. */
const destinations = new Set<{ flushSync(): void }>();

/**
 * Gives up on whatever the destinations still hold, so nothing is written synchronously at exit.
 * pino flushes its destinations synchronously on 'exit', and sonic-boom's synchronous flush
 * retries a failed write forever, EPIPE included (4.2: only EAGAIN and EBUSY may give up): with
 * stdout's reader gone (a runner SIGKILLed), the process would sleep and retry for good instead of
 * exiting (seen: an api still retrying 20 minutes later). Called once the bounded asynchronous
 * flush before an exit has had its chance.
 */
export function abandonPendingLogs(): void {
  for (const destination of destinations) destination.flushSync = () => undefined;
}

/** JSON lines on stdout; pretty only when asked for. */
export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    name: options.name,
    level: options.level,
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(options.redact === false
      ? {}
      : { redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password'], censor: '[redacted]' } }),
  };
  if (options.pretty) {
    return pino({ ...settings, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino(settings, options.destination ?? logDestination());
}
