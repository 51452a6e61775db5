/* Watches and session states from C: one-shot watches set by reads,
 * persistent and recursive watches, the state callback, session resume;
 * every callback on the one dispatch thread, which may call the blocking API
 * and free handles. */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>

#define EVENTS_MAX 64

/* What a callback saw, filled on the dispatch thread. */
struct seen {
    pthread_mutex_t mu;
    int count;
    int types[EVENTS_MAX];
    int states[EVENTS_MAX];
    char paths[EVENTS_MAX][128];
    pthread_t thread;
};

static void seen_init(struct seen *s) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
}

static int seen_count(struct seen *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->count;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void on_event(const corral_watched_event *ev, void *userdata) {
    struct seen *s = userdata;
    pthread_mutex_lock(&s->mu);
    if (s->count < EVENTS_MAX) {
        s->types[s->count] = ev->type;
        s->states[s->count] = ev->state;
        snprintf(s->paths[s->count], sizeof s->paths[0], "%s", ev->path);
        s->count++;
    }
    s->thread = pthread_self();
    pthread_mutex_unlock(&s->mu);
}

static void on_state(int32_t state, void *userdata) {
    struct seen *s = userdata;
    pthread_mutex_lock(&s->mu);
    if (s->count < EVENTS_MAX) s->states[s->count++] = state;
    pthread_mutex_unlock(&s->mu);
}

TEST(one_shot_watches_fire_once_on_the_dispatch_thread) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], path[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(path, sizeof path, "%s/w", ns);
    struct seen created, data, kids;
    seen_init(&created);
    seen_init(&data);
    seen_init(&kids);
    /* exists on a missing node watches for its creation. */
    CHECK_RC(corral_client_exists_watch(zk, path, NULL, on_event, &created), CORRAL_NO_NODE);
    CHECK_RC(corral_client_create(zk, path, (const uint8_t *)"a", 1, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    WAIT_FOR(seen_count(&created) == 1, 5000);
    CHECK(seen_count(&created) == 1 && created.types[0] == CORRAL_EVENT_CREATED);
    CHECK(created.states[0] == CORRAL_EVENT_STATE_CONNECTED && strcmp(created.paths[0], path) == 0);
    CHECK(!pthread_equal(created.thread, pthread_self()));
    uint8_t buf[8];
    size_t len;
    CHECK_RC(corral_client_get_watch(zk, path, buf, sizeof buf, &len, NULL, on_event, &data), CORRAL_OK);
    corral_strings *list = NULL;
    CHECK_RC(corral_client_get_children_watch(zk, ns, &list, NULL, on_event, &kids), CORRAL_OK);
    CHECK(corral_strings_len(list) == 1);
    corral_strings_free(list);
    CHECK_RC(corral_client_set(zk, path, (const uint8_t *)"b", 1, -1, NULL), CORRAL_OK);
    CHECK_RC(corral_client_set(zk, path, (const uint8_t *)"c", 1, -1, NULL), CORRAL_OK);
    WAIT_FOR(seen_count(&data) == 1, 5000);
    CHECK(seen_count(&data) == 1 && data.types[0] == CORRAL_EVENT_DATA_CHANGED);
    snprintf(path, sizeof path, "%s/w2", ns);
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    WAIT_FOR(seen_count(&kids) == 1, 5000);
    CHECK(seen_count(&kids) == 1 && kids.types[0] == CORRAL_EVENT_CHILDREN_CHANGED && strcmp(kids.paths[0], ns) == 0);
    /* One-shot: a second change is not reported. Make one, then wait for a later
     * watch that is set after it, so the earlier one had every chance to fire. */
    struct seen later;
    seen_init(&later);
    CHECK_RC(corral_client_set(zk, ns, (const uint8_t *)"x", 1, -1, NULL), CORRAL_OK);
    CHECK_RC(corral_client_exists_watch(zk, ns, NULL, on_event, &later), CORRAL_OK);
    CHECK_RC(corral_client_set(zk, ns, (const uint8_t *)"y", 1, -1, NULL), CORRAL_OK);
    WAIT_FOR(seen_count(&later) == 1, 5000);
    CHECK(seen_count(&later) == 1 && seen_count(&created) == 1 && seen_count(&data) == 1 && seen_count(&kids) == 1);
    /* A watch read that fails sets nothing; a NULL callback is refused. */
    CHECK_RC(corral_client_get_watch(zk, "/no/such", buf, sizeof buf, &len, NULL, on_event, &later), CORRAL_NO_NODE);
    CHECK_RC(corral_client_exists_watch(zk, ns, NULL, NULL, NULL), CORRAL_NULL_ARGUMENT);
    corral_client_free(zk);
}

TEST(closing_ends_pending_watches_with_a_closed_event) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64];
    fresh_ns(zk, ns, sizeof ns);
    struct seen s;
    seen_init(&s);
    CHECK_RC(corral_client_exists_watch(zk, ns, NULL, on_event, &s), CORRAL_OK);
    CHECK_RC(corral_client_close(zk), CORRAL_OK);
    WAIT_FOR(seen_count(&s) == 1, 5000);
    CHECK(seen_count(&s) == 1 && s.types[0] == CORRAL_EVENT_NONE && s.states[0] == CORRAL_EVENT_STATE_CLOSED);
    corral_client_free(zk);
}

TEST(persistent_and_recursive_watches_until_freed) {
    /* Two clients: ZooKeeper 3.8 keeps one watch mode per path and client (the
     * last registration wins), corral both. */
    corral_client *zk = connect_target();
    corral_client *watcher = connect_target();
    if (!zk || !watcher) return;
    char ns[64], path[128];
    fresh_ns(zk, ns, sizeof ns);
    struct seen node, tree;
    seen_init(&node);
    seen_init(&tree);
    corral_watch *w_node = NULL, *w_tree = NULL;
    CHECK_RC(corral_client_add_watch(zk, ns, false, on_event, &node, &w_node), CORRAL_OK);
    CHECK_RC(corral_client_add_watch(watcher, ns, true, on_event, &tree, &w_tree), CORRAL_OK);
    snprintf(path, sizeof path, "%s/a", ns);
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    snprintf(path, sizeof path, "%s/a/b", ns);
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    CHECK_RC(corral_client_set(zk, path, (const uint8_t *)"v", 1, -1, NULL), CORRAL_OK);
    CHECK_RC(corral_client_set(zk, ns, (const uint8_t *)"v", 1, -1, NULL), CORRAL_OK);
    CHECK_RC(corral_client_set(zk, ns, (const uint8_t *)"w", 1, -1, NULL), CORRAL_OK);
    /* The node itself: a child list change, then two data changes, in order. */
    WAIT_FOR(seen_count(&node) == 3, 5000);
    CHECK(seen_count(&node) == 3);
    CHECK(node.types[0] == CORRAL_EVENT_CHILDREN_CHANGED && node.types[1] == CORRAL_EVENT_DATA_CHANGED &&
          node.types[2] == CORRAL_EVENT_DATA_CHANGED);
    /* Recursive: creates and data changes below, never child-list events. */
    WAIT_FOR(seen_count(&tree) == 5, 5000);
    CHECK(seen_count(&tree) == 5);
    CHECK(tree.types[0] == CORRAL_EVENT_CREATED && tree.types[1] == CORRAL_EVENT_CREATED &&
          tree.types[2] == CORRAL_EVENT_DATA_CHANGED && strcmp(tree.paths[2], path) == 0);
    corral_watch_free(w_tree);
    corral_watch_free(NULL);
    CHECK_RC(corral_client_set(zk, ns, (const uint8_t *)"z", 1, -1, NULL), CORRAL_OK);
    WAIT_FOR(seen_count(&node) == 4, 5000);
    CHECK(seen_count(&node) == 4 && seen_count(&tree) == 5);
    corral_watch_free(w_node);
    corral_client_free(watcher);
    corral_client_free(zk);
}

TEST(removed_watches_call_back_once_with_a_removed_event) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64];
    fresh_ns(zk, ns, sizeof ns);
    struct seen data, kids, any;
    seen_init(&data);
    seen_init(&kids);
    seen_init(&any);
    corral_strings *list = NULL;
    CHECK_RC(corral_client_exists_watch(zk, ns, NULL, on_event, &data), CORRAL_OK);
    CHECK_RC(corral_client_get_children_watch(zk, ns, &list, NULL, on_event, &kids), CORRAL_OK);
    corral_strings_free(list);
    CHECK_RC(corral_client_remove_watches(zk, ns, CORRAL_WATCHER_DATA), CORRAL_OK);
    WAIT_FOR(seen_count(&data) == 1, 5000);
    CHECK(seen_count(&data) == 1 && data.types[0] == CORRAL_EVENT_DATA_WATCH_REMOVED && strcmp(data.paths[0], ns) == 0);
    CHECK(seen_count(&kids) == 0);
    CHECK_RC(corral_client_remove_watches(zk, ns, CORRAL_WATCHER_DATA), CORRAL_NO_WATCHER);
    CHECK_RC(corral_client_remove_watches(zk, ns, CORRAL_WATCHER_CHILDREN), CORRAL_OK);
    WAIT_FOR(seen_count(&kids) == 1, 5000);
    CHECK(seen_count(&kids) == 1 && kids.types[0] == CORRAL_EVENT_CHILD_WATCH_REMOVED);
    /* The removed watches fire no more. */
    CHECK_RC(corral_client_set(zk, ns, (const uint8_t *)"v", 1, -1, NULL), CORRAL_OK);
    char child[128];
    snprintf(child, sizeof child, "%s/c", ns);
    CHECK_RC(corral_client_create(zk, child, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    /* ANY removes both kinds at once. */
    CHECK_RC(corral_client_exists_watch(zk, child, NULL, on_event, &any), CORRAL_OK);
    CHECK_RC(corral_client_get_children_watch(zk, child, &list, NULL, on_event, &any), CORRAL_OK);
    corral_strings_free(list);
    CHECK_RC(corral_client_remove_watches(zk, child, CORRAL_WATCHER_ANY), CORRAL_OK);
    WAIT_FOR(seen_count(&any) == 2, 5000);
    CHECK(seen_count(&any) == 2);
    CHECK_RC(corral_client_remove_watches(zk, child, CORRAL_WATCHER_ANY), CORRAL_NO_WATCHER);
    sleep_ms(100);
    CHECK(seen_count(&data) == 1 && seen_count(&kids) == 1 && seen_count(&any) == 2);
    CHECK_RC(corral_client_remove_watches(zk, ns, 0), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_client_remove_watches(zk, ns, 6), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_client_remove_watches(zk, NULL, CORRAL_WATCHER_ANY), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_remove_watches(NULL, ns, CORRAL_WATCHER_ANY), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_close(zk), CORRAL_OK);
    CHECK_RC(corral_client_remove_watches(zk, ns, CORRAL_WATCHER_ANY), CORRAL_CLOSED_HANDLE);
    corral_client_free(zk);
}

TEST(removed_persistent_watch_ends_with_a_removed_event) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64];
    fresh_ns(zk, ns, sizeof ns);
    struct seen s;
    seen_init(&s);
    corral_watch *w = NULL;
    REQUIRE_RC(corral_client_add_watch(zk, ns, false, on_event, &s, &w), CORRAL_OK);
    if (against_zookeeper()) {
        /* ZooKeeper 3.8 knows watcher types 1 to 3 only (4 and 5 came with
         * 3.9): it cannot read the request. ANY removes a persistent watch. */
        CHECK_RC(corral_client_remove_watches(zk, ns, CORRAL_WATCHER_PERSISTENT), CORRAL_MARSHALLING_ERROR);
        CHECK_RC(corral_client_remove_watches(zk, ns, CORRAL_WATCHER_ANY), CORRAL_OK);
    } else {
        CHECK_RC(corral_client_remove_watches(zk, ns, CORRAL_WATCHER_PERSISTENT_RECURSIVE), CORRAL_NO_WATCHER);
        CHECK_RC(corral_client_remove_watches(zk, ns, CORRAL_WATCHER_PERSISTENT), CORRAL_OK);
    }
    WAIT_FOR(seen_count(&s) == 1, 5000);
    CHECK(seen_count(&s) == 1 && s.types[0] == CORRAL_EVENT_PERSISTENT_WATCH_REMOVED);
    CHECK_RC(corral_client_set(zk, ns, (const uint8_t *)"v", 1, -1, NULL), CORRAL_OK);
    sleep_ms(100);
    CHECK(seen_count(&s) == 1);
    corral_watch_free(w);
    corral_client_free(zk);
}

TEST(state_callback_sees_connected_suspended_reconnected_closed) {
    corral_server *srv = NULL;
    REQUIRE_RC(corral_server_start(NULL, &srv), CORRAL_OK);
    struct seen s;
    seen_init(&s);
    corral_client_options *o = NULL;
    REQUIRE_RC(corral_client_options_new(&o), CORRAL_OK);
    CHECK_RC(corral_client_options_state_callback(o, on_state, &s), CORRAL_OK);
    CHECK_RC(corral_client_options_session_timeout(o, 10000), CORRAL_OK);
    CHECK_RC(corral_client_options_session_timeout(o, 0), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_client_options_state_callback(o, NULL, NULL), CORRAL_NULL_ARGUMENT);
    corral_client *zk = NULL;
    REQUIRE_RC(corral_client_connect_with(corral_server_connect_string(srv), o, &zk), CORRAL_OK);
    corral_client_options_free(o);
    WAIT_FOR(seen_count(&s) == 1, 5000);
    CHECK(seen_count(&s) == 1 && s.states[0] == CORRAL_STATE_CONNECTED);
    int32_t state = -1;
    CHECK_RC(corral_client_state(zk, &state), CORRAL_OK);
    CHECK(state == CORRAL_STATE_CONNECTED);
    CHECK_RC(corral_server_restart(srv), CORRAL_OK);
    WAIT_FOR(seen_count(&s) >= 3, 10000);
    CHECK(seen_count(&s) >= 3 && s.states[1] == CORRAL_STATE_SUSPENDED && s.states[2] == CORRAL_STATE_RECONNECTED);
    int before = seen_count(&s);
    CHECK_RC(corral_client_close(zk), CORRAL_OK);
    WAIT_FOR(seen_count(&s) == before + 1, 5000);
    CHECK(seen_count(&s) == before + 1 && s.states[before] == CORRAL_STATE_CLOSED);
    corral_client_free(zk);
    corral_server_free(srv);
}

TEST(a_session_resumes_from_its_id_and_password) {
    corral_client *first = connect_target();
    if (!first) return;
    char ns[64], path[128];
    fresh_ns(first, ns, sizeof ns);
    snprintf(path, sizeof path, "%s/eph", ns);
    CHECK_RC(corral_client_create(first, path, NULL, 0, CORRAL_EPHEMERAL, NULL, 0, NULL), CORRAL_OK);
    int64_t sid = 0;
    uint8_t pw[16];
    size_t len = 0;
    CHECK_RC(corral_client_session_id(first, &sid), CORRAL_OK);
    CHECK_RC(corral_client_session_password(first, pw, sizeof pw, &len), CORRAL_OK);
    corral_client_options *o = NULL;
    REQUIRE_RC(corral_client_options_new(&o), CORRAL_OK);
    CHECK_RC(corral_client_options_session(o, sid, pw, 8), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_client_options_session(o, sid, pw, sizeof pw), CORRAL_OK);
    CHECK_RC(corral_client_options_auth(o, "digest", (const uint8_t *)"u:p", 3), CORRAL_OK);
    corral_client *second = NULL;
    CHECK_RC(corral_client_connect_with(target(), o, &second), CORRAL_OK);
    int64_t sid2 = 0;
    CHECK_RC(corral_client_session_id(second, &sid2), CORRAL_OK);
    CHECK(sid2 == sid);
    corral_stat st;
    CHECK_RC(corral_client_exists(second, path, &st), CORRAL_OK);
    CHECK(st.ephemeral_owner == sid);
    /* Once closed, the session cannot be resumed. */
    CHECK_RC(corral_client_close(second), CORRAL_OK);
    corral_client *third = (corral_client *)0x1;
    CHECK_RC(corral_client_connect_with(target(), o, &third), CORRAL_SESSION_EXPIRED);
    CHECK(third == (corral_client *)0x1);
    corral_client_options_free(o);
    corral_client_free(second);
    corral_client_free(first);
}

struct reentrant { corral_client *zk; char path[128]; atomic_int read_rc; atomic_bool freed; };

static void read_and_free(const corral_watched_event *ev, void *userdata) {
    struct reentrant *r = userdata;
    (void)ev;
    uint8_t buf[8];
    size_t len = 0;
    /* The blocking API from the dispatch thread, then freeing the very client. */
    r->read_rc = corral_client_get(r->zk, r->path, buf, sizeof buf, &len, NULL);
    corral_client_free(r->zk);
    r->freed = true;
}

TEST(callbacks_may_call_the_blocking_api_and_free_their_client) {
    corral_client *zk = connect_target();
    corral_client *other = connect_target();
    if (!zk || !other) return;
    struct reentrant r = {.zk = zk};
    atomic_init(&r.read_rc, 1);
    atomic_init(&r.freed, false);
    fresh_ns(zk, r.path, sizeof r.path);
    CHECK_RC(corral_client_exists_watch(zk, r.path, NULL, read_and_free, &r), CORRAL_OK);
    CHECK_RC(corral_client_set(other, r.path, (const uint8_t *)"1", 1, -1, NULL), CORRAL_OK);
    WAIT_FOR(r.freed, 10000);
    CHECK(r.freed && r.read_rc == CORRAL_OK);
    corral_client_free(other);
}
