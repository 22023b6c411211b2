import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiEnvSchema, ConfigError, edgeEnvSchema, parseEnv, ports } from '../src/index.js';

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the configuration to be rejected');
}

describe('api environment', () => {
  test('an empty environment gives the documented defaults', () => {
    const env = parseEnv(apiEnvSchema, {});
    assert.equal(env.PORT, ports.api);
    assert.equal(env.HOST, '0.0.0.0');
    assert.equal(env.REDIS_URL, `redis://127.0.0.1:${ports.redis}`);
    assert.equal(env.REDIS_TIMEOUT_MS, 500);
    assert.equal(env.COUNTER_KEY, 'hits');
    assert.equal(env.LOG_LEVEL, 'info');
    assert.equal(env.LOAD_WORKERS, undefined);
    assert.equal(env.LOG_FORMAT, undefined);
    assert.equal(env.INSTANCE_ID, undefined);
    assert.equal(env.FAULTS, 'on');
  });

  test('INSTANCE_ID is a short name; FAULTS is on or off', () => {
    assert.equal(parseEnv(apiEnvSchema, { INSTANCE_ID: 'box-3001', FAULTS: 'off' }).INSTANCE_ID, 'box-3001');
    const error = configError(() => parseEnv(apiEnvSchema, { INSTANCE_ID: 'a b', FAULTS: 'yes' }));
    assert.deepEqual(error.problems, [
      'INSTANCE_ID must be 1 to 64 letters, digits or . _ - (got "a b")',
      'FAULTS must be on or off (got "yes")',
    ]);
  });

  test('numbers are parsed from strings and empty values count as unset', () => {
    const env = parseEnv(apiEnvSchema, { PORT: '4000', REDIS_TIMEOUT_MS: '', LOAD_WORKERS: '3' });
    assert.equal(env.PORT, 4000);
    assert.equal(env.REDIS_TIMEOUT_MS, 500);
    assert.equal(env.LOAD_WORKERS, 3);
  });

  test('a bad port names the variable and the value', () => {
    const error = configError(() => parseEnv(apiEnvSchema, { PORT: 'eighty' }));
    assert.deepEqual(error.problems, ['PORT must be an integer from 1 to 65535 (got "eighty")']);
  });

  test('every bad variable is reported at once', () => {
    const error = configError(() =>
      parseEnv(apiEnvSchema, { PORT: '70000', LOG_LEVEL: 'loud', REDIS_URL: 'http://redis:6379' }),
    );
    assert.equal(error.problems.length, 3);
    assert.match(error.message, /PORT must be an integer from 1 to 65535 \(got "70000"\)/);
    assert.match(error.message, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
    assert.match(error.message, /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
  });

  test('secrets are never echoed back', () => {
    const error = configError(() => parseEnv(apiEnvSchema, { REDIS_URL: 'http://:hunter2@redis:6379' }));
    assert.doesNotMatch(error.message, /hunter2/);
  });

  test('TRUST_PROXY takes presets, addresses and CIDRs, or false', () => {
    assert.equal(parseEnv(apiEnvSchema, { TRUST_PROXY: 'false' }).TRUST_PROXY, 'false');
    assert.equal(
      parseEnv(apiEnvSchema, { TRUST_PROXY: 'loopback, 10.0.0.0/8, fd00::/8, 192.168.1.7' }).TRUST_PROXY,
      'loopback, 10.0.0.0/8, fd00::/8, 192.168.1.7',
    );
    for (const bad of ['everyone', '10.0.0.0/33', '10.0.0.0/8/1', 'true']) {
      const error = configError(() => parseEnv(apiEnvSchema, { TRUST_PROXY: bad }));
      assert.match(error.message, /^invalid configuration:\n {2}TRUST_PROXY must be false or/);
    }
  });

  test('COUNTER_KEY is a plain Redis key name', () => {
    assert.equal(parseEnv(apiEnvSchema, { COUNTER_KEY: 'course:hits' }).COUNTER_KEY, 'course:hits');
    configError(() => parseEnv(apiEnvSchema, { COUNTER_KEY: 'has space' }));
  });
});

describe('edge environment', () => {
  test('API_UPSTREAM is a comma-separated list of http URLs', () => {
    const env = parseEnv(edgeEnvSchema, { API_UPSTREAM: 'http://a:3000, http://b:3000' });
    assert.deepEqual(env.API_UPSTREAM, ['http://a:3000', 'http://b:3000']);
    assert.deepEqual(parseEnv(edgeEnvSchema, {}).API_UPSTREAM, [`http://127.0.0.1:${ports.api}`]);
    const error = configError(() => parseEnv(edgeEnvSchema, { API_UPSTREAM: 'http://a:3000,ftp://b' }));
    assert.match(error.message, /API_UPSTREAM/);
  });
});
