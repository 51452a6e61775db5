'use strict';
// The addon in worker_threads: each Worker loads it anew, uses a client and
// a recipe, and exits; a Worker terminated with a session open, a lock held
// and a watch pending ends that session (its lock frees for the others).

const assert = require('node:assert/strict');
const path = require('node:path');
const { describe, it, before, after } = require('node:test');
const { Worker } = require('node:worker_threads');
const { Client, EmbeddedServer } = require('..');

const PACKAGE = path.join(__dirname, '..');

/** Runs `source` in a Worker with `workerData`; resolves with its messages and exit code. */
function runWorker(source, workerData, onMessage = () => {}) {
  const worker = new Worker(source, { eval: true, workerData: { ...workerData, pkg: PACKAGE } });
  const messages = [];
  const exited = new Promise((resolve, reject) => {
    worker.on('message', (m) => {
      messages.push(m);
      onMessage(m, worker);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => resolve({ code, messages }));
  });
  return exited;
}

describe('worker threads', () => {
  let server;

  before(async () => {
    server = await EmbeddedServer.start();
  });

  after(async () => {
    await server.close();
  });

  it('a Worker connects, writes, reads, maps errors, locks and exits cleanly', async () => {
    const source = `
      const { workerData, parentPort } = require('node:worker_threads');
      const { Client, errors } = require(workerData.pkg);
      (async () => {
        const client = new Client(workerData.connectString);
        await client.connect();
        await client.create('/from-worker', Buffer.from('hello'));
        parentPort.postMessage(String((await client.getData('/from-worker')).data));
        try {
          await client.getData('/nope');
        } catch (err) {
          parentPort.postMessage(err instanceof errors.NoNodeError ? err.code : 'wrong class');
        }
        const lock = client.lock('/worker-lock');
        parentPort.postMessage(typeof (await lock.acquire()));
        await lock.release();
        await client.close();
      })();
    `;
    const { code, messages } = await runWorker(source, { connectString: server.connectString });
    assert.equal(code, 0);
    assert.deepEqual(messages, ['hello', 'NO_NODE', 'bigint']);
    const client = new Client(server.connectString);
    await client.connect();
    assert.deepEqual((await client.getData('/from-worker')).data, Buffer.from('hello'));
    await client.close();
  });

  it('several Workers at once, each with its own client', async () => {
    const source = `
      const { workerData, parentPort } = require('node:worker_threads');
      const { Client } = require(workerData.pkg);
      (async () => {
        const client = new Client(workerData.connectString);
        await client.connect();
        const counter = client.atomicLong('/worker-count');
        for (let i = 0; i < 5; i++) await counter.increment();
        await client.close();
        parentPort.postMessage('done');
      })();
    `;
    const runs = await Promise.all([1, 2, 3].map(() => runWorker(source, { connectString: server.connectString })));
    assert.deepEqual(runs.map((r) => r.code), [0, 0, 0]);
    const client = new Client(server.connectString);
    await client.connect();
    assert.equal((await client.atomicLong('/worker-count').get()).postValue, 15n);
    await client.close();
  });

  it('terminating a Worker ends the sessions it opened', async () => {
    const source = `
      const { workerData, parentPort } = require('node:worker_threads');
      const { Client } = require(workerData.pkg);
      (async () => {
        const client = new Client(workerData.connectString, { sessionTimeout: 30000 });
        await client.connect();
        await client.lock('/held-by-worker').acquire();
        client.watch('/held-by-worker').next();
        parentPort.postMessage(String(client.sessionId));
      })();
    `;
    const { code, messages } = await runWorker(source, { connectString: server.connectString }, (m, worker) => worker.terminate());
    assert.equal(code, 1);
    assert.equal(messages.length, 1);
    const client = new Client(server.connectString);
    await client.connect();
    // Well before the 30 s session timeout: the session was closed, not left to expire.
    const token = await client.lock('/held-by-worker').acquire({ timeout: 5000 });
    assert.equal(typeof token, 'bigint');
    await client.close();
  });
});
