'use strict';
// The fault kit: FaultRelay (drop, block/unblock, expire) in front of
// corral and ZooKeeper 3.8, and TestCluster's isRunning.

const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');
const { Client, CreateMode, FaultRelay, TestCluster } = require('..');
const { KINDS, startServer, waitFor, uniquePath } = require('./harness');

/** The states `client` reports from now on, in order (after the first `'connected'`). */
function recordStates(client) {
  const seen = [];
  client.on('state', (s) => {
    if (s !== 'connected' || seen.length > 0) seen.push(s);
  });
  return seen;
}

for (const kind of KINDS) {
  describe(`FaultRelay against ${kind}`, () => {
    let server;

    before(async () => {
      server = await startServer(kind);
    });

    after(async () => {
      await server.close();
    });

    it('drop: the client reconnects and keeps its session', async () => {
      const relay = await FaultRelay.start(server.connectString);
      assert.match(relay.connectString, /^127\.0\.0\.1:\d+$/);
      assert.equal(relay.upstream, server.connectString);
      const client = new Client(relay.connectString, { sessionTimeout: 10_000 });
      await client.connect();
      const states = recordStates(client);
      const session = client.sessionId;
      relay.drop();
      await waitFor('suspended then reconnected', () => states.includes('reconnected'));
      assert.deepEqual(states.slice(0, 2), ['suspended', 'reconnected']);
      assert.equal(client.sessionId, session);
      await client.close();
      relay.close();
    });

    it('block keeps the client out until unblock', async () => {
      const relay = await FaultRelay.start(server.connectString);
      const client = new Client(relay.connectString, { sessionTimeout: 10_000 });
      await client.connect();
      const p = uniquePath('blocked');
      const states = recordStates(client);
      relay.block();
      assert.equal(relay.isBlocked, true);
      await waitFor('suspended', () => states.includes('suspended'));
      await assert.rejects(client.create(p), { code: 'CONNECTION_LOSS' });
      relay.unblock();
      assert.equal(relay.isBlocked, false);
      await waitFor('reconnected', () => states.includes('reconnected'));
      assert.equal(await client.create(p), p);
      await client.close();
      await relay[Symbol.asyncDispose]();
    });

    it('expire: the session ends, its ephemerals go, the client starts a new one', async () => {
      const relay = await FaultRelay.start(server.connectString);
      const client = new Client(relay.connectString, { sessionTimeout: 10_000 });
      await client.connect();
      const watcher = new Client(server.connectString);
      await watcher.connect();
      const p = uniquePath('expired');
      await client.create(p, null, { mode: CreateMode.EPHEMERAL });
      const states = recordStates(client);
      const old = client.sessionId;
      assert.equal(await relay.expire(client), true);
      await waitFor('the ephemeral to go', async () => (await watcher.exists(p)) === null);
      await waitFor('a new session', () => client.state !== 'lost' && client.sessionId !== old && client.sessionId !== 0n);
      assert.ok(states.includes('lost'));
      await watcher.close();
      await client.close();
      await assert.rejects(relay.expire(client), { code: 'ERR_CORRAL_CLOSED' });
      relay.close();
    });
  });
}

describe('TestCluster kit', () => {
  it('reports which members run', async () => {
    const cluster = await TestCluster.start({ size: 3 });
    assert.deepEqual(await Promise.all([0, 1, 2].map((i) => cluster.isRunning(i))), [true, true, true]);
    await cluster.kill(1);
    assert.equal(await cluster.isRunning(1), false);
    await cluster.restart(1);
    assert.equal(await cluster.isRunning(1), true);
    await assert.rejects(cluster.isRunning(5), { code: 'ERR_CORRAL_ARGUMENT' });
    await cluster[Symbol.asyncDispose]();
  });
});
