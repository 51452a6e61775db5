'use strict';
// Every client operation, error mapping, bigint field, watch kind, state
// event, AbortSignal and the lock, each against corral and ZooKeeper 3.8.

const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');
const { Client, CreateMode, Perms, ZooKeeperError, AbortError, errors, expireSession } = require('..');
const { KINDS, startServer, waitFor, uniquePath } = require('./harness');

for (const kind of KINDS) {
  describe(`client against ${kind}`, () => {
    let server;
    const clients = [];

    async function connect(suffix = '', options = { sessionTimeout: 10_000 }) {
      const client = new Client(server.connectString + suffix, options);
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

    it('connects, reports its session as bigint, and closes', async () => {
      const client = new Client(server.connectString);
      assert.equal(client.state, null);
      await client.connect();
      assert.equal(client.state, 'connected');
      assert.equal(typeof client.sessionId, 'bigint');
      assert.ok(client.sessionId > 0n);
      assert.ok(client.sessionTimeout > 0);
      await client.create(uniquePath('zxid'));
      assert.equal(typeof client.lastZxid, 'bigint');
      assert.ok(client.lastZxid > 0n);
      await client.close();
      assert.equal(client.state, 'closed');
      await assert.rejects(client.exists('/'), { code: 'ERR_CORRAL_CLOSED', message: /closed/ });
    });

    it('create, getData, setData with version, exists and remove', async () => {
      const client = await connect();
      const p = uniquePath('crud');
      assert.equal(await client.create(p, Buffer.from('x')), p);
      const { data, stat } = await client.getData(p);
      assert.deepEqual(data, Buffer.from('x'));
      assert.ok(Buffer.isBuffer(data));
      assert.equal(stat.version, 0);
      assert.equal(stat.dataLength, 1);
      for (const f of ['czxid', 'mzxid', 'pzxid', 'ephemeralOwner']) assert.equal(typeof stat[f], 'bigint', f);
      assert.equal(stat.ephemeralOwner, 0n);
      const s2 = await client.setData(p, Buffer.from('v2'), { version: stat.version });
      assert.equal(s2.version, 1);
      assert.ok(s2.mzxid > stat.mzxid);
      const seen = await client.exists(p);
      assert.equal(seen.version, 1);
      assert.equal(await client.exists(`${p}/nope`), null);
      await client.remove(p, { version: 1 });
      assert.equal(await client.exists(p), null);
      // No data at all is an empty buffer.
      await client.create(p);
      assert.deepEqual((await client.getData(p)).data, Buffer.alloc(0));
    });

    it('create modes: ephemeral sequential with makePath, owner is the session', async () => {
      const client = await connect();
      const base = uniquePath('jobs');
      const p = await client.create(`${base}/deep/job-`, Buffer.from('x'), { mode: CreateMode.EPHEMERAL_SEQUENTIAL, makePath: true });
      assert.match(p, new RegExp(`^${base}/deep/job-\\d{10}$`));
      const stat = await client.exists(p);
      assert.equal(stat.ephemeralOwner, client.sessionId);
      assert.deepEqual((await client.getEphemerals(base)).map(String), [p]);
      const q = await client.create(`${base}/deep/job-`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      assert.ok(q > p);
      const c = await client.create(`${base}/box`, null, { mode: CreateMode.CONTAINER });
      assert.equal(c, `${base}/box`);
      const t = await client.create(`${base}/ttl`, null, { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 60_000 });
      assert.equal(t, `${base}/ttl`);
    });

    it('calls reach the server in the order they are made', async () => {
      const client = await connect();
      const base = uniquePath('fifo');
      await client.create(base);
      const made = [];
      for (let i = 0; i < 20; i += 1) made.push(client.create(`${base}/n-`, Buffer.from(String(i)), { mode: CreateMode.PERSISTENT_SEQUENTIAL }));
      const paths = await Promise.all(made);
      assert.deepEqual(paths, [...paths].sort());
      for (const [i, p] of paths.entries()) assert.equal((await client.getData(p)).data.toString(), String(i));
    });

    it('getChildren, mkdirp, getAllChildrenNumber, removeRecursive, sync, chroot', async () => {
      const client = await connect();
      const base = uniquePath('tree');
      await client.mkdirp(`${base}/a/b`);
      await client.mkdirp(`${base}/a/b`); // already there: fine
      await client.create(`${base}/c`);
      const { children, stat } = await client.getChildren(base);
      assert.deepEqual(children.sort(), ['a', 'c']);
      assert.equal(stat.numChildren, 2);
      assert.equal(await client.getAllChildrenNumber(base), 3);
      await client.sync(base);
      const rooted = await connect(base);
      assert.deepEqual((await rooted.getChildren('/a')).children, ['b']);
      assert.equal(await rooted.create('/d'), '/d');
      await client.removeRecursive(base);
      assert.equal(await client.exists(base), null);
    });

    it('getACL, setACL and addAuthInfo', async () => {
      const client = await connect();
      const p = uniquePath('acl');
      await client.create(p);
      const { acl, stat } = await client.getACL(p);
      assert.deepEqual(acl, [{ perms: Perms.ALL, scheme: 'world', id: 'anyone' }]);
      assert.equal(stat.aversion, 0);
      const s = await client.setACL(p, [{ perms: Perms.READ, scheme: 'world', id: 'anyone' }], { version: 0 });
      assert.equal(s.aversion, 1);
      await assert.rejects(client.setData(p, Buffer.from('no')), errors.NoAuthError);

      await client.addAuthInfo('digest', Buffer.from('alice:secret'));
      const q = uniquePath('auth');
      await client.create(q, null, { acl: [{ perms: Perms.ALL, scheme: 'auth', id: '' }] });
      const other = await connect();
      await assert.rejects(other.getData(q), { code: 'NO_AUTH', rc: -102, path: q });
      await other.addAuthInfo('digest', Buffer.from('alice:secret'));
      assert.equal((await other.getData(q)).stat.version, 0);
    });

    it('errors: ZooKeeperError subclasses with code, rc and path', async () => {
      const client = await connect();
      const p = uniquePath('err');
      const err = await client.getData(p).catch((e) => e);
      assert.ok(err instanceof errors.NoNodeError);
      assert.ok(err instanceof ZooKeeperError);
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'NoNodeError');
      assert.equal(err.code, 'NO_NODE');
      assert.equal(err.rc, -101);
      assert.equal(err.path, p);
      assert.match(err.message, /NoNode/);
      await client.create(p);
      await assert.rejects(client.create(p), { name: 'NodeExistsError', code: 'NODE_EXISTS', rc: -110, path: p });
      await assert.rejects(client.setData(p, null, { version: 7 }), { code: 'BAD_VERSION', rc: -103 });
      await client.create(`${p}/child`);
      await assert.rejects(client.remove(p), errors.NotEmptyError);
      await assert.rejects(client.create(`${p}/x/y`), { code: 'NO_NODE', path: `${p}/x/y` });
      await assert.rejects(client.create('no-slash'), { code: 'BAD_ARGUMENTS' });
    });

    it('transaction: applies all or nothing', async () => {
      const client = await connect();
      const p = uniquePath('txn');
      await client.create(p);
      const results = await client.transaction()
        .create(`${p}/a`, Buffer.from('1'))
        .setData(p, Buffer.from('2'), { version: 0 })
        .check(p, { version: 1 })
        .create(`${p}/s-`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL })
        .remove(`${p}/a`)
        .commit();
      assert.deepEqual(results.map((r) => r.type), ['create', 'setData', 'check', 'create', 'remove']);
      assert.equal(results[0].path, `${p}/a`);
      assert.equal(results[1].stat.version, 1);
      assert.match(results[3].path, /s-\d{10}$/);
      const failed = await client.transaction().create(`${p}/b`).check(p, { version: 0 }).commit().catch((e) => e);
      assert.ok(failed instanceof errors.BadVersionError);
      assert.equal(failed.path, p);
      assert.equal(await client.exists(`${p}/b`), null);
    });

    it('one-shot watches: getData, exists and getChildren', async () => {
      const client = await connect();
      const writer = await connect();
      const p = uniquePath('oneshot');
      const { stat: none, watch: created } = await client.exists(p, { watch: true });
      assert.equal(none, null);
      await writer.create(p, Buffer.from('a'));
      const ev = await created;
      assert.deepEqual({ type: ev.type, path: ev.path, state: ev.state }, { type: 'NODE_CREATED', path: p, state: 'SYNC_CONNECTED' });
      assert.equal(typeof ev.zxid, 'bigint');

      const { data, watch: changed } = await client.getData(p, { watch: true });
      assert.deepEqual(data, Buffer.from('a'));
      await writer.setData(p, Buffer.from('b'));
      assert.equal((await changed).type, 'NODE_DATA_CHANGED');

      const { children, watch: kids } = await client.getChildren(p, { watch: true });
      assert.deepEqual(children, []);
      await writer.create(`${p}/k`);
      assert.equal((await kids).type, 'NODE_CHILDREN_CHANGED');

      const { stat, watch: deleted } = await client.exists(`${p}/k`, { watch: true });
      assert.equal(stat.version, 0);
      await writer.remove(`${p}/k`);
      assert.equal((await deleted).type, 'NODE_DELETED');
    });

    it('persistent watch iterator: every change of the node, ends on signal', async () => {
      const client = await connect();
      const p = uniquePath('persist');
      await client.create(p);
      const ac = new AbortController();
      const seen = [];
      const ready = client.exists(p); // in session order after addWatch
      const done = (async () => {
        for await (const ev of client.watch(p, { signal: ac.signal })) {
          seen.push(ev.type);
          if (seen.length === 2) ac.abort();
        }
      })();
      await ready;
      await waitFor('the watch to be registered', async () => {
        await client.setData(p, Buffer.from(String(Date.now())));
        return seen.length > 0;
      });
      await client.setData(p, Buffer.from('again'));
      await done; // ended by the signal
      assert.deepEqual(seen, ['NODE_DATA_CHANGED', 'NODE_DATA_CHANGED']);
    });

    it('recursive watch iterator: the whole subtree, ends when the client closes', async () => {
      const client = await connect();
      const writer = await connect();
      const p = uniquePath('recursive');
      await writer.mkdirp(`${p}/a`);
      const iter = client.watch(p, { recursive: true });
      const first = iter.next(); // registers the watch
      await waitFor('the recursive watch to see a change', async () => {
        await writer.setData(`${p}/a`, Buffer.from(String(Date.now())));
        return Promise.race([first.then(() => true), new Promise((r) => setTimeout(() => r(false), 50))]);
      });
      const ev = (await first).value;
      assert.deepEqual({ type: ev.type, path: ev.path }, { type: 'NODE_DATA_CHANGED', path: `${p}/a` });
      await writer.create(`${p}/a/b`);
      const next = await iter.next();
      assert.equal(next.value.type, 'NODE_CREATED');
      assert.equal(next.value.path, `${p}/a/b`);
      await client.close();
      // Drained of what arrived before the close, the iterator ends.
      await waitFor('the iterator to end', async () => (await iter.next()).done);
    });

    it('removeWatches ends one-shot watches and iterators; whoAmI names the identities', async () => {
      const client = await connect();
      const p = uniquePath('rmwatch');
      await client.create(p);
      const { watch } = await client.getData(p, { watch: true });
      await client.removeWatches(p, 'data');
      const ev = await watch;
      assert.equal(ev.type, 'DATA_WATCH_REMOVED');
      await assert.rejects(client.removeWatches(p, 'data'), { code: 'NO_WATCHER', rc: -121, path: p });
      await assert.rejects(client.removeWatches(p, 'every'), { code: 'ERR_CORRAL_ARGUMENT', message: /every/ });

      const iter = client.watch(p);
      const first = iter.next();
      await client.removeWatches(p, 'any'); // sent after the addWatch: calls keep their order
      assert.equal((await first).value.type, 'PERSISTENT_WATCH_REMOVED');
      assert.equal((await iter.next()).done, true);

      await client.addAuthInfo('digest', Buffer.from('bob:pw'));
      const ids = await client.whoAmI();
      assert.ok(ids.some((i) => i.authScheme === 'ip' && i.user === '127.0.0.1'), JSON.stringify(ids));
      assert.ok(ids.some((i) => i.authScheme === 'digest' && i.user === 'bob'), JSON.stringify(ids));
    });

    it('AbortSignal: an aborted call rejects with AbortError carrying the reason', async () => {
      const client = await connect();
      const pre = AbortSignal.abort(new Error('stop now'));
      const err = await client.getData('/', { signal: pre }).catch((e) => e);
      assert.ok(err instanceof AbortError);
      assert.equal(err.code, 'ABORT_ERR');
      assert.equal(err.cause.message, 'stop now');
      // An aborted signal never starts a call: the write does not happen.
      const p = uniquePath('aborted');
      await assert.rejects(client.create(p, null, { signal: pre }), { name: 'AbortError' });
      await assert.rejects(client.setData('/', null, { signal: pre }), { name: 'AbortError' });
      assert.equal(await client.exists(p), null);
      // A signal that never fires changes nothing.
      const ac = new AbortController();
      assert.equal((await client.getData('/', { signal: ac.signal })).data.length, 0);
    });

    it('lock: two clients contend; fencing tokens grow; an aborted acquire leaves nothing', async () => {
      const a = await connect();
      const b = await connect();
      const p = uniquePath('lock');
      const la = a.lock(p);
      const lb = b.lock(p);
      assert.equal(la.path, p);
      assert.equal(la.fencingToken, null);
      const t1 = await la.acquire();
      assert.equal(typeof t1, 'bigint');
      assert.equal(la.fencingToken, t1);

      // b waits; aborting its wait deletes its contender node.
      const ac = new AbortController();
      const waiting = lb.acquire({ signal: ac.signal });
      await waitFor('b to queue', async () => (await la.participantNodes()).length === 2);
      ac.abort();
      await assert.rejects(waiting, AbortError);
      await waitFor('b to leave the queue', async () => (await la.participantNodes()).length === 1);

      let bHeld = false;
      const bAcquired = lb.acquire().then((t) => { bHeld = true; return t; });
      await waitFor('b to queue again', async () => (await la.participantNodes()).length === 2);
      assert.equal(bHeld, false);
      await la.release();
      assert.equal(la.fencingToken, null);
      const t2 = await bAcquired;
      assert.ok(t2 > t1, `${t2} > ${t1}`);
      // With a timeout, a busy lock resolves null and leaves no node behind.
      assert.equal(await la.acquire({ timeout: 0 }), null);
      assert.equal(await la.acquire({ timeout: 100 }), null);
      assert.equal((await la.participantNodes()).length, 1);
      await lb.release();
      assert.deepEqual(await la.participantNodes(), []);
      assert.equal(typeof (await la.acquire({ timeout: 0 })), 'bigint');
      await la.release();
      await assert.rejects(lb.release(), { code: 'BAD_ARGUMENTS' });
    });

    it('state events: suspended when the server goes, reconnected when it is back', async () => {
      const client = await connect('', { sessionTimeout: 30_000 });
      const states = [];
      client.on('state', (s) => states.push(s));
      await waitFor('connected to be reported', () => states.includes('connected'));
      const session = client.sessionId;
      await server.stop();
      await waitFor('suspended', () => states.includes('suspended'));
      await server.serve();
      await waitFor('reconnected', () => states.includes('reconnected'), 30_000);
      assert.deepEqual(states, ['connected', 'suspended', 'reconnected']);
      assert.equal(client.sessionId, session);
      await client.close();
      await waitFor('closed', () => states.includes('closed'));
    });

    it('state events: lost when the session expires, then reconnected with a new session', async () => {
      const client = await connect();
      const states = [];
      client.on('state', (s) => states.push(s));
      await waitFor('connected to be reported', () => states.includes('connected'));
      const p = await client.create(uniquePath('eph'), null, { mode: CreateMode.EPHEMERAL });
      const { watch } = await client.getData(p, { watch: true });
      const iter = client.watch(p);
      const pending = iter.next().catch((e) => e);
      await client.sync(p); // the watch is registered before the expiry
      const old = client.sessionId;
      const fresh = await expireSession(client, server.connectString);
      assert.equal(typeof fresh, 'bigint');
      assert.notEqual(fresh, old);
      await waitFor('reconnected after lost', () => states.indexOf('reconnected', states.indexOf('lost')) > 0);
      // The session's connection drops (suspended) before the client learns it expired.
      assert.deepEqual(states.filter((s) => s !== 'suspended'), ['connected', 'lost', 'reconnected'], states.join());
      assert.equal(client.sessionId, fresh);
      // The session's watches end with it, its ephemerals go.
      const ev = await watch;
      assert.equal(ev.state, 'EXPIRED');
      const ended = await pending;
      assert.ok(ended instanceof errors.SessionExpiredError, String(ended?.value ? Object.entries(ended.value) : ended));
      assert.equal(ended.path, p);
      assert.equal((await iter.next()).done, true);
      await waitFor('the ephemeral to go', async () => (await client.exists(p)) === null);
    });

    it('bad input: clear errors for wrong types, bad values and unconnected clients', async () => {
      assert.throws(() => new Client(42), { message: /string/i });
      assert.throws(() => new Client('host:notaport'), { code: 'BAD_ARGUMENTS', rc: -8 });
      const idle = new Client(server.connectString);
      await assert.rejects(idle.getData('/'), { code: 'ERR_CORRAL_NOT_CONNECTED', message: /connect\(\)/ });
      assert.throws(() => idle.lock('/l'), { code: 'ERR_CORRAL_NOT_CONNECTED' });
      await idle.close();
      const client = await connect();
      assert.throws(() => client.create(7), { message: /string/i });
      assert.throws(() => client.create('/x', 'text'), { message: /Buffer|Uint8Array|buffer/i });
      await assert.rejects(client.create(uniquePath('mode'), null, { mode: 99 }), { code: 'ERR_CORRAL_ARGUMENT', message: /mode/ });
    });
  });
}
