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
 * A client session.
 */
typedef struct corral_client corral_client;

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
 * An immutable list of NUL-terminated strings.
 */
typedef struct corral_strings corral_strings;

/**
 * The outcome of a call: `CORRAL_OK` (0) or an error code.
 */
typedef int32_t corral_result;

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

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

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

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* CORRAL_H */
