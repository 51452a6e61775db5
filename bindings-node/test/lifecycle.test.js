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
