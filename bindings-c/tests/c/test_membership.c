/* A node kept present, and a set partitioned among members, from C. */
#include "common.h"

TEST(persistent_node_comes_back_until_closed) {
    corral_client *zk = connect_target();
    corral_client *other = connect_target();
    if (!zk || !other) return;
    char ns[64], path[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(path, sizeof path, "%s/me", ns);
    corral_persistent_node *node = NULL;
    REQUIRE_RC(corral_persistent_node_start(zk, path, CORRAL_EPHEMERAL, (const uint8_t *)"v1", 2, false, &node),
               CORRAL_OK);
    CHECK_RC(corral_persistent_node_wait_created(node, 5000), CORRAL_OK);
    CHECK_RC(corral_persistent_node_wait_created(node, CORRAL_WAIT_FOREVER), CORRAL_OK);
    char actual[128];
    size_t len = 0;
    CHECK_RC(corral_persistent_node_path(node, actual, sizeof actual, &len), CORRAL_OK);
    CHECK(strcmp(actual, path) == 0 && len == strlen(path));
    char tiny[4];
    CHECK_RC(corral_persistent_node_path(node, tiny, sizeof tiny, &len), CORRAL_BUFFER_TOO_SMALL);
    CHECK(len == strlen(path) + 1);
    /* Deleted by someone else: it comes back. */
    CHECK_RC(corral_client_delete(other, path, -1), CORRAL_OK);
    WAIT_FOR(corral_client_exists(other, path, NULL) == CORRAL_OK, 5000);
    CHECK_RC(corral_client_exists(other, path, NULL), CORRAL_OK);
    /* New data is written, and restored after someone overwrites it. */
    CHECK_RC(corral_persistent_node_set_data(node, (const uint8_t *)"v2", 2), CORRAL_OK);
    uint8_t buf[8];
    CHECK_RC(corral_persistent_node_data(node, buf, sizeof buf, &len), CORRAL_OK);
    CHECK(len == 2 && memcmp(buf, "v2", 2) == 0);
    CHECK_RC(corral_persistent_node_data(node, buf, 1, &len), CORRAL_BUFFER_TOO_SMALL);
    CHECK(len == 2);
    WAIT_FOR(corral_client_get(other, path, buf, sizeof buf, &len, NULL) == CORRAL_OK && len == 2 &&
                 memcmp(buf, "v2", 2) == 0, 5000);
    CHECK(len == 2 && memcmp(buf, "v2", 2) == 0);
    CHECK_RC(corral_persistent_node_set_data(node, NULL, 1), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_persistent_node_wait_created(node, -2), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_persistent_node_path(node, actual, sizeof actual, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_persistent_node_data(NULL, buf, sizeof buf, &len), CORRAL_NULL_ARGUMENT);
    /* Closing deletes it; the handle is closed. */
    CHECK_RC(corral_persistent_node_close(node), CORRAL_OK);
    CHECK_RC(corral_client_exists(other, path, NULL), CORRAL_NO_NODE);
    CHECK_RC(corral_persistent_node_close(node), CORRAL_CLOSED_HANDLE);
    CHECK_RC(corral_persistent_node_set_data(node, (const uint8_t *)"v3", 2), CORRAL_CLOSED_HANDLE);
    CHECK_RC(corral_persistent_node_path(node, actual, sizeof actual, &len), CORRAL_CLOSED_HANDLE);
    CHECK_RC(corral_persistent_node_wait_created(node, 0), CORRAL_CLOSED_HANDLE);
    corral_persistent_node_free(node);
    /* Protected and sequential: a generated name; freeing deletes it. */
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/member-", ns);
    REQUIRE_RC(corral_persistent_node_start(zk, prefix, CORRAL_EPHEMERAL_SEQUENTIAL, NULL, 0, true, &node), CORRAL_OK);
    CHECK_RC(corral_persistent_node_wait_created(node, 5000), CORRAL_OK);
    CHECK_RC(corral_persistent_node_path(node, actual, sizeof actual, &len), CORRAL_OK);
    CHECK(strstr(actual, "_c_") != NULL && strstr(actual, "member-") != NULL);
    CHECK(child_count(other, ns) == 1);
    corral_persistent_node_free(node);
    corral_persistent_node_free(NULL);
    CHECK(child_count(other, ns) == 0);
    /* Bad arguments; a closed client. */
    CHECK_RC(corral_persistent_node_start(zk, path, 9, NULL, 0, false, &node), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_persistent_node_start(zk, path, CORRAL_PERSISTENT_WITH_TTL, NULL, 0, false, &node),
             CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_persistent_node_start(zk, NULL, CORRAL_EPHEMERAL, NULL, 0, false, &node), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_persistent_node_start(zk, path, CORRAL_EPHEMERAL, NULL, 0, false, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_close(zk), CORRAL_OK);
    CHECK_RC(corral_persistent_node_start(zk, path, CORRAL_EPHEMERAL, NULL, 0, false, &node), CORRAL_CLOSED_HANDLE);
    corral_client_free(other);
    corral_client_free(zk);
}

static int wait_state(corral_partitioner *p, int32_t from) {
    int32_t state = -1;
    corral_result rc = corral_partitioner_wait_for_change(p, from, 20000, &state);
    return rc == CORRAL_OK ? state : rc;
}

static size_t share(corral_partitioner *p) {
    corral_strings *mine = NULL;
    if (corral_partitioner_partitions(p, &mine) != CORRAL_OK) return 99;
    size_t n = corral_strings_len(mine);
    corral_strings_free(mine);
    return n;
}

TEST(partitioner_splits_the_set_among_members) {
    corral_client *a = connect_target();
    corral_client *b = connect_target();
    if (!a || !b) return;
    char ns[64];
    fresh_ns(a, ns, sizeof ns);
    const char *items[] = {"q1", "q2", "q3", "q4"};
    corral_partitioner *pa = NULL, *pb = NULL;
    REQUIRE_RC(corral_partitioner_start(a, ns, items, 4, "worker-a", 100, true, &pa), CORRAL_OK);
    CHECK(wait_state(pa, CORRAL_PARTITION_ALLOCATING) == CORRAL_PARTITION_ACQUIRED);
    CHECK(share(pa) == 4);
    int32_t state = -1;
    CHECK_RC(corral_partitioner_state(pa, &state), CORRAL_OK);
    CHECK(state == CORRAL_PARTITION_ACQUIRED);
    CHECK_RC(corral_partitioner_wait_for_change(pa, CORRAL_PARTITION_ACQUIRED, 50, &state), CORRAL_TIMEOUT);
    /* A second member joins: the first must release, then both take half. */
    REQUIRE_RC(corral_partitioner_start(b, ns, items, 4, "worker-b", 100, true, &pb), CORRAL_OK);
    CHECK(wait_state(pa, CORRAL_PARTITION_ACQUIRED) == CORRAL_PARTITION_RELEASE);
    CHECK_RC(corral_partitioner_release_set(pa), CORRAL_OK);
    CHECK(wait_state(pa, CORRAL_PARTITION_ALLOCATING) == CORRAL_PARTITION_ACQUIRED);
    CHECK(wait_state(pb, CORRAL_PARTITION_ALLOCATING) == CORRAL_PARTITION_ACQUIRED);
    corral_strings *mine = NULL;
    CHECK_RC(corral_partitioner_partitions(pa, &mine), CORRAL_OK);
    CHECK(corral_strings_len(mine) == 2 && strcmp(corral_strings_get(mine, 0), "q1") == 0 &&
          strcmp(corral_strings_get(mine, 1), "q3") == 0);
    corral_strings_free(mine);
    CHECK(share(pb) == 2);
    /* Bad arguments. */
    CHECK_RC(corral_partitioner_wait_for_change(pa, 7, 0, &state), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_partitioner_wait_for_change(pa, CORRAL_PARTITION_ACQUIRED, -4, &state), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_partitioner_wait_for_change(pa, CORRAL_PARTITION_ACQUIRED, 0, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_partitioner_state(pa, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_partitioner_state(NULL, &state), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_partitioner_partitions(pa, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_partitioner_release_set(NULL), CORRAL_NULL_ARGUMENT);
    corral_partitioner *bad = NULL;
    CHECK_RC(corral_partitioner_start(a, ns, NULL, 1, "x", 100, true, &bad), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_partitioner_start(a, ns, items, 4, NULL, 100, true, &bad), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_partitioner_start(a, ns, items, 4, "x", 100, true, NULL), CORRAL_NULL_ARGUMENT);
    /* The first finishes: the second takes everything. */
    CHECK_RC(corral_partitioner_finish(pa), CORRAL_OK);
    CHECK_RC(corral_partitioner_finish(pa), CORRAL_CLOSED_HANDLE);
    CHECK_RC(corral_partitioner_state(pa, &state), CORRAL_CLOSED_HANDLE);
    CHECK_RC(corral_partitioner_partitions(pa, &mine), CORRAL_CLOSED_HANDLE);
    CHECK_RC(corral_partitioner_release_set(pa), CORRAL_CLOSED_HANDLE);
    corral_partitioner_free(pa);
    CHECK_RC(wait_state(pb, CORRAL_PARTITION_ACQUIRED), CORRAL_PARTITION_RELEASE);
    CHECK_RC(corral_partitioner_release_set(pb), CORRAL_OK);
    CHECK_RC(wait_state(pb, CORRAL_PARTITION_ALLOCATING), CORRAL_PARTITION_ACQUIRED);
    CHECK(share(pb) == 4);
    corral_partitioner_free(pb);
    corral_partitioner_free(NULL);
    CHECK_RC(corral_client_close(b), CORRAL_OK);
    CHECK_RC(corral_partitioner_start(b, ns, items, 4, "late", 100, true, &bad), CORRAL_CLOSED_HANDLE);
    corral_client_free(b);
    corral_client_free(a);
}
