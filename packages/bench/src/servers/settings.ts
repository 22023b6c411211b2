/**
 * What the bench tells a server it starts, as the server's one argument (JSON). The bench alone
 * reads the environment (src/cli.ts); a server's environment is PATH and HOME, as the runner gives
 * the api.
 */
export interface ServerSettings {
  readonly port: number;
  /** The Redis of raw-incr and course-app. */
  readonly redisUrl?: string;
  /** Where bare-proxy sends every request. */
  readonly upstreamUrl?: string;
  /** The api's settings, named as its entry point reads them from its environment (REDIS_URL, LOG_LEVEL...). */
  readonly apiEnv?: Readonly<Record<string, string>>;
  /** Features the api runs without: requestLogs, metrics, deadlines, securityHeaders. */
  readonly featuresOff?: readonly string[];
}

/** This server's settings, from its argument. */
export function serverSettings(): ServerSettings {
  const [json] = process.argv.slice(2);
  if (json === undefined) throw new Error('a bench server takes its settings as one JSON argument');
  return JSON.parse(json) as ServerSettings;
}
