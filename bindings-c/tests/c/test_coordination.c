/* Counter, semaphore, barriers, queue and party from C. */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>

struct adder { corral_client *zk; const char *path; int ok; };

static void *add_many(void *arg) {
    struct adder *a = arg;
    corral_counter *c = NULL;
    if (corral_counter_new(a->zk, a->path, &c) != CORRAL_OK) return NULL;
    for (int i = 0; i < 20; i++) {
        int64_t v = 0;
        corral_result rc;
        while ((rc = corral_counter_add(c, 1, &v)) == CORRAL_BAD_VERSION) {
        }
        if (rc == CORRAL_OK) a->ok++;
    }
    corral_counter_free(c);
    return NULL;
}

TEST(counter_adds_atomically_across_clients) {
    corral_client *zk[3];
    for (int i = 0; i < 3; i++)
        if (!(zk[i] = connect_target())) return;
    char ns[64];
    fresh_ns(zk[0], ns, sizeof ns);
    pthread_t t[3];
    struct adder a[3];
    for (int i = 0; i < 3; i++) {
        a[i] = (struct adder){zk[i], ns, 0};
        CHECK(pthread_create(&t[i], NULL, add_many, &a[i]) == 0);
    }
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    CHECK(a[0].ok + a[1].ok + a[2].ok == 60);
    corral_counter *c = NULL;
    REQUIRE_RC(corral_counter_new(zk[0], ns, &c), CORRAL_OK);
    int64_t v = 0;
    CHECK_RC(corral_counter_get(c, &v), CORRAL_OK);
    CHECK(v == 60);
    CHECK_RC(corral_counter_compare_and_set(c, 59, 0), CORRAL_BAD_VERSION);
    CHECK_RC(corral_counter_compare_and_set(c, 60, -5), CORRAL_OK);
    CHECK_RC(corral_counter_add(c, -5, &v), CORRAL_OK);
    CHECK(v == -10);
    CHECK_RC(corral_counter_get(NULL, &v), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_counter_add(c, 1, NULL), CORRAL_NULL_ARGUMENT);
    corral_counter_free(c);
    corral_counter_free(NULL);
    for (int i = 0; i < 3; i++) corral_client_free(zk[i]);
}

TEST(semaphore_caps_the_holders) {
    corral_client *a = connect_target();
    corral_client *b = connect_target();
    if (!a || !b) return;
    char ns[64];
    fresh_ns(a, ns, sizeof ns);
    corral_semaphore *sa = NULL, *sb = NULL;
    REQUIRE_RC(corral_semaphore_new(a, ns, 2, &sa), CORRAL_OK);
    REQUIRE_RC(corral_semaphore_new(b, ns, 2, &sb), CORRAL_OK);
    CHECK_RC(corral_semaphore_acquire(sa, 5000), CORRAL_OK);
    CHECK_RC(corral_semaphore_acquire(sa, 5000), CORRAL_OK);
    CHECK_RC(corral_semaphore_acquire(sb, 200), CORRAL_TIMEOUT);
    CHECK_RC(corral_semaphore_release(sa), CORRAL_OK);
    CHECK_RC(corral_semaphore_acquire(sb, 5000), CORRAL_OK);
    CHECK_RC(corral_semaphore_release(sb), CORRAL_OK);
    CHECK_RC(corral_semaphore_release(sb), CORRAL_NOT_HELD);
    corral_semaphore *bad = NULL;
    CHECK_RC(corral_semaphore_new(a, ns, 0, &bad), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_semaphore_acquire(sa, -7), CORRAL_INVALID_ARGUMENT);
    corral_semaphore_free(sa); /* returns the lease it still holds */
    CHECK_RC(corral_semaphore_acquire(sb, 5000), CORRAL_OK);
    CHECK_RC(corral_semaphore_acquire(sb, 5000), CORRAL_OK);
    corral_semaphore_free(sb);
    corral_semaphore_free(NULL);
    corral_client_free(b);
    corral_client_free(a);
}

struct enterer { corral_client *zk; const char *path; corral_result entered, left; };

static void *enter_and_leave(void *arg) {
    struct enterer *e = arg;
    corral_double_barrier *db = NULL;
    if (corral_double_barrier_new(e->zk, e->path, 3, &db) != CORRAL_OK) return NULL;
    e->entered = corral_double_barrier_enter(db, 20000);
    e->left = corral_double_barrier_leave(db, 20000);
    corral_double_barrier_free(db);
    return NULL;
}

TEST(barriers_hold_and_release) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], path[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(path, sizeof path, "%s/gate", ns);
    corral_barrier *b = NULL;
    REQUIRE_RC(corral_barrier_new(zk, path, &b), CORRAL_OK);
    CHECK_RC(corral_barrier_wait(b, 0), CORRAL_OK); /* not raised: no wait */
    CHECK_RC(corral_barrier_set(b), CORRAL_OK);
    CHECK_RC(corral_barrier_wait(b, 200), CORRAL_TIMEOUT);
    CHECK_RC(corral_barrier_remove(b), CORRAL_OK);
    CHECK_RC(corral_barrier_wait(b, 1000), CORRAL_OK);
    CHECK_RC(corral_barrier_wait(b, -3), CORRAL_INVALID_ARGUMENT);
    corral_barrier_free(b);
    /* Three members enter together and leave together. */
    snprintf(path, sizeof path, "%s/double", ns);
    corral_client *clients[3];
    for (int i = 0; i < 3; i++)
        if (!(clients[i] = connect_target())) return;
    corral_double_barrier *alone = NULL;
    REQUIRE_RC(corral_double_barrier_new(zk, path, 3, &alone), CORRAL_OK);
    CHECK_RC(corral_double_barrier_enter(alone, 200), CORRAL_TIMEOUT);
    /* A timed-out member stays entered until it leaves (as in Curator). */
    CHECK_RC(corral_double_barrier_leave(alone, 5000), CORRAL_OK);
    corral_double_barrier_free(alone);
    pthread_t t[3];
    struct enterer e[3];
    for (int i = 0; i < 3; i++) {
        e[i] = (struct enterer){clients[i], path, 1, 1};
        CHECK(pthread_create(&t[i], NULL, enter_and_leave, &e[i]) == 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        CHECK_RC(e[i].entered, CORRAL_OK);
        CHECK_RC(e[i].left, CORRAL_OK);
    }
    CHECK_RC(corral_double_barrier_new(zk, path, 0, &alone), CORRAL_INVALID_ARGUMENT);
    for (int i = 0; i < 3; i++) corral_client_free(clients[i]);
    corral_client_free(zk);
}

TEST(queue_is_fifo_and_take_waits) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64];
    fresh_ns(zk, ns, sizeof ns);
    corral_queue *q = NULL;
    REQUIRE_RC(corral_queue_new(zk, ns, &q), CORRAL_OK);
    corral_bytes *item = NULL;
    CHECK_RC(corral_queue_take(q, 0, &item), CORRAL_TIMEOUT);
    CHECK_RC(corral_queue_take(q, 200, &item), CORRAL_TIMEOUT);
    CHECK(item == NULL);
    CHECK_RC(corral_queue_put(q, (const uint8_t *)"first", 5), CORRAL_OK);
    CHECK_RC(corral_queue_put(q, (const uint8_t *)"second", 6), CORRAL_OK);
    CHECK_RC(corral_queue_put(q, NULL, 0), CORRAL_OK);
    size_t n = 0;
    CHECK_RC(corral_queue_len(q, &n), CORRAL_OK);
    CHECK(n == 3);
    CHECK_RC(corral_queue_take(q, 0, &item), CORRAL_OK);
    CHECK(corral_bytes_len(item) == 5 && memcmp(corral_bytes_data(item), "first", 5) == 0);
    corral_bytes_free(item);
    CHECK_RC(corral_queue_take(q, CORRAL_WAIT_FOREVER, &item), CORRAL_OK);
    CHECK(corral_bytes_len(item) == 6 && memcmp(corral_bytes_data(item), "second", 6) == 0);
    corral_bytes_free(item);
    CHECK_RC(corral_queue_take(q, 1000, &item), CORRAL_OK);
    CHECK(corral_bytes_len(item) == 0);
    corral_bytes_free(item);
    corral_bytes_free(NULL);
    CHECK(corral_bytes_len(NULL) == 0 && corral_bytes_data(NULL) == NULL);
    CHECK_RC(corral_queue_put(q, NULL, 3), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_queue_take(q, 0, NULL), CORRAL_NULL_ARGUMENT);
    corral_queue_free(q);
    corral_client_free(zk);
}

TEST(party_lists_its_members) {
    corral_client *a = connect_target();
    corral_client *b = connect_target();
    if (!a || !b) return;
    char ns[64];
    fresh_ns(a, ns, sizeof ns);
    corral_party *pa = NULL, *pb = NULL;
    REQUIRE_RC(corral_party_new(a, ns, "worker-a", &pa), CORRAL_OK);
    REQUIRE_RC(corral_party_new(b, ns, "worker-b", &pb), CORRAL_OK);
    CHECK_RC(corral_party_join(pa), CORRAL_OK);
    CHECK_RC(corral_party_join(pb), CORRAL_OK);
    corral_strings *m = NULL;
    CHECK_RC(corral_party_members(pa, &m), CORRAL_OK);
    CHECK(corral_strings_len(m) == 2);
    corral_strings_free(m);
    CHECK_RC(corral_party_leave(pb), CORRAL_OK);
    CHECK_RC(corral_party_leave(pb), CORRAL_NOT_HELD);
    CHECK_RC(corral_party_members(pb, &m), CORRAL_OK);
    CHECK(corral_strings_len(m) == 1 && strcmp(corral_strings_get(m, 0), "worker-a") == 0);
    corral_strings_free(m);
    /* A member whose session ends is gone. */
    corral_party_free(pa);
    corral_client_free(a);
    CHECK_RC(corral_party_members(pb, &m), CORRAL_OK);
    CHECK(corral_strings_len(m) == 0);
    corral_strings_free(m);
    CHECK_RC(corral_party_join(NULL), CORRAL_NULL_ARGUMENT);
    corral_party_free(pb);
    corral_client_free(b);
}
