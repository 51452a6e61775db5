/* Priority and locking queues from C. */
#include "common.h"

static bool is_item(corral_bytes *b, const char *text) {
    return b && corral_bytes_len(b) == strlen(text) && memcmp(corral_bytes_data(b), text, strlen(text)) == 0;
}

TEST(priority_queue_takes_the_most_urgent_first) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64];
    fresh_ns(zk, ns, sizeof ns);
    corral_priority_queue *q = NULL;
    REQUIRE_RC(corral_priority_queue_new(zk, ns, &q), CORRAL_OK);
    CHECK_RC(corral_priority_queue_put(q, (const uint8_t *)"routine", 7, 500), CORRAL_OK);
    CHECK_RC(corral_priority_queue_put(q, (const uint8_t *)"urgent", 6, 1), CORRAL_OK);
    const uint8_t *items[] = {(const uint8_t *)"x", (const uint8_t *)"yz"};
    size_t lens[] = {1, 2};
    CHECK_RC(corral_priority_queue_put_all(q, items, lens, 2, CORRAL_QUEUE_DEFAULT_PRIORITY), CORRAL_OK);
    CHECK_RC(corral_priority_queue_put(q, NULL, 0, CORRAL_QUEUE_PRIORITY_MAX), CORRAL_OK);
    size_t n = 0;
    CHECK_RC(corral_priority_queue_len(q, &n), CORRAL_OK);
    CHECK(n == 5);
    const char *order[] = {"urgent", "x", "yz", "routine", ""};
    for (int i = 0; i < 5; i++) {
        corral_bytes *b = NULL;
        CHECK_RC(corral_priority_queue_take(q, i == 0 ? CORRAL_WAIT_FOREVER : 1000, &b), CORRAL_OK);
        CHECK(is_item(b, order[i]));
        corral_bytes_free(b);
    }
    corral_bytes *none = NULL;
    CHECK_RC(corral_priority_queue_take(q, 0, &none), CORRAL_TIMEOUT);
    CHECK_RC(corral_priority_queue_take(q, 100, &none), CORRAL_TIMEOUT);
    CHECK(none == NULL);
    /* The plain queue shares the layout: its items have the default priority. */
    corral_queue *plain = NULL;
    REQUIRE_RC(corral_queue_new(zk, ns, &plain), CORRAL_OK);
    CHECK_RC(corral_queue_put(plain, (const uint8_t *)"plain", 5), CORRAL_OK);
    CHECK_RC(corral_priority_queue_put(q, (const uint8_t *)"first", 5, 99), CORRAL_OK);
    corral_bytes *b = NULL;
    CHECK_RC(corral_queue_take(plain, 1000, &b), CORRAL_OK);
    CHECK(is_item(b, "first"));
    corral_bytes_free(b);
    corral_queue_free(plain);
    CHECK_RC(corral_priority_queue_put(q, (const uint8_t *)"x", 1, 1000), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_priority_queue_put(q, (const uint8_t *)"x", 1, -1), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_priority_queue_put(q, NULL, 1, 0), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_priority_queue_put_all(q, NULL, lens, 2, 0), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_priority_queue_put_all(q, items, NULL, 2, 0), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_priority_queue_put_all(q, items, lens, 2, 1000), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_priority_queue_take(q, -3, &b), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_priority_queue_take(q, 0, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_priority_queue_len(q, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_priority_queue_len(NULL, &n), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_priority_queue_len(q, &n), CORRAL_OK);
    CHECK(n == 1);
    corral_priority_queue_free(q);
    corral_priority_queue_free(NULL);
    CHECK_RC(corral_client_close(zk), CORRAL_OK);
    CHECK_RC(corral_priority_queue_new(zk, ns, &q), CORRAL_CLOSED_HANDLE);
    corral_client_free(zk);
}

TEST(locking_queue_redelivers_until_consumed) {
    corral_client *a = connect_target();
    corral_client *b = connect_target();
    if (!a || !b) return;
    char ns[64];
    fresh_ns(a, ns, sizeof ns);
    corral_locking_queue *qa = NULL, *qb = NULL;
    REQUIRE_RC(corral_locking_queue_new(a, ns, &qa), CORRAL_OK);
    REQUIRE_RC(corral_locking_queue_new(b, ns, &qb), CORRAL_OK);
    CHECK_RC(corral_locking_queue_put(qa, (const uint8_t *)"job-1", 5, CORRAL_QUEUE_DEFAULT_PRIORITY), CORRAL_OK);
    const uint8_t *items[] = {(const uint8_t *)"job-2", (const uint8_t *)"job-3"};
    size_t lens[] = {5, 5};
    CHECK_RC(corral_locking_queue_put_all(qa, items, lens, 2, 200), CORRAL_OK);
    size_t n = 0;
    CHECK_RC(corral_locking_queue_len(qb, &n), CORRAL_OK);
    CHECK(n == 3);
    bool holds = true;
    CHECK_RC(corral_locking_queue_holds_lock(qa, &holds), CORRAL_OK);
    CHECK(!holds);
    CHECK_RC(corral_locking_queue_consume(qa), CORRAL_NOT_HELD);
    CHECK_RC(corral_locking_queue_release(qa), CORRAL_NOT_HELD);
    corral_bytes *got_a = NULL, *got_b = NULL, *again = NULL;
    CHECK_RC(corral_locking_queue_get(qa, 5000, &got_a), CORRAL_OK);
    CHECK(is_item(got_a, "job-1"));
    CHECK_RC(corral_locking_queue_get(qa, 0, &again), CORRAL_OK); /* the held item again */
    CHECK(is_item(again, "job-1"));
    corral_bytes_free(again);
    CHECK_RC(corral_locking_queue_holds_lock(qa, &holds), CORRAL_OK);
    CHECK(holds);
    CHECK_RC(corral_locking_queue_get(qb, 5000, &got_b), CORRAL_OK); /* the locked one is skipped */
    CHECK(is_item(got_b, "job-2"));
    /* b gives its item back; a consumes its own. */
    CHECK_RC(corral_locking_queue_release(qb), CORRAL_OK);
    corral_bytes_free(got_b);
    CHECK_RC(corral_locking_queue_consume(qa), CORRAL_OK);
    corral_bytes_free(got_a);
    CHECK_RC(corral_locking_queue_len(qa, &n), CORRAL_OK);
    CHECK(n == 2);
    CHECK_RC(corral_locking_queue_get(qa, 5000, &got_a), CORRAL_OK);
    CHECK(is_item(got_a, "job-2"));
    corral_bytes_free(got_a);
    /* a's session ends while it holds job-2: b gets it. */
    corral_locking_queue_free(qa);
    corral_client_free(a);
    CHECK_RC(corral_locking_queue_get(qb, 10000, &got_b), CORRAL_OK);
    CHECK(is_item(got_b, "job-2"));
    CHECK_RC(corral_locking_queue_consume(qb), CORRAL_OK);
    corral_bytes_free(got_b);
    CHECK_RC(corral_locking_queue_get(qb, 5000, &got_b), CORRAL_OK);
    CHECK(is_item(got_b, "job-3"));
    CHECK_RC(corral_locking_queue_consume(qb), CORRAL_OK);
    corral_bytes_free(got_b);
    CHECK_RC(corral_locking_queue_get(qb, 100, &got_b), CORRAL_TIMEOUT);
    CHECK_RC(corral_locking_queue_put(qb, (const uint8_t *)"x", 1, 1000), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_locking_queue_put(NULL, (const uint8_t *)"x", 1, 0), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_locking_queue_put_all(qb, items, NULL, 2, 0), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_locking_queue_get(qb, -5, &got_b), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_locking_queue_get(qb, 0, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_locking_queue_holds_lock(qb, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_locking_queue_consume(NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_locking_queue_release(NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_locking_queue_len(qb, NULL), CORRAL_NULL_ARGUMENT);
    corral_locking_queue_free(qb);
    corral_locking_queue_free(NULL);
    CHECK_RC(corral_client_close(b), CORRAL_OK);
    CHECK_RC(corral_locking_queue_new(b, ns, &qb), CORRAL_CLOSED_HANDLE);
    corral_client_free(b);
}
