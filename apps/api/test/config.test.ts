import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '@three-tier/shared';
import { configFromEnv } from '../src/config.js';

describe('configFromEnv', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'api-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads the Redis password from REDIS_PASSWORD_FILE, without its trailing newline', async () => {
    const file = join(dir, 'password');
    await writeFile(file, 's3cret\n');
    assert.equal(configFromEnv({ REDIS_PASSWORD_FILE: file }, false).redis.password, 's3cret');
  });

  test('an unreadable or empty password file, or both sources at once, is a configuration error', async () => {
    const empty = join(dir, 'empty');
    await writeFile(empty, '');
    const cases: [Record<string, string>, RegExp][] = [
      [{ REDIS_PASSWORD_FILE: join(dir, 'missing') }, /REDIS_PASSWORD_FILE cannot be read \(ENOENT/],
      [{ REDIS_PASSWORD_FILE: empty }, /REDIS_PASSWORD_FILE is empty/],
      [{ REDIS_PASSWORD_FILE: empty, REDIS_PASSWORD: 'x' }, /both set/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => configFromEnv(env, false), (error: unknown) => error instanceof ConfigError && message.test(error.message));
    }
  });

  test('logs are pretty on a terminal unless told otherwise', () => {
    assert.equal(configFromEnv({}, true).log.pretty, true);
    assert.equal(configFromEnv({}, false).log.pretty, false);
    assert.equal(configFromEnv({ LOG_FORMAT: 'json' }, true).log.pretty, false);
  });

  test('TRUST_PROXY=false trusts no proxy', () => {
    assert.equal(configFromEnv({ TRUST_PROXY: 'false' }, false).trustProxy, false);
  });
});
