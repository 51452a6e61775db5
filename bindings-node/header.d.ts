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

