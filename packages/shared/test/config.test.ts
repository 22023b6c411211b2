import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { apiEnvSchema, ConfigError, edgeEnvSchema, envInteger, formatHostPorts, parseEnv, parseHostPort, ports } from '../src/index.js';

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

  test('an integer out of range or with a fraction gets the same message naming the range', () => {
    for (const value of ['1.5', '0', '65536', '']) {
      const env = { PORT: value };
      if (value === '') {
        assert.equal(parseEnv(apiEnvSchema, env).PORT, ports.api, 'empty is unset');
        continue;
      }
      assert.deepEqual(configError(() => parseEnv(apiEnvSchema, env)).problems, [`PORT must be an integer from 1 to 65535 (got "${value}")`]);
    }
    assert.equal(parseEnv(z.object({ N: envInteger(1, 3) }), { N: '3' }).N, 3);
    assert.equal(parseEnv(z.object({ N: envInteger(1, 3) }), { N: '1' }).N, 1);
  });

  test('strings are taken as given: host, password and its file, log format', () => {
    const env = parseEnv(apiEnvSchema, {
      HOST: 'localhost',
      REDIS_PASSWORD: 'hunter2',
      REDIS_PASSWORD_FILE: '/run/secrets/redis',
      LOG_FORMAT: 'pretty',
      REDIS_URL: 'redis://redis:6379',
    });
    assert.deepEqual(
      [env.HOST, env.REDIS_PASSWORD, env.REDIS_PASSWORD_FILE, env.LOG_FORMAT, env.REDIS_URL],
      ['localhost', 'hunter2', '/run/secrets/redis', 'pretty', 'redis://redis:6379'],
    );
    assert.equal(parseEnv(apiEnvSchema, { LOG_FORMAT: 'json' }).LOG_FORMAT, 'json');
    assert.deepEqual(configError(() => parseEnv(apiEnvSchema, { LOG_FORMAT: 'xml' })).problems, ['LOG_FORMAT must be json or pretty (got "xml")']);
  });

  test('REDIS_URL is redis:// or rediss://, nothing that merely contains it', () => {
    assert.equal(parseEnv(apiEnvSchema, { REDIS_URL: 'rediss://redis:6380' }).REDIS_URL, 'rediss://redis:6380');
    for (const url of ['redisx://redis:6379', 'xredis://redis:6379', 'http://redis:6379']) {
      const error = configError(() => parseEnv(apiEnvSchema, { REDIS_URL: url }));
      assert.deepEqual(error.problems, ['REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://redis:6379'], url);
    }
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
    for (const good of ['linklocal,uniquelocal', '10.0.0.0/0', '10.0.0.0/32', 'fd00::/64', '::1/128', '::1']) {
      assert.equal(parseEnv(apiEnvSchema, { TRUST_PROXY: good }).TRUST_PROXY, good);
    }
    for (const bad of ['everyone', '10.0.0.0/33', '10.0.0.0/8/1', 'true', 'loopback, everyone', '10.0.0.0/-1', '10.0.0.0/8.5', '::1/129', '/8']) {
      const error = configError(() => parseEnv(apiEnvSchema, { TRUST_PROXY: bad }));
      assert.match(error.message, /^invalid configuration:\n {2}TRUST_PROXY must be false or/);
    }
  });

  test('COUNTER_KEY is a plain Redis key name', () => {
    assert.equal(parseEnv(apiEnvSchema, { COUNTER_KEY: 'course:hits' }).COUNTER_KEY, 'course:hits');
    assert.deepEqual(configError(() => parseEnv(apiEnvSchema, { COUNTER_KEY: 'has space' })).problems, [
      'COUNTER_KEY must be 1 to 64 letters, digits or : . _ - (got "has space")',
    ]);
  });
});

describe('parseEnv', () => {
  test('a ConfigError lists one problem a line, and says what it is', () => {
    const error = configError(() => parseEnv(apiEnvSchema, { PORT: 'x', FAULTS: 'maybe' }));
    assert.equal(error.name, 'ConfigError');
    assert.equal(
      error.message,
      'invalid configuration:\n  PORT must be an integer from 1 to 65535 (got "x")\n  FAULTS must be on or off (got "maybe")',
    );
  });

  test('a secret is never echoed, whatever rule it broke', () => {
    const schema = z.object({ REDIS_PASSWORD: z.string().min(12, { error: 'must be at least 12 characters' }) });
    assert.deepEqual(configError(() => parseEnv(schema, { REDIS_PASSWORD: 'hunter2' })).problems, ['REDIS_PASSWORD must be at least 12 characters']);
  });

  test('a missing variable is named without a value; a check across variables speaks for itself', () => {
    const schema = z
      .object({ NEEDED: z.string({ error: 'must be set' }), LOW: z.coerce.number(), HIGH: z.coerce.number() })
      .refine((env) => env.LOW <= env.HIGH, { error: 'LOW must not be above HIGH' });
    assert.deepEqual(configError(() => parseEnv(schema, { LOW: '1', HIGH: '2' })).problems, ['NEEDED must be set']);
    assert.deepEqual(configError(() => parseEnv(schema, { NEEDED: 'x', LOW: '3', HIGH: '2' })).problems, ['LOW must not be above HIGH']);
  });

  test('reads only the variables its schema names', () => {
    assert.deepEqual(parseEnv(z.object({ A: z.string().optional() }), { A: 'a', B: 'b' }), { A: 'a' });
  });
});

describe('api environment: Sentinel mode', () => {
  test('REDIS_SENTINELS is a list of host:port, the port defaulting to Sentinel’s; unset, no Sentinel mode', () => {
    const env = parseEnv(apiEnvSchema, { REDIS_SENTINELS: 'sentinel-0:26379, 10.0.0.7:26400,sentinel-2,[fd00::1]:26379' });
    assert.deepEqual(env.REDIS_SENTINELS, [
      { host: 'sentinel-0', port: 26379 },
      { host: '10.0.0.7', port: 26400 },
      { host: 'sentinel-2', port: ports.sentinel },
      { host: 'fd00::1', port: 26379 },
    ]);
    assert.equal(formatHostPorts(env.REDIS_SENTINELS ?? []), 'sentinel-0:26379,10.0.0.7:26400,sentinel-2:26379,[fd00::1]:26379');
    assert.equal(parseEnv(apiEnvSchema, {}).REDIS_SENTINELS, undefined);
    assert.equal(parseEnv(apiEnvSchema, {}).REDIS_MASTER_NAME, undefined);
  });

  test('a malformed Sentinel list names the variable, the expected form and the value', () => {
    for (const bad of ['sentinel-0:26379,', 'sentinel-0:0', 'sentinel-0:65536', 'fd00::1:26379', 'http://sentinel-0:26379', 'a b:1', ':26379']) {
      const error = configError(() => parseEnv(apiEnvSchema, { REDIS_SENTINELS: bad }));
      assert.deepEqual(error.problems, [
        `REDIS_SENTINELS must be a comma-separated list of host:port (the port defaults to 26379), e.g. sentinel-0:26379,sentinel-1:26379 (got ${JSON.stringify(bad)})`,
      ]);
    }
    const twice = configError(() => parseEnv(apiEnvSchema, { REDIS_SENTINELS: 'sentinel-0,sentinel-0:26379' }));
    assert.deepEqual(twice.problems, ['REDIS_SENTINELS must not list the same Sentinel twice (got "sentinel-0,sentinel-0:26379")']);
  });

  test('REDIS_MASTER_NAME is a plain name', () => {
    assert.equal(parseEnv(apiEnvSchema, { REDIS_MASTER_NAME: 'three-tier' }).REDIS_MASTER_NAME, 'three-tier');
    const error = configError(() => parseEnv(apiEnvSchema, { REDIS_MASTER_NAME: 'my master' }));
    assert.deepEqual(error.problems, ['REDIS_MASTER_NAME must be 1 to 64 letters, digits or . _ - (got "my master")']);
  });
});

describe('edge environment', () => {
  test('API_UPSTREAM is a comma-separated list of http URLs', () => {
    const env = parseEnv(edgeEnvSchema, { API_UPSTREAM: 'http://a:3000, http://b:3000' });
    assert.deepEqual(env.API_UPSTREAM, ['http://a:3000', 'http://b:3000']);
    assert.deepEqual(parseEnv(edgeEnvSchema, {}).API_UPSTREAM, [`http://127.0.0.1:${ports.api}`]);
    for (const bad of ['http://a:3000,ftp://b', 'https://a:3000', 'xhttp://a:3000', 'http://a:3000,']) {
      const error = configError(() => parseEnv(edgeEnvSchema, { API_UPSTREAM: bad }));
      assert.deepEqual(error.problems, [`API_UPSTREAM must be http:// URLs, comma-separated (got ${JSON.stringify(bad)})`], bad);
    }
  });

  test('the defaults: every address, the edge port, info logs', () => {
    const env = parseEnv(edgeEnvSchema, {});
    assert.deepEqual([env.EDGE_HOST, env.EDGE_PORT, env.LOG_LEVEL, env.LOG_FORMAT], ['0.0.0.0', ports.edge, 'info', undefined]);
    assert.equal(parseEnv(edgeEnvSchema, { EDGE_HOST: '127.0.0.1' }).EDGE_HOST, '127.0.0.1');
  });
});

describe('parseHostPort: one entry of a host list', () => {
  const label = 'x'.repeat(63);

  test('a host name of labels of 1 to 63 letters, digits and inner hyphens, 253 characters at most', () => {
    const longest = [label, label, label, 'y'.repeat(61)].join('.');
    assert.equal(longest.length, 253);
    for (const host of ['a', 'a.b', 'sentinel-0', 'redis.three-tier.svc', label, `a.${label}`, longest, '10.0.0.7']) {
      assert.deepEqual(parseHostPort(host, 26379), { host, port: 26379 }, host);
    }
    for (const host of [`${longest}y`, 'x'.repeat(64), `a.${'x'.repeat(64)}`, '-a', 'a-', 'a..b', 'a.-b', 'a.b-', 'a_b', 'a.b_c', '.a', 'a.']) {
      assert.equal(parseHostPort(host, 26379), undefined, host);
    }
  });

  test('an IPv6 address only in brackets, with or without a port; nothing else in brackets', () => {
    assert.deepEqual(parseHostPort('[fd00::1]', 26379), { host: 'fd00::1', port: 26379 });
    assert.deepEqual(parseHostPort('[fd00::1]:26400', 26379), { host: 'fd00::1', port: 26400 });
    for (const entry of ['[sentinel-0]:26379', '[10.0.0.7]', 'x[fd00::1]:26379', '[fd00::1]:26379x', '[fd00::1]x']) {
      assert.equal(parseHostPort(entry, 26379), undefined, entry);
    }
  });

  test('ports from 1 to 65535', () => {
    assert.deepEqual(parseHostPort('h:1', 26379), { host: 'h', port: 1 });
    assert.deepEqual(parseHostPort('h:65535', 26379), { host: 'h', port: 65_535 });
    assert.equal(parseHostPort('h:0', 26379), undefined);
    assert.equal(parseHostPort('h:65536', 26379), undefined);
  });
});
