import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commandLineOptions, configText, dataNodeDirectives, redisReplication, sentinelDirectives } from '../src/index.js';

const name = redisReplication.masterName;

describe('dataNodeDirectives: what a data node adds to a single Redis', () => {
  const always = [
    ['min-replicas-to-write', String(redisReplication.minReplicasToWrite)],
    ['min-replicas-max-lag', String(redisReplication.minReplicasMaxLagSeconds)],
    ['repl-diskless-sync-delay', String(redisReplication.replDisklessSyncDelaySeconds)],
  ];

  test('a master without a password: the replication rules of the contract, nothing else', () => {
    assert.deepEqual(dataNodeDirectives(), always);
  });

  test('a replica of a master that requires a password: masterauth and replicaof after them', () => {
    assert.deepEqual(dataNodeDirectives({ replicaOf: { host: 'redis-0', port: 6380 }, password: 's3cret' }), [
      ...always,
      ['masterauth', 's3cret'],
      ['replicaof', 'redis-0', '6380'],
    ]);
  });
});

describe("sentinelDirectives: a Sentinel's settings for the set", () => {
  const master = { host: '127.0.0.1', port: 6379 };
  const monitoring = [
    ['sentinel', 'monitor', name, '127.0.0.1', '6379', String(redisReplication.quorum)],
    ['sentinel', 'down-after-milliseconds', name, String(redisReplication.downAfterMs)],
    ['sentinel', 'failover-timeout', name, String(redisReplication.failoverTimeoutMs)],
    ['sentinel', 'parallel-syncs', name, String(redisReplication.parallelSyncs)],
  ];

  test('natively: addresses, so hostnames are neither resolved nor announced', () => {
    assert.deepEqual(sentinelDirectives({ master }), [
      ['sentinel', 'resolve-hostnames', 'no'],
      ['sentinel', 'announce-hostnames', 'no'],
      ...monitoring,
    ]);
  });

  test('members known by name, with a password: hostnames on, auth-pass for the data nodes, requirepass for clients', () => {
    assert.deepEqual(sentinelDirectives({ master, hostnames: true, password: 'pw' }), [
      ['sentinel', 'resolve-hostnames', 'yes'],
      ['sentinel', 'announce-hostnames', 'yes'],
      ...monitoring,
      ['sentinel', 'auth-pass', name, 'pw'],
      ['requirepass', 'pw'],
    ]);
  });
});

describe('configText: directives as Redis reads a configuration file', () => {
  test('plain values as they are, one directive a line', () => {
    assert.equal(configText([['port', '6379'], ['sentinel', 'monitor', 'm', 'redis-0', '6379', '2']]), 'port 6379\nsentinel monitor m redis-0 6379 2\n');
  });

  test('a value with a space, a quote, a backslash, a control or non-ASCII character, or none at all is quoted and escaped', () => {
    const cases: [string, string][] = [
      ['', '""'],
      ['a b', '"a b"'],
      [' lead', '" lead"'],
      ['trail ', '"trail "'],
      ["it's", `"it's"`],
      ['say "hi"', '"say \\"hi\\""'],
      ['back\\slash', '"back\\\\slash"'],
      ['two\nlines\r', '"two\\nlines\\r"'],
      ['clé', '"clé"'],
    ];
    for (const [value, written] of cases) assert.equal(configText([['requirepass', value]]), `requirepass ${written}\n`, JSON.stringify(value));
  });
});

describe('commandLineOptions: directives as redis-server options', () => {
  test('--name then its values, directive after directive', () => {
    assert.deepEqual(commandLineOptions([['port', '6380'], ['replicaof', 'h', '6379']]), ['--port', '6380', '--replicaof', 'h', '6379']);
  });
});
