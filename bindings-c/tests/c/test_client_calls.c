/* Client calls beyond the basic reads and writes: whoAmI, multiRead,
 * ensure_path (mkdir -p) and delete_recursive. */
#include "common.h"

TEST(who_am_i_lists_the_connection_identities) {
    corral_client *zk = connect_target();
    if (!zk) return;
    corral_client_info_list *ids = NULL;
    REQUIRE_RC(corral_client_who_am_i(zk, &ids), CORRAL_OK);
    corral_client_info who;
    bool ip = false;
    for (size_t i = 0; i < corral_client_info_list_len(ids); i++) {
        CHECK_RC(corral_client_info_list_get(ids, i, &who), CORRAL_OK);
        if (strcmp(who.scheme, "ip") == 0 && strcmp(who.user, "127.0.0.1") == 0) ip = true;
    }
    CHECK(ip);
    CHECK_RC(corral_client_info_list_get(ids, corral_client_info_list_len(ids), &who), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_client_info_list_get(ids, 0, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_info_list_get(NULL, 0, &who), CORRAL_NULL_ARGUMENT);
    corral_client_info_list_free(ids);
    /* A credential adds an identity. */
    CHECK_RC(corral_client_add_auth(zk, "digest", (const uint8_t *)"alice:pw", 8), CORRAL_OK);
    REQUIRE_RC(corral_client_who_am_i(zk, &ids), CORRAL_OK);
    bool alice = false;
    for (size_t i = 0; i < corral_client_info_list_len(ids); i++) {
        CHECK_RC(corral_client_info_list_get(ids, i, &who), CORRAL_OK);
        if (strcmp(who.scheme, "digest") == 0 && strcmp(who.user, "alice") == 0) alice = true;
    }
    CHECK(alice);
    corral_client_info_list_free(ids);
    corral_client_info_list_free(NULL);
    CHECK(corral_client_info_list_len(NULL) == 0);
    CHECK_RC(corral_client_who_am_i(zk, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_who_am_i(NULL, &ids), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_close(zk), CORRAL_OK);
    CHECK_RC(corral_client_who_am_i(zk, &ids), CORRAL_CLOSED_HANDLE);
    corral_client_free(zk);
}

TEST(multi_read_reads_each_node_on_its_own) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], a[128], b[128], missing[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(a, sizeof a, "%s/a", ns);
    snprintf(b, sizeof b, "%s/b", ns);
    snprintf(missing, sizeof missing, "%s/missing", ns);
    CHECK_RC(corral_client_create(zk, a, (const uint8_t *)"alpha", 5, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    CHECK_RC(corral_client_create(zk, b, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    CHECK_RC(corral_client_set(zk, b, (const uint8_t *)"beta", 4, -1, NULL), CORRAL_OK);
    const char *data_paths[] = {a, missing, b};
    const char *children_paths[] = {ns, missing};
    corral_read_results *r = NULL;
    REQUIRE_RC(corral_client_multi_read(zk, data_paths, 3, children_paths, 2, &r), CORRAL_OK);
    CHECK(corral_read_results_len(r) == 5);
    CHECK_RC(corral_read_results_code(r, 0), CORRAL_OK);
    CHECK_RC(corral_read_results_code(r, 1), CORRAL_NO_NODE);
    CHECK_RC(corral_read_results_code(r, 2), CORRAL_OK);
    CHECK_RC(corral_read_results_code(r, 3), CORRAL_OK);
    CHECK_RC(corral_read_results_code(r, 4), CORRAL_NO_NODE);
    CHECK_RC(corral_read_results_code(r, 5), CORRAL_INVALID_ARGUMENT);
    const uint8_t *data = NULL;
    size_t len = 0;
    corral_stat st;
    CHECK_RC(corral_read_results_data(r, 0, &data, &len, &st), CORRAL_OK);
    CHECK(len == 5 && memcmp(data, "alpha", 5) == 0 && st.version == 0 && st.data_length == 5);
    CHECK_RC(corral_read_results_data(r, 2, &data, &len, NULL), CORRAL_OK);
    CHECK(len == 4 && memcmp(data, "beta", 4) == 0);
    CHECK_RC(corral_read_results_data(r, 1, &data, &len, &st), CORRAL_NO_NODE);
    CHECK_RC(corral_read_results_data(r, 3, &data, &len, &st), CORRAL_INVALID_ARGUMENT); /* a children read */
    CHECK_RC(corral_read_results_data(r, 9, &data, &len, &st), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_read_results_data(r, 0, NULL, &len, &st), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_read_results_data(r, 0, &data, NULL, &st), CORRAL_NULL_ARGUMENT);
    const corral_strings *kids = NULL;
    CHECK_RC(corral_read_results_children(r, 3, &kids), CORRAL_OK);
    CHECK(corral_strings_len(kids) == 2);
    CHECK_RC(corral_read_results_children(r, 4, &kids), CORRAL_NO_NODE);
    CHECK_RC(corral_read_results_children(r, 0, &kids), CORRAL_INVALID_ARGUMENT); /* a data read */
    CHECK_RC(corral_read_results_children(r, 3, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_read_results_children(NULL, 3, &kids), CORRAL_NULL_ARGUMENT);
    corral_read_results_free(r);
    corral_read_results_free(NULL);
    CHECK(corral_read_results_len(NULL) == 0);
    CHECK_RC(corral_read_results_code(NULL, 0), CORRAL_INVALID_ARGUMENT);
    /* Only children reads; NULL arrays with length 0. */
    REQUIRE_RC(corral_client_multi_read(zk, NULL, 0, children_paths, 1, &r), CORRAL_OK);
    CHECK(corral_read_results_len(r) == 1);
    corral_read_results_free(r);
    CHECK_RC(corral_client_multi_read(zk, NULL, 1, NULL, 0, &r), CORRAL_NULL_ARGUMENT);
    const char *null_path[] = {NULL};
    CHECK_RC(corral_client_multi_read(zk, null_path, 1, NULL, 0, &r), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_multi_read(zk, data_paths, 1, NULL, 0, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_multi_read(NULL, data_paths, 1, NULL, 0, &r), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_close(zk), CORRAL_OK);
    CHECK_RC(corral_client_multi_read(zk, data_paths, 1, NULL, 0, &r), CORRAL_CLOSED_HANDLE);
    corral_client_free(zk);
}

TEST(ensure_path_and_delete_recursive_make_and_remove_trees) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], deep[160], mid[128], leaf[192];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(mid, sizeof mid, "%s/x", ns);
    snprintf(deep, sizeof deep, "%s/x/y/z", ns);
    CHECK_RC(corral_client_ensure_path(zk, deep), CORRAL_OK);
    CHECK_RC(corral_client_exists(zk, deep, NULL), CORRAL_OK);
    CHECK_RC(corral_client_ensure_path(zk, deep), CORRAL_OK); /* already there */
    CHECK_RC(corral_client_ensure_path(zk, "/"), CORRAL_OK);
    for (int i = 0; i < 3; i++) {
        snprintf(leaf, sizeof leaf, "%s/leaf-%d", deep, i);
        CHECK_RC(corral_client_create(zk, leaf, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    }
    CHECK_RC(corral_client_delete(zk, mid, -1), CORRAL_NOT_EMPTY);
    CHECK_RC(corral_client_delete_recursive(zk, mid), CORRAL_OK);
    CHECK_RC(corral_client_exists(zk, mid, NULL), CORRAL_NO_NODE);
    CHECK(child_count(zk, ns) == 0);
    CHECK_RC(corral_client_delete_recursive(zk, mid), CORRAL_OK); /* gone already */
    CHECK_RC(corral_client_ensure_path(zk, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_delete_recursive(zk, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_ensure_path(NULL, deep), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_delete_recursive(NULL, deep), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_close(zk), CORRAL_OK);
    CHECK_RC(corral_client_ensure_path(zk, deep), CORRAL_CLOSED_HANDLE);
    CHECK_RC(corral_client_delete_recursive(zk, deep), CORRAL_CLOSED_HANDLE);
    corral_client_free(zk);
}
