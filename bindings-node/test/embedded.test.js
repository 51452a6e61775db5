'use strict';
// The kit: EmbeddedServer (start, options, zoo.cfg, stop/serve, bad options)
// and TestCluster (size 3, leader, kill, restart, close).

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { describe, it } = require('node:test');
const { Client, EmbeddedServer, TestCluster } = require('..');
const { freePort, waitFor } = require('./harness');

describe('EmbeddedServer', () => {
  it('starts on an ephemeral loopback port and serves a client', async () => {
    const server = await EmbeddedServer.start();
    assert.match(server.connectString, /^127\.0\.0\.1:\d+$/);
    assert.equal(server.connectString, `127.0.0.1:${server.port}`);
    assert.equal(await server.isRunning(), true);
    const client = new Client(server.connectString);
    await client.connect();
    assert.equal(await client.create('/hello', Buffer.from('world')), '/hello');
    await client.close();
    await server.close();
    assert.equal(await server.isRunning(), false);
  });

  it('keeps port and data across stop and serve', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'corral-node-data-'));
    const port = await freePort();
    const server = await EmbeddedServer.start({ dataDir, clientPort: port, options: { tickTime: '200' } });
    assert.equal(server.port, port);
    assert.equal(server.dataDir, dataDir);
    const client = new Client(server.connectString);
    await client.connect();
    await client.create('/kept', Buffer.from('1'));
    await client.close();
    await server.stop();
    assert.equal(await server.isRunning(), false);
    await server.serve();
    assert.equal(server.port, port);
    const again = new Client(server.connectString);
    await again.connect();
    assert.deepEqual((await again.getData('/kept')).data, Buffer.from('1'));
    await again.close();
    await server.restart();
    assert.equal(await server.isRunning(), true);
    await server.close();
    assert.ok(fs.existsSync(dataDir), 'a durable data directory is kept');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts from a zoo.cfg', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corral-node-cfg-'));
    const port = await freePort();
    const cfg = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(cfg, `tickTime=500\ndataDir=${path.join(dir, 'data')}\nclientPort=${port}\nclientPortAddress=127.0.0.1\n`);
    const server = await EmbeddedServer.start({ config: cfg });
    assert.equal(server.port, port);
    assert.equal(server.dataDir, path.join(dir, 'data'));
    const client = new Client(server.connectString);
    await client.connect();
    assert.ok(client.sessionTimeout >= 1000); // at least 2 ticks of 500 ms
    await client.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a bad option, naming the key', async () => {
    await assert.rejects(EmbeddedServer.start({ options: { tickTime: 'soon' } }), (err) => {
      assert.equal(err.code, 'ERR_CORRAL_CONFIG');
      assert.match(err.message, /tickTime/);
      return true;
    });
    await assert.rejects(EmbeddedServer.start({ clientPort: 70000 }), { code: 'ERR_CORRAL_CONFIG', message: /clientPort/ });
    await assert.rejects(EmbeddedServer.start({ config: '/nonexistent/zoo.cfg' }), { code: 'ERR_CORRAL_CONFIG' });
    await assert.rejects(EmbeddedServer.start({ peers: { one: '127.0.0.1:1:2' } }), { code: 'ERR_CORRAL_CONFIG', message: /peers/ });
    assert.throws(() => EmbeddedServer.start({ dataDir: 5 }), { message: /String.*dataDir/ });
  });

  it('a closed server refuses to serve again', async () => {
    const server = await EmbeddedServer.start();
    await server.close();
    await assert.rejects(server.serve(), { code: 'ERR_CORRAL_CLOSED' });
  });
});

describe('TestCluster', () => {
  it('starts 3 members, survives the leader being killed, restarts it, closes', async () => {
    const cluster = await TestCluster.start({ size: 3 });
    assert.equal(cluster.size, 3);
    assert.equal(cluster.connectString.split(',').length, 3);
    const client = new Client(cluster.connectString, { sessionTimeout: 20_000 });
    await client.connect();
    await client.create('/before', Buffer.from('1'));
    const leader = await cluster.leader();
    assert.ok(leader >= 0 && leader < 3);
    assert.equal(await cluster.mode(leader), 'leader');
    await cluster.kill(leader);
    assert.equal(await cluster.mode(leader), null);
    const next = await cluster.leader({ timeout: 20_000 });
    assert.notEqual(next, leader);
    await waitFor('a write after the leader change', async () => {
      try {
        await client.create('/after', Buffer.from('2'));
        return true;
      } catch (err) {
        if (err.code === 'NODE_EXISTS') return true;
        if (err.code !== 'CONNECTION_LOSS') throw err;
        return false;
      }
    }, 30_000);
    await cluster.restart(leader);
    await waitFor('the restarted member to rejoin', async () => ['follower', 'leader'].includes(await cluster.mode(leader)), 30_000);
    const direct = new Client(`127.0.0.1:${cluster.port(leader)}`);
    await direct.connect();
    await direct.sync('/');
    assert.deepEqual((await direct.getData('/after')).data, Buffer.from('2'));
    await direct.close();
    assert.throws(() => cluster.port(7), { code: 'ERR_CORRAL_ARGUMENT', message: /no member 7/ });
    await client.close();
    await cluster.close();
  });
});
