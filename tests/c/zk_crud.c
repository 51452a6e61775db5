/*
 * The Apache ZooKeeper C client (libzookeeper_mt, synchronous API) against a server.
 *
 *   zk_crud HOST:PORT /base-path
 *
 * Connects, then exercises create/create2/get/set/exists/get_children/delete, their
 * error codes (ZNONODE, ZNODEEXISTS, ZBADVERSION, ZNOTEMPTY, ZNOAUTH), sequential and
 * ephemeral nodes, a data watch, multi, containers, TTL nodes and digest auth, and
 * closes the session. /base-path must not exist yet. Prints one line per check and
 * finally "N passed, N failed"; exits non-zero if any check failed.
 *
 * Build: gcc -DTHREADED -o zk_crud zk_crud.c -lzookeeper_mt
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

static int passed, failed;

static void check(int ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s - ", ok ? "ok" : "not ok");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (ok)
        passed++;
    else
        failed++;
}

static void check_rc(int rc, int want, const char *what) {
    check(rc == want, "%s: rc %d (%s), want %d (%s)", what, rc, zerror(rc), want, zerror(want));
}

/* ---- events: a tiny queue filled by the watcher thread ------------------------- */

struct event {
    int type;
    int state;
    char path[512];
};

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cond = PTHREAD_COND_INITIALIZER;
static struct event events[64];
static int event_count;
static int connected;

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    (void)zh;
    (void)ctx;
    pthread_mutex_lock(&ev_lock);
    if (type == ZOO_SESSION_EVENT) {
        connected = (state == ZOO_CONNECTED_STATE);
    } else if (event_count < 64) {
        events[event_count].type = type;
        events[event_count].state = state;
        snprintf(events[event_count].path, sizeof events[event_count].path, "%s", path ? path : "");
        event_count++;
    }
    pthread_cond_broadcast(&ev_cond);
    pthread_mutex_unlock(&ev_lock);
}

static void deadline_in(struct timespec *ts, int ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static int wait_connected(int ms) {
    struct timespec ts;
    deadline_in(&ts, ms);
    pthread_mutex_lock(&ev_lock);
    while (!connected) {
        if (pthread_cond_timedwait(&ev_cond, &ev_lock, &ts) == ETIMEDOUT)
            break;
    }
    int ok = connected;
    pthread_mutex_unlock(&ev_lock);
    return ok;
}

static int wait_events(int n, int ms) {
    struct timespec ts;
    deadline_in(&ts, ms);
    pthread_mutex_lock(&ev_lock);
    while (event_count < n) {
        if (pthread_cond_timedwait(&ev_cond, &ev_lock, &ts) == ETIMEDOUT)
            break;
    }
    int got = event_count;
    pthread_mutex_unlock(&ev_lock);
    return got;
}

static zhandle_t *connect_to(const char *hosts) {
    zhandle_t *zh = zookeeper_init(hosts, watcher, 4000, NULL, NULL, 0);
    if (!zh)
        return NULL;
    if (!wait_connected(15000)) {
        zookeeper_close(zh);
        return NULL;
    }
    return zh;
}

static int ends_with_seq(const char *path, const char *prefix) {
    size_t plen = strlen(prefix);
    if (strncmp(path, prefix, plen) != 0 || strlen(path) != plen + 10)
        return 0;
    for (size_t i = plen; i < plen + 10; i++)
        if (path[i] < '0' || path[i] > '9')
            return 0;
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s HOST:PORT /base-path\n", argv[0]);
        return 2;
    }
    const char *hosts = argv[1];
    const char *base = argv[2];
    char path[512], buf[1024], out[512];
    int len, rc;
    struct Stat st;

    zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);

    zhandle_t *zh = connect_to(hosts);
    check(zh != NULL, "connect to %s", hosts);
    if (!zh) {
        printf("%d passed, %d failed\n", passed, failed);
        return 1;
    }
    const clientid_t *cid = zoo_client_id(zh);
    int64_t session = cid->client_id;
    check(session != 0, "session id 0x%llx", (long long)session);
    check(zoo_recv_timeout(zh) == 4000, "negotiated timeout %d", zoo_recv_timeout(zh));

    /* create / create2 */
    rc = zoo_create(zh, base, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, out, sizeof out);
    check_rc(rc, ZOK, "create base");
    check(strcmp(out, base) == 0, "create returns the path (%s)", out);

    snprintf(path, sizeof path, "%s/node", base);
    rc = zoo_create2(zh, path, "hello", 5, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, out, sizeof out, &st);
    check_rc(rc, ZOK, "create2 node");
    check(strcmp(out, path) == 0, "create2 returns the path");
    check(st.czxid > 0 && st.mzxid == st.czxid && st.pzxid == st.czxid, "create2 stat zxids");
    check(st.version == 0 && st.cversion == 0 && st.aversion == 0, "create2 stat versions");
    check(st.dataLength == 5 && st.numChildren == 0 && st.ephemeralOwner == 0, "create2 stat sizes/owner");
    check(st.ctime == st.mtime && st.ctime > 1600000000000LL, "create2 stat times");
    int64_t node_czxid = st.czxid;

    rc = zoo_create(zh, path, "again", 5, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
    check_rc(rc, ZNODEEXISTS, "create existing node");
    snprintf(buf, sizeof buf, "%s/missing/child", base);
    rc = zoo_create(zh, buf, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
    check_rc(rc, ZNONODE, "create under missing parent");

    /* get / set / exists */
    len = sizeof buf;
    rc = zoo_get(zh, path, 0, buf, &len, &st);
    check_rc(rc, ZOK, "get node");
    check(len == 5 && memcmp(buf, "hello", 5) == 0, "get returns the data (len %d)", len);
    check(st.version == 0 && st.czxid == node_czxid, "get stat");

    rc = zoo_set(zh, path, "world", 5, 5);
    check_rc(rc, ZBADVERSION, "set with wrong version");
    rc = zoo_set(zh, path, "world", 5, 0);
    check_rc(rc, ZOK, "set with right version");
    rc = zoo_set2(zh, path, "again!", 6, -1, &st);
    check_rc(rc, ZOK, "set2 unconditional");
    check(st.version == 2 && st.dataLength == 6 && st.mzxid > node_czxid && st.czxid == node_czxid,
          "set2 stat (version %d)", st.version);

    rc = zoo_exists(zh, path, 0, &st);
    check_rc(rc, ZOK, "exists node");
    check(st.version == 2 && st.dataLength == 6, "exists stat");
    snprintf(buf, sizeof buf, "%s/nope", base);
    rc = zoo_exists(zh, buf, 0, &st);
    check_rc(rc, ZNONODE, "exists missing node");
    len = sizeof buf;
    rc = zoo_get(zh, "/no/such/node", 0, buf, &len, &st);
    check_rc(rc, ZNONODE, "get missing node");

    /* sequential ephemeral + children */
    snprintf(buf, sizeof buf, "%s/seq-", base);
    rc = zoo_create(zh, buf, "e", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL_SEQUENTIAL, out, sizeof out);
    check_rc(rc, ZOK, "create ephemeral sequential");
    check(ends_with_seq(out, buf), "sequential name %s has a 10-digit suffix", out);
    check(strcmp(out + strlen(buf), "0000000001") == 0, "sequence counts earlier child creates (%s)", out);
    char eph[512];
    snprintf(eph, sizeof eph, "%s", out);
    rc = zoo_exists(zh, eph, 0, &st);
    check(rc == ZOK && st.ephemeralOwner == session, "ephemeral owner is the session");
    snprintf(buf, sizeof buf, "%s/child", eph);
    rc = zoo_create(zh, buf, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
    check_rc(rc, ZNOCHILDRENFOREPHEMERALS, "child of an ephemeral");

    struct String_vector children;
    rc = zoo_get_children(zh, base, 0, &children);
    check_rc(rc, ZOK, "get_children");
    int saw_node = 0, saw_seq = 0;
    for (int i = 0; i < children.count; i++) {
        if (strcmp(children.data[i], "node") == 0) saw_node = 1;
        if (strcmp(children.data[i], eph + strlen(base) + 1) == 0) saw_seq = 1;
    }
    check(children.count == 2 && saw_node && saw_seq, "children are node and the sequential node");
    deallocate_String_vector(&children);
    rc = zoo_get_children2(zh, base, 0, &children, &st);
    check_rc(rc, ZOK, "get_children2");
    check(children.count == 2 && st.numChildren == 2 && st.cversion == 2, "get_children2 stat");
    deallocate_String_vector(&children);

    /* delete and its errors */
    rc = zoo_delete(zh, base, -1);
    check_rc(rc, ZNOTEMPTY, "delete non-empty node");
    rc = zoo_delete(zh, path, 7);
    check_rc(rc, ZBADVERSION, "delete with wrong version");
    rc = zoo_delete(zh, path, 2);
    check_rc(rc, ZOK, "delete with right version");
    rc = zoo_delete(zh, path, -1);
    check_rc(rc, ZNONODE, "delete missing node");
    len = sizeof buf;
    rc = zoo_get(zh, path, 0, buf, &len, &st);
    check_rc(rc, ZNONODE, "get deleted node");

    /* a data watch fires once, for the session that set it */
    snprintf(path, sizeof path, "%s/watched", base);
    rc = zoo_create(zh, path, "0", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
    check_rc(rc, ZOK, "create watched node");
    len = sizeof buf;
    rc = zoo_get(zh, path, 1, buf, &len, &st);
    check_rc(rc, ZOK, "get with watch");
    rc = zoo_set(zh, path, "1", 1, -1);
    check_rc(rc, ZOK, "set watched node");
    check(wait_events(1, 5000) >= 1, "data watch fired");
    pthread_mutex_lock(&ev_lock);
    check(event_count >= 1 && events[0].type == ZOO_CHANGED_EVENT && strcmp(events[0].path, path) == 0,
          "event is CHANGED for %s (type %d, path %s)", path, events[0].type, events[0].path);
    pthread_mutex_unlock(&ev_lock);
    rc = zoo_set(zh, path, "2", 1, -1);
    check_rc(rc, ZOK, "set again");
    struct timespec pause = {0, 300000000L};
    nanosleep(&pause, NULL);
    check(wait_events(2, 1) == 1, "watch is one-shot");

    /* multi: all or nothing */
    zoo_op_t ops[3];
    zoo_op_result_t results[3];
    char m1[512], m2[512];
    snprintf(m1, sizeof m1, "%s/m1", base);
    snprintf(m2, sizeof m2, "%s/m2", base);
    zoo_create_op_init(&ops[0], m1, "a", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
    zoo_set_op_init(&ops[1], path, "3", 1, 2, NULL);
    zoo_check_op_init(&ops[2], path, 99);
    rc = zoo_multi(zh, 3, ops, results);
    check_rc(rc, ZBADVERSION, "failing multi");
    check(results[2].err == ZBADVERSION, "failing op reports ZBADVERSION (%d)", results[2].err);
    rc = zoo_exists(zh, m1, 0, &st);
    check_rc(rc, ZNONODE, "failed multi created nothing");
    zoo_create_op_init(&ops[0], m1, "a", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
    zoo_create_op_init(&ops[1], m2, "b", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
    zoo_check_op_init(&ops[2], path, 2);
    rc = zoo_multi(zh, 3, ops, results);
    check_rc(rc, ZOK, "multi");
    check(results[0].err == ZOK && results[1].err == ZOK && results[2].err == ZOK, "multi results ok");
    struct Stat st2;
    zoo_exists(zh, m1, 0, &st);
    zoo_exists(zh, m2, 0, &st2);
    check(st.czxid == st2.czxid && st.czxid != 0, "multi ops share one zxid");

    /* container and TTL nodes */
    snprintf(buf, sizeof buf, "%s/container", base);
    rc = zoo_create2(zh, buf, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_CONTAINER, out, sizeof out, &st);
    check_rc(rc, ZOK, "create container");
    check(st.ephemeralOwner == 0, "container owner is 0 on the wire");
    snprintf(buf, sizeof buf, "%s/ttl", base);
    rc = zoo_create2_ttl(zh, buf, "t", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_WITH_TTL, 60000, out,
                         sizeof out, &st);
    check_rc(rc, ZOK, "create TTL node");
    check(st.ephemeralOwner == 0 && st.dataLength == 1, "TTL node stat");
    snprintf(buf, sizeof buf, "%s/ttl-bad", base);
    rc = zoo_create2_ttl(zh, buf, "t", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_WITH_TTL, 0, out,
                         sizeof out, &st);
    check_rc(rc, ZBADARGUMENTS, "TTL 0");

    /* digest auth and ACLs */
    rc = zoo_add_auth(zh, "digest", "alice:secret", 12, NULL, NULL);
    check_rc(rc, ZOK, "add_auth digest");
    snprintf(buf, sizeof buf, "%s/private", base);
    /* CREATOR_ALL_ACL becomes the digest of the creator; the auth packet is ordered
     * before this request on the same connection. */
    rc = zoo_create(zh, buf, "p", 1, &ZOO_CREATOR_ALL_ACL, ZOO_PERSISTENT, NULL, 0);
    check_rc(rc, ZOK, "create with CREATOR_ALL_ACL");
    struct ACL_vector acl;
    rc = zoo_get_acl(zh, buf, &acl, &st);
    check_rc(rc, ZOK, "get_acl");
    check(acl.count == 1 && strcmp(acl.data[0].id.scheme, "digest") == 0 &&
              strcmp(acl.data[0].id.id, "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=") == 0 &&
              acl.data[0].perms == ZOO_PERM_ALL,
          "ACL is alice's digest with all permissions");
    deallocate_ACL_vector(&acl);

    zhandle_t *anon = zookeeper_init(hosts, NULL, 4000, NULL, NULL, 0);
    check(anon != NULL, "second handle");
    if (anon) {
        /* the sync call waits for the connection itself */
        len = sizeof out;
        rc = zoo_get(anon, buf, 0, out, &len, &st);
        check_rc(rc, ZNOAUTH, "unauthenticated get of a private node");
        rc = zoo_exists(anon, eph, 0, &st);
        check(rc == ZOK && st.ephemeralOwner == session, "other session sees the ephemeral");

        /* closing the first session removes its ephemeral */
        rc = zookeeper_close(zh);
        check_rc(rc, ZOK, "close session");
        zh = NULL;
        rc = zoo_exists(anon, eph, 0, &st);
        check_rc(rc, ZNONODE, "ephemeral gone after close");
        len = sizeof out;
        rc = zoo_get(anon, m2, 0, out, &len, &st);
        check(rc == ZOK && len == 1 && out[0] == 'b', "persistent data stays after close");
        zookeeper_close(anon);
    }
    if (zh)
        zookeeper_close(zh);

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
