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

/**
 * Standard output, written asynchronously: lines logged while a write is in flight go out together
 * in the next one, so a busy server makes one write per burst, not one per line, and a quiet one
 * still writes each line at once. Whatever is pending is flushed when the process exits.
 */
export function logDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: false });
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
