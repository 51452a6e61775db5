/* Node cache, tree cache and service discovery from C. */
#include "common.h"

#include <pthread.h>

#define SEEN_MAX 64

struct seen {
    pthread_mutex_t mu;
    int count;
    int events[SEEN_MAX];
    char paths[SEEN_MAX][128];
    char data[SEEN_MAX][32];
};

static void on_cache(int32_t event, const char *path, const uint8_t *data, size_t len, const corral_stat *stat,
                     void *ud) {
    struct seen *s = ud;
    (void)stat;
    pthread_mutex_lock(&s->mu);
    if (s->count < SEEN_MAX) {
        s->events[s->count] = event;
        snprintf(s->paths[s->count], sizeof s->paths[0], "%s", path ? path : "");
        snprintf(s->data[s->count], sizeof s->data[0], "%.*s", data ? (int)len : 0, data ? (const char *)data : "");
        s->count++;
    }
    pthread_mutex_unlock(&s->mu);
}

static int count_of(struct seen *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->count;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static bool saw(struct seen *s, int event, const char *path) {
    bool found = false;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->count; i++) found = found || (s->events[i] == event && strcmp(s->paths[i], path) == 0);
    pthread_mutex_unlock(&s->mu);
    return found;
}

TEST(node_cache_follows_one_node) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], path[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(path, sizeof path, "%s/config", ns);
    struct seen s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    corral_node_cache *c = NULL;
    REQUIRE_RC(corral_node_cache_start(zk, path, on_cache, &s, &c), CORRAL_OK);
    uint8_t buf[16];
    size_t len = 0;
    CHECK_RC(corral_node_cache_current(c, buf, sizeof buf, &len, NULL), CORRAL_NO_NODE);
    CHECK_RC(corral_client_create(zk, path, (const uint8_t *)"v1", 2, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    WAIT_FOR(count_of(&s) >= 1, 5000);
    CHECK(count_of(&s) >= 1 && s.events[0] == CORRAL_CACHE_NODE_UPDATED && strcmp(s.data[0], "v1") == 0);
    CHECK_RC(corral_client_set(zk, path, (const uint8_t *)"v2", 2, -1, NULL), CORRAL_OK);
    corral_stat st;
    corral_result rc = CORRAL_NO_NODE;
    WAIT_FOR((rc = corral_node_cache_current(c, buf, sizeof buf, &len, &st)) == CORRAL_OK && len == 2 && buf[1] == '2',
             5000);
    CHECK(rc == CORRAL_OK && len == 2 && memcmp(buf, "v2", 2) == 0 && st.version == 1);
    CHECK_RC(corral_node_cache_current(c, buf, 1, &len, NULL), CORRAL_BUFFER_TOO_SMALL);
    CHECK(len == 2);
    CHECK_RC(corral_client_delete(zk, path, -1), CORRAL_OK);
    WAIT_FOR(saw(&s, CORRAL_CACHE_NODE_REMOVED, ""), 5000);
    CHECK(saw(&s, CORRAL_CACHE_NODE_REMOVED, ""));
    CHECK_RC(corral_node_cache_current(c, buf, sizeof buf, &len, NULL), CORRAL_NO_NODE);
    corral_node_cache_free(c);
    corral_node_cache_free(NULL);
    /* Without a callback, and bad arguments. */
    REQUIRE_RC(corral_node_cache_start(zk, path, NULL, NULL, &c), CORRAL_OK);
    corral_node_cache_free(c);
    CHECK_RC(corral_node_cache_start(zk, NULL, NULL, NULL, &c), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_node_cache_current(NULL, buf, sizeof buf, &len, NULL), CORRAL_NULL_ARGUMENT);
    corral_client_free(zk);
}

TEST(tree_cache_loads_and_follows_a_subtree) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], a[128], b[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(a, sizeof a, "%s/a", ns);
    snprintf(b, sizeof b, "%s/a/b", ns);
    CHECK_RC(corral_client_create(zk, a, (const uint8_t *)"A", 1, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    struct seen s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    corral_tree_cache *c = NULL;
    REQUIRE_RC(corral_tree_cache_start(zk, ns, on_cache, &s, &c), CORRAL_OK);
    WAIT_FOR(saw(&s, CORRAL_CACHE_INITIALIZED, ""), 5000);
    CHECK(saw(&s, CORRAL_CACHE_NODE_ADDED, ns) && saw(&s, CORRAL_CACHE_NODE_ADDED, a) &&
          saw(&s, CORRAL_CACHE_INITIALIZED, ""));
    CHECK_RC(corral_client_create(zk, b, (const uint8_t *)"B", 1, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    WAIT_FOR(saw(&s, CORRAL_CACHE_NODE_ADDED, b), 5000);
    CHECK(saw(&s, CORRAL_CACHE_NODE_ADDED, b));
    uint8_t buf[8];
    size_t len = 0;
    CHECK_RC(corral_tree_cache_data(c, b, buf, sizeof buf, &len, NULL), CORRAL_OK);
    CHECK(len == 1 && buf[0] == 'B');
    corral_strings *kids = NULL;
    CHECK_RC(corral_tree_cache_children(c, a, &kids), CORRAL_OK);
    CHECK(corral_strings_len(kids) == 1 && strcmp(corral_strings_get(kids, 0), "b") == 0);
    corral_strings_free(kids);
    CHECK_RC(corral_client_delete(zk, b, -1), CORRAL_OK);
    WAIT_FOR(saw(&s, CORRAL_CACHE_NODE_REMOVED, b), 5000);
    CHECK(saw(&s, CORRAL_CACHE_NODE_REMOVED, b));
    CHECK_RC(corral_tree_cache_data(c, b, buf, sizeof buf, &len, NULL), CORRAL_NO_NODE);
    CHECK_RC(corral_tree_cache_children(c, "/elsewhere", &kids), CORRAL_NO_NODE);
    corral_tree_cache_free(c);
    corral_tree_cache_free(NULL);
    corral_client_free(zk);
}

TEST(service_discovery_registers_and_finds_instances) {
    corral_client *a = connect_target();
    corral_client *b = connect_target();
    if (!a || !b) return;
    char ns[64];
    fresh_ns(a, ns, sizeof ns);
    corral_discovery *sa = NULL, *sb = NULL;
    REQUIRE_RC(corral_discovery_new(a, ns, &sa), CORRAL_OK);
    REQUIRE_RC(corral_discovery_new(b, ns, &sb), CORRAL_OK);
    CHECK_RC(corral_discovery_register(sa, "billing", "host-a-1", "10.1.2.3", 8080, "{\"zone\":\"eu\"}"), CORRAL_OK);
    CHECK_RC(corral_discovery_register(sa, "billing", "host-a-2", "10.1.2.4", 8080, NULL), CORRAL_OK);
    CHECK_RC(corral_discovery_register(sa, "billing", "bad", "x", 1, "{not json"), CORRAL_INVALID_ARGUMENT);
    corral_strings *names = NULL, *found = NULL;
    CHECK_RC(corral_discovery_names(sb, &names), CORRAL_OK);
    CHECK(corral_strings_len(names) == 1 && strcmp(corral_strings_get(names, 0), "billing") == 0);
    corral_strings_free(names);
    CHECK_RC(corral_discovery_instances(sb, "billing", &found), CORRAL_OK);
    CHECK(corral_strings_len(found) == 2);
    bool with_payload = false;
    for (size_t i = 0; i < corral_strings_len(found); i++) {
        const char *json = corral_strings_get(found, i);
        if (strstr(json, "\"host-a-1\"") && strstr(json, "\"10.1.2.3\"") && strstr(json, "\"eu\"")) with_payload = true;
    }
    CHECK(with_payload);
    corral_strings_free(found);
    /* Through the handle that registered it: any other handle's delete is
       undone, as a dynamic registration is re-created when deleted. */
    CHECK_RC(corral_discovery_unregister(sa, "billing", "host-a-2"), CORRAL_OK);
    CHECK_RC(corral_discovery_instances(sb, "billing", &found), CORRAL_OK);
    CHECK(corral_strings_len(found) == 1);
    corral_strings_free(found);
    /* Freeing unregisters what that handle registered. */
    corral_discovery_free(sa);
    CHECK_RC(corral_discovery_instances(sb, "billing", &found), CORRAL_OK);
    CHECK(corral_strings_len(found) == 0);
    corral_strings_free(found);
    CHECK_RC(corral_discovery_names(NULL, &names), CORRAL_NULL_ARGUMENT);
    corral_discovery_free(sb);
    corral_discovery_free(NULL);
    corral_client_free(b);
    corral_client_free(a);
}
