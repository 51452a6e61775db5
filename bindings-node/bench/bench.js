'use strict';
// corral's Node client vs node-zookeeper-client against one server, side by
// side in one run: sequential getData ops/s, sequential create ops/s, and
// memory per idle client; plus EmbeddedServer.start() time. A benchmark, not
// a test: bench/run.sh runs it against a corral server and Apache ZooKeeper.
//
//   node bench/bench.js PACKAGE_DIR HOST:PORT [ops] [rounds]
//   node bench/bench.js PACKAGE_DIR --idle-memory corral|nzc HOST:PORT CLIENTS
//   node bench/bench.js PACKAGE_DIR --start-time [rounds]

const { execFileSync } = require('node:child_process');
const path = require('node:path');
const zookeeper = require('node-zookeeper-client');

const [pkgDir, ...rest] = process.argv.slice(2);
const corral = require(path.resolve(pkgDir));

const nzcConnect = (hosts) =>
  new Promise((resolve, reject) => {
    const client = zookeeper.createClient(hosts, { sessionTimeout: 30_000, retries: 0 });
    const timer = setTimeout(() => reject(new Error(`node-zookeeper-client: no connection to ${hosts}`)), 15_000);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.connect();
  });

const nzcCall = (client, method, ...args) =>
  new Promise((resolve, reject) => client[method](...args, (err, ...res) => (err ? reject(err) : resolve(res))));

/** The two clients behind one small interface. */
async function openClient(kind, hosts) {
  if (kind === 'corral') {
    const c = new corral.Client(hosts, { sessionTimeout: 30_000 });
    await c.connect();
    return {
      get: (p) => c.getData(p),
      create: (p, data, mode) => c.create(p, data, { mode }),
      close: () => c.close(),
    };
  }
  const c = await nzcConnect(hosts);
  return {
    get: (p) => nzcCall(c, 'getData', p),
    create: (p, data, mode) => nzcCall(c, 'create', p, data, mode),
    close: () => c.close(),
  };
}

async function opsPerSecond(ops, op) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await op(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return ops / seconds;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function throughput(hosts, ops, rounds) {
  const data = Buffer.alloc(100, 'x');
  const results = { corral: { get: [], create: [] }, nzc: { get: [], create: [] } };
  const setup = await openClient('corral', hosts);
  const base = `/bench-node-${process.pid}`;
  await setup.create(base, data, corral.CreateMode.PERSISTENT);
  for (let round = 0; round < rounds; round++) {
    // Alternate which client goes first, so neither always meets a warmer server.
    const order = round % 2 === 0 ? ['corral', 'nzc'] : ['nzc', 'corral'];
    for (const kind of order) {
      const client = await openClient(kind, hosts);
      await opsPerSecond(200, () => client.get(base)); // warm-up
      results[kind].get.push(await opsPerSecond(ops, () => client.get(base)));
      const dir = `${base}/${kind}-${round}`;
      await client.create(dir, data, corral.CreateMode.PERSISTENT);
      results[kind].create.push(await opsPerSecond(ops, (i) => client.create(`${dir}/n${i}`, data, corral.CreateMode.PERSISTENT)));
      await client.close();
    }
  }
  await setup.close();
  for (const op of ['get', 'create']) {
    const c = median(results.corral[op]);
    const n = median(results.nzc[op]);
    const name = op === 'get' ? 'getData' : 'create ';
    console.log(
      `${name} ops/s (median of ${rounds} x ${ops}): corral ${c.toFixed(0)}, node-zookeeper-client ${n.toFixed(0)}, ratio ${(c / n).toFixed(2)}x`,
    );
  }
}

/** One process per measurement: RSS before and after opening `count` idle clients. */
async function idleMemory(kind, hosts, count) {
  global.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const before = process.memoryUsage().rss;
  const clients = [];
  for (let i = 0; i < count; i++) clients.push(await openClient(kind, hosts));
  await new Promise((r) => setTimeout(r, 1000));
  global.gc?.();
  const after = process.memoryUsage().rss;
  console.log(JSON.stringify({ kind, count, perClient: (after - before) / count }));
  for (const c of clients) await c.close();
}

function idleMemoryBoth(hosts, count) {
  const perClient = {};
  for (const kind of ['corral', 'nzc']) {
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', __filename, pkgDir, '--idle-memory', kind, hosts, String(count)],
      { encoding: 'utf8' },
    );
    perClient[kind] = JSON.parse(out.trim().split('\n').pop()).perClient;
  }
  const kib = (b) => (b / 1024).toFixed(1);
  console.log(
    `memory per idle client (RSS, ${count} clients): corral ${kib(perClient.corral)} KiB, node-zookeeper-client ${kib(perClient.nzc)} KiB, ratio ${(perClient.corral / perClient.nzc).toFixed(2)}x`,
  );
}

async function startTime(rounds) {
  const times = [];
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint();
    const server = await corral.EmbeddedServer.start();
    const client = new corral.Client(server.connectString);
    await client.connect(); // serving, not only bound
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    await client.close();
    await server.close();
  }
  console.log(`EmbeddedServer.start() to a connected client (median of ${rounds}): ${median(times).toFixed(1)} ms`);
}

async function main() {
  if (rest[0] === '--idle-memory') return idleMemory(rest[1], rest[2], Number(rest[3]));
  if (rest[0] === '--start-time') return startTime(Number(rest[1] ?? 10));
  const [hosts, ops = '5000', rounds = '5'] = rest;
  await throughput(hosts, Number(ops), Number(rounds));
  idleMemoryBoth(hosts, 50); // within both servers' default maxClientCnxns (60 per address)
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
