'use strict';
// A process with open clients, pending watches, a watch iterator and a lock
// waiter exits by itself once its clients are closed: nothing the addon holds
// keeps the event loop alive, and every pending Promise settles.

const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');
const { it } = require('node:test');
const { promisify } = require('node:util');

const SCRIPT = `
const { Client, EmbeddedServer } = require(${JSON.stringify(path.join(__dirname, '..'))});
(async () => {
  const server = await EmbeddedServer.start();
  const a = new Client(server.connectString);
  const b = new Client(server.connectString);
  await a.connect();
  await b.connect();
  await a.create('/n');
  const { watch } = await a.getData('/n', { watch: true });
  const iter = a.watch('/n', { recursive: true });
  const first = iter.next();
  const held = a.lock('/l');
  await held.acquire();
  const waiter = b.lock('/l').acquire().then(() => 'acquired', (e) => e.code);
  await b.close();
  await a.close();
  console.log('watch', (await watch).state);
  const f = await first; console.log('iterator done', f.done, f.value && [f.value.type, f.value.state, f.value.path].join());
  console.log('waiter', await waiter);
  await server.close();
  console.log('end');
})();
`;

it('exits once its clients are closed; pending calls settle', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', SCRIPT], { timeout: 30_000 });
  assert.match(stdout, /^watch CLOSED$/m);
  assert.match(stdout, /^iterator done true undefined$/m);
  assert.match(stdout, /^waiter CONNECTION_LOSS$/m);
  assert.match(stdout, /^end$/m);
});

const UNCLOSED = `
const { Client, CreateMode } = require(${JSON.stringify(path.join(__dirname, '..'))});
(async () => {
  const client = new Client(process.argv[1], { sessionTimeout: 30000 });
  client.on('state', (s) => console.log('state', s));
  await client.connect();
  await client.create('/unclosed', null, { mode: CreateMode.EPHEMERAL });
  await client.getData('/unclosed');
  console.log('work done; the client stays open');
})();
`;

it('a process that leaves a client open exits once its work is done, ending the session', async () => {
  const { EmbeddedServer, Client } = require('..');
  const server = await EmbeddedServer.start();
  const observer = new Client(server.connectString);
  await observer.connect();
  try {
    // The open client and its 'state' listener do not hold the event loop.
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', UNCLOSED, server.connectString], {
      timeout: 20_000,
    });
    assert.match(stdout, /^state connected$/m);
    assert.match(stdout, /^work done; the client stays open$/m);
    // At exit the addon closed the session: its ephemeral node is gone now,
    // not 30 s later when the session would have expired.
    assert.equal(await observer.exists('/unclosed'), null);
  } finally {
    await observer.close();
    await server.close();
  }
});
