import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Where Debian and friends put daemons. Not on a normal user's PATH, so a plain `which nginx`
 * misses the nginx that apt-get installed.
 */
const systemDirs = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

export interface Binaries {
  readonly redisServer: string | undefined;
  /** Only for Redis with replicas (Debian's package redis-sentinel). */
  readonly redisSentinel: string | undefined;
  readonly nginx: string | undefined;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The path of an executable: an explicit override, then PATH, then the system directories. */
export function findBinary(name: string, env: NodeJS.ProcessEnv, override?: string): string | undefined {
  if (override) return executable(override) ? override : undefined;
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...systemDirs];
  return dirs.map((dir) => join(dir, name)).find(executable);
}

/** redis-server, redis-sentinel and nginx, honouring REDIS_SERVER_BIN, REDIS_SENTINEL_BIN and NGINX_BIN. */
export function findBinaries(env: NodeJS.ProcessEnv): Binaries {
  return {
    redisServer: findBinary('redis-server', env, env.REDIS_SERVER_BIN),
    redisSentinel: findBinary('redis-sentinel', env, env.REDIS_SENTINEL_BIN),
    nginx: findBinary('nginx', env, env.NGINX_BIN),
  };
}

/** The command that installs what is missing, for the error message. */
export function installHint(packages: readonly string[]): string {
  return `sudo apt-get install -y ${packages.join(' ')}   (or run npm start / npm test as root, which installs them)`;
}
