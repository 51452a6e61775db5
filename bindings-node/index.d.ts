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
  /** A lock at `path` (Curator's `InterProcessMutex`), each acquisition with a fencing token. */
  lock(path: string): Lock
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

/**
 * A distributed, re-entrant mutex (Curator's `InterProcessMutex` naming):
 * waiters are served first come, first served; an aborted or failed
 * acquisition deletes its node.
 */
export declare class Lock {
  /** The lock path. */
  get path(): string
  /**
   * Waits until the lock is held (nests when already held); resolves with
   * the fencing token, the lock node's czxid, which grows strictly from one
   * holder to the next. With `timeout`, resolves `null` when the lock was
   * not had in time (`0`: only if free now).
   */
  acquire(options?: AcquireOptions | undefined | null): Promise<bigint | null>
  /** Undoes one acquisition; the last one deletes the lock node. */
  release(options?: CallOptions | undefined | null): Promise<void>
  /** The fencing token of the current hold (`null` when not held). */
  get fencingToken(): bigint | null
  /** The full paths of every contender node, the holder first. */
  participantNodes(options?: CallOptions | undefined | null): Promise<string[]>
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
  /** Stops every member and removes their data. */
  close(): Promise<void>
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

/** Options of `acquire`. */
export interface AcquireOptions {
  /** Give up after this many ms (the contender node is deleted again). */
  timeout?: number
  /** Aborts the wait (the contender node is deleted again). */
  signal?: AbortSignal
}

/** Options of `addWatch`. */
export interface AddWatchOptions {
  /** Watch the whole subtree (persistent recursive), not only the node. */
  recursive?: boolean
  /** Aborts the call. */
  signal?: AbortSignal
}

/** An identity: `{ scheme: 'digest', auth: Buffer.from('user:password') }`. */
export interface AuthInfo {
  /** Authentication scheme. */
  scheme: string
  /** Scheme-specific credentials. */
  auth: Buffer
}

/** Options every call takes. */
export interface CallOptions {
  /** Aborts the call: it rejects with an AbortError (a write may still have been applied). */
  signal?: AbortSignal
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

/** Options of the calls that take an expected version. */
export interface VersionOptions {
  /** The version the node must have; default any. */
  version?: number
  /** Aborts the call. */
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
