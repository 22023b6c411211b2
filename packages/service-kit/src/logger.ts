import { pino, type Logger } from 'pino';

/** JSON lines on stdout; pretty only when asked for (by default, on a terminal). */
export function createLogger(options: { level: string; pretty: boolean; name: string }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password'], censor: '[redacted]' },
    ...(options.pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  });
}
