/*
 * corral.h: the C ABI of corral, a coordination service in the ZooKeeper family.
 *
 * Conventions:
 * - Handles (corral_client, corral_server, ...) are opaque. A handle made by a
 *   corral_<thing>_new/_start/_connect call is freed exactly once by
 *   corral_<thing>_free; freeing NULL does nothing.
 * - Every fallible function returns a corral_result: CORRAL_OK (0), one of the
 *   ZooKeeper C client's codes (the same numbers as zookeeper.h: ZNONODE is
 *   CORRAL_NO_NODE, -101), or a corral-only code from -1000 down
 *   (CORRAL_NULL_ARGUMENT, CORRAL_BUFFER_TOO_SMALL, ...).
 *   corral_result_message(code) names it.
 * - Arguments: the handle first, inputs next, outputs last. Outputs are written
 *   only on success, except that CORRAL_BUFFER_TOO_SMALL reports the length
 *   needed. Every buffer has its length beside it. Strings are NUL-terminated
 *   UTF-8.
 * - Threads: every function may be called from any thread; a handle may be
 *   shared between threads. Blocking calls wait on corral's own runtime
 *   threads and must not be called from inside a Rust async runtime.
 * - No panic crosses this boundary: one is reported as CORRAL_PANIC.
 */

#ifndef CORRAL_H
#define CORRAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Permission: read data and children, exists.
 */
#define CORRAL_PERM_READ 1

/**
 * Permission: set data.
 */
#define CORRAL_PERM_WRITE 2

/**
 * Permission: create children.
 */
#define CORRAL_PERM_CREATE 4

/**
 * Permission: delete children.
 */
#define CORRAL_PERM_DELETE 8

/**
 * Permission: set the ACL.
 */
#define CORRAL_PERM_ADMIN 16

/**
 * Every permission.
 */
#define CORRAL_PERM_ALL 31

/**
 * Tree cache event: a node appeared (also for every node of the first load).
 */
#define CORRAL_CACHE_NODE_ADDED 0

/**
 * Tree cache event: a node's data changed.
 */
#define CORRAL_CACHE_NODE_UPDATED 1

/**
 * Tree cache event: a node went away (its last cached state is given).
 */
#define CORRAL_CACHE_NODE_REMOVED 2

/**
 * Tree cache event: the first load is complete.
 */
#define CORRAL_CACHE_INITIALIZED 3

/**
 * Tree cache event: the connection dropped; the cache may be stale.
 */
#define CORRAL_CACHE_CONNECTION_SUSPENDED 4

/**
 * Tree cache event: connected again; the subtree is read again.
 */
#define CORRAL_CACHE_CONNECTION_RECONNECTED 5

/**
 * Tree cache event: the session expired.
 */
#define CORRAL_CACHE_CONNECTION_LOST 6

/**
 * Create mode: a persistent node.
 */
#define CORRAL_PERSISTENT 0

/**
 * Create mode: removed when the session ends.
 */
#define CORRAL_EPHEMERAL 1

/**
 * Create mode: persistent, with a 10-digit sequence number appended.
 */
#define CORRAL_PERSISTENT_SEQUENTIAL 2

/**
 * Create mode: ephemeral, with a sequence number appended.
 */
#define CORRAL_EPHEMERAL_SEQUENTIAL 3

/**
 * Create mode: removed by the server once its last child is gone.
 */
#define CORRAL_CONTAINER 4

/**
 * Create mode: persistent, removed when childless and unmodified for its TTL.
 */
#define CORRAL_PERSISTENT_WITH_TTL 5

/**
 * Create mode: as `CORRAL_PERSISTENT_WITH_TTL`, with a sequence number.
 */
#define CORRAL_PERSISTENT_SEQUENTIAL_WITH_TTL 6

/**
 * Version argument meaning "any version".
 */
#define CORRAL_ANY_VERSION -1

/**
 * `_async` calls of one client whose completions have not run yet, at most;
 * one more is refused with `CORRAL_QUEUE_FULL`.
 */
#define PENDING_COMPLETIONS_MAX 65536

/**
 * Callbacks waiting to run at most; a producer waits (asynchronously)
 * while the queue is full, so a slow callback slows event delivery
 * rather than growing memory.
 */
#define DISPATCH_QUEUE_MAX 4096

/**
 * Loss reason: the connection was suspended (ownership unknown, so
 * leadership is given up, as Curator's default policy does).
 */
#define CORRAL_LOSS_SUSPENDED 1

/**
 * Loss reason: the session expired.
 */
#define CORRAL_LOSS_SESSION_LOST 2

/**
 * Loss reason: someone deleted the leader's node.
 */
#define CORRAL_LOSS_NODE_DELETED 3

/**
 * Loss reason: `corral_election_cancel` was called.
 */
#define CORRAL_LOSS_CANCELLED 4

/**
 * Loss reason: the client was closed.
 */
#define CORRAL_LOSS_CLOSED 5

/**
 * Member mode: not running.
 */
#define CORRAL_MODE_DOWN -1

/**
 * Member mode: running, but knows no leader (serves no client).
 */
#define CORRAL_MODE_LOOKING 0

/**
 * Member mode: the leader.
 */
#define CORRAL_MODE_LEADER 1

/**
 * Member mode: a following voter.
 */
#define CORRAL_MODE_FOLLOWER 2

/**
 * Member mode: an observer.
 */
#define CORRAL_MODE_OBSERVER 3

/**
 * Member mode: a standalone server.
 */
#define CORRAL_MODE_STANDALONE 4

/**
 * The session timeout `corral_client_options_new` starts with.
 */
#define CORRAL_SESSION_TIMEOUT_DEFAULT_MS 10000

/**
 * Partition state: waiting for the membership to settle, then taking the share.
 */
#define CORRAL_PARTITION_ALLOCATING 0

/**
 * Partition state: the share is held (`corral_partitioner_partitions`).
 */
#define CORRAL_PARTITION_ACQUIRED 1

/**
 * Partition state: the membership changed; give the share up with
 * `corral_partitioner_release_set`.
 */
#define CORRAL_PARTITION_RELEASE 2

/**
 * Partition state: finished, or the session was lost; start a new partitioner.
 */
#define CORRAL_PARTITION_FAILURE 3

/**
 * The priority `corral_queue_put` gives its items (kazoo's default).
 */
#define CORRAL_QUEUE_DEFAULT_PRIORITY 100

/**
 * The largest priority (taken last); 0 is taken first.
 */
#define CORRAL_QUEUE_PRIORITY_MAX 999

/**
 * Wait forever (`corral_lock_acquire`, `corral_latch_await`).
 */
#define CORRAL_WAIT_FOREVER -1

/**
 * Node layout: Curator's (`InterProcessReadWriteLock`,
 * `InterProcessSemaphoreV2`, `LeaderSelector`), to share a path with
 * Curator processes.
 */
#define CORRAL_LAYOUT_CURATOR 0

/**
 * Node layout: kazoo's (`ReadLock`/`WriteLock`, `Semaphore`, `Election`),
 * to share a path with kazoo processes.
 */
#define CORRAL_LAYOUT_KAZOO 1

/**
 * Event type: a session event, not a node's (`ZOO_SESSION_EVENT` is -1 too).
 */
#define CORRAL_EVENT_NONE -1

/**
 * Event type: the node was created.
 */
#define CORRAL_EVENT_CREATED 1

/**
 * Event type: the node was deleted.
 */
#define CORRAL_EVENT_DELETED 2

/**
 * Event type: the node's data changed.
 */
#define CORRAL_EVENT_DATA_CHANGED 3

/**
 * Event type: the node's children changed.
 */
#define CORRAL_EVENT_CHILDREN_CHANGED 4

/**
 * Event type: a data watch was removed.
 */
#define CORRAL_EVENT_DATA_WATCH_REMOVED 5

/**
 * Event type: a child watch was removed.
 */
#define CORRAL_EVENT_CHILD_WATCH_REMOVED 6

/**
 * Event type: a persistent watch was removed.
 */
#define CORRAL_EVENT_PERSISTENT_WATCH_REMOVED 7

/**
 * Watcher type: one-shot child watches (`ZWATCHTYPE_CHILD`).
 */
#define CORRAL_WATCHER_CHILDREN 1

/**
 * Watcher type: one-shot data and exists watches (`ZWATCHTYPE_DATA`).
 */
#define CORRAL_WATCHER_DATA 2

/**
 * Watcher type: every watch on the path (`ZWATCHTYPE_ANY`).
 */
#define CORRAL_WATCHER_ANY 3

/**
 * Watcher type: persistent watches (`corral_client_add_watch`, not recursive).
 */
#define CORRAL_WATCHER_PERSISTENT 4

/**
 * Watcher type: persistent recursive watches.
 */
#define CORRAL_WATCHER_PERSISTENT_RECURSIVE 5

/**
 * Event state: a node event of a connected session (`ZOO_CONNECTED_STATE`).
 */
#define CORRAL_EVENT_STATE_CONNECTED 3

/**
 * Event state: the session expired; the watch ends without a node event.
 */
#define CORRAL_EVENT_STATE_EXPIRED -112

/**
 * Event state: the client was closed; the watch ends without a node event.
 */
#define CORRAL_EVENT_STATE_CLOSED 7

/**
 * Client state: the first session is established.
 */
#define CORRAL_STATE_CONNECTED 0

/**
 * Client state: disconnected; the session may still be alive.
 */
#define CORRAL_STATE_SUSPENDED 1

/**
 * Client state: connected again.
 */
#define CORRAL_STATE_RECONNECTED 2

/**
 * Client state: connected to a read-only server.
 */
#define CORRAL_STATE_READ_ONLY 3

/**
 * Client state: the session expired (its ephemerals and watches are gone).
 */
#define CORRAL_STATE_LOST 4

/**
 * Client state: the client was closed; no callback follows.
 */
#define CORRAL_STATE_CLOSED 5

/**
 * An ACL the library returns; entries stay valid until `corral_acl_list_free`.
 */
typedef struct corral_acl_list corral_acl_list;

/**
 * A barrier: waiters block while its node exists.
 */
typedef struct corral_barrier corral_barrier;

/**
 * An item the library returns; read with `corral_bytes_data` and
 * `corral_bytes_len`, freed with `corral_bytes_free`.
 */
typedef struct corral_bytes corral_bytes;

/**
 * A client session.
 */
typedef struct corral_client corral_client;

/**
 * Identities the library returns; valid until `corral_client_info_list_free`.
 */
typedef struct corral_client_info_list corral_client_info_list;

/**
 * Settings for `corral_client_connect_with`.
 */
typedef struct corral_client_options corral_client_options;

/**
 * A replicated ensemble in this process, for tests.
 */
typedef struct corral_cluster corral_cluster;

/**
 * A 64-bit counter in one node (8 big-endian bytes; a missing node reads 0).
 */
typedef struct corral_counter corral_counter;

/**
 * Service registration and lookup under a base path, in Curator's layout
 * (`<base>/<name>/<id>` holding the instance as JSON).
 */
typedef struct corral_discovery corral_discovery;

/**
 * A double barrier: `members` processes enter together and leave together.
 */
typedef struct corral_double_barrier corral_double_barrier;

/**
 * A leader election on one path.
 */
typedef struct corral_election corral_election;

/**
 * A loopback relay in front of a server, for breaking connections on purpose.
 */
typedef struct corral_fault_relay corral_fault_relay;

/**
 * Unique, increasing ids from the sequence numbers of sequential nodes.
 */
typedef struct corral_id_generator corral_id_generator;

/**
 * kazoo's counter: a 64-bit value stored as decimal text.
 */
typedef struct corral_kazoo_counter corral_kazoo_counter;

/**
 * A leader latch: of all participants on a path, one leads at a time.
 */
typedef struct corral_latch corral_latch;

/**
 * What the leader's function holds while it leads; valid during that call only.
 */
typedef struct corral_leadership corral_leadership;

/**
 * A distributed, re-entrant mutex at a path.
 */
typedef struct corral_lock corral_lock;

/**
 * A queue whose items stay until consumed: at-least-once delivery.
 */
typedef struct corral_locking_queue corral_locking_queue;

/**
 * A cache of one node.
 */
typedef struct corral_node_cache corral_node_cache;

/**
 * One member's share of a set of items.
 */
typedef struct corral_partitioner corral_partitioner;

/**
 * Group membership: members join with an identifier and are listed.
 */
typedef struct corral_party corral_party;

/**
 * A node kept present until closed.
 */
typedef struct corral_persistent_node corral_persistent_node;

/**
 * A queue whose most urgent item (lowest priority number, then oldest) is taken first.
 */
typedef struct corral_priority_queue corral_priority_queue;

/**
 * A FIFO queue of byte strings.
 */
typedef struct corral_queue corral_queue;

/**
 * The outcomes of a `corral_client_multi_read`, one per read: the data
 * reads first, in the order given, then the children reads.
 */
typedef struct corral_read_results corral_read_results;

/**
 * A read-write lock: readers share it, a writer holds it alone (Curator's
 * `InterProcessReadWriteLock` node layout).
 */
typedef struct corral_rwlock corral_rwlock;

/**
 * A counting semaphore: at most `max_leases` holders at a time.
 */
typedef struct corral_semaphore corral_semaphore;

/**
 * A running (or stopped) embedded server.
 */
typedef struct corral_server corral_server;

/**
 * Settings for `corral_server_start`, applied in the order `corral server`
 * applies them: the `zoo.cfg` file, the data directory and client port, each
 * option as a `zoo.cfg` line in the order set, the server id and peers. Bad
 * values are reported by `corral_server_start` (`CORRAL_SERVER_ERROR`).
 */
typedef struct corral_server_options corral_server_options;

/**
 * A 32-bit count every holder sees, kept current by a watch.
 */
typedef struct corral_shared_count corral_shared_count;

/**
 * An immutable list of NUL-terminated strings.
 */
typedef struct corral_strings corral_strings;

/**
 * A cache of a subtree.
 */
typedef struct corral_tree_cache corral_tree_cache;

/**
 * Sub-ops to apply together.
 */
typedef struct corral_txn corral_txn;

/**
 * What each sub-op of a committed transaction did.
 */
typedef struct corral_txn_results corral_txn_results;

/**
 * A persistent or recursive watch; freed with `corral_watch_free`.
 */
typedef struct corral_watch corral_watch;

/**
 * The outcome of a call: `CORRAL_OK` (0) or an error code.
 */
typedef int32_t corral_result;

/**
 * One ACL entry: `perms` granted to `scheme:id` (`world:anyone`,
 * `digest:user:hash`, `auth:`, `ip:10.0.0.0/8`, ...).
 */
typedef struct corral_acl {
  /**
   * `CORRAL_PERM_*` bits.
   */
  int32_t perms;
  /**
   * The scheme, NUL-terminated.
   */
  const char *scheme;
  /**
   * The id within the scheme, NUL-terminated.
   */
  const char *id;
} corral_acl;

/**
 * A node's metadata, as ZooKeeper's `Stat`.
 */
typedef struct corral_stat {
  /**
   * zxid of the create.
   */
  int64_t czxid;
  /**
   * zxid of the last data change.
   */
  int64_t mzxid;
  /**
   * Create time, milliseconds since the epoch.
   */
  int64_t ctime;
  /**
   * Last data change time, milliseconds since the epoch.
   */
  int64_t mtime;
  /**
   * Number of data changes.
   */
  int32_t version;
  /**
   * Number of child changes.
   */
  int32_t cversion;
  /**
   * Number of ACL changes.
   */
  int32_t aversion;
  /**
   * Session id of an ephemeral node's owner, else 0.
   */
  int64_t ephemeral_owner;
  /**
   * Length of the data.
   */
  int32_t data_length;
  /**
   * Number of children.
   */
  int32_t num_children;
  /**
   * zxid of the last child change.
   */
  int64_t pzxid;
} corral_stat;

/**
 * A cached node's change: `path` (NULL for connection events), its data
 * and stat (NULL when it does not exist, or for connection events). All are
 * valid during the call only.
 */
typedef void (*corral_cache_fn)(int32_t event, const char *path, const uint8_t *data, size_t len, const struct corral_stat *stat, void *userdata);

/**
 * Completion with a string (create: the created path); valid during the call only.
 */
typedef void (*corral_string_completion)(corral_result rc, const char *value, void *userdata);

/**
 * Completion of an operation without a result (delete, sync).
 */
typedef void (*corral_void_completion)(corral_result rc, void *userdata);

/**
 * Completion with a stat (set, exists: `stat` is NULL unless `rc` is `CORRAL_OK`).
 */
typedef void (*corral_stat_completion)(corral_result rc, const struct corral_stat *stat, void *userdata);

/**
 * Completion with data and stat (get); valid during the call only.
 */
typedef void (*corral_data_completion)(corral_result rc, const uint8_t *data, size_t len, const struct corral_stat *stat, void *userdata);

/**
 * Completion with a list (children); the list is valid during the call only.
 */
typedef void (*corral_strings_completion)(corral_result rc, const struct corral_strings *list, void *userdata);

/**
 * Completion with an ACL and its stat (get_acl); both valid during the call only.
 */
typedef void (*corral_acl_completion)(corral_result rc, const struct corral_acl_list *acl, const struct corral_stat *stat, void *userdata);

/**
 * Completion of a transaction: `rc` as `corral_txn_commit` returns it;
 * `results` (valid during the call only) is NULL when the transaction
 * never reached the server.
 */
typedef void (*corral_txn_completion)(corral_result rc, const struct corral_txn_results *results, void *userdata);

/**
 * A shared count's change callback: runs on the dispatch thread with every
 * new value seen (quick successive changes may be coalesced).
 */
typedef void (*corral_count_fn)(int32_t value, void *userdata);

/**
 * The leader's function: runs on the thread that called
 * `corral_election_run`, while this participant leads; returning gives up
 * leadership.
 */
typedef void (*corral_lead_fn)(const struct corral_leadership *leadership, void *userdata);

/**
 * One identity of the connection (ZooKeeper's `ClientInfo`).
 */
typedef struct corral_client_info {
  /**
   * The authentication scheme (`ip`, `digest`, `super`, ...), NUL-terminated.
   */
  const char *scheme;
  /**
   * The user or address in that scheme, NUL-terminated.
   */
  const char *user;
} corral_client_info;

/**
 * A state callback: runs on the dispatch thread with a `CORRAL_STATE_*`.
 */
typedef void (*corral_state_fn)(int32_t state, void *userdata);

/**
 * What a watch reports. `path` is valid during the callback only.
 */
typedef struct corral_watched_event {
  /**
   * `CORRAL_EVENT_*`.
   */
  int32_t type;
  /**
   * `CORRAL_EVENT_STATE_*`.
   */
  int32_t state;
  /**
   * The node's path, relative to the client's chroot ("" for session events).
   */
  const char *path;
  /**
   * zxid of the change (-1 when the server does not say, as ZooKeeper 3.8).
   */
  int64_t zxid;
} corral_watched_event;

/**
 * A watch callback: runs on the dispatch thread; `event` and its `path`
 * are valid during the call only.
 */
typedef void (*corral_watch_fn)(const struct corral_watched_event *event, void *userdata);

/**
 * Success.
 */
#define CORRAL_OK 0

/**
 * A server-side error without a more specific code (ZSYSTEMERROR).
 */
#define CORRAL_SYSTEM_ERROR -1

/**
 * A runtime inconsistency was found (ZRUNTIMEINCONSISTENCY).
 */
#define CORRAL_RUNTIME_INCONSISTENCY -2

/**
 * A data inconsistency was found (ZDATAINCONSISTENCY).
 */
#define CORRAL_DATA_INCONSISTENCY -3

/**
 * The connection to the server was lost; the request may or may not have
 * been applied (ZCONNECTIONLOSS).
 */
#define CORRAL_CONNECTION_LOSS -4

/**
 * A record could not be encoded or decoded (ZMARSHALLINGERROR).
 */
#define CORRAL_MARSHALLING_ERROR -5

/**
 * The server does not implement the operation (ZUNIMPLEMENTED).
 */
#define CORRAL_UNIMPLEMENTED -6

/**
 * The operation timed out (ZOPERATIONTIMEOUT).
 */
#define CORRAL_OPERATION_TIMEOUT -7

/**
 * The server refused the arguments (ZBADARGUMENTS).
 */
#define CORRAL_BAD_ARGUMENTS -8

/**
 * The session id is unknown (ZooKeeper's UNKNOWNSESSION).
 */
#define CORRAL_UNKNOWN_SESSION -12

/**
 * A reconfig's new membership has no connected quorum (ZNEWCONFIGNOQUORUM).
 */
#define CORRAL_NEW_CONFIG_NO_QUORUM -13

/**
 * Another reconfig is in progress (ZRECONFIGINPROGRESS).
 */
#define CORRAL_RECONFIG_IN_PROGRESS -14

/**
 * An API error without a more specific code (ZAPIERROR).
 */
#define CORRAL_API_ERROR -100

/**
 * The node does not exist (ZNONODE).
 */
#define CORRAL_NO_NODE -101

/**
 * Not authorised (ZNOAUTH).
 */
#define CORRAL_NO_AUTH -102

/**
 * The expected version does not match (ZBADVERSION).
 */
#define CORRAL_BAD_VERSION -103

/**
 * Ephemeral nodes may not have children (ZNOCHILDRENFOREPHEMERALS).
 */
#define CORRAL_NO_CHILDREN_FOR_EPHEMERALS -108

/**
 * The node already exists (ZNODEEXISTS).
 */
#define CORRAL_NODE_EXISTS -110

/**
 * The node has children (ZNOTEMPTY).
 */
#define CORRAL_NOT_EMPTY -111

/**
 * The session expired: its ephemerals and watches are gone (ZSESSIONEXPIRED).
 */
#define CORRAL_SESSION_EXPIRED -112

/**
 * An invalid callback (ZINVALIDCALLBACK).
 */
#define CORRAL_INVALID_CALLBACK -113

/**
 * An invalid ACL (ZINVALIDACL).
 */
#define CORRAL_INVALID_ACL -114

/**
 * Authentication failed (ZAUTHFAILED).
 */
#define CORRAL_AUTH_FAILED -115

/**
 * The session moved to another server (ZSESSIONMOVED).
 */
#define CORRAL_SESSION_MOVED -118

/**
 * A write sent to a read-only server (ZNOTREADONLY).
 */
#define CORRAL_NOT_READ_ONLY -119

/**
 * An ephemeral node on a local session (ZEPHEMERALONLOCALSESSION).
 */
#define CORRAL_EPHEMERAL_ON_LOCAL_SESSION -120

/**
 * No such watcher (ZNOWATCHER).
 */
#define CORRAL_NO_WATCHER -121

/**
 * The request timed out on the server (ZooKeeper's REQUESTTIMEOUT).
 */
#define CORRAL_REQUEST_TIMEOUT -122

/**
 * Reconfiguration is disabled (ZRECONFIGDISABLED).
 */
#define CORRAL_RECONFIG_DISABLED -123

/**
 * The server requires SASL authentication (ZSESSIONCLOSEDREQUIRESASLAUTH).
 */
#define CORRAL_SESSION_CLOSED_REQUIRE_SASL_AUTH -124

/**
 * A quota was exceeded (ZooKeeper's QUOTAEXCEEDED).
 */
#define CORRAL_QUOTA_EXCEEDED -125

/**
 * The server throttled the request; retry (ZTHROTTLEDOP).
 */
#define CORRAL_THROTTLED -127

/**
 * corral: a required pointer argument was NULL.
 */
#define CORRAL_NULL_ARGUMENT -1000

/**
 * corral: an output buffer is too small; the needed length was reported and
 * nothing else written.
 */
#define CORRAL_BUFFER_TOO_SMALL -1001

/**
 * corral: a string argument is not valid UTF-8.
 */
#define CORRAL_INVALID_UTF8 -1002

/**
 * corral: the handle was closed (`corral_client_close`, `corral_server_stop`).
 */
#define CORRAL_CLOSED_HANDLE -1003

/**
 * corral: the call did not finish within its time limit.
 */
#define CORRAL_TIMEOUT -1004

/**
 * corral: an argument is out of range or malformed (a path, a mode, an
 * option, a connect string); nothing was sent.
 */
#define CORRAL_INVALID_ARGUMENT -1005

/**
 * corral: an embedded server or cluster could not start, stop or be
 * configured (a port in use, a bad `zoo.cfg` key, an unusable data directory).
 */
#define CORRAL_SERVER_ERROR -1006

/**
 * corral: a blocking call was made from a thread of an async runtime.
 */
#define CORRAL_WRONG_THREAD -1007

/**
 * corral: a panic inside corral was caught at the boundary (a bug: please report).
 */
#define CORRAL_PANIC -1008

/**
 * corral: a recipe was asked to give up what it does not hold (a lock not held).
 */
#define CORRAL_NOT_HELD -1009

/**
 * corral: too many `_async` calls are waiting for their completions.
 */
#define CORRAL_QUEUE_FULL -1010

/**
 * corral: a wait was cancelled (`corral_election_cancel`) before it got what it waited for.
 */
#define CORRAL_CANCELLED -1011

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * `corral_client_create` with an ACL of `acl_len` entries (ZooKeeper
 * refuses an empty one: `CORRAL_INVALID_ACL`).
 *
 * ```c
 * corral_acl acl[] = {{CORRAL_PERM_ALL, "auth", ""}, {CORRAL_PERM_READ, "world", "anyone"}};
 * corral_client_create_acl(zk, "/secret", data, len, CORRAL_PERSISTENT, acl, 2, NULL, 0, NULL);
 * ```
 *
 * # Safety
 *
 * As `corral_client_create`; `acl` points to `acl_len` entries.
 */
corral_result corral_client_create_acl(const struct corral_client *zk, const char *path, const uint8_t *data, size_t data_len, int32_t mode, const struct corral_acl *acl, size_t acl_len, char *path_buf, size_t path_buf_cap, size_t *path_len);

/**
 * A node's ACL as a new list (free with `corral_acl_list_free`) and its
 * stat (`stat` may be NULL).
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `out` is
 * writable; `stat` is NULL or writable.
 */
corral_result corral_client_get_acl(const struct corral_client *zk, const char *path, struct corral_acl_list **out, struct corral_stat *stat);

/**
 * Replaces a node's ACL if its ACL version is `version` (-1: any); the new
 * stat goes to `stat` (may be NULL).
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `acl` points to
 * `acl_len` entries; `stat` is NULL or writable.
 */
corral_result corral_client_set_acl(const struct corral_client *zk, const char *path, const struct corral_acl *acl, size_t acl_len, int32_t version, struct corral_stat *stat);

/**
 * How many entries the list has (0 for NULL).
 *
 * # Safety
 *
 * `list` is NULL or live.
 */
size_t corral_acl_list_len(const struct corral_acl_list *list);

/**
 * Entry `index` into `out` (its strings owned by the list);
 * `CORRAL_INVALID_ARGUMENT` past the end.
 *
 * # Safety
 *
 * `list` is NULL or live; `out` is writable.
 */
corral_result corral_acl_list_get(const struct corral_acl_list *list, size_t index, struct corral_acl *out);

/**
 * Frees a list; NULL does nothing.
 *
 * # Safety
 *
 * `list` is NULL or not yet freed.
 */
void corral_acl_list_free(struct corral_acl_list *list);

/**
 * Starts caching the node at `path` (it need not exist). `callback` (may be
 * NULL) runs on the dispatch thread after every change with
 * `CORRAL_CACHE_NODE_UPDATED` (created or changed) or
 * `CORRAL_CACHE_NODE_REMOVED`; the first read is not reported.
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `out` is
 * writable; `userdata` stays valid until the cache is freed.
 */
corral_result corral_node_cache_start(const struct corral_client *zk, const char *path, corral_cache_fn callback, void *userdata, struct corral_node_cache **out);

/**
 * The cached data (`buf` of `cap` bytes, `*len` its length) and stat (may
 * be NULL): `CORRAL_OK`, `CORRAL_NO_NODE` when the node does not exist, or
 * `CORRAL_BUFFER_TOO_SMALL` with the length needed.
 *
 * # Safety
 *
 * `cache` is NULL or live; `buf` has `cap` writable bytes; `len` is
 * writable; `stat` is NULL or writable.
 */
corral_result corral_node_cache_current(const struct corral_node_cache *cache, uint8_t *buf, size_t cap, size_t *len, struct corral_stat *stat);

/**
 * Stops the cache and frees it; NULL does nothing. No callback starts after.
 *
 * # Safety
 *
 * `cache` is NULL or not yet freed.
 */
void corral_node_cache_free(struct corral_node_cache *cache);

/**
 * Starts caching the subtree at `path`; `callback` (may be NULL) gets
 * every `CORRAL_CACHE_*` event in order, starting with one
 * `CORRAL_CACHE_NODE_ADDED` per node of the first load and then
 * `CORRAL_CACHE_INITIALIZED`.
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `out` is
 * writable; `userdata` stays valid until the cache is freed.
 */
corral_result corral_tree_cache_start(const struct corral_client *zk, const char *path, corral_cache_fn callback, void *userdata, struct corral_tree_cache **out);

/**
 * The cached data of `path` (in the subtree), as `corral_node_cache_current`.
 *
 * # Safety
 *
 * `cache` is NULL or live; `path` is a NUL-terminated string; `buf` has
 * `cap` writable bytes; `len` is writable; `stat` is NULL or writable.
 */
corral_result corral_tree_cache_data(const struct corral_tree_cache *cache, const char *path, uint8_t *buf, size_t cap, size_t *len, struct corral_stat *stat);

/**
 * The cached children's names of `path` as a new list; `CORRAL_NO_NODE`
 * when `path` is not cached.
 *
 * # Safety
 *
 * `cache` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
 */
corral_result corral_tree_cache_children(const struct corral_tree_cache *cache, const char *path, struct corral_strings **out);

/**
 * Stops the cache and frees it; NULL does nothing.
 *
 * # Safety
 *
 * `cache` is NULL or not yet freed.
 */
void corral_tree_cache_free(struct corral_tree_cache *cache);

/**
 * Service discovery under `base_path` (e.g. `/services`).
 *
 * ```c
 * corral_discovery *sd = NULL;
 * corral_discovery_new(zk, "/services", &sd);
 * corral_discovery_register(sd, "billing", "host-a-1", "10.1.2.3", 8080, NULL);
 * corral_strings *found = NULL;
 * corral_discovery_instances(sd, "billing", &found);   // each one Curator's JSON
 * corral_strings_free(found);
 * corral_discovery_free(sd);                           // unregisters what it registered
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `base_path` is a NUL-terminated string; `out` is writable.
 */
corral_result corral_discovery_new(const struct corral_client *zk, const char *base_path, struct corral_discovery **out);

/**
 * Registers instance `id` of service `name` at `address:port`, with an
 * optional JSON payload (NULL: none; not JSON: `CORRAL_INVALID_ARGUMENT`).
 * It lives as long as this session (re-registered after a new one) or
 * until unregistered.
 *
 * # Safety
 *
 * `discovery` is NULL or live; the strings are NUL-terminated (`payload_json` may be NULL).
 */
corral_result corral_discovery_register(const struct corral_discovery *discovery, const char *name, const char *id, const char *address, int32_t port, const char *payload_json);

/**
 * Removes instance `id` of service `name` (registered here or not). A
 * dynamic instance is re-created by the handle that registered it while
 * that handle lives: unregister it there (or free that handle).
 *
 * # Safety
 *
 * `discovery` is NULL or live; the strings are NUL-terminated.
 */
corral_result corral_discovery_unregister(const struct corral_discovery *discovery, const char *name, const char *id);

/**
 * The registered service names as a new list.
 *
 * # Safety
 *
 * `discovery` is NULL or live; `out` is writable.
 */
corral_result corral_discovery_names(const struct corral_discovery *discovery, struct corral_strings **out);

/**
 * The instances of service `name`, each as its JSON (Curator's
 * `ServiceInstance` serialisation), as a new list.
 *
 * # Safety
 *
 * `discovery` is NULL or live; `name` is NUL-terminated; `out` is writable.
 */
corral_result corral_discovery_instances(const struct corral_discovery *discovery, const char *name, struct corral_strings **out);

/**
 * Unregisters what this handle registered and frees it; NULL does nothing.
 *
 * # Safety
 *
 * `discovery` is NULL or not yet freed.
 */
void corral_discovery_free(struct corral_discovery *discovery);

/**
 * Connects to `connect_string` (`host:port[,host:port...][/chroot]`) with
 * a session timeout in milliseconds, blocking until the session is
 * established or the attempt fails (`CORRAL_CONNECTION_LOSS`,
 * `CORRAL_INVALID_ARGUMENT` for a malformed connect string).
 *
 * ```c
 * corral_client *zk = NULL;
 * if (corral_client_connect("127.0.0.1:2181/app", 10000, &zk) != CORRAL_OK) return 1;
 * // ... use zk ...
 * corral_client_free(zk);
 * ```
 *
 * # Safety
 *
 * `connect_string` is a NUL-terminated string; `out` is writable.
 */
corral_result corral_client_connect(const char *connect_string, uint32_t session_timeout_ms, struct corral_client **out);

/**
 * Closes the session (its ephemeral nodes go) and stops reconnecting.
 * Every later call on the handle returns `CORRAL_CLOSED_HANDLE`; the handle
 * must still be freed. Closing twice returns `CORRAL_CLOSED_HANDLE`.
 *
 * # Safety
 *
 * `zk` is NULL or a live handle.
 */
corral_result corral_client_close(const struct corral_client *zk);

/**
 * Closes the session if still open and frees the handle; NULL does nothing.
 *
 * # Safety
 *
 * `zk` is NULL or a handle not yet freed, used by no other thread now.
 */
void corral_client_free(struct corral_client *zk);

/**
 * The session id (as the server numbers it).
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `out` is writable.
 */
corral_result corral_client_session_id(const struct corral_client *zk, int64_t *out);

/**
 * The session password (16 bytes) into `buf` of `cap` bytes; `*len` gets 16.
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `buf` has `cap` writable bytes; `len` is writable.
 */
corral_result corral_client_session_password(const struct corral_client *zk, uint8_t *buf, size_t cap, size_t *len);

/**
 * Creates a node with `data` in `mode` (`CORRAL_PERSISTENT`, ...; the TTL
 * modes need `corral_client_create_ttl`) and the open ACL, writing the
 * created path (with its sequence number, NUL-terminated) into `path_buf`.
 * Pass NULL and 0 to skip the path. A buffer too small for the longest
 * path the create can return is refused before anything is sent:
 * `CORRAL_BUFFER_TOO_SMALL` with the length needed in `*path_len`.
 *
 * ```c
 * char path[256]; size_t path_len = 0;
 * corral_client_create(zk, "/jobs/job-", (const uint8_t *)"x", 1, CORRAL_PERSISTENT_SEQUENTIAL,
 *                      path, sizeof path, &path_len);   // path = "/jobs/job-0000000000"
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `path` is a NUL-terminated string; `data`
 * has `data_len` readable bytes; `path_buf` has `path_buf_cap` writable
 * bytes; `path_len` is writable.
 */
corral_result corral_client_create(const struct corral_client *zk, const char *path, const uint8_t *data, size_t data_len, int32_t mode, char *path_buf, size_t path_buf_cap, size_t *path_len);

/**
 * `corral_client_create` with a TTL in milliseconds (for the TTL modes; 0
 * otherwise) and the new node's stat (`stat` may be NULL).
 *
 * # Safety
 *
 * As `corral_client_create`; `stat` is NULL or writable.
 */
corral_result corral_client_create_ttl(const struct corral_client *zk, const char *path, const uint8_t *data, size_t data_len, int32_t mode, int64_t ttl_ms, char *path_buf, size_t path_buf_cap, size_t *path_len, struct corral_stat *stat);

/**
 * Deletes a node if its version is `version` (`CORRAL_ANY_VERSION`: any).
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `path` is a NUL-terminated string.
 */
corral_result corral_client_delete(const struct corral_client *zk, const char *path, int32_t version);

/**
 * Whether a node exists: `CORRAL_OK` with its stat (`stat` may be NULL),
 * or `CORRAL_NO_NODE`.
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `path` is a NUL-terminated string; `stat` is NULL or writable.
 */
corral_result corral_client_exists(const struct corral_client *zk, const char *path, struct corral_stat *stat);

/**
 * Reads a node's data into `buf` (`cap` bytes; not NUL-terminated) and its
 * stat (`stat` may be NULL). `*len` gets the data's length; when `cap` is
 * smaller, `CORRAL_BUFFER_TOO_SMALL` with the length needed in `*len`, and
 * nothing else is written.
 *
 * ```c
 * uint8_t buf[64]; size_t len = 0; corral_stat stat;
 * if (corral_client_get(zk, "/demo", buf, sizeof buf, &len, &stat) == CORRAL_OK)
 *     printf("%.*s version=%d\n", (int)len, (const char *)buf, stat.version);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `path` is a NUL-terminated string; `buf`
 * has `cap` writable bytes; `len` is writable; `stat` is NULL or writable.
 */
corral_result corral_client_get(const struct corral_client *zk, const char *path, uint8_t *buf, size_t cap, size_t *len, struct corral_stat *stat);

/**
 * Replaces a node's data if its version is `version` (`CORRAL_ANY_VERSION`:
 * any); the new stat goes to `stat` (may be NULL).
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `path` is a NUL-terminated string; `data`
 * has `data_len` readable bytes; `stat` is NULL or writable.
 */
corral_result corral_client_set(const struct corral_client *zk, const char *path, const uint8_t *data, size_t data_len, int32_t version, struct corral_stat *stat);

/**
 * A node's children (names, unordered) as a new `corral_strings` list to
 * free with `corral_strings_free`, and the node's stat (`stat` may be NULL).
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `path` is a NUL-terminated string; `out`
 * is writable; `stat` is NULL or writable.
 */
corral_result corral_client_get_children(const struct corral_client *zk, const char *path, struct corral_strings **out, struct corral_stat *stat);

/**
 * The number of nodes below `path`, at every depth.
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `path` is a NUL-terminated string; `out` is writable.
 */
corral_result corral_client_get_all_children_number(const struct corral_client *zk, const char *path, int32_t *out);

/**
 * The paths of this session's ephemeral nodes that start with `prefix`
 * (`"/"`: all), as a new `corral_strings` list.
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `prefix` is a NUL-terminated string; `out` is writable.
 */
corral_result corral_client_get_ephemerals(const struct corral_client *zk, const char *prefix, struct corral_strings **out);

/**
 * Waits until the server this client is connected to has caught up with
 * the leader (reads after it see every write committed before it).
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `path` is a NUL-terminated string.
 */
corral_result corral_client_sync(const struct corral_client *zk, const char *path);

/**
 * Adds credentials to the session (`"digest"`, `"user:password"`): they
 * are also sent again after every reconnect.
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `scheme` is a NUL-terminated string;
 * `auth` has `auth_len` readable bytes.
 */
corral_result corral_client_add_auth(const struct corral_client *zk, const char *scheme, const uint8_t *auth, size_t auth_len);

/**
 * Creates `path` and every missing parent as empty persistent nodes with
 * the open ACL (mkdir -p); `CORRAL_OK` also when it already exists.
 *
 * ```c
 * corral_client_ensure_path(zk, "/app/config/features");
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `path` is a NUL-terminated string.
 */
corral_result corral_client_ensure_path(const struct corral_client *zk, const char *path);

/**
 * Deletes `path` and every node below it, children first (not atomic: a
 * child created meanwhile is deleted too); `CORRAL_OK` also when `path`
 * does not exist.
 *
 * ```c
 * corral_client_delete_recursive(zk, "/app/scratch");
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `path` is a NUL-terminated string.
 */
corral_result corral_client_delete_recursive(const struct corral_client *zk, const char *path);

/**
 * Creates a node (as `corral_client_create`, open ACL, no TTL modes); the
 * completion gets the created path.
 *
 * ```c
 * static void created(corral_result rc, const char *path, void *ud) {
 *     if (rc == CORRAL_OK) printf("created %s\n", path);
 * }
 * corral_client_create_async(zk, "/jobs/job-", data, len, CORRAL_PERSISTENT_SEQUENTIAL, created, NULL);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `data` has
 * `data_len` readable bytes; `userdata` stays valid until the completion has run.
 */
corral_result corral_client_create_async(const struct corral_client *zk, const char *path, const uint8_t *data, size_t data_len, int32_t mode, corral_string_completion completion, void *userdata);

/**
 * Deletes a node if its version is `version` (-1: any).
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `userdata`
 * stays valid until the completion has run.
 */
corral_result corral_client_delete_async(const struct corral_client *zk, const char *path, int32_t version, corral_void_completion completion, void *userdata);

/**
 * Whether a node exists: `CORRAL_OK` with its stat, or `CORRAL_NO_NODE`.
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `userdata`
 * stays valid until the completion has run.
 */
corral_result corral_client_exists_async(const struct corral_client *zk, const char *path, corral_stat_completion completion, void *userdata);

/**
 * Reads a node's data and stat.
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `userdata`
 * stays valid until the completion has run.
 */
corral_result corral_client_get_async(const struct corral_client *zk, const char *path, corral_data_completion completion, void *userdata);

/**
 * Replaces a node's data if its version is `version` (-1: any); the
 * completion gets the new stat.
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `data` has
 * `data_len` readable bytes; `userdata` stays valid until the completion has run.
 */
corral_result corral_client_set_async(const struct corral_client *zk, const char *path, const uint8_t *data, size_t data_len, int32_t version, corral_stat_completion completion, void *userdata);

/**
 * A node's children; the list is valid during the completion only.
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `userdata`
 * stays valid until the completion has run.
 */
corral_result corral_client_get_children_async(const struct corral_client *zk, const char *path, corral_strings_completion completion, void *userdata);

/**
 * Waits (asynchronously) until the server has caught up with the leader.
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `userdata`
 * stays valid until the completion has run.
 */
corral_result corral_client_sync_async(const struct corral_client *zk, const char *path, corral_void_completion completion, void *userdata);

/**
 * A node's ACL and stat (as `corral_client_get_acl`); the list is valid
 * during the completion only.
 *
 * ```c
 * static void got_acl(corral_result rc, const corral_acl_list *acl, const corral_stat *st, void *ud) {
 *     if (rc == CORRAL_OK) printf("%zu entries, aversion %d\n", corral_acl_list_len(acl), st->aversion);
 * }
 * corral_client_get_acl_async(zk, "/secret", got_acl, NULL);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `userdata`
 * stays valid until the completion has run.
 */
corral_result corral_client_get_acl_async(const struct corral_client *zk, const char *path, corral_acl_completion completion, void *userdata);

/**
 * Replaces a node's ACL if its ACL version is `version` (-1: any), as
 * `corral_client_set_acl`; the completion gets the new stat. The entries
 * are copied before the call returns.
 *
 * ```c
 * static void acl_set(corral_result rc, const corral_stat *st, void *ud) {
 *     if (rc == CORRAL_OK) printf("aversion now %d\n", st->aversion);
 * }
 * corral_acl read_only[] = {{CORRAL_PERM_READ, "world", "anyone"}};
 * corral_client_set_acl_async(zk, "/config", read_only, 1, -1, acl_set, NULL);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `acl` points to
 * `acl_len` entries; `userdata` stays valid until the completion has run.
 */
corral_result corral_client_set_acl_async(const struct corral_client *zk, const char *path, const struct corral_acl *acl, size_t acl_len, int32_t version, corral_stat_completion completion, void *userdata);

/**
 * The paths of this session's ephemeral nodes under `prefix` (as
 * `corral_client_get_ephemerals`); the list is valid during the completion only.
 *
 * ```c
 * static void mine(corral_result rc, const corral_strings *paths, void *ud) {
 *     if (rc == CORRAL_OK) printf("%zu ephemerals\n", corral_strings_len(paths));
 * }
 * corral_client_get_ephemerals_async(zk, "/", mine, NULL);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `prefix` is a NUL-terminated string; `userdata`
 * stays valid until the completion has run.
 */
corral_result corral_client_get_ephemerals_async(const struct corral_client *zk, const char *prefix, corral_strings_completion completion, void *userdata);

/**
 * Commits a transaction (as `corral_txn_commit`, which it empties at once)
 * in call order with the other `_async` calls of its client. The completion
 * gets `CORRAL_OK` or the first failing sub-op's code, with every sub-op's
 * result; on connection loss and the like, the code and NULL results.
 *
 * ```c
 * static void committed(corral_result rc, const corral_txn_results *r, void *ud) {
 *     if (r) printf("%d: %zu results\n", rc, corral_txn_results_len(r));
 * }
 * corral_txn_create(t, "/jobs/job-", NULL, 0, CORRAL_PERSISTENT_SEQUENTIAL);
 * corral_txn_commit_async(t, committed, NULL);
 * ```
 *
 * # Safety
 *
 * `txn` is NULL or live; `userdata` stays valid until the completion has run.
 */
corral_result corral_txn_commit_async(const struct corral_txn *txn, corral_txn_completion completion, void *userdata);

/**
 * A semaphore at `path` with `max_leases` leases (Curator's node layout).
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
 */
corral_result corral_semaphore_new(const struct corral_client *zk, const char *path, uint32_t max_leases, struct corral_semaphore **out);

/**
 * A semaphore at `path` with `max_leases` leases in the given layout
 * (`CORRAL_LAYOUT_CURATOR` or `CORRAL_LAYOUT_KAZOO`; any other value is
 * `CORRAL_INVALID_ARGUMENT`), its lease nodes holding `identifier` (NULL:
 * empty; kazoo lists it as the lease holder).
 *
 * ```c
 * corral_semaphore *s = NULL;
 * corral_semaphore_new_layout(zk, "/pools/db", 4, CORRAL_LAYOUT_KAZOO, "host-a", &s);   // kazoo's Semaphore
 * corral_semaphore_free(s);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `identifier` is
 * NULL or one; `out` is writable.
 */
corral_result corral_semaphore_new_layout(const struct corral_client *zk, const char *path, uint32_t max_leases, int32_t layout, const char *identifier, struct corral_semaphore **out);

/**
 * Waits up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) for one lease, held by
 * this handle until `corral_semaphore_release`: `CORRAL_OK` or `CORRAL_TIMEOUT`.
 *
 * # Safety
 *
 * `semaphore` is NULL or live.
 */
corral_result corral_semaphore_acquire(const struct corral_semaphore *semaphore, int64_t timeout_ms);

/**
 * Returns one lease this handle holds (`CORRAL_NOT_HELD` when none).
 *
 * # Safety
 *
 * `semaphore` is NULL or live.
 */
corral_result corral_semaphore_release(const struct corral_semaphore *semaphore);

/**
 * Returns every lease this handle holds and frees it; NULL does nothing.
 *
 * # Safety
 *
 * `semaphore` is NULL or not yet freed, used by no other thread now.
 */
void corral_semaphore_free(struct corral_semaphore *semaphore);

/**
 * A barrier at `path` (kazoo's `Barrier`).
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
 */
corral_result corral_barrier_new(const struct corral_client *zk, const char *path, struct corral_barrier **out);

/**
 * Raises the barrier (creates its node).
 *
 * # Safety
 *
 * `barrier` is NULL or live.
 */
corral_result corral_barrier_set(const struct corral_barrier *barrier);

/**
 * Lowers the barrier: every waiter goes on.
 *
 * # Safety
 *
 * `barrier` is NULL or live.
 */
corral_result corral_barrier_remove(const struct corral_barrier *barrier);

/**
 * Waits up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) until the barrier is
 * down: `CORRAL_OK` or `CORRAL_TIMEOUT`.
 *
 * # Safety
 *
 * `barrier` is NULL or live.
 */
corral_result corral_barrier_wait(const struct corral_barrier *barrier, int64_t timeout_ms);

/**
 * Frees a barrier handle (the barrier stays as it is); NULL does nothing.
 *
 * # Safety
 *
 * `barrier` is NULL or not yet freed.
 */
void corral_barrier_free(struct corral_barrier *barrier);

/**
 * A double barrier at `path` for `members` participants (Curator's layout).
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
 */
corral_result corral_double_barrier_new(const struct corral_client *zk, const char *path, uint32_t members, struct corral_double_barrier **out);

/**
 * Enters, waiting up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) until every
 * member has: `CORRAL_OK` or `CORRAL_TIMEOUT` (then this member stays
 * entered, as in Curator: call `corral_double_barrier_leave` to go).
 *
 * # Safety
 *
 * `barrier` is NULL or live.
 */
corral_result corral_double_barrier_enter(const struct corral_double_barrier *barrier, int64_t timeout_ms);

/**
 * Leaves, waiting up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) until every
 * member has: `CORRAL_OK` or `CORRAL_TIMEOUT`.
 *
 * # Safety
 *
 * `barrier` is NULL or live.
 */
corral_result corral_double_barrier_leave(const struct corral_double_barrier *barrier, int64_t timeout_ms);

/**
 * Frees a double barrier handle; NULL does nothing.
 *
 * # Safety
 *
 * `barrier` is NULL or not yet freed.
 */
void corral_double_barrier_free(struct corral_double_barrier *barrier);

/**
 * A queue at `path` (kazoo's `Queue` layout).
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
 */
corral_result corral_queue_new(const struct corral_client *zk, const char *path, struct corral_queue **out);

/**
 * Appends an item.
 *
 * # Safety
 *
 * `queue` is NULL or live; `item` has `item_len` readable bytes.
 */
corral_result corral_queue_put(const struct corral_queue *queue, const uint8_t *item, size_t item_len);

/**
 * Takes the oldest item off the queue, waiting up to `timeout_ms` (0: only
 * if one is there; `CORRAL_WAIT_FOREVER`): `CORRAL_OK` with the item as a
 * new `corral_bytes`, or `CORRAL_TIMEOUT`. (The item is returned whole, so
 * nothing taken can be lost to a small buffer.)
 *
 * ```c
 * corral_bytes *job = NULL;
 * if (corral_queue_take(q, 5000, &job) == CORRAL_OK) {
 *     handle(corral_bytes_data(job), corral_bytes_len(job));
 *     corral_bytes_free(job);
 * }
 * ```
 *
 * # Safety
 *
 * `queue` is NULL or live; `out` is writable.
 */
corral_result corral_queue_take(const struct corral_queue *queue, int64_t timeout_ms, struct corral_bytes **out);

/**
 * The bytes (owned by `bytes`; NULL for NULL).
 *
 * # Safety
 *
 * `bytes` is NULL or live.
 */
const uint8_t *corral_bytes_data(const struct corral_bytes *bytes);

/**
 * The number of bytes (0 for NULL).
 *
 * # Safety
 *
 * `bytes` is NULL or live.
 */
size_t corral_bytes_len(const struct corral_bytes *bytes);

/**
 * Frees bytes; NULL does nothing.
 *
 * # Safety
 *
 * `bytes` is NULL or not yet freed.
 */
void corral_bytes_free(struct corral_bytes *bytes);

/**
 * The number of queued items.
 *
 * # Safety
 *
 * `queue` is NULL or live; `out` is writable.
 */
corral_result corral_queue_len(const struct corral_queue *queue, size_t *out);

/**
 * Frees a queue handle (the items stay); NULL does nothing.
 *
 * # Safety
 *
 * `queue` is NULL or not yet freed.
 */
void corral_queue_free(struct corral_queue *queue);

/**
 * A member `identifier` of the party at `path` (kazoo's `Party`), not yet joined.
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` and `identifier` are NUL-terminated strings; `out` is writable.
 */
corral_result corral_party_new(const struct corral_client *zk, const char *path, const char *identifier, struct corral_party **out);

/**
 * Joins (an ephemeral node: the member leaves when its session ends).
 *
 * # Safety
 *
 * `party` is NULL or live.
 */
corral_result corral_party_join(const struct corral_party *party);

/**
 * Leaves (`CORRAL_NOT_HELD` when not a member).
 *
 * # Safety
 *
 * `party` is NULL or live.
 */
corral_result corral_party_leave(const struct corral_party *party);

/**
 * The members' identifiers as a new list.
 *
 * # Safety
 *
 * `party` is NULL or live; `out` is writable.
 */
corral_result corral_party_members(const struct corral_party *party, struct corral_strings **out);

/**
 * Frees a party handle (a joined member stays until its session ends or it
 * leaves); NULL does nothing.
 *
 * # Safety
 *
 * `party` is NULL or not yet freed.
 */
void corral_party_free(struct corral_party *party);

/**
 * A counter at `path`, as Curator's `DistributedAtomicLong` keeps it.
 *
 * ```c
 * corral_counter *hits = NULL;
 * corral_counter_new(zk, "/stats/hits", &hits);
 * int64_t now = 0;
 * corral_counter_add(hits, 1, &now);
 * corral_counter_free(hits);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
 */
corral_result corral_counter_new(const struct corral_client *zk, const char *path, struct corral_counter **out);

/**
 * Adds `delta` (may be negative) atomically; `*value` gets the new value.
 *
 * # Safety
 *
 * `counter` is NULL or live; `value` is writable.
 */
corral_result corral_counter_add(const struct corral_counter *counter, int64_t delta, int64_t *value);

/**
 * The current value.
 *
 * # Safety
 *
 * `counter` is NULL or live; `value` is writable.
 */
corral_result corral_counter_get(const struct corral_counter *counter, int64_t *value);

/**
 * Sets the value to `new_value` if it is `expected`: `CORRAL_OK`, or
 * `CORRAL_BAD_VERSION` when it was not (nothing changed).
 *
 * # Safety
 *
 * `counter` is NULL or live.
 */
corral_result corral_counter_compare_and_set(const struct corral_counter *counter, int64_t expected, int64_t new_value);

/**
 * Frees a counter; NULL does nothing.
 *
 * # Safety
 *
 * `counter` is NULL or not yet freed.
 */
void corral_counter_free(struct corral_counter *counter);

/**
 * Sets the value to `value` in one optimistic attempt (Curator's
 * `trySet`): `CORRAL_OK`, or `CORRAL_BAD_VERSION` when another writer got
 * in between (nothing changed).
 *
 * # Safety
 *
 * `counter` is NULL or live.
 */
corral_result corral_counter_try_set(const struct corral_counter *counter, int64_t value);

/**
 * Sets the value to `value` whatever it is (Curator's `forceSet`).
 *
 * # Safety
 *
 * `counter` is NULL or live.
 */
corral_result corral_counter_force_set(const struct corral_counter *counter, int64_t value);

/**
 * Creates the counter's node holding `value` if it does not exist:
 * `CORRAL_OK`, or `CORRAL_NODE_EXISTS` (the value is left as it is).
 *
 * ```c
 * if (corral_counter_initialize(c, 100) == CORRAL_NODE_EXISTS) puts("someone was first");
 * ```
 *
 * # Safety
 *
 * `counter` is NULL or live.
 */
corral_result corral_counter_initialize(const struct corral_counter *counter, int64_t value);

/**
 * A kazoo `Counter` at `path` (created empty on first use; an empty node
 * reads as `default_value`), to share a counter with kazoo processes.
 *
 * ```c
 * corral_kazoo_counter *visits = NULL;
 * corral_kazoo_counter_new(zk, "/counters/visits", 0, &visits);
 * int64_t before = 0, after = 0;
 * corral_kazoo_counter_add(visits, 1, &before, &after);
 * corral_kazoo_counter_free(visits);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
 */
corral_result corral_kazoo_counter_new(const struct corral_client *zk, const char *path, int64_t default_value, struct corral_kazoo_counter **out);

/**
 * The current value (`CORRAL_MARSHALLING_ERROR` when the node holds no number).
 *
 * # Safety
 *
 * `counter` is NULL or live; `value` is writable.
 */
corral_result corral_kazoo_counter_value(const struct corral_kazoo_counter *counter, int64_t *value);

/**
 * Adds `delta` (may be negative) atomically; `*pre_value` (may be NULL)
 * gets the value it was added to, `*post_value` the value written.
 * `CORRAL_BAD_VERSION` when every attempt lost to other writers.
 *
 * # Safety
 *
 * `counter` is NULL or live; `pre_value` is NULL or writable; `post_value` is writable.
 */
corral_result corral_kazoo_counter_add(const struct corral_kazoo_counter *counter, int64_t delta, int64_t *pre_value, int64_t *post_value);

/**
 * Frees a kazoo counter handle; NULL does nothing.
 *
 * # Safety
 *
 * `counter` is NULL or not yet freed.
 */
void corral_kazoo_counter_free(struct corral_kazoo_counter *counter);

/**
 * Starts following the shared count at `path` (Curator's `SharedCount`: 4
 * big-endian bytes), creating it with `seed` if missing. `callback` (may
 * be NULL) gets every new value seen, the first one included.
 *
 * ```c
 * corral_shared_count *workers = NULL;
 * corral_shared_count_start(zk, "/limits/workers", 4, NULL, NULL, &workers);
 * int32_t n = 0, version = 0;
 * corral_shared_count_get(workers, &n, &version);
 * if (corral_shared_count_try_set(workers, version, n * 2) == CORRAL_BAD_VERSION) puts("changed meanwhile");
 * corral_shared_count_free(workers);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `out` is
 * writable; `userdata` stays valid until the count is freed.
 */
corral_result corral_shared_count_start(const struct corral_client *zk, const char *path, int32_t seed, corral_count_fn callback, void *userdata, struct corral_shared_count **out);

/**
 * The count as last seen and its node version (`version` may be NULL; pass
 * it to `corral_shared_count_try_set`).
 *
 * # Safety
 *
 * `count` is NULL or live; `value` is writable; `version` is NULL or writable.
 */
corral_result corral_shared_count_get(const struct corral_shared_count *count, int32_t *value, int32_t *version);

/**
 * Sets the count to `value` whatever it is.
 *
 * # Safety
 *
 * `count` is NULL or live.
 */
corral_result corral_shared_count_set(const struct corral_shared_count *count, int32_t value);

/**
 * Sets the count to `value` if its node is still at `version` (from
 * `corral_shared_count_get`): `CORRAL_OK`, or `CORRAL_BAD_VERSION` when
 * someone changed it since (nothing written).
 *
 * # Safety
 *
 * `count` is NULL or live.
 */
corral_result corral_shared_count_try_set(const struct corral_shared_count *count, int32_t version, int32_t value);

/**
 * Stops following the count and frees it; NULL does nothing. No callback
 * starts after.
 *
 * # Safety
 *
 * `count` is NULL or not yet freed.
 */
void corral_shared_count_free(struct corral_shared_count *count);

/**
 * An id generator under `path` (created on first use). Nodes are named
 * `<prefix><seq>` (`prefix` NULL: `"id-"`); with `keep_nodes` each id's
 * node stays (persistent), else it is deleted at once.
 *
 * ```c
 * corral_id_generator *ids = NULL;
 * corral_id_generator_new(zk, "/ids/orders", NULL, false, &ids);
 * int64_t order_id = 0;
 * corral_id_generator_next(ids, &order_id);
 * corral_id_generator_free(ids);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `prefix` is
 * NULL or one; `out` is writable.
 */
corral_result corral_id_generator_new(const struct corral_client *zk, const char *path, const char *prefix, bool keep_nodes, struct corral_id_generator **out);

/**
 * A new id, larger than every id this path gave before.
 *
 * # Safety
 *
 * `ids` is NULL or live; `out` is writable.
 */
corral_result corral_id_generator_next(const struct corral_id_generator *ids, int64_t *out);

/**
 * Frees an id generator handle; NULL does nothing.
 *
 * # Safety
 *
 * `ids` is NULL or not yet freed.
 */
void corral_id_generator_free(struct corral_id_generator *ids);

/**
 * An election at `path` where this participant is known by `identifier`
 * (stored in its node, listed by `corral_election_contenders`); nothing is
 * joined until `corral_election_run`.
 *
 * ```c
 * static void lead(const corral_leadership *l, void *ud) {
 *     int64_t token = 0;
 *     corral_leadership_fencing_token(l, &token);
 *     while (!corral_leadership_is_lost(l) && work_left(ud)) do_work(ud, token);
 * }
 * corral_election *e = NULL;
 * corral_election_new(zk, "/election/scheduler", "host-a", &e);
 * corral_result rc = corral_election_run(e, CORRAL_WAIT_FOREVER, lead, NULL);   // CORRAL_OK once it led
 * corral_election_free(e);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` and `identifier` are NUL-terminated strings; `out` is writable.
 */
corral_result corral_election_new(const struct corral_client *zk, const char *path, const char *identifier, struct corral_election **out);

/**
 * An election at `path` in the given layout (`CORRAL_LAYOUT_CURATOR`, as
 * `corral_election_new`, or `CORRAL_LAYOUT_KAZOO`: kazoo's `Election`, to
 * share the election with kazoo processes; any other value is
 * `CORRAL_INVALID_ARGUMENT`).
 *
 * ```c
 * corral_election *e = NULL;
 * corral_election_new_layout(zk, "/election/scheduler", "host-a", CORRAL_LAYOUT_KAZOO, &e);
 * corral_election_free(e);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` and `identifier` are NUL-terminated strings; `out` is writable.
 */
corral_result corral_election_new_layout(const struct corral_client *zk, const char *path, const char *identifier, int32_t layout, struct corral_election **out);

/**
 * Joins the election and waits up to `timeout_ms` (`CORRAL_WAIT_FOREVER`)
 * to lead; then calls `lead` on this thread and, when it returns, gives up
 * leadership (the node is deleted: the next participant leads). Returns
 * `CORRAL_OK` once it has led, `CORRAL_TIMEOUT` when the time passed first,
 * `CORRAL_CANCELLED` when `corral_election_cancel` stopped the wait, or the
 * error that ended it (a closed client). Leading again means calling it
 * again. Runs of one handle take turns; `lead` must not run its own handle.
 *
 * # Safety
 *
 * `election` is NULL or live; `userdata` is what `lead` expects.
 */
corral_result corral_election_run(const struct corral_election *election, int64_t timeout_ms, corral_lead_fn lead, void *userdata);

/**
 * Stops the run of this handle in progress, if any: a waiting run returns
 * `CORRAL_CANCELLED`; a leader sees its leadership lost
 * (`CORRAL_LOSS_CANCELLED`) and should return. Runs started later are not
 * affected.
 *
 * # Safety
 *
 * `election` is NULL or live.
 */
corral_result corral_election_cancel(const struct corral_election *election);

/**
 * The identifiers of every participant in line, the leader first, as a new list.
 *
 * # Safety
 *
 * `election` is NULL or live; `out` is writable.
 */
corral_result corral_election_contenders(const struct corral_election *election, struct corral_strings **out);

/**
 * The leader's identifier, NUL-terminated, into `buf` (`cap` bytes; `*len`
 * gets its length). `CORRAL_NO_NODE` when no one leads.
 *
 * # Safety
 *
 * `election` is NULL or live; `buf` has `cap` writable bytes; `len` is writable.
 */
corral_result corral_election_leader(const struct corral_election *election, char *buf, size_t cap, size_t *len);

/**
 * Frees an election handle; NULL does nothing.
 *
 * # Safety
 *
 * `election` is NULL or not yet freed, used by no other thread now.
 */
void corral_election_free(struct corral_election *election);

/**
 * The fencing token of this leadership: the zxid that created the leader's
 * node, larger for every later leader of the election.
 *
 * # Safety
 *
 * `leadership` is NULL or the one given to the running `lead`; `out` is writable.
 */
corral_result corral_leadership_fencing_token(const struct corral_leadership *leadership, int64_t *out);

/**
 * Whether leadership is lost (the leader should stop acting as one and
 * return); false for NULL.
 *
 * # Safety
 *
 * `leadership` is NULL or the one given to the running `lead`.
 */
bool corral_leadership_is_lost(const struct corral_leadership *leadership);

/**
 * Waits up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) until leadership is
 * lost: `CORRAL_OK` with why in `*reason` (`CORRAL_LOSS_*`; `reason` may be
 * NULL), or `CORRAL_TIMEOUT` while it still leads.
 *
 * # Safety
 *
 * `leadership` is NULL or the one given to the running `lead`; `reason` is NULL or writable.
 */
corral_result corral_leadership_wait_lost(const struct corral_leadership *leadership, int64_t timeout_ms, int32_t *reason);

/**
 * The identities the server knows this connection by (ZooKeeper 3.7's
 * whoAmI): the `ip` one always, one per credential added. Returns a new
 * list to free with `corral_client_info_list_free`.
 *
 * ```c
 * corral_client_info_list *ids = NULL;
 * if (corral_client_who_am_i(zk, &ids) == CORRAL_OK) {
 *     corral_client_info who;
 *     for (size_t i = 0; corral_client_info_list_get(ids, i, &who) == CORRAL_OK; i++)
 *         printf("%s:%s\n", who.scheme, who.user);
 *     corral_client_info_list_free(ids);
 * }
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `out` is writable.
 */
corral_result corral_client_who_am_i(const struct corral_client *zk, struct corral_client_info_list **out);

/**
 * How many identities the list holds (0 for NULL).
 *
 * # Safety
 *
 * `list` is NULL or live.
 */
size_t corral_client_info_list_len(const struct corral_client_info_list *list);

/**
 * Identity `index` into `out` (its strings owned by the list);
 * `CORRAL_INVALID_ARGUMENT` past the end.
 *
 * # Safety
 *
 * `list` is NULL or live; `out` is writable.
 */
corral_result corral_client_info_list_get(const struct corral_client_info_list *list, size_t index, struct corral_client_info *out);

/**
 * Frees a list; NULL does nothing.
 *
 * # Safety
 *
 * `list` is NULL or not yet freed.
 */
void corral_client_info_list_free(struct corral_client_info_list *list);

/**
 * Starts `voters` voting members and `observers` observers on loopback
 * (short ticks, temporary data directories) and waits until they serve with
 * one leader. Members are numbered from 0, voters first.
 *
 * ```c
 * corral_cluster *c = NULL;
 * corral_cluster_start(3, 0, &c);
 * size_t leader = 0;
 * corral_cluster_leader(c, 10000, &leader);
 * corral_cluster_kill(c, leader);       // the others elect a new leader
 * corral_cluster_restart(c, leader);    // it catches up
 * corral_cluster_free(c);
 * ```
 */
corral_result corral_cluster_start(uint32_t voters, uint32_t observers, struct corral_cluster **out);

/**
 * The connect string naming every member; valid until `corral_cluster_free`.
 *
 * # Safety
 *
 * `cluster` is NULL or live.
 */
const char *corral_cluster_connect_string(const struct corral_cluster *cluster);

/**
 * How many members the cluster has (0 for NULL).
 *
 * # Safety
 *
 * `cluster` is NULL or live.
 */
size_t corral_cluster_size(const struct corral_cluster *cluster);

/**
 * The client port of member `index`.
 *
 * # Safety
 *
 * `cluster` is NULL or live; `out` is writable.
 */
corral_result corral_cluster_port(const struct corral_cluster *cluster, size_t index, uint16_t *out);

/**
 * Waits up to `timeout_ms` for the one leader and gives its index.
 *
 * # Safety
 *
 * `cluster` is NULL or live; `out` is writable.
 */
corral_result corral_cluster_leader(const struct corral_cluster *cluster, uint32_t timeout_ms, size_t *out);

/**
 * Member `index`'s mode now (`CORRAL_MODE_*`).
 *
 * # Safety
 *
 * `cluster` is NULL or live; `out` is writable.
 */
corral_result corral_cluster_mode(const struct corral_cluster *cluster, size_t index, int32_t *out);

/**
 * Stops member `index` abruptly for its peers (as a process exit is); its
 * data stays for `corral_cluster_restart`.
 *
 * # Safety
 *
 * `cluster` is NULL or live.
 */
corral_result corral_cluster_kill(const struct corral_cluster *cluster, size_t index);

/**
 * Starts member `index` again on its port and data and waits until it serves.
 *
 * # Safety
 *
 * `cluster` is NULL or live.
 */
corral_result corral_cluster_restart(const struct corral_cluster *cluster, size_t index);

/**
 * Waits up to `timeout_ms` until every running member serves with one leader.
 *
 * # Safety
 *
 * `cluster` is NULL or live.
 */
corral_result corral_cluster_wait_serving(const struct corral_cluster *cluster, uint32_t timeout_ms);

/**
 * Stops every member, removes their data and frees the handle; NULL does nothing.
 *
 * # Safety
 *
 * `cluster` is NULL or a handle not yet freed, used by no other thread now.
 */
void corral_cluster_free(struct corral_cluster *cluster);

/**
 * Starts a relay on an ephemeral loopback port in front of `upstream`
 * (`host:port`, or a connect string: its first host). Clients that connect
 * to `corral_fault_relay_connect_string` reach the server through it.
 *
 * # Safety
 *
 * `upstream` is a NUL-terminated string; `out` is writable.
 */
corral_result corral_fault_relay_start(const char *upstream, struct corral_fault_relay **out);

/**
 * The connect string of the relay; valid until `corral_fault_relay_free`.
 *
 * # Safety
 *
 * `relay` is NULL or live.
 */
const char *corral_fault_relay_connect_string(const struct corral_fault_relay *relay);

/**
 * Closes every relayed connection now: clients see a disconnect, then
 * reconnect and keep their sessions.
 *
 * # Safety
 *
 * `relay` is NULL or live.
 */
corral_result corral_fault_relay_drop(const struct corral_fault_relay *relay);

/**
 * Drops every connection and refuses new ones until `corral_fault_relay_unblock`.
 *
 * # Safety
 *
 * `relay` is NULL or live.
 */
corral_result corral_fault_relay_block(const struct corral_fault_relay *relay);

/**
 * Lets clients connect through the relay again.
 *
 * # Safety
 *
 * `relay` is NULL or live.
 */
corral_result corral_fault_relay_unblock(const struct corral_fault_relay *relay);

/**
 * Ends session `session_id` on the server (it must have connected through
 * this relay): its ephemerals go, its clients see it expire.
 *
 * # Safety
 *
 * `relay` is NULL or live.
 */
corral_result corral_fault_relay_expire(const struct corral_fault_relay *relay, int64_t session_id);

/**
 * Stops the relay and frees it; NULL does nothing.
 *
 * # Safety
 *
 * `relay` is NULL or a handle not yet freed.
 */
void corral_fault_relay_free(struct corral_fault_relay *relay);

/**
 * Expires `zk`'s session on `server` (a connect string of its ensemble, or
 * of a relay in front of it) and waits up to `timeout_ms` until the client
 * has a new session (it sees `CORRAL_STATE_LOST`, then
 * `CORRAL_STATE_RECONNECTED`). Works against corral and Apache ZooKeeper.
 *
 * # Safety
 *
 * `zk` is NULL or live; `server` is a NUL-terminated string.
 */
corral_result corral_client_expire_session(const struct corral_client *zk, const char *server, uint32_t timeout_ms);

/**
 * Reads the data of `data_paths_len` nodes and the children of
 * `children_paths_len` nodes in one request (ZooKeeper's multiRead; either
 * array may be NULL with length 0). Each read succeeds or fails on its own
 * (a missing node is that read's `CORRAL_NO_NODE`); the call itself fails
 * only when the request does. No read sets a watch.
 *
 * ```c
 * const char *data_paths[] = {"/config/a", "/config/b"};
 * const char *children_paths[] = {"/workers"};
 * corral_read_results *r = NULL;
 * if (corral_client_multi_read(zk, data_paths, 2, children_paths, 1, &r) == CORRAL_OK) {
 *     const uint8_t *data = NULL; size_t len = 0;
 *     if (corral_read_results_data(r, 0, &data, &len, NULL) == CORRAL_OK) printf("%.*s\n", (int)len, (const char *)data);
 *     const corral_strings *workers = NULL;
 *     if (corral_read_results_children(r, 2, &workers) == CORRAL_OK) printf("%zu workers\n", corral_strings_len(workers));
 *     corral_read_results_free(r);
 * }
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `data_paths` and `children_paths` point to
 * that many NUL-terminated strings; `out` is writable.
 */
corral_result corral_client_multi_read(const struct corral_client *zk, const char *const *data_paths, size_t data_paths_len, const char *const *children_paths, size_t children_paths_len, struct corral_read_results **out);

/**
 * How many reads there are (0 for NULL).
 *
 * # Safety
 *
 * `results` is NULL or live.
 */
size_t corral_read_results_len(const struct corral_read_results *results);

/**
 * Read `index`'s code: `CORRAL_OK` or why it failed
 * (`CORRAL_INVALID_ARGUMENT` past the end, or for NULL).
 *
 * # Safety
 *
 * `results` is NULL or live.
 */
corral_result corral_read_results_code(const struct corral_read_results *results, size_t index);

/**
 * The data (owned by the results; `*len` its length) and stat (`stat` may
 * be NULL) of data read `index`: `CORRAL_OK`, the read's failure code, or
 * `CORRAL_INVALID_ARGUMENT` for a children read or past the end.
 *
 * # Safety
 *
 * `results` is NULL or live; `data` and `len` are writable; `stat` is NULL or writable.
 */
corral_result corral_read_results_data(const struct corral_read_results *results, size_t index, const uint8_t **data, size_t *len, struct corral_stat *stat);

/**
 * The children's names of children read `index` (a list owned by the
 * results: do not free it): `CORRAL_OK`, the read's failure code, or
 * `CORRAL_INVALID_ARGUMENT` for a data read or past the end.
 *
 * # Safety
 *
 * `results` is NULL or live; `out` is writable.
 */
corral_result corral_read_results_children(const struct corral_read_results *results, size_t index, const struct corral_strings **out);

/**
 * Frees results; NULL does nothing.
 *
 * # Safety
 *
 * `results` is NULL or not yet freed.
 */
void corral_read_results_free(struct corral_read_results *results);

/**
 * Makes client options with the defaults (10 s session timeout, no
 * credentials, a new session). Free them with `corral_client_options_free`.
 *
 * ```c
 * corral_client_options *o = NULL;
 * corral_client_options_new(&o);
 * corral_client_options_session_timeout(o, 30000);
 * corral_client_options_auth(o, "digest", (const uint8_t *)"app:secret", 10);
 * corral_client *zk = NULL;
 * corral_result rc = corral_client_connect_with("10.0.0.1:2181,10.0.0.2:2181/app", o, &zk);
 * corral_client_options_free(o);
 * ```
 */
corral_result corral_client_options_new(struct corral_client_options **out);

/**
 * Frees client options; NULL does nothing.
 *
 * # Safety
 *
 * `opts` is NULL or options not yet freed.
 */
void corral_client_options_free(struct corral_client_options *opts);

/**
 * The session timeout to ask for, in milliseconds (the server clamps it).
 *
 * # Safety
 *
 * `opts` is NULL or live.
 */
corral_result corral_client_options_session_timeout(struct corral_client_options *opts, uint32_t ms);

/**
 * How long the first connection may take, in milliseconds (default: the
 * session timeout).
 *
 * # Safety
 *
 * `opts` is NULL or live.
 */
corral_result corral_client_options_connection_timeout(struct corral_client_options *opts, uint32_t ms);

/**
 * Credentials sent on every connection (`"digest"`, `"user:password"`).
 *
 * # Safety
 *
 * `opts` is NULL or live; `scheme` is a NUL-terminated string; `auth` has `auth_len` readable bytes.
 */
corral_result corral_client_options_auth(struct corral_client_options *opts, const char *scheme, const uint8_t *auth, size_t auth_len);

/**
 * Resumes this session (id and 16-byte password from
 * `corral_client_session_id` / `corral_client_session_password`, possibly
 * of another process) instead of starting a new one. If it has expired,
 * `corral_client_connect_with` returns `CORRAL_SESSION_EXPIRED`.
 *
 * # Safety
 *
 * `opts` is NULL or live; `password` has `password_len` readable bytes.
 */
corral_result corral_client_options_session(struct corral_client_options *opts, int64_t session_id, const uint8_t *password, size_t password_len);

/**
 * Whether read-only servers are acceptable (ZooKeeper's `canBeReadOnly`).
 *
 * # Safety
 *
 * `opts` is NULL or live.
 */
corral_result corral_client_options_read_only(struct corral_client_options *opts, bool allow);

/**
 * A callback for the client's state: called on the dispatch thread with
 * the state right after connecting (`CORRAL_STATE_CONNECTED`), then with
 * every change, the last being `CORRAL_STATE_CLOSED`; `userdata` must stay
 * valid until then.
 *
 * # Safety
 *
 * `opts` is NULL or live.
 */
corral_result corral_client_options_state_callback(struct corral_client_options *opts, corral_state_fn callback, void *userdata);

/**
 * Connects with `opts` (NULL: the defaults), blocking until the session is
 * established or the attempt fails. The options are not consumed.
 *
 * # Safety
 *
 * `connect_string` is a NUL-terminated string; `opts` is NULL or live; `out` is writable.
 */
corral_result corral_client_connect_with(const char *connect_string, const struct corral_client_options *opts, struct corral_client **out);

/**
 * Joins the party at `<path>/party` as member `identifier` (unique, valid
 * in a node name) and starts taking this member's share of the `items_len`
 * items (valid node names) in the background. The share is taken once the
 * membership stayed unchanged for `time_boundary_ms`; with `locks` each of
 * its items is also locked (`<path>/locks/<item>`), so that no item is ever
 * held by two members.
 *
 * ```c
 * const char *queues[] = {"q1", "q2", "q3"};
 * corral_partitioner *p = NULL;
 * corral_partitioner_start(zk, "/app/queues", queues, 3, "worker-1", 200, true, &p);
 * int32_t state = 0;
 * corral_partitioner_wait_for_change(p, CORRAL_PARTITION_ALLOCATING, 10000, &state);
 * if (state == CORRAL_PARTITION_ACQUIRED) {
 *     corral_strings *mine = NULL;
 *     corral_partitioner_partitions(p, &mine);   // work on these until the state changes
 *     corral_strings_free(mine);
 * }
 * corral_partitioner_free(p);   // releases the share, leaves the party
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` and `identifier` are NUL-terminated
 * strings; `items` points to `items_len` of them; `out` is writable.
 */
corral_result corral_partitioner_start(const struct corral_client *zk, const char *path, const char *const *items, size_t items_len, const char *identifier, uint32_t time_boundary_ms, bool locks, struct corral_partitioner **out);

/**
 * The current state (`CORRAL_PARTITION_*`).
 *
 * # Safety
 *
 * `partitioner` is NULL or live; `out` is writable.
 */
corral_result corral_partitioner_state(const struct corral_partitioner *partitioner, int32_t *out);

/**
 * Waits up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) until the state is no
 * longer `from` (`CORRAL_PARTITION_ALLOCATING`: until the share is taken):
 * `CORRAL_OK` with the new state in `*out`, or `CORRAL_TIMEOUT`.
 *
 * # Safety
 *
 * `partitioner` is NULL or live; `out` is writable.
 */
corral_result corral_partitioner_wait_for_change(const struct corral_partitioner *partitioner, int32_t from, int64_t timeout_ms, int32_t *out);

/**
 * This member's share (sorted), as a new list: the items held while
 * `CORRAL_PARTITION_ACQUIRED`, still listed during
 * `CORRAL_PARTITION_RELEASE` until released; else empty.
 *
 * # Safety
 *
 * `partitioner` is NULL or live; `out` is writable.
 */
corral_result corral_partitioner_partitions(const struct corral_partitioner *partitioner, struct corral_strings **out);

/**
 * Gives the share up (its locks) and starts allocating again; what a
 * member does on `CORRAL_PARTITION_RELEASE`.
 *
 * # Safety
 *
 * `partitioner` is NULL or live.
 */
corral_result corral_partitioner_release_set(const struct corral_partitioner *partitioner);

/**
 * Releases the share and leaves the party. Later calls on the handle
 * return `CORRAL_CLOSED_HANDLE` (finishing twice too); it must still be freed.
 *
 * # Safety
 *
 * `partitioner` is NULL or live.
 */
corral_result corral_partitioner_finish(const struct corral_partitioner *partitioner);

/**
 * Finishes if not finished yet and frees the handle; NULL does nothing.
 *
 * # Safety
 *
 * `partitioner` is NULL or not yet freed, used by no other thread now.
 */
void corral_partitioner_free(struct corral_partitioner *partitioner);

/**
 * Starts keeping a node at `path` in `mode` (usually `CORRAL_EPHEMERAL`;
 * the TTL modes are refused) holding `data`. With `protected`, its name
 * gets Curator's `_c_<uuid>-` prefix (a create whose reply was lost is
 * found again); sequential and protected nodes get a new name each time
 * they are made (`corral_persistent_node_path`).
 *
 * ```c
 * corral_persistent_node *me = NULL;
 * corral_persistent_node_start(zk, "/app/members/host-a", CORRAL_EPHEMERAL, (const uint8_t *)"up", 2, false, &me);
 * corral_persistent_node_wait_created(me, 5000);
 * // ... the node is there for as long as this process keeps `me` ...
 * corral_persistent_node_free(me);   // stops and deletes it
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `data` has
 * `data_len` readable bytes; `out` is writable.
 */
corral_result corral_persistent_node_start(const struct corral_client *zk, const char *path, int32_t mode, const uint8_t *data, size_t data_len, bool protected_, struct corral_persistent_node **out);

/**
 * Waits up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) for the node's first
 * create: `CORRAL_OK` once it was made, else `CORRAL_TIMEOUT`.
 *
 * # Safety
 *
 * `node` is NULL or live.
 */
corral_result corral_persistent_node_wait_created(const struct corral_persistent_node *node, int64_t timeout_ms);

/**
 * The node's actual path, NUL-terminated, into `buf` (`cap` bytes; `*len`
 * gets its length); `CORRAL_NO_NODE` before it was first made.
 *
 * # Safety
 *
 * `node` is NULL or live; `buf` has `cap` writable bytes; `len` is writable.
 */
corral_result corral_persistent_node_path(const struct corral_persistent_node *node, char *buf, size_t cap, size_t *len);

/**
 * The data the node holds (or will hold once made) into `buf` (`cap`
 * bytes, `*len` its length; not NUL-terminated).
 *
 * # Safety
 *
 * `node` is NULL or live; `buf` has `cap` writable bytes; `len` is writable.
 */
corral_result corral_persistent_node_data(const struct corral_persistent_node *node, uint8_t *buf, size_t cap, size_t *len);

/**
 * Changes the node's data: now if it exists, else when it is made (and
 * again whenever someone overwrites it). Fails only when the server
 * refuses the write (`CORRAL_NO_AUTH`).
 *
 * # Safety
 *
 * `node` is NULL or live; `data` has `data_len` readable bytes.
 */
corral_result corral_persistent_node_set_data(const struct corral_persistent_node *node, const uint8_t *data, size_t data_len);

/**
 * Stops keeping the node and deletes it. Later calls on the handle return
 * `CORRAL_CLOSED_HANDLE` (closing twice too); it must still be freed.
 *
 * # Safety
 *
 * `node` is NULL or live.
 */
corral_result corral_persistent_node_close(const struct corral_persistent_node *node);

/**
 * Closes the node if still open (it is deleted) and frees the handle; NULL
 * does nothing.
 *
 * # Safety
 *
 * `node` is NULL or not yet freed, used by no other thread now.
 */
void corral_persistent_node_free(struct corral_persistent_node *node);

/**
 * A priority queue at `path` (kazoo's `PriorityQueue` layout, the same as
 * `corral_queue`'s: the two share items).
 *
 * ```c
 * corral_priority_queue *q = NULL;
 * corral_priority_queue_new(zk, "/tasks", &q);
 * corral_priority_queue_put(q, (const uint8_t *)"routine", 7, 500);
 * corral_priority_queue_put(q, (const uint8_t *)"urgent", 6, 1);
 * corral_bytes *next = NULL;
 * corral_priority_queue_take(q, 0, &next);   // "urgent"
 * corral_bytes_free(next);
 * corral_priority_queue_free(q);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
 */
corral_result corral_priority_queue_new(const struct corral_client *zk, const char *path, struct corral_priority_queue **out);

/**
 * Adds an item with `priority` (0 to `CORRAL_QUEUE_PRIORITY_MAX`, else
 * `CORRAL_INVALID_ARGUMENT`).
 *
 * # Safety
 *
 * `queue` is NULL or live; `item` has `item_len` readable bytes.
 */
corral_result corral_priority_queue_put(const struct corral_priority_queue *queue, const uint8_t *item, size_t item_len, int32_t priority);

/**
 * Adds `count` items (`items[i]` of `lens[i]` bytes) with one priority,
 * atomically: all of them or none.
 *
 * ```c
 * const uint8_t *items[] = {(const uint8_t *)"a", (const uint8_t *)"bc"};
 * size_t lens[] = {1, 2};
 * corral_priority_queue_put_all(q, items, lens, 2, CORRAL_QUEUE_DEFAULT_PRIORITY);
 * ```
 *
 * # Safety
 *
 * `queue` is NULL or live; `items` and `lens` point to `count` entries.
 */
corral_result corral_priority_queue_put_all(const struct corral_priority_queue *queue, const uint8_t *const *items, const size_t *lens, size_t count, int32_t priority);

/**
 * Takes the most urgent item, waiting up to `timeout_ms` (0: only if one is
 * there; `CORRAL_WAIT_FOREVER`): `CORRAL_OK` with it as a new
 * `corral_bytes`, or `CORRAL_TIMEOUT`.
 *
 * # Safety
 *
 * `queue` is NULL or live; `out` is writable.
 */
corral_result corral_priority_queue_take(const struct corral_priority_queue *queue, int64_t timeout_ms, struct corral_bytes **out);

/**
 * The number of queued items.
 *
 * # Safety
 *
 * `queue` is NULL or live; `out` is writable.
 */
corral_result corral_priority_queue_len(const struct corral_priority_queue *queue, size_t *out);

/**
 * Frees a priority queue handle (the items stay); NULL does nothing.
 *
 * # Safety
 *
 * `queue` is NULL or not yet freed.
 */
void corral_priority_queue_free(struct corral_priority_queue *queue);

/**
 * A locking queue at `path` (kazoo's `LockingQueue` layout: items under
 * `<path>/entries`, each taken item's ephemeral lock under `<path>/taken`).
 * A consumer whose session ends before it consumes its item gives it back.
 *
 * ```c
 * corral_locking_queue *q = NULL;
 * corral_locking_queue_new(zk, "/work", &q);
 * corral_bytes *job = NULL;
 * if (corral_locking_queue_get(q, 5000, &job) == CORRAL_OK) {
 *     if (process(corral_bytes_data(job), corral_bytes_len(job))) corral_locking_queue_consume(q);
 *     else corral_locking_queue_release(q);   // for another consumer
 *     corral_bytes_free(job);
 * }
 * corral_locking_queue_free(q);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
 */
corral_result corral_locking_queue_new(const struct corral_client *zk, const char *path, struct corral_locking_queue **out);

/**
 * Adds an item with `priority` (0 to `CORRAL_QUEUE_PRIORITY_MAX`, lower first).
 *
 * # Safety
 *
 * `queue` is NULL or live; `item` has `item_len` readable bytes.
 */
corral_result corral_locking_queue_put(const struct corral_locking_queue *queue, const uint8_t *item, size_t item_len, int32_t priority);

/**
 * Adds `count` items with one priority, atomically (as
 * `corral_priority_queue_put_all`).
 *
 * # Safety
 *
 * `queue` is NULL or live; `items` and `lens` point to `count` entries.
 */
corral_result corral_locking_queue_put_all(const struct corral_locking_queue *queue, const uint8_t *const *items, const size_t *lens, size_t count, int32_t priority);

/**
 * Locks the next available item and returns it as a new `corral_bytes`,
 * waiting up to `timeout_ms` (`CORRAL_WAIT_FOREVER`); `CORRAL_TIMEOUT` when
 * none came. While an item is held (not consumed or released), returns that
 * item again.
 *
 * # Safety
 *
 * `queue` is NULL or live; `out` is writable.
 */
corral_result corral_locking_queue_get(const struct corral_locking_queue *queue, int64_t timeout_ms, struct corral_bytes **out);

/**
 * Whether this consumer still holds the lock of its item (false when it
 * has none, or its session lost it).
 *
 * # Safety
 *
 * `queue` is NULL or live; `out` is writable.
 */
corral_result corral_locking_queue_holds_lock(const struct corral_locking_queue *queue, bool *out);

/**
 * Removes the held item from the queue: `CORRAL_OK`, or `CORRAL_NOT_HELD`
 * when there is none or its lock was lost (the item may go to another
 * consumer; it is forgotten here).
 *
 * # Safety
 *
 * `queue` is NULL or live.
 */
corral_result corral_locking_queue_consume(const struct corral_locking_queue *queue);

/**
 * Unlocks the held item without consuming it, for another consumer:
 * `CORRAL_OK`, or `CORRAL_NOT_HELD` when there is none or its lock was lost.
 *
 * # Safety
 *
 * `queue` is NULL or live.
 */
corral_result corral_locking_queue_release(const struct corral_locking_queue *queue);

/**
 * The number of items, locked ones included.
 *
 * # Safety
 *
 * `queue` is NULL or live; `out` is writable.
 */
corral_result corral_locking_queue_len(const struct corral_locking_queue *queue, size_t *out);

/**
 * Frees a locking queue handle; NULL does nothing. A held item stays
 * locked until this session ends (then another consumer gets it).
 *
 * # Safety
 *
 * `queue` is NULL or not yet freed.
 */
void corral_locking_queue_free(struct corral_locking_queue *queue);

/**
 * A lock at `path` for this client. With `kazoo_identifier` NULL its
 * nodes follow Curator's `InterProcessMutex` (`_c_<uuid>-lock-<seq>`), so
 * it excludes Curator processes on the same path; otherwise kazoo's `Lock`
 * (`<uuid>__lock__<seq>` holding the identifier), to share a path with
 * kazoo processes. Each contender node is ephemeral and sequential; the
 * lowest holds the lock, the others wait in line.
 *
 * ```c
 * corral_lock *lock = NULL;
 * corral_lock_new(zk, "/locks/report", NULL, &lock);
 * if (corral_lock_acquire(lock, 5000) == CORRAL_OK) {
 *     int64_t token = 0;
 *     corral_lock_fencing_token(lock, &token);  // send it with every write to the guarded resource
 *     corral_lock_release(lock);
 * }
 * corral_lock_free(lock);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `kazoo_identifier`
 * is NULL or one; `out` is writable.
 */
corral_result corral_lock_new(const struct corral_client *zk, const char *path, const char *kazoo_identifier, struct corral_lock **out);

/**
 * Waits up to `timeout_ms` (0: only try; `CORRAL_WAIT_FOREVER`) for the
 * lock: `CORRAL_OK` once held (acquiring a held lock again nests), or
 * `CORRAL_TIMEOUT` (this contender's node is removed).
 *
 * # Safety
 *
 * `lock` is NULL or live.
 */
corral_result corral_lock_acquire(const struct corral_lock *lock, int64_t timeout_ms);

/**
 * Releases one hold; the last release deletes the node and lets the next
 * contender in. `CORRAL_NOT_HELD` when not held.
 *
 * # Safety
 *
 * `lock` is NULL or live.
 */
corral_result corral_lock_release(const struct corral_lock *lock);

/**
 * Whether this handle holds the lock now (false while the connection is
 * down: ownership is unknown then).
 *
 * # Safety
 *
 * `lock` is NULL or live.
 */
bool corral_lock_is_held(const struct corral_lock *lock);

/**
 * The fencing token of the current hold: the zxid that created the lock
 * node, strictly larger for every later holder. `CORRAL_NOT_HELD` when not held.
 *
 * # Safety
 *
 * `lock` is NULL or live; `out` is writable.
 */
corral_result corral_lock_fencing_token(const struct corral_lock *lock, int64_t *out);

/**
 * Releases the lock if held (its node goes) and frees the handle; NULL does nothing.
 *
 * # Safety
 *
 * `lock` is NULL or a handle not yet freed, used by no other thread now.
 */
void corral_lock_free(struct corral_lock *lock);

/**
 * Joins the leader latch at `path` as participant `id` (stored in its
 * node, as Curator's `LeaderLatch` does) and starts following it.
 *
 * ```c
 * corral_latch *latch = NULL;
 * corral_latch_start(zk, "/election/scheduler", "host-a", &latch);
 * if (corral_latch_await(latch, CORRAL_WAIT_FOREVER) == CORRAL_OK) {
 *     // lead, checking corral_latch_has_leadership(latch) between steps
 * }
 * corral_latch_free(latch);   // leaves the latch: the next participant leads
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` and `id` are NUL-terminated strings; `out` is writable.
 */
corral_result corral_latch_start(const struct corral_client *zk, const char *path, const char *id, struct corral_latch **out);

/**
 * Waits up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) to lead: `CORRAL_OK`
 * once leading, `CORRAL_TIMEOUT` otherwise.
 *
 * # Safety
 *
 * `latch` is NULL or live.
 */
corral_result corral_latch_await(const struct corral_latch *latch, int64_t timeout_ms);

/**
 * Whether this participant leads now (false for NULL).
 *
 * # Safety
 *
 * `latch` is NULL or live.
 */
bool corral_latch_has_leadership(const struct corral_latch *latch);

/**
 * The id of the participant that leads now, NUL-terminated, into `buf`
 * (`cap` bytes; `*len` gets its length). `CORRAL_NO_NODE` when no one leads.
 *
 * # Safety
 *
 * `latch` is NULL or live; `buf` has `cap` writable bytes; `len` is writable.
 */
corral_result corral_latch_leader(const struct corral_latch *latch, char *buf, size_t cap, size_t *len);

/**
 * Leaves the latch (its node goes; the next participant leads) and frees
 * the handle; NULL does nothing.
 *
 * # Safety
 *
 * `latch` is NULL or a handle not yet freed, used by no other thread now.
 */
void corral_latch_free(struct corral_latch *latch);

/**
 * A read-write lock at `path` for this client.
 *
 * ```c
 * corral_rwlock *rw = NULL;
 * corral_rwlock_new(zk, "/locks/catalog", &rw);
 * if (corral_rwlock_acquire(rw, false, 5000) == CORRAL_OK) {   // shared
 *     // read the catalog
 *     corral_rwlock_release(rw, false);
 * }
 * corral_rwlock_free(rw);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `out` is writable.
 */
corral_result corral_rwlock_new(const struct corral_client *zk, const char *path, struct corral_rwlock **out);

/**
 * A read-write lock at `path` in the given layout (`CORRAL_LAYOUT_CURATOR`
 * or `CORRAL_LAYOUT_KAZOO`; any other value is `CORRAL_INVALID_ARGUMENT`),
 * its nodes holding `identifier` (NULL: empty; kazoo lists it as the
 * contender). Every process sharing the path must use the same layout.
 *
 * ```c
 * corral_rwlock *rw = NULL;
 * corral_rwlock_new_layout(zk, "/locks/catalog", CORRAL_LAYOUT_KAZOO, "host-a", &rw);  // kazoo's ReadLock/WriteLock
 * corral_rwlock_free(rw);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `path` is a NUL-terminated string; `identifier` is
 * NULL or one; `out` is writable.
 */
corral_result corral_rwlock_new_layout(const struct corral_client *zk, const char *path, int32_t layout, const char *identifier, struct corral_rwlock **out);

/**
 * Waits up to `timeout_ms` (0: only try; `CORRAL_WAIT_FOREVER`) for the
 * write side (`write`) or the read side: `CORRAL_OK` or `CORRAL_TIMEOUT`.
 * The holder of the write side may also take the read side; a holder of
 * only the read side asking for the write side gets `CORRAL_BAD_ARGUMENTS`
 * (it would wait for itself), as in Curator.
 *
 * # Safety
 *
 * `rwlock` is NULL or live.
 */
corral_result corral_rwlock_acquire(const struct corral_rwlock *rwlock, bool write, int64_t timeout_ms);

/**
 * Releases one hold of a side (`CORRAL_NOT_HELD` when not held).
 *
 * # Safety
 *
 * `rwlock` is NULL or live.
 */
corral_result corral_rwlock_release(const struct corral_rwlock *rwlock, bool write);

/**
 * Whether this handle holds a side now (false for NULL).
 *
 * # Safety
 *
 * `rwlock` is NULL or live.
 */
bool corral_rwlock_is_held(const struct corral_rwlock *rwlock, bool write);

/**
 * Releases both sides if held and frees the handle; NULL does nothing.
 *
 * # Safety
 *
 * `rwlock` is NULL or not yet freed, used by no other thread now.
 */
void corral_rwlock_free(struct corral_rwlock *rwlock);

/**
 * The message for `code` as a static NUL-terminated string (never NULL;
 * "unknown result code" for a number no function returns).
 *
 * ```c
 * printf("%s\n", corral_result_message(CORRAL_NO_NODE)); // no node
 * ```
 */
const char *corral_result_message(corral_result code);

/**
 * Makes an empty set of server options (a standalone server on 127.0.0.1,
 * ephemeral port, temporary data directory). Free it with
 * `corral_server_options_free`.
 *
 * ```c
 * corral_server_options *opts = NULL;
 * corral_server_options_new(&opts);
 * corral_server_options_set(opts, "tickTime", "200");
 * corral_server *srv = NULL;
 * corral_result rc = corral_server_start(opts, &srv);
 * corral_server_options_free(opts);
 * ```
 */
corral_result corral_server_options_new(struct corral_server_options **out);

/**
 * Frees options made by `corral_server_options_new`; NULL does nothing.
 *
 * # Safety
 *
 * `opts` is NULL or a handle not yet freed.
 */
void corral_server_options_free(struct corral_server_options *opts);

/**
 * Sets a `zoo.cfg` key (`tickTime`, `maxClientCnxns`, ...); later calls win.
 *
 * # Safety
 *
 * `opts` is a live handle; `key` and `value` are NUL-terminated strings.
 */
corral_result corral_server_options_set(struct corral_server_options *opts, const char *key, const char *value);

/**
 * Starts from this `zoo.cfg` file instead of the loopback defaults.
 *
 * # Safety
 *
 * `opts` is a live handle; `path` is a NUL-terminated string.
 */
corral_result corral_server_options_config_file(struct corral_server_options *opts, const char *path);

/**
 * Keeps the data in `dir` (durable; not removed on free).
 *
 * # Safety
 *
 * `opts` is a live handle; `dir` is a NUL-terminated string.
 */
corral_result corral_server_options_data_dir(struct corral_server_options *opts, const char *dir);

/**
 * Listens on this client port (0: an ephemeral one).
 *
 * # Safety
 *
 * `opts` is a live handle.
 */
corral_result corral_server_options_client_port(struct corral_server_options *opts, uint16_t port);

/**
 * This member's id in an ensemble (`myid`).
 *
 * # Safety
 *
 * `opts` is a live handle.
 */
corral_result corral_server_options_server_id(struct corral_server_options *opts, uint64_t id);

/**
 * A member of the ensemble (this one included), as the value of its
 * `server.N` line: `host:peerPort:electionPort[:observer][;[host:]clientPort]`.
 *
 * # Safety
 *
 * `opts` is a live handle; `spec` is a NUL-terminated string.
 */
corral_result corral_server_options_peer(struct corral_server_options *opts, uint64_t id, const char *spec);

/**
 * Starts an embedded server; `opts` may be NULL (standalone, 127.0.0.1,
 * ephemeral port, temporary data directory removed on free). The options
 * are not consumed. Blocks until it serves.
 *
 * ```c
 * corral_server *srv = NULL;
 * if (corral_server_start(NULL, &srv) != CORRAL_OK) return 1;
 * printf("%s\n", corral_server_connect_string(srv)); // 127.0.0.1:40123
 * corral_server_free(srv);
 * ```
 *
 * # Safety
 *
 * `opts` is NULL or a live handle; `out` is writable.
 */
corral_result corral_server_start(const struct corral_server_options *opts, struct corral_server **out);

/**
 * The connect string clients use (`127.0.0.1:<port>`), owned by the server
 * and valid until `corral_server_free`; NULL for a NULL handle.
 *
 * # Safety
 *
 * `srv` is NULL or a live handle.
 */
const char *corral_server_connect_string(const struct corral_server *srv);

/**
 * The client port (the same after a stop and serve); 0 for a NULL handle.
 *
 * # Safety
 *
 * `srv` is NULL or a live handle.
 */
uint16_t corral_server_port(const struct corral_server *srv);

/**
 * Stops serving: clients are disconnected; the data, the sessions and the
 * port stay for `corral_server_serve`.
 *
 * # Safety
 *
 * `srv` is NULL or a live handle.
 */
corral_result corral_server_stop(const struct corral_server *srv);

/**
 * Serves again after `corral_server_stop`, on the same port with the same
 * data (clients resume their sessions); does nothing while serving.
 *
 * # Safety
 *
 * `srv` is NULL or a live handle.
 */
corral_result corral_server_serve(const struct corral_server *srv);

/**
 * Stops and serves again (same port, same data).
 *
 * # Safety
 *
 * `srv` is NULL or a live handle.
 */
corral_result corral_server_restart(const struct corral_server *srv);

/**
 * Whether the server serves now (false for NULL).
 *
 * # Safety
 *
 * `srv` is NULL or a live handle.
 */
bool corral_server_is_running(const struct corral_server *srv);

/**
 * Stops the server, removes its temporary data directory (if it made one)
 * and frees the handle; NULL does nothing.
 *
 * # Safety
 *
 * `srv` is NULL or a handle not yet freed, used by no other thread now.
 */
void corral_server_free(struct corral_server *srv);

/**
 * How many strings the list holds (0 for NULL).
 *
 * # Safety
 *
 * `list` is NULL or a live list.
 */
size_t corral_strings_len(const struct corral_strings *list);

/**
 * The string at `index`, owned by the list (valid until
 * `corral_strings_free`); NULL for a NULL list or an index out of range.
 *
 * ```c
 * for (size_t i = 0; i < corral_strings_len(kids); i++) puts(corral_strings_get(kids, i));
 * ```
 *
 * # Safety
 *
 * `list` is NULL or a live list.
 */
const char *corral_strings_get(const struct corral_strings *list, size_t index);

/**
 * Frees a list; NULL does nothing.
 *
 * # Safety
 *
 * `list` is NULL or a list not yet freed.
 */
void corral_strings_free(struct corral_strings *list);

/**
 * Starts a transaction on `zk`'s session.
 *
 * ```c
 * corral_txn *t = NULL;
 * corral_txn_new(zk, &t);
 * corral_txn_check(t, "/config", 4);
 * corral_txn_set(t, "/config", data, len, 4);
 * corral_txn_create(t, "/config/history-", data, len, CORRAL_PERSISTENT_SEQUENTIAL);
 * corral_txn_results *r = NULL;
 * if (corral_txn_commit(t, &r) == CORRAL_OK) puts(corral_txn_results_path(r, 2));
 * corral_txn_results_free(r);
 * corral_txn_free(t);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or live; `out` is writable.
 */
corral_result corral_txn_new(const struct corral_client *zk, struct corral_txn **out);

/**
 * Adds a create (every mode but the TTL ones; the open ACL).
 *
 * # Safety
 *
 * `txn` is NULL or live; `path` is a NUL-terminated string; `data` has `data_len` readable bytes.
 */
corral_result corral_txn_create(const struct corral_txn *txn, const char *path, const uint8_t *data, size_t data_len, int32_t mode);

/**
 * Adds a delete (`version` -1: any).
 *
 * # Safety
 *
 * `txn` is NULL or live; `path` is a NUL-terminated string.
 */
corral_result corral_txn_delete(const struct corral_txn *txn, const char *path, int32_t version);

/**
 * Adds a set-data (`version` -1: any).
 *
 * # Safety
 *
 * `txn` is NULL or live; `path` is a NUL-terminated string; `data` has `data_len` readable bytes.
 */
corral_result corral_txn_set(const struct corral_txn *txn, const char *path, const uint8_t *data, size_t data_len, int32_t version);

/**
 * Adds a version check (`version` -1: the node must only exist).
 *
 * # Safety
 *
 * `txn` is NULL or live; `path` is a NUL-terminated string.
 */
corral_result corral_txn_check(const struct corral_txn *txn, const char *path, int32_t version);

/**
 * Applies the collected sub-ops atomically (all under one zxid, or none)
 * and empties the transaction. Returns `CORRAL_OK`, or the code of the
 * first failing sub-op; in both cases `*out` gets every sub-op's result
 * (as the ZooKeeper C client's `zoo_multi` fills its results): on failure
 * the sub-ops before the failing one say `CORRAL_OK`, the ones after it
 * `CORRAL_RUNTIME_INCONSISTENCY`, and nothing was applied. A transaction
 * that never reached the server (connection loss) writes nothing.
 *
 * # Safety
 *
 * `txn` is NULL or live; `out` is writable.
 */
corral_result corral_txn_commit(const struct corral_txn *txn, struct corral_txn_results **out);

/**
 * Frees a transaction (its uncommitted sub-ops are dropped); NULL does nothing.
 *
 * # Safety
 *
 * `txn` is NULL or not yet freed.
 */
void corral_txn_free(struct corral_txn *txn);

/**
 * How many sub-op results there are (0 for NULL).
 *
 * # Safety
 *
 * `results` is NULL or live.
 */
size_t corral_txn_results_len(const struct corral_txn_results *results);

/**
 * Sub-op `index`'s code (`CORRAL_INVALID_ARGUMENT` past the end, or for NULL).
 *
 * # Safety
 *
 * `results` is NULL or live.
 */
corral_result corral_txn_results_code(const struct corral_txn_results *results, size_t index);

/**
 * The path a create sub-op made (owned by the results), else NULL.
 *
 * # Safety
 *
 * `results` is NULL or live.
 */
const char *corral_txn_results_path(const struct corral_txn_results *results, size_t index);

/**
 * The stat a set-data (or create) sub-op returned into `out`;
 * `CORRAL_NO_NODE` when that sub-op has none.
 *
 * # Safety
 *
 * `results` is NULL or live; `out` is writable.
 */
corral_result corral_txn_results_stat(const struct corral_txn_results *results, size_t index, struct corral_stat *out);

/**
 * Frees results; NULL does nothing.
 *
 * # Safety
 *
 * `results` is NULL or not yet freed.
 */
void corral_txn_results_free(struct corral_txn_results *results);

/**
 * `corral_client_exists` that also sets a watch: `callback` runs once, when
 * the node is created, deleted or changed (or the session ends). The watch
 * is set when the call returns `CORRAL_OK` or `CORRAL_NO_NODE`.
 *
 * ```c
 * static void on_event(const corral_watched_event *ev, void *ud) {
 *     printf("event %d on %s\n", ev->type, ev->path);
 * }
 * corral_client_exists_watch(zk, "/config", NULL, on_event, NULL);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `path` is a NUL-terminated string; `stat`
 * is NULL or writable; `userdata` stays valid until the callback has run.
 */
corral_result corral_client_exists_watch(const struct corral_client *zk, const char *path, struct corral_stat *stat, corral_watch_fn callback, void *userdata);

/**
 * `corral_client_get` that also sets a watch: `callback` runs once, when
 * the node's data changes or it is deleted (or the session ends). The watch
 * is set when the call returns `CORRAL_OK` or `CORRAL_BUFFER_TOO_SMALL`.
 *
 * # Safety
 *
 * As `corral_client_get`; `userdata` stays valid until the callback has run.
 */
corral_result corral_client_get_watch(const struct corral_client *zk, const char *path, uint8_t *buf, size_t cap, size_t *len, struct corral_stat *stat, corral_watch_fn callback, void *userdata);

/**
 * `corral_client_get_children` that also sets a watch: `callback` runs
 * once, when a child is added or removed or the node is deleted (or the
 * session ends). The watch is set when the call returns `CORRAL_OK`.
 *
 * # Safety
 *
 * As `corral_client_get_children`; `userdata` stays valid until the callback has run.
 */
corral_result corral_client_get_children_watch(const struct corral_client *zk, const char *path, struct corral_strings **out, struct corral_stat *stat, corral_watch_fn callback, void *userdata);

/**
 * Adds a persistent watch on `path` (every change of the node; with
 * `recursive`, of the node and every descendant, without child-list
 * events), ZooKeeper 3.6's addWatch. `callback` runs for every event, in
 * order, until `corral_watch_free` or a last event with state
 * `CORRAL_EVENT_STATE_EXPIRED` or `CORRAL_EVENT_STATE_CLOSED`.
 *
 * ```c
 * corral_watch *w = NULL;
 * corral_client_add_watch(zk, "/services", true, on_event, NULL, &w);
 * // ... events arrive on the dispatch thread ...
 * corral_watch_free(w);
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `path` is a NUL-terminated string; `out`
 * is writable; `userdata` stays valid until the watch is freed or ended.
 */
corral_result corral_client_add_watch(const struct corral_client *zk, const char *path, bool recursive, corral_watch_fn callback, void *userdata, struct corral_watch **out);

/**
 * Stops a persistent watch's callbacks and frees it; NULL does nothing.
 * Once it returns no new callback starts (one already running on the
 * dispatch thread finishes; from inside the callback itself, none follows).
 *
 * # Safety
 *
 * `watch` is NULL or a handle not yet freed.
 */
void corral_watch_free(struct corral_watch *watch);

/**
 * Removes this client's watches of `watcher_type` (`CORRAL_WATCHER_*`;
 * `CORRAL_WATCHER_ANY`: all of them) on `path`, on the server and here
 * (ZooKeeper 3.5's removeWatches). Each removed watch's callback runs once
 * more, with `CORRAL_EVENT_DATA_WATCH_REMOVED`,
 * `CORRAL_EVENT_CHILD_WATCH_REMOVED` or `CORRAL_EVENT_PERSISTENT_WATCH_REMOVED`
 * (a persistent watch then ends; still free its handle).
 * `CORRAL_NO_WATCHER` when there was no such watch.
 *
 * ```c
 * corral_client_exists_watch(zk, "/config", NULL, on_event, NULL);
 * corral_client_remove_watches(zk, "/config", CORRAL_WATCHER_ANY);   // on_event gets DATA_WATCH_REMOVED
 * ```
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `path` is a NUL-terminated string.
 */
corral_result corral_client_remove_watches(const struct corral_client *zk, const char *path, int32_t watcher_type);

/**
 * The client's state now (`CORRAL_STATE_*`).
 *
 * # Safety
 *
 * `zk` is NULL or a live handle; `out` is writable.
 */
corral_result corral_client_state(const struct corral_client *zk, int32_t *out);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* CORRAL_H */
