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
