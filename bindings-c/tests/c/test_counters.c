/* Counters and ids from C: the rest of Curator's DistributedAtomicLong,
 * kazoo's Counter, Curator's SharedCount and the id generator. */
#include "common.h"

#include <pthread.h>

TEST(atomic_counter_initializes_try_sets_and_force_sets) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], path[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(path, sizeof path, "%s/c", ns);
    corral_counter *c = NULL;
    REQUIRE_RC(corral_counter_new(zk, path, &c), CORRAL_OK);
    CHECK_RC(corral_counter_initialize(c, 40), CORRAL_OK);
    CHECK_RC(corral_counter_initialize(c, 7), CORRAL_NODE_EXISTS);
    int64_t v = 0;
    CHECK_RC(corral_counter_get(c, &v), CORRAL_OK);
    CHECK(v == 40);
    CHECK_RC(corral_counter_try_set(c, 41), CORRAL_OK);
    CHECK_RC(corral_counter_get(c, &v), CORRAL_OK);
    CHECK(v == 41);
    CHECK_RC(corral_counter_force_set(c, -3), CORRAL_OK);
    CHECK_RC(corral_counter_get(c, &v), CORRAL_OK);
    CHECK(v == -3);
    /* force_set also creates a missing node. */
    CHECK_RC(corral_client_delete(zk, path, -1), CORRAL_OK);
    CHECK_RC(corral_counter_force_set(c, 9), CORRAL_OK);
    CHECK_RC(corral_counter_get(c, &v), CORRAL_OK);
    CHECK(v == 9);
    CHECK_RC(corral_counter_initialize(NULL, 1), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_counter_try_set(NULL, 1), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_counter_force_set(NULL, 1), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_close(zk), CORRAL_OK);
    corral_counter *late = NULL;
    CHECK_RC(corral_counter_new(zk, path, &late), CORRAL_CLOSED_HANDLE);
    CHECK(late == NULL);
    corral_counter_free(c);
    corral_client_free(zk);
}

TEST(kazoo_counter_keeps_the_value_as_text) {
    corral_client *zk = connect_target();
    corral_client *other = connect_target();
    if (!zk || !other) return;
    char ns[64], path[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(path, sizeof path, "%s/visits", ns);
    corral_kazoo_counter *a = NULL, *b = NULL;
    REQUIRE_RC(corral_kazoo_counter_new(zk, path, 10, &a), CORRAL_OK);
    REQUIRE_RC(corral_kazoo_counter_new(other, path, 10, &b), CORRAL_OK);
    int64_t v = 0, pre = 0, post = 0;
    CHECK_RC(corral_kazoo_counter_value(a, &v), CORRAL_OK);
    CHECK(v == 10); /* the empty node reads as the default */
    CHECK_RC(corral_kazoo_counter_add(a, 5, &pre, &post), CORRAL_OK);
    CHECK(pre == 10 && post == 15);
    CHECK_RC(corral_kazoo_counter_add(b, -20, NULL, &post), CORRAL_OK);
    CHECK(post == -5);
    CHECK_RC(corral_kazoo_counter_value(a, &v), CORRAL_OK);
    CHECK(v == -5);
    uint8_t buf[16];
    size_t len = 0;
    CHECK_RC(corral_client_get(zk, path, buf, sizeof buf, &len, NULL), CORRAL_OK);
    CHECK(len == 2 && memcmp(buf, "-5", 2) == 0);
    /* Not a number: the value cannot be read. */
    CHECK_RC(corral_client_set(zk, path, (const uint8_t *)"abc", 3, -1, NULL), CORRAL_OK);
    CHECK_RC(corral_kazoo_counter_value(a, &v), CORRAL_MARSHALLING_ERROR);
    CHECK_RC(corral_kazoo_counter_add(a, 1, NULL, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_kazoo_counter_value(a, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_kazoo_counter_value(NULL, &v), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_kazoo_counter_new(zk, NULL, 0, &b), CORRAL_NULL_ARGUMENT);
    corral_kazoo_counter_free(b);
    corral_kazoo_counter_free(a);
    corral_kazoo_counter_free(NULL);
    corral_client_free(other);
    corral_client_free(zk);
}

struct counts {
    pthread_mutex_t mu;
    int n;
    int32_t last;
};

static void on_count(int32_t value, void *ud) {
    struct counts *c = ud;
    pthread_mutex_lock(&c->mu);
    c->n++;
    c->last = value;
    pthread_mutex_unlock(&c->mu);
}

static int32_t last_count(struct counts *c) {
    pthread_mutex_lock(&c->mu);
    int32_t v = c->last;
    pthread_mutex_unlock(&c->mu);
    return v;
}

TEST(shared_count_is_seen_by_every_holder) {
    corral_client *zk = connect_target();
    corral_client *other = connect_target();
    if (!zk || !other) return;
    char ns[64], path[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(path, sizeof path, "%s/limit", ns);
    struct counts seen = {.last = -1};
    pthread_mutex_init(&seen.mu, NULL);
    corral_shared_count *a = NULL, *b = NULL;
    REQUIRE_RC(corral_shared_count_start(zk, path, 4, on_count, &seen, &a), CORRAL_OK);
    REQUIRE_RC(corral_shared_count_start(other, path, 99, NULL, NULL, &b), CORRAL_OK); /* the seed of the first wins */
    int32_t value = 0, version = -9;
    CHECK_RC(corral_shared_count_get(b, &value, &version), CORRAL_OK);
    CHECK(value == 4 && version == 0);
    WAIT_FOR(last_count(&seen) == 4, 5000);
    CHECK(last_count(&seen) == 4);
    CHECK_RC(corral_shared_count_try_set(b, version, 8), CORRAL_OK);
    CHECK_RC(corral_shared_count_try_set(b, version, 16), CORRAL_BAD_VERSION); /* stale version */
    WAIT_FOR(last_count(&seen) == 8, 5000);
    CHECK(last_count(&seen) == 8);
    CHECK_RC(corral_shared_count_get(a, &value, NULL), CORRAL_OK);
    CHECK(value == 8);
    CHECK_RC(corral_shared_count_set(a, 3), CORRAL_OK);
    CHECK_RC(corral_shared_count_get(a, &value, &version), CORRAL_OK);
    CHECK(value == 3 && version == 2);
    WAIT_FOR(corral_shared_count_get(b, &value, NULL) == CORRAL_OK && value == 3, 5000);
    CHECK(value == 3);
    CHECK_RC(corral_shared_count_get(a, NULL, &version), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_shared_count_get(NULL, &value, &version), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_shared_count_set(NULL, 1), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_shared_count_try_set(NULL, 0, 1), CORRAL_NULL_ARGUMENT);
    corral_shared_count *bad = NULL;
    CHECK_RC(corral_shared_count_start(zk, NULL, 0, NULL, NULL, &bad), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_shared_count_start(zk, "no-slash", 0, NULL, NULL, &bad), CORRAL_BAD_ARGUMENTS);
    CHECK(bad == NULL);
    corral_shared_count_free(a);
    int before = 0;
    pthread_mutex_lock(&seen.mu);
    before = seen.n;
    pthread_mutex_unlock(&seen.mu);
    CHECK_RC(corral_shared_count_set(b, 77), CORRAL_OK);
    sleep_ms(200);
    pthread_mutex_lock(&seen.mu);
    CHECK(seen.n == before); /* no callback after free */
    pthread_mutex_unlock(&seen.mu);
    corral_shared_count_free(b);
    corral_shared_count_free(NULL);
    CHECK_RC(corral_client_close(zk), CORRAL_OK);
    CHECK_RC(corral_shared_count_start(zk, path, 0, NULL, NULL, &bad), CORRAL_CLOSED_HANDLE);
    corral_client_free(other);
    corral_client_free(zk);
}

TEST(id_generator_gives_increasing_ids) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], path[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(path, sizeof path, "%s/ids", ns);
    corral_id_generator *ids = NULL, *kept = NULL;
    REQUIRE_RC(corral_id_generator_new(zk, path, NULL, false, &ids), CORRAL_OK);
    REQUIRE_RC(corral_id_generator_new(zk, path, "order-", true, &kept), CORRAL_OK);
    int64_t a = -1, b = -1, c = -1;
    CHECK_RC(corral_id_generator_next(ids, &a), CORRAL_OK);
    CHECK_RC(corral_id_generator_next(ids, &b), CORRAL_OK);
    CHECK(a >= 0 && b > a);
    CHECK(child_count(zk, path) == 0); /* deleted at once */
    CHECK_RC(corral_id_generator_next(kept, &c), CORRAL_OK);
    CHECK(c > b);
    corral_strings *kids = NULL;
    CHECK_RC(corral_client_get_children(zk, path, &kids, NULL), CORRAL_OK);
    CHECK(corral_strings_len(kids) == 1 && strstr(corral_strings_get(kids, 0), "order-") != NULL);
    corral_strings_free(kids);
    CHECK_RC(corral_id_generator_next(ids, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_id_generator_next(NULL, &a), CORRAL_NULL_ARGUMENT);
    corral_id_generator *bad = NULL;
    CHECK_RC(corral_id_generator_new(zk, NULL, NULL, false, &bad), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_id_generator_new(zk, path, NULL, false, NULL), CORRAL_NULL_ARGUMENT);
    corral_id_generator_free(ids);
    corral_id_generator_free(kept);
    corral_id_generator_free(NULL);
    CHECK_RC(corral_client_close(zk), CORRAL_OK);
    CHECK_RC(corral_id_generator_new(zk, path, NULL, false, &bad), CORRAL_CLOSED_HANDLE);
    corral_client_free(zk);
}
