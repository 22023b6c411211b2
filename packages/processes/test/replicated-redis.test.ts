import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { redisReplication, redisReplicationNames } from '@three-tier/shared';
import {
  findBinaries,
  freePort,
  freeReplicatedRedisPorts,
  redisInfo,
  RedisServer,
  ReplicatedRedis,
  RespError,
  respFields,
  respRequest,
  waitFor,
  type RedisNode,
} from '../src/index.js';

/** ROLE as a node answers it: its role, and for a replica the port of its master. */
async function role(node: RedisNode): Promise<{ role: string; masterPort?: number }> {
  const info = await redisInfo(node.port, 'replication');
  const name = info.get('role') ?? '';
  return name === 'slave' ? { role: name, masterPort: Number(info.get('master_port')) } : { role: name };
}

describe('respRequest', () => {
  test('reads whole replies: arrays, bulk strings, integers, nil, and error replies as values', async () => {
    const { redisServer } = findBinaries(process.env);
    assert.ok(redisServer, 'redis-server must be installed (npm test installs it as root)');
    const dir = await mkdtemp(join(tmpdir(), 'resp-test-'));
    const server = new RedisServer({ bin: redisServer, port: await freePort(), dir });
    try {
      await server.start();
      const { port } = server;
      assert.equal(await respRequest(port, ['SET', 'greeting', 'héllo wörld']), 'OK');
      assert.equal(await respRequest(port, ['GET', 'greeting']), 'héllo wörld');
      assert.equal(await respRequest(port, ['GET', 'nothing']), null);
      assert.equal(await respRequest(port, ['INCR', 'n']), 1);
      assert.deepEqual(await respRequest(port, ['MGET', 'greeting', 'nothing']), ['héllo wörld', null]);
      const refused = await respRequest(port, ['INCR', 'greeting']);
      assert.ok(refused instanceof RespError);
      assert.match(refused.message, /^ERR value is not an integer/);
      assert.deepEqual([...respFields(['a', '1', 'b', 2])], [['a', '1'], ['b', '2']]);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ReplicatedRedis', () => {
  let dir: string;
  let set: ReplicatedRedis;

  before(async () => {
    const { redisServer, redisSentinel } = findBinaries(process.env);
    assert.ok(redisServer && redisSentinel, 'redis-server and redis-sentinel must be installed (npm test installs them as root)');
    dir = await mkdtemp(join(tmpdir(), 'replicated-test-'));
    set = new ReplicatedRedis({ bin: { redisServer, redisSentinel }, ports: await freeReplicatedRedisPorts(), dir });
    await set.start();
  });
  after(async () => {
    await set?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('starts as the contract says: redis-0 master of the two others, three Sentinels that know them all', async () => {
    const master = await set.master();
    // A master refuses writes unless a replica is in sync: redis-1 and redis-2 are.
    assert.equal(await respRequest(master.port, ['SET', 'first', 'write']), 'OK');
    assert.equal(master.name, redisReplicationNames.dataNodes[0]);
    assert.deepEqual(await role(master), { role: 'master' });
    for (const node of set.nodes.slice(1)) assert.deepEqual(await role(node), { role: 'slave', masterPort: master.port });
    assert.equal(await set.replicasInSync(master), redisReplication.replicas);
    for (const sentinel of set.sentinels) {
      const fields = respFields(await respRequest(sentinel.port, ['SENTINEL', 'MASTER', redisReplication.masterName]));
      assert.equal(fields.get('port'), String(master.port));
      assert.equal(fields.get('quorum'), String(redisReplication.quorum));
      assert.equal(fields.get('down-after-milliseconds'), String(redisReplication.downAfterMs));
      assert.equal(fields.get('num-slaves'), String(redisReplication.replicas));
      assert.equal(fields.get('num-other-sentinels'), String(redisReplication.sentinels - 1));
    }
    assert.deepEqual(Object.keys(set.services).sort(), [...redisReplicationNames.dataNodes, ...redisReplicationNames.sentinels].sort());
  });

  test('every data node keeps an append-only file, and each Sentinel its own rewritten configuration', async () => {
    for (const node of set.nodes) {
      const info = await redisInfo(node.port, 'persistence');
      assert.equal(info.get('aof_enabled'), '1', node.name);
      const config = await respRequest(node.port, ['CONFIG', 'GET', 'appendfsync']);
      assert.deepEqual(config, ['appendfsync', 'always']);
    }
    for (const sentinel of set.sentinels) {
      // Sentinel wrote what it learned (its id, the others) into its own file.
      const text = await readFile(sentinel.configFile, 'utf8');
      assert.match(text, /^sentinel myid [0-9a-f]{40}$/m, sentinel.configFile);
      assert.match(text, /^sentinel known-sentinel /m);
    }
  });

  test('SIGKILL the master: the Sentinels promote a replica that has its writes; back, the old master follows it and catches up', async () => {
    const master = await set.master();
    assert.equal(await respRequest(master.port, ['SET', 'written-before', 'kept']), 'OK');
    assert.equal(await respRequest(master.port, ['WAIT', '2', '1000']), 2);
    const killed = await set.killMaster();
    assert.equal(killed, master);
    assert.equal(killed.running, false);
    const promoted = await set.waitForFailover(killed);
    assert.notEqual(promoted, killed);
    assert.equal(await respRequest(promoted.port, ['GET', 'written-before']), 'kept');
    assert.equal(await respRequest(promoted.port, ['SET', 'written-after', 'also']), 'OK');
    // Started again, it asks the Sentinels and follows the new master instead of claiming the role.
    await killed.start();
    assert.deepEqual(await role(killed), { role: 'slave', masterPort: promoted.port });
    await set.waitHealthy();
    await waitFor(async () => ((await respRequest(killed.port, ['GET', 'written-after'])) === 'also' ? true : undefined), {
      what: 'the old master to catch up',
    });
  });

  test('SIGKILL a replica and a Sentinel: no failover; they come back into the set', async () => {
    const master = await set.master();
    const replica = await set.killReplica();
    const sentinel = await set.killSentinel();
    assert.equal(await set.replicasInSync(master), redisReplication.replicas - 1);
    assert.equal(await set.master(), master);
    await replica.start();
    await sentinel.start();
    assert.equal(await set.waitHealthy(), master);
  });

  test('all three data nodes crash and restart in any order: the master the Sentinels know comes back first, with its data', async () => {
    const master = await set.master();
    assert.equal(await respRequest(master.port, ['SET', 'before-the-crash', 'kept']), 'OK');
    for (const node of set.nodes) await set.crash(node);
    // The replicas are started first. Had they started, the Sentinels, finding the master down,
    // would promote one of them (which cannot say how far it got): they wait for the master.
    const replicas = set.nodes.filter((node) => node !== master);
    const starting = Promise.all(replicas.map((node) => node.start()));
    await waitFor(
      async () => {
        const fields = respFields(await respRequest(set.sentinels[0]?.port ?? 0, ['SENTINEL', 'MASTER', redisReplication.masterName]));
        return /o_down/.test(fields.get('flags') ?? '') ? true : undefined;
      },
      { what: 'the Sentinels to agree the master is down', timeoutMs: 15_000 },
    );
    assert.deepEqual(replicas.map((node) => node.running), [false, false], 'no replica started while the master was down');
    await master.start();
    await starting;
    assert.equal(await set.waitHealthy(), master);
    for (const node of set.nodes) {
      await waitFor(async () => ((await respRequest(node.port, ['GET', 'before-the-crash'])) === 'kept' ? true : undefined), {
        what: `${node.name} to hold the data`,
      });
    }
  });

  test('its folder cannot be reused with other ports: the Sentinels’ files would name a set that is not there', async () => {
    const { redisServer, redisSentinel } = findBinaries(process.env);
    const other = new ReplicatedRedis({ bin: { redisServer: redisServer ?? '', redisSentinel: redisSentinel ?? '' }, ports: await freeReplicatedRedisPorts(), dir });
    await assert.rejects(other.start(), /holds a replicated Redis on other ports .*; use those, or remove the folder to start afresh/);
    for (const member of [...other.nodes, ...other.sentinels]) assert.equal(member.running, false);
  });

  test('stopped and started again from its folders: the same master, the same data', async () => {
    const master = await set.master();
    assert.equal(await respRequest(master.port, ['SET', 'across-a-restart', 'kept']), 'OK');
    await set.stop();
    for (const member of [...set.nodes, ...set.sentinels]) assert.equal(member.running, false);
    await set.start();
    assert.equal(await set.master(), master);
    assert.equal(await respRequest(master.port, ['GET', 'across-a-restart']), 'kept');
  });
});
