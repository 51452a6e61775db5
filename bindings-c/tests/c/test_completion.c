/* The callback API: completions run once each, on the dispatch thread, in
 * call order. */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>

#define CALLS 64

struct log {
    pthread_mutex_t mu;
    int count;
    int order[CALLS + 8];
    corral_result rc[CALLS + 8];
    char text[CALLS + 8][96];
    int64_t number[CALLS + 8];
    pthread_t thread;
};

struct tag { struct log *log; int id; };

static void note(struct tag *t, corral_result rc, const char *text, int64_t number) {
    struct log *l = t->log;
    pthread_mutex_lock(&l->mu);
    if (l->count < CALLS + 8) {
        l->order[l->count] = t->id;
        l->rc[l->count] = rc;
        snprintf(l->text[l->count], sizeof l->text[0], "%s", text ? text : "");
        l->number[l->count] = number;
        l->count++;
    }
    l->thread = pthread_self();
    pthread_mutex_unlock(&l->mu);
}

static int log_count(struct log *l) {
    pthread_mutex_lock(&l->mu);
    int n = l->count;
    pthread_mutex_unlock(&l->mu);
    return n;
}

static void on_created(corral_result rc, const char *path, void *ud) { note(ud, rc, path, 0); }
static void on_void(corral_result rc, void *ud) { note(ud, rc, NULL, 0); }
static void on_stat(corral_result rc, const corral_stat *st, void *ud) { note(ud, rc, NULL, st ? st->version : -1); }
static void on_data(corral_result rc, const uint8_t *data, size_t len, const corral_stat *st, void *ud) {
    char text[96] = "";
    if (data) snprintf(text, sizeof text, "%.*s", (int)len, (const char *)data);
    note(ud, rc, text, st ? st->version : -1);
}
static void on_children(corral_result rc, const corral_strings *list, void *ud) {
    note(ud, rc, NULL, list ? (int64_t)corral_strings_len(list) : -1);
}

TEST(completions_run_once_each_in_call_order) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], path[128];
    fresh_ns(zk, ns, sizeof ns);
    struct log log;
    memset(&log, 0, sizeof log);
    pthread_mutex_init(&log.mu, NULL);
    struct tag tags[CALLS + 8];
    for (int i = 0; i < CALLS + 8; i++) tags[i] = (struct tag){&log, i};
    snprintf(path, sizeof path, "%s/item-", ns);
    for (int i = 0; i < CALLS; i++)
        CHECK_RC(corral_client_create_async(zk, path, (const uint8_t *)"v", 1, CORRAL_PERSISTENT_SEQUENTIAL, on_created,
                                            &tags[i]), CORRAL_OK);
    char first[160];
    snprintf(first, sizeof first, "%s/item-0000000000", ns);
    CHECK_RC(corral_client_set_async(zk, first, (const uint8_t *)"w", 1, 0, on_stat, &tags[CALLS]), CORRAL_OK);
    CHECK_RC(corral_client_get_async(zk, first, on_data, &tags[CALLS + 1]), CORRAL_OK);
    CHECK_RC(corral_client_exists_async(zk, "/no/such/node", on_stat, &tags[CALLS + 2]), CORRAL_OK);
    CHECK_RC(corral_client_get_children_async(zk, ns, on_children, &tags[CALLS + 3]), CORRAL_OK);
    CHECK_RC(corral_client_sync_async(zk, ns, on_void, &tags[CALLS + 4]), CORRAL_OK);
    CHECK_RC(corral_client_delete_async(zk, first, 5, on_void, &tags[CALLS + 5]), CORRAL_OK);
    CHECK_RC(corral_client_delete_async(zk, first, -1, on_void, &tags[CALLS + 6]), CORRAL_OK);
    CHECK_RC(corral_client_exists_async(zk, first, on_stat, &tags[CALLS + 7]), CORRAL_OK);
    WAIT_FOR(log_count(&log) == CALLS + 8, 10000);
    CHECK(log_count(&log) == CALLS + 8);
    bool in_order = true;
    for (int i = 0; i < CALLS + 8; i++) in_order = in_order && log.order[i] == i;
    CHECK(in_order);
    CHECK(!pthread_equal(log.thread, pthread_self()));
    char want[160];
    snprintf(want, sizeof want, "%s/item-%010d", ns, CALLS - 1);
    CHECK(log.rc[CALLS - 1] == CORRAL_OK && strcmp(log.text[CALLS - 1], want) == 0);
    CHECK(log.rc[CALLS] == CORRAL_OK && log.number[CALLS] == 1);
    CHECK(log.rc[CALLS + 1] == CORRAL_OK && strcmp(log.text[CALLS + 1], "w") == 0 && log.number[CALLS + 1] == 1);
    CHECK(log.rc[CALLS + 2] == CORRAL_NO_NODE && log.number[CALLS + 2] == -1);
    CHECK_RC(log.rc[CALLS + 3], CORRAL_OK);
    CHECK(log.number[CALLS + 3] == CALLS);
    if (log.number[CALLS + 3] != CALLS) fprintf(stderr, "  children: %lld\n", (long long)log.number[CALLS + 3]);
    CHECK(log.rc[CALLS + 4] == CORRAL_OK);
    CHECK_RC(log.rc[CALLS + 5], CORRAL_BAD_VERSION);
    CHECK(log.rc[CALLS + 6] == CORRAL_OK);
    CHECK(log.rc[CALLS + 7] == CORRAL_NO_NODE);
    /* Refused calls run no completion. */
    CHECK_RC(corral_client_get_async(zk, NULL, on_data, &tags[0]), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_get_async(zk, ns, NULL, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_create_async(zk, path, NULL, 0, 42, on_created, &tags[0]), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_client_get_async(NULL, ns, on_data, &tags[0]), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_close(zk), CORRAL_OK);
    CHECK_RC(corral_client_sync_async(zk, ns, on_void, &tags[0]), CORRAL_CLOSED_HANDLE);
    sleep_ms(100);
    CHECK(log_count(&log) == CALLS + 8);
    corral_client_free(zk);
}

static void on_acl(corral_result rc, const corral_acl_list *acl, const corral_stat *st, void *ud) {
    char text[96] = "";
    corral_acl e;
    if (acl && corral_acl_list_get(acl, 0, &e) == CORRAL_OK) snprintf(text, sizeof text, "%s:%s:%d", e.scheme, e.id, e.perms);
    note(ud, rc, text, st ? st->aversion : -1);
}
static void on_acl_set(corral_result rc, const corral_stat *st, void *ud) { note(ud, rc, NULL, st ? st->aversion : -1); }
static void on_results(corral_result rc, const corral_txn_results *r, void *ud) {
    const char *path = r ? corral_txn_results_path(r, 0) : NULL;
    note(ud, rc, path, r ? (int64_t)corral_txn_results_len(r) : -1);
}

TEST(acl_ephemeral_and_transaction_completions_in_call_order) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], a[128], eph[128], seq[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(a, sizeof a, "%s/a", ns);
    snprintf(eph, sizeof eph, "%s/eph", ns);
    snprintf(seq, sizeof seq, "%s/s-", ns);
    CHECK_RC(corral_client_create(zk, a, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    CHECK_RC(corral_client_create(zk, eph, NULL, 0, CORRAL_EPHEMERAL, NULL, 0, NULL), CORRAL_OK);
    struct log log;
    memset(&log, 0, sizeof log);
    pthread_mutex_init(&log.mu, NULL);
    struct tag tags[10];
    for (int i = 0; i < 10; i++) tags[i] = (struct tag){&log, i};
    corral_acl read_only[] = {{CORRAL_PERM_READ, "world", "anyone"}};
    corral_txn *ok_txn = NULL, *bad_txn = NULL;
    REQUIRE_RC(corral_txn_new(zk, &ok_txn), CORRAL_OK);
    REQUIRE_RC(corral_txn_new(zk, &bad_txn), CORRAL_OK);
    CHECK_RC(corral_txn_create(ok_txn, seq, NULL, 0, CORRAL_PERSISTENT_SEQUENTIAL), CORRAL_OK);
    CHECK_RC(corral_txn_check(ok_txn, a, 0), CORRAL_OK);
    CHECK_RC(corral_txn_check(bad_txn, a, 0), CORRAL_OK);
    CHECK_RC(corral_txn_check(bad_txn, a, 7), CORRAL_OK);
    CHECK_RC(corral_client_get_acl_async(zk, a, on_acl, &tags[0]), CORRAL_OK);
    CHECK_RC(corral_client_set_acl_async(zk, a, read_only, 1, 5, on_acl_set, &tags[1]), CORRAL_OK);
    CHECK_RC(corral_client_set_acl_async(zk, a, read_only, 1, 0, on_acl_set, &tags[2]), CORRAL_OK);
    CHECK_RC(corral_client_get_acl_async(zk, a, on_acl, &tags[3]), CORRAL_OK);
    CHECK_RC(corral_client_get_acl_async(zk, "/no/such/node", on_acl, &tags[4]), CORRAL_OK);
    CHECK_RC(corral_client_get_ephemerals_async(zk, ns, on_children, &tags[5]), CORRAL_OK);
    CHECK_RC(corral_txn_commit_async(ok_txn, on_results, &tags[6]), CORRAL_OK);
    CHECK_RC(corral_txn_commit_async(bad_txn, on_results, &tags[7]), CORRAL_OK);
    CHECK_RC(corral_txn_commit_async(ok_txn, on_results, &tags[8]), CORRAL_OK); /* emptied by the first commit */
    CHECK_RC(corral_client_get_ephemerals_async(zk, "/no-such-prefix", on_children, &tags[9]), CORRAL_OK);
    WAIT_FOR(log_count(&log) == 10, 10000);
    CHECK(log_count(&log) == 10);
    bool in_order = true;
    for (int i = 0; i < 10; i++) in_order = in_order && log.order[i] == i;
    CHECK(in_order);
    CHECK(!pthread_equal(log.thread, pthread_self()));
    CHECK_RC(log.rc[0], CORRAL_OK);
    CHECK(strcmp(log.text[0], "world:anyone:31") == 0 && log.number[0] == 0);
    CHECK_RC(log.rc[1], CORRAL_BAD_VERSION);
    CHECK(log.number[1] == -1);
    CHECK_RC(log.rc[2], CORRAL_OK);
    CHECK(log.number[2] == 1);
    CHECK(strcmp(log.text[3], "world:anyone:1") == 0 && log.number[3] == 1);
    CHECK_RC(log.rc[4], CORRAL_NO_NODE);
    CHECK(log.number[4] == -1 && log.text[4][0] == 0);
    CHECK_RC(log.rc[5], CORRAL_OK);
    CHECK(log.number[5] == 1);
    char want[160];
    snprintf(want, sizeof want, "%s/s-0000000002", ns);
    CHECK_RC(log.rc[6], CORRAL_OK);
    CHECK(log.number[6] == 2 && strcmp(log.text[6], want) == 0);
    CHECK_RC(log.rc[7], CORRAL_BAD_VERSION);
    CHECK(log.number[7] == 2);
    CHECK_RC(log.rc[8], CORRAL_OK);
    CHECK(log.number[8] == 0);
    CHECK_RC(log.rc[9], CORRAL_OK);
    CHECK(log.number[9] == 0);
    /* Refused calls run no completion. */
    CHECK_RC(corral_client_get_acl_async(zk, NULL, on_acl, &tags[0]), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_get_acl_async(zk, a, NULL, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_set_acl_async(zk, a, NULL, 0, -1, on_stat, &tags[0]), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_set_acl_async(zk, a, read_only, 0, -1, on_stat, &tags[0]), CORRAL_INVALID_ACL);
    CHECK_RC(corral_client_set_acl_async(zk, a, read_only, 1, -1, NULL, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_get_ephemerals_async(zk, NULL, on_children, &tags[0]), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_get_ephemerals_async(NULL, ns, on_children, &tags[0]), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_txn_commit_async(NULL, on_results, &tags[0]), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_txn_commit_async(ok_txn, NULL, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_close(zk), CORRAL_OK);
    CHECK_RC(corral_client_get_acl_async(zk, a, on_acl, &tags[0]), CORRAL_CLOSED_HANDLE);
    CHECK_RC(corral_client_set_acl_async(zk, a, read_only, 1, -1, on_stat, &tags[0]), CORRAL_CLOSED_HANDLE);
    CHECK_RC(corral_client_get_ephemerals_async(zk, ns, on_children, &tags[0]), CORRAL_CLOSED_HANDLE);
    /* A transaction of a closed client fails in its completion. */
    CHECK_RC(corral_txn_check(ok_txn, a, -1), CORRAL_OK);
    CHECK_RC(corral_txn_commit_async(ok_txn, on_results, &tags[0]), CORRAL_OK);
    WAIT_FOR(log_count(&log) == 11, 5000);
    CHECK(log_count(&log) == 11 && log.rc[10] != CORRAL_OK && log.number[10] == -1);
    sleep_ms(100);
    CHECK(log_count(&log) == 11);
    corral_txn_free(ok_txn);
    corral_txn_free(bad_txn);
    corral_client_free(zk);
}
