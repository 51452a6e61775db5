/* ACLs and transactions from C. */
#include "common.h"

TEST(acls_are_set_read_and_enforced) {
    corral_client *owner = connect_target();
    corral_client *stranger = connect_target();
    if (!owner || !stranger) return;
    char ns[64], path[128];
    fresh_ns(owner, ns, sizeof ns);
    snprintf(path, sizeof path, "%s/secret", ns);
    CHECK_RC(corral_client_add_auth(owner, "digest", (const uint8_t *)"alice:pw", 8), CORRAL_OK);
    corral_acl acl[] = {{CORRAL_PERM_ALL, "auth", ""}, {CORRAL_PERM_READ, "world", "anyone"}};
    CHECK_RC(corral_client_create_acl(owner, path, (const uint8_t *)"s", 1, CORRAL_PERSISTENT, acl, 2, NULL, 0, NULL),
             CORRAL_OK);
    corral_acl_list *got = NULL;
    corral_stat st;
    CHECK_RC(corral_client_get_acl(owner, path, &got, &st), CORRAL_OK);
    CHECK(corral_acl_list_len(got) == 2 && st.aversion == 0);
    corral_acl e;
    bool digest = false, world = false;
    for (size_t i = 0; i < corral_acl_list_len(got); i++) {
        CHECK_RC(corral_acl_list_get(got, i, &e), CORRAL_OK);
        /* "auth" is stored as the caller's digest identity. */
        if (strcmp(e.scheme, "digest") == 0 && strncmp(e.id, "alice:", 6) == 0 && e.perms == CORRAL_PERM_ALL) digest = true;
        if (strcmp(e.scheme, "world") == 0 && strcmp(e.id, "anyone") == 0 && e.perms == CORRAL_PERM_READ) world = true;
    }
    CHECK(digest && world);
    CHECK_RC(corral_acl_list_get(got, 2, &e), CORRAL_INVALID_ARGUMENT);
    corral_acl_list_free(got);
    corral_acl_list_free(NULL);
    CHECK(corral_acl_list_len(NULL) == 0);
    /* The stranger may read but not write. */
    uint8_t buf[4];
    size_t len;
    CHECK_RC(corral_client_get(stranger, path, buf, sizeof buf, &len, NULL), CORRAL_OK);
    CHECK_RC(corral_client_set(stranger, path, (const uint8_t *)"x", 1, -1, NULL), CORRAL_NO_AUTH);
    /* Narrow it to the owner; a stale ACL version is refused. */
    corral_acl only_owner[] = {{CORRAL_PERM_ALL, "auth", ""}};
    CHECK_RC(corral_client_set_acl(owner, path, only_owner, 1, 7, NULL), CORRAL_BAD_VERSION);
    CHECK_RC(corral_client_set_acl(owner, path, only_owner, 1, 0, &st), CORRAL_OK);
    CHECK(st.aversion == 1);
    CHECK_RC(corral_client_get(stranger, path, buf, sizeof buf, &len, NULL), CORRAL_NO_AUTH);
    /* Bad ACLs. */
    CHECK_RC(corral_client_set_acl(owner, path, NULL, 0, -1, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_set_acl(owner, path, only_owner, 0, -1, NULL), CORRAL_INVALID_ACL);
    corral_acl bad_scheme[] = {{CORRAL_PERM_ALL, "nosuch", "x"}};
    CHECK_RC(corral_client_set_acl(owner, path, bad_scheme, 1, -1, NULL), CORRAL_INVALID_ACL);
    corral_acl null_id[] = {{CORRAL_PERM_ALL, "world", NULL}};
    CHECK_RC(corral_client_set_acl(owner, path, null_id, 1, -1, NULL), CORRAL_NULL_ARGUMENT);
    corral_client_free(stranger);
    corral_client_free(owner);
}

TEST(transactions_apply_all_or_nothing) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], a[128], b[128], seq[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(a, sizeof a, "%s/a", ns);
    snprintf(b, sizeof b, "%s/b", ns);
    snprintf(seq, sizeof seq, "%s/s-", ns);
    corral_txn *t = NULL;
    REQUIRE_RC(corral_txn_new(zk, &t), CORRAL_OK);
    CHECK_RC(corral_txn_create(t, a, (const uint8_t *)"1", 1, CORRAL_PERSISTENT), CORRAL_OK);
    CHECK_RC(corral_txn_create(t, seq, NULL, 0, CORRAL_PERSISTENT_SEQUENTIAL), CORRAL_OK);
    CHECK_RC(corral_txn_set(t, a, (const uint8_t *)"2", 1, 0), CORRAL_OK);
    CHECK_RC(corral_txn_check(t, a, 1), CORRAL_OK);
    corral_txn_results *r = NULL;
    CHECK_RC(corral_txn_commit(t, &r), CORRAL_OK);
    CHECK(corral_txn_results_len(r) == 4);
    for (size_t i = 0; i < 4; i++) CHECK(corral_txn_results_code(r, i) == CORRAL_OK);
    CHECK(strcmp(corral_txn_results_path(r, 0), a) == 0);
    char want[160];
    snprintf(want, sizeof want, "%s0000000001", seq);
    CHECK(strcmp(corral_txn_results_path(r, 1), want) == 0);
    CHECK(corral_txn_results_path(r, 2) == NULL);
    corral_stat st;
    CHECK_RC(corral_txn_results_stat(r, 2, &st), CORRAL_OK);
    CHECK(st.version == 1);
    CHECK_RC(corral_txn_results_stat(r, 3, &st), CORRAL_NO_NODE);
    CHECK_RC(corral_txn_results_stat(r, 9, &st), CORRAL_INVALID_ARGUMENT);
    CHECK(corral_txn_results_code(r, 9) == CORRAL_INVALID_ARGUMENT);
    corral_txn_results_free(r);
    /* A failing sub-op: nothing applies; every result says what happened. */
    CHECK_RC(corral_txn_create(t, b, NULL, 0, CORRAL_PERSISTENT), CORRAL_OK);
    CHECK_RC(corral_txn_check(t, a, 0), CORRAL_OK);
    CHECK_RC(corral_txn_delete(t, a, -1), CORRAL_OK);
    r = NULL;
    CHECK_RC(corral_txn_commit(t, &r), CORRAL_BAD_VERSION);
    CHECK(corral_txn_results_len(r) == 3);
    CHECK(corral_txn_results_code(r, 0) == CORRAL_OK && corral_txn_results_code(r, 1) == CORRAL_BAD_VERSION &&
          corral_txn_results_code(r, 2) == CORRAL_RUNTIME_INCONSISTENCY);
    corral_txn_results_free(r);
    CHECK_RC(corral_client_exists(zk, b, NULL), CORRAL_NO_NODE);
    CHECK_RC(corral_client_exists(zk, a, NULL), CORRAL_OK);
    CHECK_RC(corral_txn_create(t, a, NULL, 0, 9), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_txn_create(t, a, NULL, 0, CORRAL_PERSISTENT_WITH_TTL), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_txn_delete(NULL, a, -1), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_txn_set(t, NULL, NULL, 0, -1), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_txn_commit(t, NULL), CORRAL_NULL_ARGUMENT);
    corral_txn_free(t);
    corral_txn_free(NULL);
    corral_txn_results_free(NULL);
    corral_client_free(zk);
}
