'use strict';
// The `corral` package: the native addon (corral.node, built from src/ by
// `napi build`) shaped for Node. This file adds what napi alone makes
// awkward and decides nothing: error classes, the 'state' EventEmitter, the
// async iterators (watch() and the recipes' feeds), Symbol.asyncDispose,
// the leader callback's wrapper and the transaction builder.

const { EventEmitter } = require('node:events');
const native = require('./corral.node');

const {
  Client, Lock, ReadWriteLock, ReadWriteLockSide, Semaphore, Lease, LeaderElection, Leadership, LeaderLatch,
  Barrier, DoubleBarrier, Queue, LockingQueue, Counter, AtomicLong, SharedCount, IdGenerator, NodeCache, TreeCache,
  PathChildrenCache, Party, ServiceDiscovery, PersistentNode, SetPartitioner, WatchStream,
  EmbeddedServer, TestCluster, FaultRelay, expireSession, serviceInstance, serviceUri,
} = native;

/** A ZooKeeper result code: `code` ('NO_NODE'), `rc` (-101), `path`. */
class ZooKeeperError extends Error {
  constructor(message, code, rc, path) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.rc = rc;
    this.path = path;
  }
}

/** A call whose AbortSignal fired; `cause` is the signal's reason. */
class AbortError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'AbortError';
    this.code = 'ABORT_ERR';
  }
}

const errors = { ZooKeeperError };
const classByCode = new Map();
for (const { code, name } of native.errorCodes()) {
  const className = `${name}Error`;
  const cls = { [className]: class extends ZooKeeperError {} }[className];
  errors[className] = cls;
  classByCode.set(code, cls);
}

native.setErrorFactory(({ code, rc, path, message }) => {
  if (code === 'ABORT_ERR') return new AbortError(message);
  const cls = classByCode.get(code);
  if (cls) return new cls(message, code, rc, path ?? undefined);
  const err = new Error(message);
  err.code = code;
  return err;
});

const CreateMode = Object.freeze(native.createModes());
const Perms = Object.freeze(native.permissions());

// Client is an EventEmitter: 'state' events come from the native state feed,
// pumped from connect() until the client is closed.
for (const key of Reflect.ownKeys(EventEmitter.prototype)) {
  if (key !== 'constructor' && !Object.prototype.hasOwnProperty.call(Client.prototype, key)) {
    Object.defineProperty(Client.prototype, key, Object.getOwnPropertyDescriptor(EventEmitter.prototype, key));
  }
}

const pumping = new WeakSet();

async function pumpStates(client) {
  for (;;) {
    const state = await client.nextState();
    if (state === null) return;
    client.emit('state', state);
    if (state === 'closed') return;
  }
}

const nativeConnect = Client.prototype.connect;
Object.defineProperty(Client.prototype, 'connect', {
  configurable: true,
  writable: true,
  value: async function connect(options) {
    await nativeConnect.call(this, options);
    if (!pumping.has(this)) {
      pumping.add(this);
      pumpStates(this).catch((err) => this.emit('error', err));
    }
  },
});

/** Sub-operations applied atomically by commit(). */
class Transaction {
  #client;
  #ops = [];

  constructor(client) {
    this.#client = client;
  }

  create(path, data, options = {}) {
    this.#ops.push({ type: 'create', path, data: data ?? undefined, mode: options.mode, acl: options.acl, ttl: options.ttl });
    return this;
  }

  remove(path, options = {}) {
    this.#ops.push({ type: 'remove', path, version: options.version });
    return this;
  }

  setData(path, data, options = {}) {
    this.#ops.push({ type: 'setData', path, data: data ?? undefined, version: options.version });
    return this;
  }

  check(path, options = {}) {
    this.#ops.push({ type: 'check', path, version: options.version });
    return this;
  }

  commit(options) {
    return this.#client.multi(this.#ops, options);
  }
}

Object.defineProperty(Client.prototype, 'transaction', {
  configurable: true,
  writable: true,
  value: function transaction() {
    return new Transaction(this);
  },
});

// A persistent (recursive) watch as an async iterator; it ends when `signal`
// aborts or the client is closed, and throws SessionExpiredError when the
// session expires.
Object.defineProperty(Client.prototype, 'watch', {
  configurable: true,
  writable: true,
  value: async function* watch(path, options = {}) {
    const { recursive = false, signal } = options;
    const aborted = (err) => signal?.aborted && err?.code === 'ABORT_ERR';
    let stream;
    try {
      stream = await this.addWatch(path, { recursive, signal });
    } catch (err) {
      if (aborted(err)) return;
      throw err;
    }
    try {
      for (;;) {
        let event;
        try {
          event = await stream.next({ signal });
        } catch (err) {
          if (aborted(err)) return;
          throw err;
        }
        if (event === null) return;
        yield event;
      }
    } finally {
      await stream.close();
    }
  },
});

/** Defines `name` on `cls.prototype` as a plain (non-enumerable) method. */
function method(cls, name, value) {
  Object.defineProperty(cls.prototype, name, { configurable: true, writable: true, value });
}

// The items of a native EventStream (or of a Promise of one) as an async
// iterator; it ends when `signal` aborts, the feed ends or the loop breaks.
async function* iterate(stream, signal) {
  const aborted = (err) => signal?.aborted && err?.code === 'ABORT_ERR';
  let feed;
  try {
    feed = await stream;
  } catch (err) {
    if (aborted(err)) return;
    throw err;
  }
  try {
    for (;;) {
      let item;
      try {
        item = await feed.next({ signal });
      } catch (err) {
        if (aborted(err)) return;
        throw err;
      }
      if (item === null) return;
      yield item.value;
    }
  } finally {
    await feed.close();
  }
}

// Each recipe feed as an iterator method: the native `subscribe` runs at
// once (so nothing between the call and the first `next()` is missed).
for (const [cls, name] of [
  [TreeCache, 'events'], [PathChildrenCache, 'events'], [NodeCache, 'changes'], [SharedCount, 'changes'],
  [LeaderLatch, 'changes'], [Party, 'watch'],
]) {
  method(cls, name, function feed(options = {}) {
    const { signal } = options;
    return iterate(this.subscribe({ signal }), signal);
  });
}
method(ServiceDiscovery, 'watchInstances', function watchInstances(name, options = {}) {
  const { signal } = options;
  return iterate(this.subscribe(name, { signal }), signal);
});
method(Client, 'childrenWatch', function childrenWatch(path, options = {}) {
  return iterate(this.childrenWatchFeed(path), options.signal);
});
method(Client, 'dataWatch', function dataWatch(path, options = {}) {
  return iterate(this.dataWatchFeed(path), options.signal);
});

// The leader's callback: the native run calls a wrapper that never throws;
// a callback that throws ends the run (cancel) and run() rethrows.
method(LeaderElection, 'run', async function run(lead, options = {}) {
  const { signal } = options;
  let result = null;
  let failure = null;
  const onAbort = () => this.cancel();
  signal?.addEventListener('abort', onAbort);
  try {
    if (signal?.aborted) this.cancel();
    const led = await this.runNative(async (leadership) => {
      try {
        result = await lead(leadership);
      } catch (err) {
        failure = { err };
        this.cancel();
      }
    });
    if (failure) throw failure.err;
    return led ? result : null;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
});

// `await using`: what ends a recipe's hold or its background work.
const disposers = [
  [Lock, function () { return this.isHeld ? this.release() : undefined; }],
  [ReadWriteLockSide, function () { return this.isHeld ? this.release() : undefined; }],
  [Lease, function () { return this.release(); }],
  [LeaderLatch, function () { return this.close(); }],
  [NodeCache, function () { this.close(); }],
  [TreeCache, function () { this.close(); }],
  [PathChildrenCache, function () { this.close(); }],
  [SharedCount, function () { this.close(); }],
  [ServiceDiscovery, function () { return this.close(); }],
  [PersistentNode, function () { return this.close(); }],
  [SetPartitioner, function () { return this.finish(); }],
  [FaultRelay, function () { this.close(); }],
  [Client, function () { return this.close(); }],
  [EmbeddedServer, function () { return this.close(); }],
  [TestCluster, function () { return this.close(); }],
];
for (const [cls, dispose] of disposers) {
  method(cls, Symbol.asyncDispose, async function asyncDispose() {
    await dispose.call(this);
  });
}

module.exports = {
  Client,
  Lock,
  ReadWriteLock,
  ReadWriteLockSide,
  Semaphore,
  Lease,
  LeaderElection,
  Leadership,
  LeaderLatch,
  Barrier,
  DoubleBarrier,
  Queue,
  LockingQueue,
  Counter,
  AtomicLong,
  SharedCount,
  IdGenerator,
  NodeCache,
  TreeCache,
  PathChildrenCache,
  Party,
  ServiceDiscovery,
  PersistentNode,
  SetPartitioner,
  FaultRelay,
  serviceInstance,
  serviceUri,
  WatchStream,
  Transaction,
  EmbeddedServer,
  TestCluster,
  expireSession,
  CreateMode,
  Perms,
  ZooKeeperError,
  AbortError,
  errors,
};
