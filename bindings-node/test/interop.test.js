'use strict';
// node-zookeeper-client and corral's Node client on one server (corral and
// ZooKeeper 3.8): each sees the other's nodes, data, ephemerals and watches.

const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');
const zookeeper = require('node-zookeeper-client');
const { Client, CreateMode } = require('..');
const { KINDS, startServer, uniquePath } = require('./harness');

/** node-zookeeper-client, connected (its callbacks as Promises through `call`). */
function connectNzc(hosts) {
  return new Promise((resolve, reject) => {
    const client = zookeeper.createClient(hosts, { sessionTimeout: 10_000, spinDelay: 100, retries: 0 });
    const timer = setTimeout(() => reject(new Error(`node-zookeeper-client: no connection to ${hosts} within 15 s`)), 15_000);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.connect();
  });
}

const call = (client, method, ...args) =>
  new Promise((resolve, reject) => {
    client[method](...args, (err, ...results) => (err ? reject(err) : resolve(results)));
  });

for (const kind of KINDS) {
  describe(`node-zookeeper-client beside corral's client, against ${kind}`, () => {
    let server;
    let nzc;
    let corral;

    before(async () => {
      server = await startServer(kind);
      nzc = await connectNzc(server.connectString);
      corral = new Client(server.connectString);
      await corral.connect();
    });

    after(async () => {
      nzc.close();
      await corral.close();
      await server.close();
    });

    it('each reads what the other wrote; versions and zxids agree', async () => {
      const p = uniquePath('nzc');
      await call(nzc, 'create', p, Buffer.from('from nzc'), zookeeper.CreateMode.PERSISTENT);
      const { data, stat } = await corral.getData(p);
      assert.deepEqual(data, Buffer.from('from nzc'));
      await corral.setData(p, Buffer.from('from corral'), { version: stat.version });
      const [back, nzcStat] = await call(nzc, 'getData', p);
      assert.deepEqual(back, Buffer.from('from corral'));
      assert.equal(nzcStat.version, 1);
      assert.equal(nzcStat.mzxid.readBigInt64BE(0), (await corral.exists(p)).mzxid);
      const q = await corral.create(`${p}/s-`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      const [children] = await call(nzc, 'getChildren', p);
      assert.deepEqual(children, [q.slice(p.length + 1)]);
    });

    it("an ephemeral's owner is the same session to both", async () => {
      const p = uniquePath('eph');
      await corral.create(p, null, { mode: CreateMode.EPHEMERAL });
      const [, stat] = await call(nzc, 'getData', p);
      assert.equal(stat.ephemeralOwner.readBigInt64BE(0), corral.sessionId);
    });

    it("each one's watch fires on the other's write", async () => {
      const p = uniquePath('watch');
      await corral.create(p);
      const nzcEvent = new Promise((resolve, reject) => {
        nzc.getData(p, (ev) => resolve(ev), (err) => err && reject(err));
      });
      const { watch } = await corral.getData(p, { watch: true });
      // node-zookeeper-client's watch is registered once its getData is answered.
      await call(nzc, 'exists', p);
      await corral.setData(p, Buffer.from('1'));
      assert.equal((await nzcEvent).getName(), 'NODE_DATA_CHANGED');
      await call(nzc, 'setData', p, Buffer.from('2'), -1);
      const ev = await watch;
      assert.equal(ev.type, 'NODE_DATA_CHANGED');
      assert.equal(ev.path, p);
    });
  });
}
