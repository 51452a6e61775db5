// node-zookeeper-client against a server at $ZK_HOSTS, working under $ZK_BASE (must not
// exist yet). tests/interop/test_node_client.py starts corral and Apache ZooKeeper and
// runs `node --test` here once for each.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const zookeeper = require('node-zookeeper-client');

const HOSTS = process.env.ZK_HOSTS;
const BASE = process.env.ZK_BASE || `/node-client-${process.pid}`;
const { CreateMode, Exception } = zookeeper;

if (!HOSTS) {
  throw new Error('ZK_HOSTS is not set (run through tests/interop/test_node_client.py)');
}

// Longs (zxids, times, owners) arrive as 8-byte big-endian buffers.
const long = (buf) => buf.readBigInt64BE(0);

function connect() {
  return new Promise((resolve, reject) => {
    const client = zookeeper.createClient(HOSTS, { sessionTimeout: 4000, spinDelay: 100, retries: 0 });
    const timer = setTimeout(() => reject(new Error(`no connection to ${HOSTS} within 15s`)), 15000);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.connect();
  });
}

// Promise wrappers; errors keep their ZooKeeper code (err.getCode()).
const call = (client, method, ...args) =>
  new Promise((resolve, reject) => {
    client[method](...args, (err, ...results) => (err ? reject(err) : resolve(results)));
  });

async function rejectsWithCode(promise, code) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.getCode(), code, `expected ZooKeeper error ${code}, got ${err}`);
    return true;
  });
}

let zk;
let other;

before(async () => {
  zk = await connect();
  other = await connect();
  await call(zk, 'create', BASE, Buffer.from('base'));
});

after(() => {
  zk.close();
  other.close();
});

test('create, getData and the new node Stat', async () => {
  const [path] = await call(zk, 'create', `${BASE}/node`, Buffer.from('hello'));
  assert.equal(path, `${BASE}/node`);
  const [data, stat] = await call(zk, 'getData', path);
  assert.equal(data.toString(), 'hello');
  assert.equal(stat.version, 0);
  assert.equal(stat.dataLength, 5);
  assert.equal(stat.numChildren, 0);
  assert.ok(long(stat.czxid) > 0n);
  assert.equal(long(stat.mzxid), long(stat.czxid));
  assert.equal(long(stat.ephemeralOwner), 0n);
  const now = BigInt(Date.now());
  assert.ok(long(stat.ctime) > now - 60000n && long(stat.ctime) < now + 60000n);
});

test('setData with versions', async () => {
  const path = `${BASE}/versioned`;
  await call(zk, 'create', path, Buffer.from('v0'));
  await rejectsWithCode(call(zk, 'setData', path, Buffer.from('x'), 3), Exception.BAD_VERSION);
  const [stat] = await call(zk, 'setData', path, Buffer.from('v1'), 0);
  assert.equal(stat.version, 1);
  assert.ok(long(stat.mzxid) > long(stat.czxid));
  const [data] = await call(other, 'getData', path);
  assert.equal(data.toString(), 'v1');
});

test('exists, getChildren and remove', async () => {
  const dir = `${BASE}/dir`;
  await call(zk, 'create', dir);
  for (const name of ['b', 'a', 'c']) {
    await call(zk, 'create', `${dir}/${name}`);
  }
  const [children, stat] = await call(zk, 'getChildren', dir);
  assert.deepEqual([...children].sort(), ['a', 'b', 'c']);
  assert.equal(stat.numChildren, 3);
  await rejectsWithCode(call(zk, 'remove', dir, -1), Exception.NOT_EMPTY);
  await call(zk, 'remove', `${dir}/a`, 0);
  const [exists] = await call(zk, 'exists', `${dir}/a`);
  assert.equal(exists, null);
  await rejectsWithCode(call(zk, 'remove', `${dir}/a`, -1), Exception.NO_NODE);
  await rejectsWithCode(call(zk, 'getData', `${dir}/a`), Exception.NO_NODE);
  await rejectsWithCode(call(zk, 'create', `${dir}/b`), Exception.NODE_EXISTS);
});

test('ephemeral sequential nodes belong to the session', async () => {
  const [path] = await call(zk, 'create', `${BASE}/seq-`, CreateMode.EPHEMERAL_SEQUENTIAL);
  assert.match(path, new RegExp(`^${BASE}/seq-\\d{10}$`));
  const [stat] = await call(other, 'exists', path);
  assert.equal(long(stat.ephemeralOwner), zk.getSessionId().readBigInt64BE(0));
});

test('a data watch fires NODE_DATA_CHANGED once', async () => {
  const path = `${BASE}/watched`;
  await call(zk, 'create', path, Buffer.from('0'));
  const events = [];
  let fired;
  const firedOnce = new Promise((resolve) => (fired = resolve));
  await call(zk, 'getData', path, (event) => {
    events.push(event);
    fired();
  });
  await call(other, 'setData', path, Buffer.from('1'), -1);
  await firedOnce;
  assert.equal(events[0].getName(), 'NODE_DATA_CHANGED');
  assert.equal(events[0].getPath(), path);
  await call(other, 'setData', path, Buffer.from('2'), -1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(events.length, 1);
});

test('a child watch fires NODE_CHILDREN_CHANGED', async () => {
  const dir = `${BASE}/kids`;
  await call(zk, 'create', dir);
  const event = await new Promise((resolve, reject) => {
    zk.getChildren(dir, resolve, (err) => {
      if (err) reject(err);
      else call(other, 'create', `${dir}/k`).catch(reject);
    });
  });
  assert.equal(event.getName(), 'NODE_CHILDREN_CHANGED');
  assert.equal(event.getPath(), dir);
});

test('transaction is all or nothing', async () => {
  const a = `${BASE}/txn-a`;
  await rejectsWithCode(
    call(zk.transaction().create(a).check(`${BASE}/node`, 42), 'commit'),
    Exception.BAD_VERSION
  );
  assert.equal((await call(zk, 'exists', a))[0], null);
  const [results] = await call(zk.transaction().create(a).setData(a, Buffer.from('t'), 0), 'commit');
  assert.equal(results.length, 2);
  const [data, stat] = await call(other, 'getData', a);
  assert.equal(data.toString(), 't');
  assert.equal(stat.version, 1);
});
