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

  test('REDIS_SENTINELS selects Sentinel mode: the master three-tier by default, WAIT for one replica within 200 ms', () => {
    const config = configFromEnv({ REDIS_SENTINELS: 'sentinel-0:26379,sentinel-1' }, false);
    assert.deepEqual(config.redis.sentinel, {
      sentinels: [
        { host: 'sentinel-0', port: 26379 },
        { host: 'sentinel-1', port: 26379 },
      ],
      masterName: 'three-tier',
    });
    assert.deepEqual(config.counter.replication, { replicas: 1, waitMs: 200 });
    assert.equal(configFromEnv({ REDIS_SENTINELS: 's:1', REDIS_MASTER_NAME: 'other', REDIS_TIMEOUT_MS: '1000' }, false).redis.sentinel?.masterName, 'other');
    assert.deepEqual(configFromEnv({ REDIS_SENTINELS: 's:1', REDIS_TIMEOUT_MS: '1000' }, false).counter.replication, { replicas: 1, waitMs: 400 });
  });

  test('without REDIS_SENTINELS, the single Redis as before: no Sentinel, no WAIT', () => {
    const config = configFromEnv({ REDIS_URL: 'redis://redis:6379' }, false);
    assert.equal(config.redis.sentinel, undefined);
    assert.equal(config.counter.replication, undefined);
    assert.equal(config.redis.url, 'redis://redis:6379');
  });

  test('the password serves the master and the Sentinels alike, from REDIS_PASSWORD or its file', async () => {
    const file = join(dir, 'sentinel-password');
    await writeFile(file, 'shared\n');
    assert.equal(configFromEnv({ REDIS_SENTINELS: 's:1', REDIS_PASSWORD: 'pw' }, false).redis.password, 'pw');
    assert.equal(configFromEnv({ REDIS_SENTINELS: 's:1', REDIS_PASSWORD_FILE: file }, false).redis.password, 'shared');
  });

  test('REDIS_URL with REDIS_SENTINELS, or REDIS_MASTER_NAME alone, is a configuration error naming both', () => {
    const cases: [Record<string, string>, string][] = [
      [
        { REDIS_SENTINELS: 's:1', REDIS_URL: 'redis://redis:6379' },
        'REDIS_URL and REDIS_SENTINELS are both set: with Sentinels the api asks them where the master is; set one',
      ],
      [{ REDIS_MASTER_NAME: 'three-tier' }, 'REDIS_MASTER_NAME is set without REDIS_SENTINELS: it names the master the Sentinels watch; set both or neither'],
    ];
    for (const [env, problem] of cases) {
      assert.throws(
        () => configFromEnv(env, false),
        (error: unknown) => error instanceof ConfigError && error.problems.length === 1 && error.problems[0] === problem,
      );
    }
    // An empty REDIS_URL is unset, as for every variable.
    assert.ok(configFromEnv({ REDIS_SENTINELS: 's:1', REDIS_URL: '' }, false).redis.sentinel);
  });

  test('TRUST_PROXY=false trusts no proxy', () => {
    assert.equal(configFromEnv({ TRUST_PROXY: 'false' }, false).trustProxy, false);
  });
});
