'use strict';
// Every recipe, each against corral and ZooKeeper 3.8: locks, semaphore,
// election and latch, barriers, queues, counters, caches and watches,
// party, service discovery, persistent node, set partitioner.

const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');
const { Client, CreateMode, serviceInstance, serviceUri } = require('..');
const { KINDS, startServer, waitFor, uniquePath } = require('./harness');

/** Items of `iterator` until one satisfies `wanted`; returns that one (the iterator stays open). */
async function until(iterator, wanted) {
  for (;;) {
    const { value, done } = await iterator.next();
    if (done) throw new Error('the iteration ended first');
    if (wanted(value)) return value;
  }
}

for (const kind of KINDS) {
  describe(`recipes against ${kind}`, () => {
    let server;
    const clients = [];

    async function connect() {
      const client = new Client(server.connectString, { sessionTimeout: 10_000 });
      clients.push(client);
      await client.connect();
      return client;
    }

    before(async () => {
      server = await startServer(kind);
    });

    after(async () => {
      for (const c of clients) await c.close();
      await server.close();
    });

    it('readWriteLock: readers share, a writer waits for them and holds them off', async () => {
      const [a, b] = [await connect(), await connect()];
      const p = uniquePath('rw');
      const ra = a.readWriteLock(p).readLock();
      const rb = b.readWriteLock(p).readLock();
      const wb = b.readWriteLock(p).writeLock();
      const ta = await ra.acquire();
      assert.equal(typeof ta, 'bigint');
      assert.ok(await rb.acquire({ timeout: 2000 }), 'readers share');
      assert.equal(await wb.acquire({ timeout: 0 }), null, 'a writer waits for readers');
      assert.equal(wb.isHeld, false);
      await ra.release();
      await rb.release();
      const tw = await wb.acquire({ timeout: 5000 });
      assert.ok(tw > ta, 'the writer token is later');
      assert.equal(wb.fencingToken, tw);
      assert.equal(await ra.acquire({ timeout: 0 }), null, 'readers wait for the writer');
      assert.equal((await a.readWriteLock(p).participantNodes()).length, 1);
      // What `await using` calls (Node 20 has the symbol, not the syntax).
      assert.equal(wb.isHeld, true);
      await wb[Symbol.asyncDispose]();
      assert.equal(wb.isHeld, false, 'disposal released it');
      await wb[Symbol.asyncDispose]();
      assert.deepEqual(await a.getChildren(p).then((r) => r.children), []);
    });

    it('semaphore: leases up to the maximum, released by await using', async () => {
      const [a, b] = [await connect(), await connect()];
      const p = uniquePath('sem');
      const sa = a.semaphore(p, 3);
      const sb = b.semaphore(p, 3);
      assert.equal(sa.maxLeases, 3);
      const two = await sa.acquireMany(2);
      assert.equal(two.length, 2);
      assert.ok(two.every((l) => l.isHeld && l.path.startsWith(`${p}/leases/`)));
      const one = await sb.acquire();
      assert.equal(await sb.acquire({ timeout: 200 }), null, 'all three leases are out');
      assert.equal((await sb.participantNodes()).length, 3);
      assert.equal(one.isHeld, true);
      await one[Symbol.asyncDispose]();
      assert.equal(one.isHeld, false);
      const again = await sb.acquire({ timeout: 5000 });
      assert.ok(again);
      await again.release();
      for (const l of two) await l.release();
      await assert.rejects(sa.acquireMany(4), { code: 'BAD_ARGUMENTS' });
      const ac = new AbortController();
      const held = await sa.acquireMany(3);
      const waiting = sb.acquire({ signal: ac.signal });
      ac.abort();
      await assert.rejects(waiting, { code: 'ABORT_ERR' });
      for (const l of held) await l.release();
      await waitFor('no lease left', async () => (await sa.participantNodes()).length === 0);
    });

    it('leaderElection: one leads at a time, each with a larger token; cancel and signal end a queued run', async () => {
      const [a, b] = [await connect(), await connect()];
      const p = uniquePath('elect');
      const ea = a.leaderElection(p, 'a');
      const eb = b.leaderElection(p, 'b');
      let release;
      const holding = new Promise((resolve) => { release = resolve; });
      let leadingA;
      const leadA = new Promise((resolve) => { leadingA = resolve; });
      const runA = ea.run(async (leadership) => {
        leadingA(leadership);
        await holding;
        return 'a done';
      });
      const la = await leadA;
      assert.equal(typeof la.fencingToken, 'bigint');
      assert.equal(la.isLost, false);
      assert.equal(la.reason, null);
      const runB = eb.run((leadership) => leadership.fencingToken);
      await waitFor('b to queue', async () => (await ea.contenders()).length === 2);
      assert.deepEqual(await eb.contenders(), ['a', 'b']);
      assert.equal(await eb.leader(), 'a');
      release();
      assert.equal(await runA, 'a done');
      const tokenB = await runB;
      assert.ok(tokenB > la.fencingToken);
      assert.deepEqual(await ea.contenders(), []);

      // A leader is told when it is cancelled.
      const lost = ea.run(async (leadership) => {
        setImmediate(() => ea.cancel());
        return leadership.lost();
      });
      assert.equal(await lost, 'cancelled');

      // A queued contender leaves when its signal aborts; a throwing leader's error comes out.
      const blocker = a.leaderElection(p, 'blocker');
      let stop;
      const blocked = blocker.run(() => new Promise((resolve) => { stop = resolve; }));
      await waitFor('the blocker to lead', async () => (await eb.leader()) === 'blocker');
      const ac = new AbortController();
      const queued = eb.run(() => 'never', { signal: ac.signal });
      await waitFor('b to queue again', async () => (await eb.contenders()).length === 2);
      ac.abort();
      assert.equal(await queued, null);
      stop();
      await blocked;
      await assert.rejects(eb.run(() => { throw new Error('boom'); }), { message: 'boom' });
      assert.deepEqual(await eb.contenders(), []);
    });

    it('leaderLatch: the first leads, the second takes over when it closes', async () => {
      const [a, b] = [await connect(), await connect()];
      const p = uniquePath('latch');
      const la = a.leaderLatch(p, 'a');
      const lb = b.leaderLatch(p, 'b');
      await la.start();
      assert.equal(await la.awaitLeadership({ timeout: 5000 }), true);
      assert.equal(la.hasLeadership, true);
      assert.ok(la.ourPath.startsWith(`${p}/`));
      const changes = lb.changes();
      await lb.start();
      assert.equal(await lb.awaitLeadership({ timeout: 200 }), false);
      assert.deepEqual(await lb.participants(), [{ id: 'a', isLeader: true }, { id: 'b', isLeader: false }]);
      assert.deepEqual(await lb.leader(), { id: 'a', isLeader: true });
      assert.equal(la.id, 'a');
      await la[Symbol.asyncDispose]();
      assert.equal(await until(changes, () => true), true);
      assert.equal(lb.hasLeadership, true);
      await lb.close();
      await lb.close();
      await assert.rejects(lb.participants(), { code: 'ERR_CORRAL_CLOSED' });
    });

    it('barrier and doubleBarrier', async () => {
      const [a, b] = [await connect(), await connect()];
      const p = uniquePath('barrier');
      const ba = a.barrier(p);
      await ba.set();
      await ba.set();
      assert.equal(await b.barrier(p).wait({ timeout: 100 }), false, 'still up');
      const released = b.barrier(p).wait();
      await ba.remove();
      assert.equal(await released, true);
      await ba.remove();

      const d = uniquePath('double');
      const da = a.doubleBarrier(d, 2);
      const db = b.doubleBarrier(d, 2);
      assert.equal(await da.enter({ timeout: 100 }), false, 'alone, the threshold is not reached');
      const [ea, eb] = await Promise.all([da.enter({ timeout: 5000 }), db.enter()]);
      assert.deepEqual([ea, eb], [true, true]);
      const [xa, xb] = await Promise.all([da.leave(), db.leave({ timeout: 5000 })]);
      assert.deepEqual([xa, xb], [true, true]);
    });

    it('queue: priorities, take with timeout and signal, putAll', async () => {
      const [a, b] = [await connect(), await connect()];
      const p = uniquePath('queue');
      const q = a.queue(p);
      await q.put(Buffer.from('routine'), { priority: 500 });
      await q.put(Buffer.from('urgent'), { priority: 1 });
      await q.putAll([Buffer.from('x'), Buffer.from('y')]);
      assert.equal(await q.length(), 4);
      const consumer = b.queue(p);
      assert.deepEqual(await consumer.get(), Buffer.from('urgent'));
      assert.deepEqual(await consumer.take(), Buffer.from('x'));
      assert.deepEqual(await consumer.take({ timeout: 100 }), Buffer.from('y'));
      assert.deepEqual(await consumer.get(), Buffer.from('routine'));
      assert.equal(await consumer.get(), null);
      assert.equal(await consumer.take({ timeout: 100 }), null);
      const later = consumer.take();
      await q.put(Buffer.from('late'));
      assert.deepEqual(await later, Buffer.from('late'));
      const ac = new AbortController();
      const aborted = consumer.take({ signal: ac.signal });
      ac.abort();
      await assert.rejects(aborted, { code: 'ABORT_ERR' });
      await assert.rejects(q.put(Buffer.from('z'), { priority: 1000 }), { code: 'BAD_ARGUMENTS' });
    });

    it('lockingQueue: an item comes back when its consumer releases it or its session ends', async () => {
      const [a, b] = [await connect(), await connect()];
      const p = uniquePath('lq');
      const qa = a.lockingQueue(p);
      await qa.put(Buffer.from('job'));
      assert.deepEqual(await qa.get({ timeout: 1000 }), Buffer.from('job'));
      assert.equal(await qa.holdsLock(), true);
      const qb = b.lockingQueue(p);
      assert.equal(await qb.get({ timeout: 100 }), null, 'locked by a');
      assert.equal(await qa.release(), true);
      assert.deepEqual(await qb.get({ timeout: 1000 }), Buffer.from('job'));
      assert.equal(await qb.consume(), true);
      assert.equal(await qa.length(), 0);
      await qa.putAll([Buffer.from('1'), Buffer.from('2')], { priority: 5 });
      assert.equal(await qb.length(), 2);
    });

    it('counter, atomicLong, sharedCount and idGenerator', async () => {
      const [a, b] = [await connect(), await connect()];
      const c = a.counter(uniquePath('counter'), { default: 10n });
      assert.equal(await c.value(), 10n);
      assert.deepEqual(await c.add(5n), { preValue: 10n, postValue: 15n });
      assert.deepEqual(await c.subtract(20n), { preValue: 15n, postValue: -5n });

      const lp = uniquePath('long');
      const l = a.atomicLong(lp, { attempts: 10 });
      assert.equal((await l.compareAndSet(0n, 1n)).succeeded, false, 'no node yet');
      assert.deepEqual(await l.increment(), { succeeded: true, preValue: 0n, postValue: 1n });
      assert.equal((await l.add(2n ** 40n)).postValue, 2n ** 40n + 1n);
      assert.equal((await b.atomicLong(lp).decrement()).postValue, 2n ** 40n);
      assert.equal((await l.subtract(2n ** 40n)).postValue, 0n);
      assert.equal((await l.compareAndSet(0n, 7n)).succeeded, true);
      assert.equal((await l.trySet(9n)).postValue, 9n);
      await l.forceSet(-3n);
      assert.equal((await l.get()).postValue, -3n);
      assert.equal(await l.initialize(1n), false);
      assert.equal(await a.atomicLong(uniquePath('long')).initialize(1n), true);

      const sp = uniquePath('shared');
      const sa = a.sharedCount(sp, 4);
      const sb = b.sharedCount(sp, 99);
      await sa.start();
      const changes = sb.changes();
      await sb.start();
      assert.equal(sb.count, 4, 'the seed of whoever created it');
      const seen = sa.versionedValue;
      assert.equal(seen.value, 4);
      assert.equal(await sa.trySetCount(seen, 8), true);
      assert.equal(await sa.trySetCount(seen, 16), false, 'stale version');
      assert.equal(await until(changes, (n) => n === 8), 8);
      await sb.setCount(3);
      await waitFor('a to see 3', () => sa.count === 3);
      sa.close();
      await sb[Symbol.asyncDispose]();

      const ids = a.idGenerator(uniquePath('ids'), { prefix: 'n-' });
      const first = await ids.nextId();
      const second = await b.idGenerator(uniquePath('ids')).nextId();
      assert.equal(typeof first, 'bigint');
      assert.ok((await ids.nextId()) > first);
      assert.equal(typeof second, 'bigint');
    });

    it('nodeCache and treeCache follow changes; pathChildrenCache its children', async () => {
      const [a, b] = [await connect(), await connect()];
      const root = uniquePath('tree');
      await a.mkdirp(`${root}/services/web`);

      const node = b.nodeCache(`${root}/config`);
      const nodeChanges = node.changes();
      await node.start();
      assert.equal(node.current, null);
      await a.create(`${root}/config`, Buffer.from('v1'));
      const created = await until(nodeChanges, (d) => d !== null);
      assert.deepEqual(created.data, Buffer.from('v1'));
      assert.equal(typeof created.stat.mzxid, 'bigint');
      await a.remove(`${root}/config`);
      assert.equal(await until(nodeChanges, (d) => d === null), null);
      node.close();

      const tree = b.treeCache(root, { watchMode: kind === 'zookeeper' ? 'oneShot' : 'auto' });
      const events = tree.events();
      await tree.start();
      const loaded = await until(events, (e) => e.type === 'INITIALIZED');
      assert.equal(loaded.data, undefined);
      assert.ok(tree.currentData(`${root}/services/web`));
      await a.create(`${root}/services/db`, Buffer.from('10.0.0.7'));
      const added = await until(events, (e) => e.type === 'NODE_ADDED' && e.data.path === `${root}/services/db`);
      assert.deepEqual(added.data.data, Buffer.from('10.0.0.7'));
      assert.deepEqual(Object.keys(tree.currentChildren(`${root}/services`)).sort(), ['db', 'web']);
      assert.equal(tree.currentChildren(`${root}/nope`), null);
      await a.setData(`${root}/services/db`, Buffer.from('10.0.0.8'));
      await until(events, (e) => e.type === 'NODE_UPDATED');
      await a.remove(`${root}/services/db`);
      await until(events, (e) => e.type === 'NODE_REMOVED');
      assert.throws(() => b.treeCache(root, { watchMode: 'sometimes' }), { code: 'ERR_CORRAL_ARGUMENT' });
      await tree[Symbol.asyncDispose]();

      const children = b.pathChildrenCache(`${root}/services`);
      const childEvents = children.events();
      await children.start();
      await until(childEvents, (e) => e.type === 'INITIALIZED');
      assert.deepEqual(children.currentData().map((d) => d.path), [`${root}/services/web`]);
      await a.create(`${root}/services/cache`, Buffer.from('c'), { mode: CreateMode.EPHEMERAL });
      const child = await until(childEvents, (e) => e.type === 'CHILD_ADDED');
      assert.equal(child.data.path, `${root}/services/cache`);
      assert.deepEqual(children.child('cache').data, Buffer.from('c'));
      assert.equal(children.child('nope'), null);
      children.close();
    });

    it('childrenWatch and dataWatch iterate until the signal aborts', async () => {
      const [a, b] = [await connect(), await connect()];
      const p = uniquePath('watched');
      await a.mkdirp(p);
      const ac = new AbortController();
      const lists = b.childrenWatch(p, { signal: ac.signal });
      assert.deepEqual((await lists.next()).value, []);
      await a.create(`${p}/alice`);
      assert.deepEqual((await lists.next()).value, ['alice']);
      const data = b.dataWatch(`${p}-conf`, { signal: ac.signal });
      assert.equal((await data.next()).value, null);
      await a.create(`${p}-conf`, Buffer.from('v1'));
      const v1 = (await data.next()).value;
      assert.deepEqual(v1.data, Buffer.from('v1'));
      assert.equal(v1.stat.version, 0);
      const pending = lists.next();
      ac.abort();
      assert.deepEqual(await pending, { value: undefined, done: true });
      assert.equal((await data.next()).done, true);
    });

    it('party: members join, leave and are watched; a shallow party too', async () => {
      const [a, b] = [await connect(), await connect()];
      const p = uniquePath('party');
      const alice = a.party(p, 'alice');
      const bob = b.party(p, 'bob');
      await alice.join();
      const ac = new AbortController();
      const live = alice.watch({ signal: ac.signal });
      assert.deepEqual((await live.next()).value, ['alice']);
      await bob.join();
      assert.deepEqual((await live.next()).value, ['alice', 'bob']);
      assert.equal(await alice.leave(), true);
      assert.deepEqual(await bob.members(), ['bob']);
      assert.ok(bob.nodePath.startsWith(`${p}/`));
      ac.abort();
      assert.equal((await live.next()).done, true);
      const shallow = a.party(uniquePath('shallow'), 'worker-7', { shallow: true });
      await shallow.join();
      assert.deepEqual(await shallow.members(), ['worker-7']);
      assert.match(shallow.nodePath, /-worker-7$/);
    });

    it('serviceDiscovery: register, query, watch, update and unregister instances', async () => {
      const [a, b] = [await connect(), await connect()];
      const base = uniquePath('services');
      const mine = a.serviceDiscovery(base);
      const theirs = b.serviceDiscovery(base);
      const me = serviceInstance('api', { address: '10.0.0.7', port: 8080, uriSpec: '{scheme}://{address}:{port}', payload: { zone: 'a' } });
      assert.equal(me.name, 'api');
      assert.equal(typeof me.id, 'string');
      assert.equal(serviceUri(me), 'http://10.0.0.7:8080');
      await mine.register(me);
      assert.deepEqual(await theirs.queryForNames(), ['api']);
      const found = await theirs.queryForInstance('api', me.id);
      assert.equal(found.address, '10.0.0.7');
      assert.deepEqual(found.payload, { zone: 'a' });
      assert.equal(found.serviceType, 'DYNAMIC');
      assert.equal(await theirs.queryForInstance('api', 'nope'), null);
      const ac = new AbortController();
      const watched = theirs.watchInstances('api', { signal: ac.signal });
      assert.deepEqual((await watched.next()).value.map((i) => i.id), [me.id]);
      await mine.update({ ...me, port: 9090 });
      assert.equal((await until(watched, (l) => l[0]?.port === 9090))[0].port, 9090);
      await mine.unregister(me);
      assert.deepEqual(await until(watched, (l) => l.length === 0), []);
      ac.abort();
      assert.deepEqual(await theirs.queryForInstances('api'), []);
      await mine.register(me);
      await mine.close();
      assert.deepEqual(await theirs.queryForInstances('api'), [], 'close unregisters dynamic instances');
      await assert.rejects(mine.register(me), { code: 'ERR_CORRAL_CLOSED' });
      assert.throws(() => serviceInstance('x', { serviceType: 'SOMETIMES' }), { code: 'ERR_CORRAL_ARGUMENT' });
      assert.throws(() => theirs.register({ name: 'no id' }), { code: 'ERR_CORRAL_ARGUMENT', message: /id/ });
    });

    it('persistentNode: made again after deletion, data restored, deleted on close', async () => {
      const [a, b] = [await connect(), await connect()];
      const p = uniquePath('pnode');
      const node = a.persistentNode(p, Buffer.from('v1'));
      await node.start();
      assert.equal(await node.waitForInitialCreate({ timeout: 5000 }), true);
      assert.equal(node.actualPath, p);
      assert.equal((await b.exists(p)).ephemeralOwner, a.sessionId);
      await b.remove(p);
      await waitFor('the node to come back', async () => (await b.exists(p)) !== null);
      await node.setData(Buffer.from('v2'));
      await waitFor('the new data', async () => (await b.getData(p)).data.equals(Buffer.from('v2')));
      await node[Symbol.asyncDispose]();
      assert.equal(await b.exists(p), null);
      const protectedNode = a.persistentNode(`${p}-seq-`, null, { mode: CreateMode.EPHEMERAL_SEQUENTIAL, protected: true });
      await protectedNode.start();
      assert.equal(await protectedNode.waitForInitialCreate({ timeout: 5000 }), true);
      assert.match(protectedNode.actualPath, /_c_[0-9a-f-]+-.*-seq-\d{10}$/);
      await protectedNode.close();
      assert.throws(() => a.persistentNode(p, null, { mode: 99 }), { code: 'ERR_CORRAL_ARGUMENT' });
    });

    it('setPartitioner: two members split the items, each acquired', async () => {
      const [a, b] = [await connect(), await connect()];
      const p = uniquePath('partition');
      const items = ['q1', 'q2', 'q3', 'q4'];
      const one = await a.setPartitioner(p, items, 'one', { timeBoundary: 300 });
      const two = await b.setPartitioner(p, items, 'two', { timeBoundary: 300 });
      const settle = async (sp) => {
        for (;;) {
          const state = await sp.waitForAcquire();
          if (state !== 'release') return state;
          await sp.releaseSet();
        }
      };
      await waitFor('both to hold a share of two', async () => {
        const states = await Promise.all([settle(one), settle(two)]);
        return states.every((s) => s === 'acquired') && one.partitions.length === 2 && two.partitions.length === 2;
      }, 30_000);
      assert.deepEqual([...one.partitions, ...two.partitions].sort(), items);
      assert.equal(one.state, 'acquired');
      const waiting = two.waitForChange('acquired');
      await one.finish();
      assert.equal(one.state, 'failure');
      assert.equal(await waiting, 'release');
      await two.releaseSet();
      assert.equal(await two.waitForAcquire(), 'acquired');
      assert.deepEqual(two.partitions, items);
      await two[Symbol.asyncDispose]();
      assert.throws(() => two.waitForChange('sideways'), { code: 'ERR_CORRAL_ARGUMENT' });
    });
  });
}
