'use strict';
// Servers for the suite: corral's EmbeddedServer, and Apache ZooKeeper 3.8
// (the Debian package's jars) started as a java process on a free port.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { EmbeddedServer } = require('..');

const ZK_JARS = '/usr/share/java';
const ZK_CLASSPATH = [
  'zookeeper.jar', 'zookeeper-jute.jar', 'slf4j-api.jar', 'slf4j-nop.jar',
  'netty-handler.jar', 'netty-transport.jar', 'netty-common.jar', 'netty-buffer.jar', 'netty-codec.jar',
  'netty-resolver.jar', 'netty-transport-native-epoll.jar', 'netty-transport-native-unix-common.jar',
].map((j) => path.join(ZK_JARS, j)).join(':');
const ZK_START_TIMEOUT_MS = 60_000;
// A server still starting may accept and stay silent: ask again.
const SRVR_TIMEOUT_MS = 1_000;

/** Both servers every client test runs against. */
const KINDS = ['corral', 'zookeeper'];

async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** Resolves once `check()` is truthy; rejects naming `what` after `timeoutMs`. */
async function waitFor(what, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Whether something answers ZooKeeper's `srvr` on the port. */
function answersSrvr(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    sock.setTimeout(SRVR_TIMEOUT_MS, () => sock.destroy());
    sock.on('connect', () => sock.write('srvr'));
    sock.on('data', (d) => { out += d; });
    sock.on('error', () => resolve(false));
    sock.on('close', () => resolve(out.includes('Mode:')));
  });
}

/** Apache ZooKeeper in its own data directory; restartable on the same port and data. */
class ZooKeeperProcess {
  constructor(dir, port) {
    this.dir = dir;
    this.port = port;
    this.connectString = `127.0.0.1:${port}`;
    this.proc = null;
    this.log = path.join(dir, 'zookeeper.log');
  }

  static async start() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corral-node-zk-'));
    const port = await freePort();
    fs.writeFileSync(path.join(dir, 'zoo.cfg'), [
      'tickTime=2000', `dataDir=${path.join(dir, 'data')}`, `clientPort=${port}`,
      'clientPortAddress=127.0.0.1', 'admin.enableServer=false', 'maxClientCnxns=0', '',
    ].join('\n'));
    const zk = new ZooKeeperProcess(dir, port);
    await zk.serve();
    return zk;
  }

  async serve() {
    const out = fs.openSync(this.log, 'a');
    this.proc = spawn('java', [
      '-Xmx256m', '-Dzookeeper.extendedTypesEnabled=true', '-cp', ZK_CLASSPATH,
      'org.apache.zookeeper.server.ZooKeeperServerMain', path.join(this.dir, 'zoo.cfg'),
    ], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.exited = exited;
    let gone = false;
    exited.then(() => { gone = true; });
    try {
      await waitFor('ZooKeeper to answer srvr', async () => {
        if (gone) throw new Error(`ZooKeeper exited; log:\n${fs.readFileSync(this.log, 'utf8').slice(-2000)}`);
        return answersSrvr(this.port);
      }, ZK_START_TIMEOUT_MS);
    } catch (err) {
      this.proc.kill('SIGKILL');
      throw err;
    }
  }

  async stop() {
    if (!this.proc) return;
    this.proc.kill('SIGKILL');
    await this.exited;
    this.proc = null;
  }

  async close() {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A running server of `kind`: `.connectString`, `.stop()`, `.serve()`, `.close()`. */
async function startServer(kind) {
  if (kind === 'zookeeper') return ZooKeeperProcess.start();
  if (kind === 'corral') return EmbeddedServer.start();
  throw new Error(`unknown server kind ${kind}`);
}

let counter = 0;
/** A fresh path prefix per test, so tests sharing a server do not meet. */
function uniquePath(name) {
  counter += 1;
  return `/t-${process.pid}-${counter}-${name}`;
}

module.exports = { KINDS, startServer, waitFor, uniquePath, freePort };
