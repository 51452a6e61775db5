/* The `corral` package's types. Below the hand-written part (what index.js
 * adds) napi generates the rest from the Rust sources: edit header.d.ts or
 * src/*.rs and run `npm run build`, never this file by hand. */

import { EventEmitter } from 'node:events'

/** Node kinds, numbered as ZooKeeper's create flags. */
export declare const CreateMode: Readonly<{
  PERSISTENT: number
  EPHEMERAL: number
  PERSISTENT_SEQUENTIAL: number
  EPHEMERAL_SEQUENTIAL: number
  CONTAINER: number
  PERSISTENT_WITH_TTL: number
  PERSISTENT_SEQUENTIAL_WITH_TTL: number
}>

/** ACL permission bits. */
export declare const Perms: Readonly<{ READ: number; WRITE: number; CREATE: number; DELETE: number; ADMIN: number; ALL: number }>

/** A connection state, as the `'state'` event reports it. */
export type ClientState = 'connected' | 'suspended' | 'reconnected' | 'lost' | 'closed' | 'readOnly'

/** A ZooKeeper result code; `errors` has a subclass per code (`errors.NoNodeError`). */
export declare class ZooKeeperError extends Error {
  /** `'NO_NODE'`, `'NODE_EXISTS'`, `'BAD_VERSION'`, ... */
  readonly code: string
  /** ZooKeeper's number: -101, -110, -103, ... */
  readonly rc: number
  /** The client-side path of the operation, if it had one. */
  readonly path: string | undefined
}

/** A call whose AbortSignal fired (`code` `'ABORT_ERR'`, `cause` the signal's reason). */
export declare class AbortError extends Error {
  readonly code: 'ABORT_ERR'
}

/** `ZooKeeperError` and its subclass per ZooKeeper code, by class name (`errors.NoNodeError`). */
export declare const errors: {
  ZooKeeperError: typeof ZooKeeperError
  [className: string]: typeof ZooKeeperError
}

/** Options of `watch()`. */
export interface WatchOptions {
  /** Watch the whole subtree. */
  recursive?: boolean
  /** Ends the iteration. */
  signal?: AbortSignal
}

/** Sub-operations applied atomically by `commit()`. */
export declare class Transaction {
  create(path: string, data?: Buffer | null, options?: { mode?: number; acl?: Acl[]; ttl?: number }): this
  remove(path: string, options?: { version?: number }): this
  setData(path: string, data: Buffer | null, options?: { version?: number }): this
  check(path: string, options?: { version?: number }): this
  /** Applies every sub-operation, or none (rejecting with the first failure's error). */
  commit(options?: CallOptions): Promise<OpResult[]>
}

export interface Client extends EventEmitter {
  on(event: 'state', listener: (state: ClientState) => void): this
  once(event: 'state', listener: (state: ClientState) => void): this
  /**
   * Events of a persistent (or recursive) watch, until `signal` aborts or the
   * client closes; throws `errors.SessionExpiredError` when the session expires.
   */
  watch(path: string, options?: WatchOptions): AsyncGenerator<WatchedEvent, void, undefined>
  transaction(): Transaction
}


/** Options of the recipes' event iterators. */
export interface FeedOptions {
  /** Ends the iteration. */
  signal?: AbortSignal
}

/** A service instance: Curator's JSON, as `serviceInstance()` makes it. */
export interface ServiceInstance {
  /** The service's name. */
  name: string
  /** Unique within the service (the node's name). */
  id: string
  address?: string | null
  port?: number | null
  sslPort?: number | null
  /** Anything JSON the application publishes. */
  payload?: unknown
  /** Registration time, ms since the epoch. */
  registrationTimeUTC?: number
  serviceType?: 'DYNAMIC' | 'DYNAMIC_SEQUENTIAL' | 'STATIC' | 'PERMANENT'
  /** The URI template, parsed (`serviceUri()` fills it in). */
  uriSpec?: { parts: { value: string; variable: boolean }[] } | null
  /** Whether the instance takes work. */
  enabled?: boolean
}

export interface Client extends AsyncDisposable {
  /** kazoo's `ChildrenWatch`: the sorted children now, then after every change (empty while the node is missing). */
  childrenWatch(path: string, options?: FeedOptions): AsyncGenerator<string[], void, undefined>
  /** kazoo's `DataWatch`: `{ data, stat }` now (`null` while the node is missing), then after every change. */
  dataWatch(path: string, options?: FeedOptions): AsyncGenerator<{ data: Buffer; stat: Stat } | null, void, undefined>
}

export interface LeaderElection {
  /**
   * Joins the election and calls `lead` each time this contender leads;
   * leadership is given up when `lead` settles (stop early once
   * `leadership.lost()` resolves). Resolves with the last result of `lead`,
   * `null` when cancelled (`cancel()` or `signal`) before leading; rejects
   * with what `lead` threw (the run is cancelled then).
   */
  run<T>(lead: (leadership: Leadership) => T | Promise<T>, options?: FeedOptions): Promise<T | null>
}

export interface TreeCache extends AsyncDisposable {
  /** Every event from now on (subscribe before `start()` to see the initial load). */
  events(options?: FeedOptions): AsyncGenerator<CacheEvent, void, undefined>
}

export interface PathChildrenCache extends AsyncDisposable {
  /** Every event from now on (subscribe before `start()` to see the initial children). */
  events(options?: FeedOptions): AsyncGenerator<CacheEvent, void, undefined>
}

export interface NodeCache extends AsyncDisposable {
  /** The node after each change from now on (`null` once deleted). */
  changes(options?: FeedOptions): AsyncGenerator<ChildData | null, void, undefined>
}

export interface SharedCount extends AsyncDisposable {
  /** Every new count seen from now on. */
  changes(options?: FeedOptions): AsyncGenerator<number, void, undefined>
}

export interface LeaderLatch extends AsyncDisposable {
  /** Leadership changes from now on (`true`: this participant leads). */
  changes(options?: FeedOptions): AsyncGenerator<boolean, void, undefined>
}

export interface Party {
  /** The members now, then after every change. */
  watch(options?: FeedOptions): AsyncGenerator<string[], void, undefined>
}

export interface ServiceDiscovery extends AsyncDisposable {
  /** The instances of service `name` now, then after every change (Curator's `ServiceCache`). */
  watchInstances(name: string, options?: FeedOptions): AsyncGenerator<ServiceInstance[], void, undefined>
}

/** `await using` releases one hold, if held. */
export interface Lock extends AsyncDisposable {}
/** `await using` releases one hold, if held. */
export interface ReadWriteLockSide extends AsyncDisposable {}
/** `await using` gives the lease back. */
export interface Lease extends AsyncDisposable {}
/** `await using` closes it. */
export interface PersistentNode extends AsyncDisposable {}
/** `await using` finishes it. */
export interface SetPartitioner extends AsyncDisposable {}
/** `await using` closes it. */
export interface FaultRelay extends AsyncDisposable {}
/** `await using` closes it. */
export interface EmbeddedServer extends AsyncDisposable {}
/** `await using` closes it. */
export interface TestCluster extends AsyncDisposable {}

/**
 * Curator's `DistributedAtomicLong`: 8 big-endian bytes updated by
 * compare-and-set on the node's version.
 */
export declare class AtomicLong {
  /** r" Adds `delta` (wrapping on overflow). */
  add(value: bigint, options?: CallOptions | undefined | null): Promise<AtomicValue>
  /** r" Subtracts `delta`. */
  subtract(value: bigint, options?: CallOptions | undefined | null): Promise<AtomicValue>
  /** r" Sets the value whatever it is, optimistically (Curator's `trySet`). */
  trySet(value: bigint, options?: CallOptions | undefined | null): Promise<AtomicValue>
  /** The current value (`0n` if never set). */
  get(options?: CallOptions | undefined | null): Promise<AtomicValue>
  /** Adds 1. */
  increment(options?: CallOptions | undefined | null): Promise<AtomicValue>
  /** Subtracts 1. */
  decrement(options?: CallOptions | undefined | null): Promise<AtomicValue>
  /** Sets `newValue` if the value is `expected` (one attempt; fails when the node does not exist yet). */
  compareAndSet(expected: bigint, newValue: bigint, options?: CallOptions | undefined | null): Promise<AtomicValue>
  /** Sets the value unconditionally (Curator's `forceSet`). */
  forceSet(value: bigint, options?: CallOptions | undefined | null): Promise<void>
  /** Creates the node with `value` if missing; `false` if it existed. */
  initialize(value: bigint, options?: CallOptions | undefined | null): Promise<boolean>
}

/**
 * kazoo's `Barrier` / Curator's `DistributedBarrier`: up while its
 * (persistent) node exists.
 */
export declare class Barrier {
  /** Raises the barrier (creates its node and missing parents; up already is fine). */
  set(options?: CallOptions | undefined | null): Promise<void>
  /** Lowers the barrier (deletes its node; down already is fine). */
  remove(options?: CallOptions | undefined | null): Promise<void>
  /** Waits until the barrier is down: `true`; `false` when `timeout` passed first. */
  wait(options?: WaitOptions | undefined | null): Promise<boolean>
}

/** A ZooKeeper client session. */
export declare class Client {
  /**
   * A client for `connectString` (`host:port[,host:port...][/chroot]`);
   * nothing connects until `connect()`.
   */
  constructor(connectString: string, options?: ClientOptions | undefined | null)
  /** Establishes the session (does nothing when connected). */
  connect(options?: CallOptions | undefined | null): Promise<void>
  /** Closes the session (its ephemerals go); later calls fail with `ERR_CORRAL_CLOSED`. */
  close(): Promise<void>
  /**
   * The next connection state change (`null` once the client is closed);
   * index.js turns these into `'state'` events.
   */
  nextState(): Promise<'connected' | 'suspended' | 'reconnected' | 'lost' | 'closed' | 'readOnly' | null>
  /** The connection state now (`null` before `connect()`). */
  get state(): 'connected' | 'suspended' | 'reconnected' | 'lost' | 'closed' | 'readOnly' | null
  /** The session id (`0n` while there is none). */
  get sessionId(): bigint
  /** The session timeout the server granted, in ms (0 while there is none). */
  get sessionTimeout(): number
  /** The highest zxid seen in any reply. */
  get lastZxid(): bigint
  /** Creates a node; resolves with its actual path (sequential suffix included). */
  create(path: string, data?: Buffer | undefined | null, options?: CreateOptions | undefined | null): Promise<string>
  /** Deletes a node (`version`: the version it must have). */
  remove(path: string, options?: VersionOptions | undefined | null): Promise<void>
  /** Deletes a node and everything below it. */
  removeRecursive(path: string, options?: CallOptions | undefined | null): Promise<void>
  /**
   * The node's Stat, or `null` when it does not exist. With `{ watch: true }`:
   * `{ stat, watch }`, `watch` resolving at the node's creation, change or deletion.
   */
  exists<O extends ReadOptions = ReadOptions>(path: string, options?: O): Promise<O extends { watch: true } ? { stat: Stat | null; watch: Promise<WatchedEvent> } : Stat | null>
  /** `{ data, stat }` of a node; with `{ watch: true }` also `watch`, resolving at its next change or deletion. */
  getData(path: string, options?: ReadOptions | undefined | null): Promise<{ data: Buffer; stat: Stat; watch?: Promise<WatchedEvent> }>
  /** Sets a node's data; resolves with its new Stat. */
  setData(path: string, data?: Buffer | undefined | null, options?: VersionOptions | undefined | null): Promise<Stat>
  /** `{ children, stat }` of a node; with `{ watch: true }` also `watch`, resolving at the next child change or deletion. */
  getChildren(path: string, options?: ReadOptions | undefined | null): Promise<{ children: string[]; stat: Stat; watch?: Promise<WatchedEvent> }>
  /** `{ acl, stat }` of a node. */
  getACL(path: string, options?: CallOptions | undefined | null): Promise<{ acl: Acl[]; stat: Stat }>
  /** Sets a node's ACL (`version`: the ACL version it must have); resolves with its new Stat. */
  setACL(path: string, acl: Array<Acl>, options?: VersionOptions | undefined | null): Promise<Stat>
  /** Creates a node and its missing parents as persistent nodes (mkdir -p). */
  mkdirp(path: string, options?: CallOptions | undefined | null): Promise<void>
  /** Adds an identity to the session, now and after every reconnect. */
  addAuthInfo(scheme: string, auth: Buffer, options?: CallOptions | undefined | null): Promise<void>
  /** Waits until the connected server has caught up with the leader. */
  sync(path: string, options?: CallOptions | undefined | null): Promise<void>
  /** Number of descendants of a node (ZooKeeper 3.6+). */
  getAllChildrenNumber(path: string, options?: CallOptions | undefined | null): Promise<number>
  /** This session's ephemeral nodes under `prefix` (server paths; ZooKeeper 3.6+). */
  getEphemerals(prefix: string, options?: CallOptions | undefined | null): Promise<string[]>
  /** The identities of this connection (ZooKeeper 3.7+). */
  whoAmI(options?: CallOptions | undefined | null): Promise<ClientInfo[]>
  /**
   * Removes this client's watches of `type` on `path`, on the server and
   * here (their one-shot Promises resolve with a `*_WATCH_REMOVED` event,
   * their iterators end); NoWatcher when there were none.
   */
  removeWatches(path: string, kind: 'children' | 'data' | 'any' | 'persistent' | 'persistentRecursive', options?: CallOptions | undefined | null): Promise<void>
  /** Applies sub-operations atomically (index.js's `transaction().…commit()` calls this). */
  multi(ops: Array<TxnOp>, options?: CallOptions | undefined | null): Promise<OpResult[]>
  /**
   * A persistent (or, with `recursive`, persistent recursive) watch; index.js's
   * `watch()` iterates it.
   */
  addWatch(path: string, options?: AddWatchOptions | undefined | null): Promise<WatchStream>
  /**
   * A lock at `path`, each acquisition with a fencing token: Curator's
   * `InterProcessMutex` nodes, or kazoo's `Lock` ones with
   * `{ layout: 'kazoo' }` (to share the path with kazoo processes).
   */
  lock(path: string, options?: LayoutOptions | undefined | null): Lock
  /**
   * A read-write lock at `path`: Curator's `InterProcessReadWriteLock`
   * nodes, or kazoo's `ReadLock`/`WriteLock` ones with `{ layout: 'kazoo' }`.
   */
  readWriteLock(path: string, options?: LayoutOptions | undefined | null): ReadWriteLock
  /**
   * A semaphore at `path` granting at most `maxLeases` leases at a time
   * (every user must agree on `maxLeases`): Curator's
   * `InterProcessSemaphoreV2` layout, or kazoo's `Semaphore` one with
   * `{ layout: 'kazoo' }`.
   */
  semaphore(path: string, maxLeases: number, options?: LayoutOptions | undefined | null): Semaphore
  /**
   * A contender in the leader election at `path` (Curator's `LeaderSelector`);
   * `identifier` is what `contenders()` lists.
   */
  leaderElection(path: string, identifier: string, options?: ElectionOptions | undefined | null): LeaderElection
  /** A participant `id` of the leader latch at `path` (Curator's `LeaderLatch`); `start()` it. */
  leaderLatch(path: string, id: string): LeaderLatch
  /** A barrier on the node at `path`. */
  barrier(path: string): Barrier
  /** A member of the double barrier at `path` that opens once `memberQty` members are in. */
  doubleBarrier(path: string, memberQty: number): DoubleBarrier
  /** A queue at `path` (kazoo's `Queue`, with `PriorityQueue`'s priorities). */
  queue(path: string, options?: QueueOptions | undefined | null): Queue
  /** A locking queue at `path` (kazoo's `LockingQueue`). */
  lockingQueue(path: string): LockingQueue
  /** A counter at `path` (kazoo's `Counter`). */
  counter(path: string, options?: CounterOptions | undefined | null): Counter
  /** An atomic 64-bit counter at `path` (Curator's `DistributedAtomicLong`). */
  atomicLong(path: string, options?: AtomicLongOptions | undefined | null): AtomicLong
  /** A shared count at `path`, created with `seed` by `start()` if missing (Curator's `SharedCount`). */
  sharedCount(path: string, seed: number): SharedCount
  /** An id generator under `path`. */
  idGenerator(path: string, options?: IdGeneratorOptions | undefined | null): IdGenerator
  /** A cache of the node at `path` (Curator's `NodeCache`); `start()` it. */
  nodeCache(path: string): NodeCache
  /** A cache of the subtree at `path` (Curator's `TreeCache`); `start()` it. */
  treeCache(path: string, options?: TreeCacheOptions | undefined | null): TreeCache
  /** A cache of the children of `path` (Curator's `PathChildrenCache`); `start()` it. */
  pathChildrenCache(path: string): PathChildrenCache
  /**
   * Membership `identifier` of the party at `path` (kazoo's `Party`, or
   * `ShallowParty` with `{ shallow: true }`); `join()` it.
   */
  party(path: string, identifier: string, options?: PartyOptions | undefined | null): Party
  /** Service discovery under `basePath` (Curator's `ServiceDiscovery`). */
  serviceDiscovery(basePath: string): ServiceDiscovery
  /** A node at `path` holding `data`, kept present once started (Curator's `PersistentNode`). */
  persistentNode(path: string, data?: Buffer | undefined | null, options?: PersistentNodeOptions | undefined | null): PersistentNode
  /**
   * Joins the set partitioner at `path` as member `identifier` and starts
   * allocating `items` (kazoo's `SetPartitioner`).
   */
  setPartitioner(path: string, items: Array<string>, identifier: string, options?: PartitionerOptions | undefined | null): Promise<SetPartitioner>
}

/** kazoo's `Counter`: the value as decimal text; concurrent changes all count. */
export declare class Counter {
  /** The current value. */
  value(options?: CallOptions | undefined | null): Promise<bigint>
  /** Adds `delta` atomically. */
  add(delta: bigint, options?: CallOptions | undefined | null): Promise<CounterChange>
  /** Subtracts `delta` atomically. */
  subtract(delta: bigint, options?: CallOptions | undefined | null): Promise<CounterChange>
}

/**
 * Curator's `DistributedDoubleBarrier`: `enter()` waits until `memberQty`
 * members have entered, `leave()` until every member has left.
 */
export declare class DoubleBarrier {
  /**
   * Enters and waits until enough members are in: `true`; `false` when
   * `timeout` passed first (this member stays entered: `leave()` to go).
   */
  enter(options?: WaitOptions | undefined | null): Promise<boolean>
  /**
   * Leaves and waits until every member has left: `true`; `false` when
   * `timeout` passed first.
   */
  leave(options?: WaitOptions | undefined | null): Promise<boolean>
}

/** An in-process corral server. */
export declare class EmbeddedServer {
  /** Starts a server. */
  static start(options?: ServerOptions | undefined | null): Promise<EmbeddedServer>
  /** `127.0.0.1:port`, for `new Client(...)`. */
  get connectString(): string
  /** The client port. */
  get port(): number
  /** The data directory. */
  get dataDir(): string
  /** Stops serving (clients are disconnected; data, sessions and port stay). */
  stop(): Promise<void>
  /** Serves again after `stop()`, on the same port and data (sessions resume). */
  serve(): Promise<void>
  /** Stops and serves again. */
  restart(): Promise<void>
  /** Whether it serves now. */
  isRunning(): Promise<boolean>
  /** Stops the server for good and removes its temporary data directory. */
  close(): Promise<void>
}

/** The items of one recipe feed, until it ends (`next()` resolves `null`). */
export declare class EventStream {
  /**
   * `{ value }` of the next item; `null` once the feed has ended (the
   * recipe or the client closed, or `close()`).
   */
  next(options?: CallOptions | undefined | null): Promise<{ value: unknown } | null>
  /** Stops listening (a pending `next()` settles first). */
  close(): Promise<void>
}

/** A relay clients connect to (`connectString`) instead of the server. */
export declare class FaultRelay {
  /**
   * Listens on an ephemeral loopback port and relays to `target`
   * (`host:port`, or a connect string: its first host).
   */
  static start(target: string): Promise<FaultRelay>
  /** The connect string clients use instead of the server's. */
  get connectString(): string
  /** The server relayed to, `host:port`. */
  get upstream(): string
  /** Whether new connections are refused. */
  get isBlocked(): boolean
  /**
   * Closes every relayed connection now: clients see `'suspended'`, then
   * reconnect and keep their sessions (`'reconnected'`).
   */
  drop(): void
  /** Drops every connection and refuses new ones until `unblock()`. */
  block(): void
  /** Lets clients connect again. */
  unblock(): void
  /**
   * Ends the session of `client` (connected through this relay) on the
   * server, as if it had expired: its ephemerals go, the client sees
   * `'lost'` and starts a new session. `false` when the server had no such
   * session any more.
   */
  expire(client: Client): Promise<boolean>
  /** Stops relaying and closes every connection. */
  close(): void
}

/** Unique, increasing ids from the sequence numbers of nodes created under a path. */
export declare class IdGenerator {
  /** A new id, greater than every id this path gave before. */
  nextId(options?: CallOptions | undefined | null): Promise<bigint>
}

/**
 * A leader election on one path (Curator's `LeaderSelector` node naming,
 * kazoo's `run`/`cancel`/`contenders`).
 */
export declare class LeaderElection {
  /**
   * Stops every `run` in progress: a queued contender leaves the queue, a
   * leader's `leadership.lost()` resolves with `'cancelled'`.
   */
  cancel(): void
  /** The identifiers of all contenders in queue order; the first leads. */
  contenders(options?: CallOptions | undefined | null): Promise<string[]>
  /** The current leader's identifier, `null` when nobody leads. */
  leader(options?: CallOptions | undefined | null): Promise<string | null>
}

/**
 * A leader latch (Curator's `LeaderLatch`): once started, the participant
 * leads while first in line, until it closes or loses its session.
 */
export declare class LeaderLatch {
  /** Joins: creates this participant's node and follows the line in the background. */
  start(): Promise<void>
  /** This participant's id. */
  get id(): string
  /** Whether this participant leads now. */
  get hasLeadership(): boolean
  /** This participant's node, while it has one. */
  get ourPath(): string | null
  /**
   * Waits until this participant leads (after `start()`); with `timeout`,
   * resolves `false` when it did not lead in time. Rejects when the latch
   * stops first (closed, or the client closed).
   */
  awaitLeadership(options?: WaitOptions | undefined | null): Promise<boolean>
  /** Every participant in line order; the first leads. */
  participants(options?: CallOptions | undefined | null): Promise<Participant[]>
  /** The leader, `null` when there is none. */
  leader(options?: CallOptions | undefined | null): Promise<Participant | null>
  /** Leaves the latch: leadership ends and the node is deleted (nothing when closed). */
  close(): Promise<void>
}

/** What the leader's callback holds while it leads. */
export declare class Leadership {
  /** The contender node's czxid: every later leader of the path has a larger one. */
  get fencingToken(): bigint
  /** The contender node's path. */
  get node(): string
  /** Whether leadership has been lost: stop acting as leader and return. */
  get isLost(): boolean
  /** Why leadership was lost, `null` while it lasts. */
  get reason(): 'suspended' | 'sessionLost' | 'nodeDeleted' | 'cancelled' | 'closed' | null
  /**
   * Resolves once leadership is lost (a suspended connection counts, as
   * in Curator), with the reason.
   */
  lost(): Promise<'suspended' | 'sessionLost' | 'nodeDeleted' | 'cancelled' | 'closed'>
}

/**
 * One lease of a `Semaphore`: an ephemeral node until `release()` (or
 * `await using` ends, or the lease is garbage collected).
 */
export declare class Lease {
  /** The lease node's full path. */
  get path(): string
  /** Whether the lease is held: not released, and its session connected. */
  get isHeld(): boolean
  /** Gives the lease back (deletes its node); nothing when already given back. */
  release(): Promise<void>
}

/**
 * A distributed, re-entrant mutex (Curator's `InterProcessMutex` naming):
 * waiters are served first come, first served; an aborted or failed
 * acquisition deletes its node.
 */
export declare class Lock {
  /**
   * Waits until held (nests when already held); resolves with the
   * fencing token, the lock node's czxid, which grows strictly
   * from one holder to the next. With `timeout`, resolves `null`
   * when not had in time (`0`: only if free now).
   */
  acquire(options?: WaitOptions | undefined | null): Promise<bigint | null>
  /** Undoes one acquisition; the last one deletes the lock node. */
  release(options?: CallOptions | undefined | null): Promise<void>
  /** The fencing token of the current hold (`null` when not held). */
  get fencingToken(): bigint | null
  /** Whether this value holds the lock (as of its last acquire or release). */
  get isHeld(): boolean
  /** The lock path. */
  get path(): string
  /** The full paths of every contender node, the holder first. */
  participantNodes(options?: CallOptions | undefined | null): Promise<string[]>
}

/**
 * kazoo's `LockingQueue`: `get()` locks the next item, `consume()` removes
 * it once processed, `release()` gives it back; an item whose consumer's
 * session ends first is delivered again.
 */
export declare class LockingQueue {
  /** Adds an item. */
  put(item: Buffer, options?: PutOptions | undefined | null): Promise<void>
  /** Adds several items with one priority: all of them or none. */
  putAll(items: Array<Buffer>, options?: PutOptions | undefined | null): Promise<void>
  /**
   * Locks and returns the next item, waiting for one; with `timeout`,
   * `null` when none came. While an item is held, returns it again.
   */
  get(options?: WaitOptions | undefined | null): Promise<Buffer | null>
  /** Whether this consumer still holds the lock of its item. */
  holdsLock(options?: CallOptions | undefined | null): Promise<boolean>
  /** Removes the held item; `false` when its lock was lost (it may go to another consumer). */
  consume(options?: CallOptions | undefined | null): Promise<boolean>
  /** Unlocks the held item for another consumer; `false` when none was held. */
  release(options?: CallOptions | undefined | null): Promise<boolean>
  /** The number of items, locked ones included. */
  length(options?: CallOptions | undefined | null): Promise<number>
}

/** Curator's `NodeCache`: the live data and Stat of one node. */
export declare class NodeCache {
  /**
   * Loads (the node need not exist) and keeps the cache live;
   * resolves once loaded. A second call does nothing.
   */
  start(): Promise<void>
  /** Stops following changes; the iterators end. */
  close(): void
  /** The node as last seen; `null` when it does not exist. */
  get current(): ChildData | null
}

/** Group membership: this member joins and leaves; everyone sees the members. */
export declare class Party {
  /** Joins (creates this member's node, and the party's path if needed). */
  join(options?: CallOptions | undefined | null): Promise<void>
  /** Leaves; whether this member was in the party. */
  leave(options?: CallOptions | undefined | null): Promise<boolean>
  /** The members' identifiers, sorted. */
  members(options?: CallOptions | undefined | null): Promise<string[]>
  /** This member's node path. */
  get nodePath(): string
}

/** Curator's `PathChildrenCache`: the live data and Stat of every child of a node. */
export declare class PathChildrenCache {
  /**
   * Loads (the node need not exist) and keeps the cache live;
   * resolves once loaded. A second call does nothing.
   */
  start(): Promise<void>
  /** Stops following changes; the iterators end. */
  close(): void
  /** Every cached child, sorted by path. */
  currentData(): Array<ChildData>
  /** The cached child named `name`, `null` when there is none. */
  child(name: string): ChildData | null
}

/**
 * Curator's `PersistentNode`: a node (usually ephemeral) kept present, made
 * again whenever it goes, its data restored, until `close()`.
 */
export declare class PersistentNode {
  /** Starts keeping the node present (a second call does nothing). */
  start(): Promise<void>
  /**
   * Waits for the first create: `true`; `false` when `timeout` (default
   * forever) passed first.
   */
  waitForInitialCreate(options?: WaitOptions | undefined | null): Promise<boolean>
  /** The node's actual path once created (`null` before, or while closing). */
  get actualPath(): string | null
  /** Changes the node's data, now if it exists, else when it is created. */
  setData(data: Buffer, options?: CallOptions | undefined | null): Promise<void>
  /** Stops keeping the node and deletes it (nothing when closed). */
  close(): Promise<void>
}

/**
 * kazoo's `Queue` and `PriorityQueue`: each item goes to exactly one
 * consumer, most urgent first, then in order; a put or take cut off by a
 * lost connection is neither lost nor applied twice.
 */
export declare class Queue {
  /** Adds an item. */
  put(item: Buffer, options?: PutOptions | undefined | null): Promise<void>
  /** Adds several items with one priority: all of them or none. */
  putAll(items: Array<Buffer>, options?: PutOptions | undefined | null): Promise<void>
  /** Takes the next item without waiting; `null` when the queue is empty. */
  get(options?: CallOptions | undefined | null): Promise<Buffer | null>
  /** Takes the next item, waiting for one; with `timeout`, `null` when none came. */
  take(options?: WaitOptions | undefined | null): Promise<Buffer | null>
  /** The number of items. */
  length(options?: CallOptions | undefined | null): Promise<number>
}

/**
 * A distributed read-write lock (Curator's `InterProcessReadWriteLock`):
 * readers share, a writer excludes everyone, a waiting writer holds back
 * later readers. The value holding the write lock may take the read lock too
 * (release it first).
 */
export declare class ReadWriteLock {
  /** The lock path. */
  get path(): string
  /** The shared side (Curator's `readLock()`). */
  readLock(): ReadWriteLockSide
  /** The exclusive side (Curator's `writeLock()`). */
  writeLock(): ReadWriteLockSide
  /** Full paths of every contender node, readers and writers, in line order. */
  participantNodes(options?: CallOptions | undefined | null): Promise<string[]>
}

/** One side of a `ReadWriteLock`, used like a `Lock`. */
export declare class ReadWriteLockSide {
  /**
   * Waits until held (nests when already held); resolves with the
   * fencing token, the lock node's czxid, which grows strictly
   * from one holder to the next. With `timeout`, resolves `null`
   * when not had in time (`0`: only if free now).
   */
  acquire(options?: WaitOptions | undefined | null): Promise<bigint | null>
  /** Undoes one acquisition; the last one deletes the lock node. */
  release(options?: CallOptions | undefined | null): Promise<void>
  /** The fencing token of the current hold (`null` when not held). */
  get fencingToken(): bigint | null
  /** Whether this value holds the lock (as of its last acquire or release). */
  get isHeld(): boolean
}

/**
 * A counting semaphore (Curator's `InterProcessSemaphoreV2` layout): at
 * most `maxLeases` leases out at a time, acquirers served in turn.
 */
export declare class Semaphore {
  /** The semaphore path. */
  get path(): string
  /** The most leases out at a time. */
  get maxLeases(): number
  /** Waits for one lease; with `timeout`, `null` when none came in time. */
  acquire(options?: WaitOptions | undefined | null): Promise<Lease | null>
  /**
   * Waits for `count` leases, granted together; with `timeout`, `null`
   * when they did not come in time (none is kept then). BadArguments when
   * `count` is 0 or more than `maxLeases`.
   */
  acquireMany(count: number, options?: WaitOptions | undefined | null): Promise<Lease[] | null>
  /** Full paths of the lease nodes, in sequence order. */
  participantNodes(options?: CallOptions | undefined | null): Promise<string[]>
}

/** Registers, queries and follows service instances under one base path. */
export declare class ServiceDiscovery {
  /**
   * Registers `instance` (replacing an earlier registration of its id);
   * a dynamic one is kept present until unregistered or closed.
   */
  register(instance: ServiceInstance, options?: CallOptions): Promise<void>
  /** Publishes new data for an instance this value registered (NoNode if it did not). */
  update(instance: ServiceInstance, options?: CallOptions): Promise<void>
  /** Removes an instance (registered here or not). */
  unregister(instance: ServiceInstance, options?: CallOptions): Promise<void>
  /** The names of all services, sorted. */
  queryForNames(options?: CallOptions | undefined | null): Promise<string[]>
  /** Every instance of service `name`, sorted by id. */
  queryForInstances(name: string, options?: CallOptions | undefined | null): Promise<ServiceInstance[]>
  /** One instance, `null` when not registered. */
  queryForInstance(name: string, id: string, options?: CallOptions | undefined | null): Promise<ServiceInstance | null>
  /**
   * Unregisters the dynamic instances this value registered (static and
   * permanent ones stay); nothing when closed.
   */
  close(): Promise<void>
}

/**
 * kazoo's `SetPartitioner`: this member's share of a set of items.
 * `allocating` → `acquired` (the share is held) → `release` (call
 * `releaseSet()`) → `allocating`; `failure` once finished or the session was lost.
 */
export declare class SetPartitioner {
  /** The current state. */
  get state(): 'allocating' | 'acquired' | 'release' | 'failure'
  /** The share: the items held while `acquired` (still listed during `release`), sorted. */
  get partitions(): Array<string>
  /** Waits while allocating; resolves with the state reached. */
  waitForAcquire(options?: CallOptions | undefined | null): Promise<'allocating' | 'acquired' | 'release' | 'failure'>
  /** Waits until the state is no longer `from`; resolves with the new one. */
  waitForChange(from: 'allocating' | 'acquired' | 'release' | 'failure', options?: CallOptions | undefined | null): Promise<'allocating' | 'acquired' | 'release' | 'failure'>
  /** Gives up the share (its locks) and starts allocating again. */
  releaseSet(options?: CallOptions | undefined | null): Promise<void>
  /** Releases the share, leaves the party and ends in `failure` (nothing when finished). */
  finish(): Promise<void>
}

/** Curator's `SharedCount`: a 32-bit count every holder sees, with its changes. */
export declare class SharedCount {
  /** Creates the node with the seed if missing, reads the count and keeps following it. */
  start(): Promise<void>
  /** The count as last seen. */
  get count(): number
  /** The count as last seen, with its version (for `trySetCount`). */
  get versionedValue(): VersionedValue
  /** Sets the count unconditionally. */
  setCount(value: number, options?: CallOptions | undefined | null): Promise<void>
  /** Sets the count if it is still at `previous.version`; `false` if someone changed it since. */
  trySetCount(previous: VersionedValue, value: number, options?: CallOptions | undefined | null): Promise<boolean>
  /** Stops following the count; the iterators end. */
  close(): void
}

/** A replicated ensemble in this process; members are numbered from 0. */
export declare class TestCluster {
  /** Starts a cluster and waits until it serves. */
  static start(options?: ClusterOptions | undefined | null): Promise<TestCluster>
  /** Every member's address, for `new Client(...)`. */
  get connectString(): string
  /** How many members there are. */
  get size(): number
  /** The index of the leader, once there is one. */
  leader(options?: LeaderOptions | undefined | null): Promise<number>
  /** A member's role: `'leader'`, `'follower'`, `'observer'`, `'looking'`; `null` when it is down. */
  mode(index: number): Promise<string | null>
  /** A member's client port. */
  port(index: number): number
  /** Stops a member abruptly, as a crash would. */
  kill(index: number): Promise<void>
  /** Starts a killed member again (same port, same data). */
  restart(index: number): Promise<void>
  /** Whether a member is running. */
  isRunning(index: number): Promise<boolean>
  /** Stops every member and removes their data. */
  close(): Promise<void>
}

/** Curator's `TreeCache`: a live mirror of a subtree, with an event for every change. */
export declare class TreeCache {
  /**
   * Loads (the node need not exist) and keeps the cache live;
   * resolves once loaded. A second call does nothing.
   */
  start(): Promise<void>
  /** Stops following changes; the iterators end. */
  close(): void
  /** The cached node at `path`, `null` when not cached. */
  currentData(path: string): ChildData | null
  /** The cached children of `path` by name; `null` when `path` is not cached. */
  currentChildren(path: string): Record<string, ChildData> | null
  /** Whether a persistent recursive watch keeps the cache live. */
  get usesRecursiveWatch(): boolean
}

/** The events of a persistent watch, until it ends (`next()` resolves `null`). */
export declare class WatchStream {
  /**
   * The next event; `null` once the watch has ended (client closed or
   * `close()`); rejects with SessionExpired when the session expired.
   */
  next(options?: CallOptions | undefined | null): Promise<WatchedEvent | null>
  /** Stops listening locally (a pending `next()` resolves first). */
  close(): Promise<void>
}

/** One ACL entry: `perms` (see `Perms`) granted to `scheme:id`. */
export interface Acl {
  /** Bit mask of `Perms`. */
  perms: number
  /** `world`, `auth`, `digest`, `ip`, ... */
  scheme: string
  /** The scheme's identity (`anyone`, `user:hash`, `10.0.0.0/8`). */
  id: string
}

/** Options of `addWatch`. */
export interface AddWatchOptions {
  /** Watch the whole subtree (persistent recursive), not only the node. */
  recursive?: boolean
  /** Aborts the call. */
  signal?: AbortSignal
}

/** Options of `atomicLong`. */
export interface AtomicLongOptions {
  /** Attempts of an optimistic update before it reports failure; default 100. */
  attempts?: number
}

/** The outcome of an atomic operation (Curator's `AtomicValue`): always check `succeeded`. */
export interface AtomicValue {
  /**
   * Whether the operation applied (an optimistic update gives up after its
   * attempts, a compare-and-set fails on a mismatch).
   */
  succeeded: boolean
  /** The value before (the value seen last when it failed). */
  preValue: bigint
  /** The value after (`preValue` when it failed). */
  postValue: bigint
}

/** An identity: `{ scheme: 'digest', auth: Buffer.from('user:password') }`. */
export interface AuthInfo {
  /** Authentication scheme. */
  scheme: string
  /** Scheme-specific credentials. */
  auth: Buffer
}

/** A change of a tree or path children cache (Curator's event types). */
export interface CacheEvent {
  /**
   * `'NODE_ADDED'`, `'NODE_UPDATED'`, `'NODE_REMOVED'` (tree cache) or
   * `'CHILD_ADDED'`, `'CHILD_UPDATED'`, `'CHILD_REMOVED'` (children cache);
   * `'INITIALIZED'`, `'CONNECTION_SUSPENDED'`, `'CONNECTION_RECONNECTED'`, `'CONNECTION_LOST'`.
   */
  type: string
  /** The node concerned (its last cached state when removed). */
  data?: ChildData
}

/** Options every call takes. */
export interface CallOptions {
  /** Aborts the call: it rejects with an AbortError (a write may still have been applied). */
  signal?: AbortSignal
}

/** A cached node (Curator's `ChildData`). */
export interface ChildData {
  /** Full client-side path. */
  path: string
  /** The node's data. */
  data: Buffer
  /** The Stat read with the data. */
  stat: Stat
}

/** One identity of a connection, as `whoAmI()` reports it. */
export interface ClientInfo {
  /** `ip`, `digest`, `super`, ... */
  authScheme: string
  /** The user, or the address. */
  user: string
}

/** How to connect. */
export interface ClientOptions {
  /** Requested session timeout in ms (the server clamps it); default 10000. */
  sessionTimeout?: number
  /** How long `connect()` may take in ms; default the session timeout. */
  connectionTimeout?: number
  /** Accept read-only servers. */
  readOnly?: boolean
  /** Identities every connection authenticates with. */
  auth?: Array<AuthInfo>
}

/** Settings of a test cluster. */
export interface ClusterOptions {
  /** Voting members; default 3. */
  size?: number
  /** Observers (non-voting members); default 0. */
  observers?: number
  /** tickTime in ms. */
  tickMs?: number
  /** `zoo.cfg` keys and values for every member. */
  options?: Record<string, string>
  /** How long `start` and `leader` wait for the cluster to settle, in ms. */
  settleTimeout?: number
}

/** The values before and after a counter change (kazoo's `pre_value` / `post_value`). */
export interface CounterChange {
  /** The value the change applied to. */
  preValue: bigint
  /** The value the change wrote. */
  postValue: bigint
}

/** Options of `counter`. */
export interface CounterOptions {
  /** The value of an empty node; default `0n`. */
  default?: bigint
}

/** Options of `create`. */
export interface CreateOptions {
  /** A `CreateMode` value; default `PERSISTENT`. */
  mode?: number
  /** ACL; default world:anyone with every permission. */
  acl?: Array<Acl>
  /** TTL in ms, for the TTL modes. */
  ttl?: number
  /** Create missing parents as persistent nodes. */
  makePath?: boolean
  /** Aborts the call. */
  signal?: AbortSignal
}

/** Options of `leaderElection`. */
export interface ElectionOptions {
  /**
   * After the callback returns, queue up again (Curator's `autoRequeue`):
   * `run` then only ends on `cancel()` or an error.
   */
  autoRequeue?: boolean
  /**
   * `'curator'` (the default: Curator's `LeaderSelector` nodes) or
   * `'kazoo'` (kazoo's `Election`, a kazoo `Lock` on the path).
   */
  layout?: 'curator' | 'kazoo'
}

/** One row of ZooKeeper's code table, as JS sees it. */
export interface ErrorCode {
  /** `'NO_NODE'`. */
  code: string
  /** ZooKeeper's name, `'NoNode'` (the error class is this plus `Error`). */
  name: string
  /** -101. */
  rc: number
}

/** What index.js's factory receives to build an error. */
export interface ErrorInfo {
  /** `'NO_NODE'`, `'ERR_CORRAL_CONFIG'`, `'ABORT_ERR'`, ... */
  code: string
  /** ZooKeeper's numeric code, for ZooKeeper errors only. */
  rc?: number
  /** The client-side path the operation concerned. */
  path?: string
  /** The message. */
  message: string
}

/** Options of `expireSession`. */
export interface ExpireOptions {
  /** How long the client may take to see the expiry and get a new session, in ms; default 10000. */
  timeout?: number
}

/**
 * Expires `client`'s session on purpose (as ZooKeeper's own tests do: another
 * connection takes the session over and closes it), against corral or
 * ZooKeeper at `server`; resolves with the client's new session id once it
 * has one. The client sees `'lost'`, then `'reconnected'`.
 */
export declare function expireSession(client: Client, server: string, options?: ExpireOptions | undefined | null): Promise<bigint>

/** Options of `idGenerator`. */
export interface IdGeneratorOptions {
  /** Node name prefix before the sequence; default `'id-'`. */
  prefix?: string
  /** Keep each id's node (persistent-sequential) instead of deleting it. */
  keepNodes?: boolean
}

/** Whose node layout a lock, read-write lock or semaphore follows. */
export interface LayoutOptions {
  /**
   * `'curator'` (the default: Curator's recipes share the path) or
   * `'kazoo'` (kazoo's recipes share it).
   */
  layout?: 'curator' | 'kazoo'
  /** Stored in each of this value's nodes (kazoo's contender identifier). */
  identifier?: string
}

/** Options of `leader()`. */
export interface LeaderOptions {
  /** How long to wait for a leader, in ms. */
  timeout?: number
}

/** The result of one sub-operation of a committed transaction. */
export interface OpResult {
  /** The operation. */
  type: 'create' | 'remove' | 'setData' | 'check'
  /** The created node's actual path (`create`). */
  path?: string
  /** The node's new Stat (`create`, `setData`). */
  stat?: Stat
}

/** A participant of a leader latch. */
export interface Participant {
  /** The id the participant gave its latch. */
  id: string
  /** Whether it leads. */
  isLeader: boolean
}

/** Options of `setPartitioner`. */
export interface PartitionerOptions {
  /** How long the membership must stay unchanged before shares are taken, in ms; default 30000. */
  timeBoundary?: number
  /** Lock each item of the share (default true, as kazoo always does). */
  locks?: boolean
}

/** Options of `party`. */
export interface PartyOptions {
  /**
   * kazoo's `ShallowParty`: the identifier in the node's name (one call to
   * list members; it must be valid in a node name), not in its data.
   */
  shallow?: boolean
}

/** Options of `persistentNode`. */
export interface PersistentNodeOptions {
  /** A `CreateMode` value; default `EPHEMERAL`. */
  mode?: number
  /** Curator's protected name `_c_<uuid>-<name>`. */
  protected?: boolean
}

/** Options of `put` and `putAll`. */
export interface PutOptions {
  /** 0 (taken first) to 999; default 100, kazoo's. */
  priority?: number
  /** Aborts the call. */
  signal?: AbortSignal
}

/** Options of `queue`. */
export interface QueueOptions {
  /** Where receipts go (default `<path>-receipts`). */
  receiptsPath?: string
}

/** Options of the reads that can leave a one-shot watch. */
export interface ReadOptions {
  /** Also watch the node: the result's `watch` resolves with the next event. */
  watch?: boolean
  /** Aborts the call. */
  signal?: AbortSignal
}

/**
 * Settings of an embedded server; none: 127.0.0.1, an ephemeral port, a
 * temporary data directory. Applied as `corral server` applies them: the
 * file, `dataDir` and `clientPort`, `options` in order, `serverId` and `peers`.
 */
export interface ServerOptions {
  /** A `zoo.cfg` to start from. */
  config?: string
  /** A durable data directory (kept on close). */
  dataDir?: string
  /** The client port (0: pick one, kept across restarts). */
  clientPort?: number
  /** `myid` of an ensemble member. */
  serverId?: number
  /** `server.N` values by N, this member's included. */
  peers?: Record<string, string>
  /** `zoo.cfg` keys and values (a bad one is an error naming the key). */
  options?: Record<string, string>
}

/**
 * A new instance of service `name` (Curator's `ServiceInstance.builder()`),
 * registered now, with a random id unless given.
 */
export declare function serviceInstance(name: string, options?: ServiceInstanceOptions | undefined | null): ServiceInstance

/** Options of `serviceInstance`. */
export interface ServiceInstanceOptions {
  /** The instance id; default a random UUID. */
  id?: string
  /** Host name or IP address. */
  address?: string
  /** Plain port. */
  port?: number
  /** TLS port. */
  sslPort?: number
  /** Anything JSON the application publishes. */
  payload?: unknown
  /** How the node is kept; default `'DYNAMIC'` (ephemeral). */
  serviceType?: 'DYNAMIC' | 'DYNAMIC_SEQUENTIAL' | 'STATIC' | 'PERMANENT'
  /** A URI template, e.g. `'{scheme}://{address}:{port}'`. */
  uriSpec?: string
}

/** The URI an instance's `uriSpec` makes (Curator's `buildUriSpec`), `null` without one. */
export declare function serviceUri(instance: ServiceInstance): string | null

/** A node's metadata, as ZooKeeper's `Stat`; zxids and the owner are `bigint`. */
export interface Stat {
  /** zxid of the create. */
  czxid: bigint
  /** zxid of the last data change. */
  mzxid: bigint
  /** Create time, ms since the epoch. */
  ctime: number
  /** Last data change time, ms since the epoch. */
  mtime: number
  /** Number of data changes. */
  version: number
  /** Number of child changes. */
  cversion: number
  /** Number of ACL changes. */
  aversion: number
  /** Session id of an ephemeral node's owner, else `0n`. */
  ephemeralOwner: bigint
  /** Length of the data. */
  dataLength: number
  /** Number of children. */
  numChildren: number
  /** zxid of the last child change. */
  pzxid: bigint
}

/** Options of `treeCache`. */
export interface TreeCacheOptions {
  /** Cache nodes down to this many levels below the root only (0: the root alone). */
  maxDepth?: number
  /**
   * `'auto'` (one persistent recursive watch where the server has them,
   * the default) or `'oneShot'` (one-shot watches on every node).
   */
  watchMode?: 'auto' | 'oneShot'
}

/** One sub-operation of a transaction (index.js's `Transaction` builds them). */
export interface TxnOp {
  /** The operation. */
  type: 'create' | 'remove' | 'setData' | 'check'
  /** The node. */
  path: string
  /** Data of `create` and `setData`. */
  data?: Buffer
  /** `create`'s mode. */
  mode?: number
  /** `create`'s ACL. */
  acl?: Array<Acl>
  /** `create`'s TTL in ms. */
  ttl?: number
  /** Expected version of `remove`, `setData` and `check`. */
  version?: number
}

/** A count with the node version it was read at (Curator's `VersionedValue`). */
export interface VersionedValue {
  /** The node's data version (-1 before anything was read). */
  version: number
  /** The count. */
  value: number
}

/** Options of the calls that take an expected version. */
export interface VersionOptions {
  /** The version the node must have; default any. */
  version?: number
  /** Aborts the call. */
  signal?: AbortSignal
}

/** Options of the calls that wait (acquire, wait, enter, take, ...). */
export interface WaitOptions {
  /**
   * Give up after this many ms (`0`: only if no waiting is needed); the
   * call then resolves with its "not had" value (`null` or `false`).
   */
  timeout?: number
  /**
   * Aborts the wait: it rejects with an AbortError (what the wait had
   * created is deleted again).
   */
  signal?: AbortSignal
}

/** What fired a watch. */
export interface WatchedEvent {
  /**
   * `'NODE_CREATED'`, `'NODE_DELETED'`, `'NODE_DATA_CHANGED'`,
   * `'NODE_CHILDREN_CHANGED'`; `'NONE'` when the watch ended without a change.
   */
  type: string
  /** `'SYNC_CONNECTED'`; `'EXPIRED'` or `'CLOSED'` when the session ended. */
  state: string
  /** Client-side path. */
  path: string
  /** zxid of the change (`-1n` when the server does not say). */
  zxid: bigint
}
