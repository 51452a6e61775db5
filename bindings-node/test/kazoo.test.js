'use strict';
// corral's Node lock in kazoo's layout and kazoo's own Lock (a Python
// process, kazoo 2.11 from the interop venv) contend on one path, on corral
// and on Apache ZooKeeper 3.8: each waits for the other, each lists the
// other as a contender.

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { describe, it, before, after } = require('node:test');
const { Client } = require('..');
const { KINDS, startServer, uniquePath } = require('./harness');

const PYTHON = path.join(__dirname, '..', '..', 'target', 'venv', 'bin', 'python');

// Holds kazoo's Lock as told on stdin, reporting each step on stdout.
const KAZOO_LOCKER = `
import sys
from kazoo.client import KazooClient
from kazoo.exceptions import LockTimeout
hosts, path = sys.argv[1:3]
zk = KazooClient(hosts=hosts, timeout=10)
zk.start(timeout=15)
lock = zk.Lock(path, "kazoo")
print("contenders", ",".join(lock.contenders()), flush=True)
try:
    lock.acquire(timeout=0.5)
    print("acquired-early", flush=True)
except LockTimeout:
    print("timeout", flush=True)
lock.acquire()
print("acquired", flush=True)
sys.stdin.readline()
lock.release()
print("released", flush=True)
zk.stop()
zk.close()
`;

/** kazoo in a child process: `next()` resolves with its next stdout line. */
function kazooLocker(hosts, lockPath) {
  const child = spawn(PYTHON, ['-c', KAZOO_LOCKER, hosts, lockPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    async next() {
      const { value, done } = await lines.next();
      assert.ok(!done, 'the kazoo process ended early');
      return value;
    },
    proceed: () => child.stdin.write('\n'),
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}

for (const kind of KINDS) {
  describe(`corral's Node lock and kazoo's Lock on one path, against ${kind}`, () => {
    let server;
    let client;

    before(async () => {
      assert.ok(fs.existsSync(PYTHON), `no ${PYTHON}: the interop venv (tests/interop/requirements.txt) has kazoo`);
      server = await startServer(kind);
      client = new Client(server.connectString);
      await client.connect();
    });

    after(async () => {
      await client?.close();
      await server?.close();
    });

    it('exclude each other and list each other', async () => {
      const lockPath = uniquePath('kazoo-lock');
      const lock = client.lock(lockPath, { layout: 'kazoo', identifier: 'node' });
      const token = await lock.acquire();
      assert.equal(typeof token, 'bigint');
      const [node] = await lock.participantNodes();
      assert.match(path.basename(node), /^[0-9a-f]{32}__lock__\d{10}$/);

      const kazoo = kazooLocker(server.connectString, lockPath);
      try {
        assert.equal(await kazoo.next(), 'contenders node');
        assert.equal(await kazoo.next(), 'timeout', 'kazoo took a lock corral holds');
        await lock.release();
        assert.equal(await kazoo.next(), 'acquired');
        assert.equal(await lock.acquire({ timeout: 300 }), null, 'corral took a lock kazoo holds');
        const waiting = lock.acquire();
        kazoo.proceed();
        assert.equal(await kazoo.next(), 'released');
        assert.ok((await waiting) > token, 'the fencing token grew across the two libraries');
        assert.equal(await kazoo.exited, 0);
        await lock.release();
      } finally {
        kazoo.kill();
      }
    });
  });
}

it('a layout other than curator or kazoo is refused', async () => {
  const server = await startServer('corral');
  const client = new Client(server.connectString);
  await client.connect();
  try {
    for (const make of [
      () => client.lock('/x', { layout: 'etcd' }),
      () => client.readWriteLock('/x', { layout: 'etcd' }),
      () => client.semaphore('/x', 2, { layout: 'etcd' }),
      () => client.leaderElection('/x', 'me', { layout: 'etcd' }),
    ]) {
      assert.throws(make, (err) => err.code === 'ERR_CORRAL_ARGUMENT' && /layout: "etcd"/.test(err.message));
    }
  } finally {
    await client.close();
    await server.close();
  }
});
