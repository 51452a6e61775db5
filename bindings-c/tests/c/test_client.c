/* The blocking client from C: every operation and its error paths (NULL
 * arguments, bad paths, too-small buffers, closed handles, a server that went
 * away), and the embedded server. */
#include "common.h"

#include <pthread.h>

TEST(result_messages_name_every_code) {
    CHECK(strcmp(corral_result_message(CORRAL_OK), "ok") == 0);
    CHECK(strcmp(corral_result_message(CORRAL_NO_NODE), "no node") == 0);
    CHECK(strcmp(corral_result_message(CORRAL_BUFFER_TOO_SMALL), "output buffer too small") == 0);
    CHECK(strcmp(corral_result_message(424242), "unknown result code") == 0);
    /* The numbers of zookeeper.h. */
    CHECK(CORRAL_CONNECTION_LOSS == -4 && CORRAL_NO_NODE == -101 && CORRAL_BAD_VERSION == -103);
    CHECK(CORRAL_NODE_EXISTS == -110 && CORRAL_NOT_EMPTY == -111 && CORRAL_SESSION_EXPIRED == -112);
}

TEST(the_smallest_program) {
    corral_server *srv = NULL;
    REQUIRE_RC(corral_server_start(NULL, &srv), CORRAL_OK);
    corral_client *zk = NULL;
    REQUIRE_RC(corral_client_connect(corral_server_connect_string(srv), 10000, &zk), CORRAL_OK);
    char path[256];
    size_t path_len = 0;
    CHECK_RC(corral_client_create(zk, "/demo", (const uint8_t *)"hi", 2, CORRAL_PERSISTENT, path, sizeof path, &path_len),
             CORRAL_OK);
    CHECK(path_len == 5 && strcmp(path, "/demo") == 0);
    uint8_t buf[64];
    size_t len = 0;
    corral_stat stat;
    CHECK_RC(corral_client_get(zk, "/demo", buf, sizeof buf, &len, &stat), CORRAL_OK);
    CHECK(len == 2 && memcmp(buf, "hi", 2) == 0 && stat.version == 0 && stat.data_length == 2);
    corral_client_free(zk);
    corral_server_free(srv);
}

TEST(embedded_server_stops_and_serves_again_on_the_same_port) {
    corral_server *srv = NULL;
    REQUIRE_RC(corral_server_start(NULL, &srv), CORRAL_OK);
    uint16_t port = corral_server_port(srv);
    char expected[64];
    snprintf(expected, sizeof expected, "127.0.0.1:%u", (unsigned)port);
    CHECK(port > 0 && strcmp(corral_server_connect_string(srv), expected) == 0);
    CHECK(corral_server_is_running(srv));
    corral_client *zk = NULL;
    REQUIRE_RC(corral_client_connect(expected, 10000, &zk), CORRAL_OK);
    CHECK_RC(corral_client_create(zk, "/kept", (const uint8_t *)"v", 1, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    CHECK_RC(corral_server_stop(srv), CORRAL_OK);
    CHECK(!corral_server_is_running(srv));
    /* A server that went away: the call fails, nothing hangs. */
    corral_result rc = corral_client_exists(zk, "/kept", NULL);
    CHECK(rc == CORRAL_CONNECTION_LOSS || rc == CORRAL_SESSION_EXPIRED);
    CHECK_RC(corral_server_serve(srv), CORRAL_OK);
    CHECK(corral_server_port(srv) == port);
    CHECK_RC(corral_server_restart(srv), CORRAL_OK);
    /* The client resumes its session on the same port and data. */
    int found = 0;
    for (int i = 0; i < 100 && !found; i++) {
        found = corral_client_exists(zk, "/kept", NULL) == CORRAL_OK;
        if (!found) sleep_ms(50);
    }
    CHECK(found);
    corral_client_free(zk);
    corral_server_free(srv);
    corral_server_free(NULL);
}

TEST(embedded_server_options_and_durable_data) {
    char dir[] = "/tmp/corral-c-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    corral_server_options *opts = NULL;
    REQUIRE_RC(corral_server_options_new(&opts), CORRAL_OK);
    CHECK_RC(corral_server_options_data_dir(opts, dir), CORRAL_OK);
    CHECK_RC(corral_server_options_set(opts, "tickTime", "200"), CORRAL_OK);
    corral_server *srv = NULL;
    REQUIRE_RC(corral_server_start(opts, &srv), CORRAL_OK);
    corral_client *zk = NULL;
    REQUIRE_RC(corral_client_connect(corral_server_connect_string(srv), 10000, &zk), CORRAL_OK);
    CHECK_RC(corral_client_create(zk, "/durable", (const uint8_t *)"d", 1, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    corral_client_free(zk);
    corral_server_free(srv);
    /* The same options again: the data is there. */
    srv = NULL;
    REQUIRE_RC(corral_server_start(opts, &srv), CORRAL_OK);
    zk = NULL;
    REQUIRE_RC(corral_client_connect(corral_server_connect_string(srv), 10000, &zk), CORRAL_OK);
    CHECK_RC(corral_client_exists(zk, "/durable", NULL), CORRAL_OK);
    corral_client_free(zk);
    corral_server_free(srv);
    corral_server_options_free(opts);
    corral_server_options_free(NULL);
}

TEST(bad_server_options_are_refused_with_a_code) {
    corral_server_options *opts = NULL;
    REQUIRE_RC(corral_server_options_new(&opts), CORRAL_OK);
    CHECK_RC(corral_server_options_set(opts, "tickTime", "soon"), CORRAL_OK); /* checked at start */
    corral_server *srv = (corral_server *)0x1;
    CHECK_RC(corral_server_start(opts, &srv), CORRAL_SERVER_ERROR);
    CHECK(srv == (corral_server *)0x1); /* outputs only on success */
    CHECK_RC(corral_server_options_set(opts, NULL, "1"), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_server_options_set(opts, "tickTime", "\xff\xfe"), CORRAL_INVALID_UTF8);
    CHECK_RC(corral_server_options_set(NULL, "tickTime", "1"), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_server_options_config_file(opts, "/no/such/zoo.cfg"), CORRAL_OK);
    CHECK_RC(corral_server_start(opts, &srv), CORRAL_SERVER_ERROR);
    corral_server_options_free(opts);
    CHECK_RC(corral_server_options_new(NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_server_start(NULL, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_server_stop(NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_server_serve(NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_server_restart(NULL), CORRAL_NULL_ARGUMENT);
    CHECK(corral_server_connect_string(NULL) == NULL);
    CHECK(corral_server_port(NULL) == 0);
    CHECK(!corral_server_is_running(NULL));
}

TEST(create_get_set_delete_with_versions) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], path[128], out[160];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(path, sizeof path, "%s/node", ns);
    size_t out_len = 0;
    corral_stat st;
    CHECK_RC(corral_client_create_ttl(zk, path, (const uint8_t *)"one", 3, CORRAL_PERSISTENT, 0, out, sizeof out,
                                      &out_len, &st), CORRAL_OK);
    CHECK(strcmp(out, path) == 0 && out_len == strlen(path) && st.version == 0 && st.data_length == 3);
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_NODE_EXISTS);
    CHECK_RC(corral_client_set(zk, path, (const uint8_t *)"two", 3, 5, NULL), CORRAL_BAD_VERSION);
    CHECK_RC(corral_client_set(zk, path, (const uint8_t *)"two", 3, 0, &st), CORRAL_OK);
    CHECK(st.version == 1);
    CHECK_RC(corral_client_set(zk, path, (const uint8_t *)"three", 5, CORRAL_ANY_VERSION, &st), CORRAL_OK);
    CHECK(st.version == 2);
    uint8_t buf[16];
    size_t len = 0;
    CHECK_RC(corral_client_get(zk, path, buf, sizeof buf, &len, NULL), CORRAL_OK);
    CHECK(len == 5 && memcmp(buf, "three", 5) == 0);
    CHECK_RC(corral_client_exists(zk, path, &st), CORRAL_OK);
    CHECK(st.version == 2 && st.num_children == 0 && st.ephemeral_owner == 0);
    CHECK_RC(corral_client_delete(zk, ns, CORRAL_ANY_VERSION), CORRAL_NOT_EMPTY);
    CHECK_RC(corral_client_delete(zk, path, 1), CORRAL_BAD_VERSION);
    CHECK_RC(corral_client_delete(zk, path, 2), CORRAL_OK);
    CHECK_RC(corral_client_exists(zk, path, NULL), CORRAL_NO_NODE);
    CHECK_RC(corral_client_get(zk, path, buf, sizeof buf, &len, NULL), CORRAL_NO_NODE);
    CHECK_RC(corral_client_set(zk, path, NULL, 0, -1, NULL), CORRAL_NO_NODE);
    CHECK_RC(corral_client_delete(zk, path, -1), CORRAL_NO_NODE);
    snprintf(path, sizeof path, "%s/missing/child", ns);
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_NO_NODE);
    corral_client_free(zk);
}

TEST(sequential_names_and_too_small_path_buffers) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], path[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(path, sizeof path, "%s/job-", ns);
    char small[8] = "untouch";
    size_t len = 0;
    /* Refused before anything is sent: the longest name needs strlen + 10 + NUL. */
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_PERSISTENT_SEQUENTIAL, small, sizeof small, &len),
             CORRAL_BUFFER_TOO_SMALL);
    CHECK(len == strlen(path) + 11 && strcmp(small, "untouch") == 0);
    CHECK(child_count(zk, ns) == 0);
    char out[160];
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_PERSISTENT_SEQUENTIAL, out, sizeof out, &len), CORRAL_OK);
    CHECK(len == strlen(path) + 10 && strncmp(out, path, strlen(path)) == 0 && strcmp(out + strlen(path), "0000000000") == 0);
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_PERSISTENT_SEQUENTIAL, out, sizeof out, &len), CORRAL_OK);
    CHECK(strcmp(out + strlen(path), "0000000001") == 0);
    /* A non-sequential create needs only its own length. */
    snprintf(path, sizeof path, "%s/x", ns);
    char exact[160];
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_PERSISTENT, exact, strlen(path) + 1, &len), CORRAL_OK);
    CHECK(strcmp(exact, path) == 0);
    CHECK(child_count(zk, ns) == 3);
    /* NULL buffer with a capacity, or a buffer without a length pointer. */
    snprintf(path, sizeof path, "%s/y", ns);
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_PERSISTENT, NULL, 10, &len), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_PERSISTENT, out, sizeof out, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_exists(zk, path, NULL), CORRAL_NO_NODE);
    corral_client_free(zk);
}

TEST(too_small_data_buffers_report_the_length_and_write_nothing) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64];
    fresh_ns(zk, ns, sizeof ns);
    CHECK_RC(corral_client_set(zk, ns, (const uint8_t *)"0123456789", 10, -1, NULL), CORRAL_OK);
    uint8_t small[4] = {'a', 'b', 'c', 'd'};
    size_t len = 0;
    corral_stat st = {0};
    st.version = 77;
    CHECK_RC(corral_client_get(zk, ns, small, sizeof small, &len, &st), CORRAL_BUFFER_TOO_SMALL);
    CHECK(len == 10 && memcmp(small, "abcd", 4) == 0 && st.version == 77);
    /* Asking for the length only. */
    len = 0;
    CHECK_RC(corral_client_get(zk, ns, NULL, 0, &len, NULL), CORRAL_BUFFER_TOO_SMALL);
    CHECK(len == 10);
    uint8_t exact[10];
    CHECK_RC(corral_client_get(zk, ns, exact, sizeof exact, &len, &st), CORRAL_OK);
    CHECK(len == 10 && memcmp(exact, "0123456789", 10) == 0 && st.version == 1);
    /* Empty data needs no buffer at all. */
    CHECK_RC(corral_client_set(zk, ns, NULL, 0, -1, NULL), CORRAL_OK);
    CHECK_RC(corral_client_get(zk, ns, NULL, 0, &len, NULL), CORRAL_OK);
    CHECK(len == 0);
    uint8_t sp[4];
    uint8_t pw[16];
    CHECK_RC(corral_client_session_password(zk, sp, sizeof sp, &len), CORRAL_BUFFER_TOO_SMALL);
    CHECK(len == 16);
    CHECK_RC(corral_client_session_password(zk, pw, sizeof pw, &len), CORRAL_OK);
    CHECK(len == 16);
    corral_client_free(zk);
}

TEST(children_lists) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], path[128];
    fresh_ns(zk, ns, sizeof ns);
    const char *names[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", ns, names[i]);
        CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    }
    snprintf(path, sizeof path, "%s/a/deep", ns);
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    corral_strings *kids = NULL;
    corral_stat st;
    CHECK_RC(corral_client_get_children(zk, ns, &kids, &st), CORRAL_OK);
    CHECK(corral_strings_len(kids) == 3 && st.num_children == 3);
    int seen = 0;
    for (size_t i = 0; i < corral_strings_len(kids); i++)
        for (int j = 0; j < 3; j++)
            if (strcmp(corral_strings_get(kids, i), names[j]) == 0) seen |= 1 << j;
    CHECK(seen == 7);
    CHECK(corral_strings_get(kids, 3) == NULL);
    corral_strings_free(kids);
    CHECK(corral_strings_len(NULL) == 0 && corral_strings_get(NULL, 0) == NULL);
    corral_strings_free(NULL);
    int32_t all = 0;
    CHECK_RC(corral_client_get_all_children_number(zk, ns, &all), CORRAL_OK);
    CHECK(all == 4);
    snprintf(path, sizeof path, "%s/none", ns);
    kids = (corral_strings *)0x1;
    CHECK_RC(corral_client_get_children(zk, path, &kids, NULL), CORRAL_NO_NODE);
    CHECK(kids == (corral_strings *)0x1);
    corral_client_free(zk);
}

TEST(ephemerals_belong_to_their_session_and_go_with_it) {
    corral_client *zk = connect_target();
    corral_client *other = connect_target();
    if (!zk || !other) return;
    char ns[64], path[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(path, sizeof path, "%s/eph", ns);
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_EPHEMERAL, NULL, 0, NULL), CORRAL_OK);
    int64_t sid = 0;
    CHECK_RC(corral_client_session_id(zk, &sid), CORRAL_OK);
    corral_stat st;
    CHECK_RC(corral_client_exists(other, path, &st), CORRAL_OK);
    CHECK(sid != 0 && st.ephemeral_owner == sid);
    char child[160];
    snprintf(child, sizeof child, "%s/child", path);
    CHECK_RC(corral_client_create(zk, child, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_NO_CHILDREN_FOR_EPHEMERALS);
    corral_strings *mine = NULL;
    CHECK_RC(corral_client_get_ephemerals(zk, ns, &mine), CORRAL_OK);
    CHECK(corral_strings_len(mine) == 1 && strcmp(corral_strings_get(mine, 0), path) == 0);
    corral_strings_free(mine);
    /* Closing ends the session; the handle then refuses every call. */
    CHECK_RC(corral_client_close(zk), CORRAL_OK);
    CHECK_RC(corral_client_close(zk), CORRAL_CLOSED_HANDLE);
    CHECK_RC(corral_client_exists(zk, path, NULL), CORRAL_CLOSED_HANDLE);
    CHECK_RC(corral_client_session_id(zk, &sid), CORRAL_CLOSED_HANDLE);
    CHECK_RC(corral_client_sync(other, path), CORRAL_OK);
    CHECK_RC(corral_client_exists(other, path, NULL), CORRAL_NO_NODE);
    corral_client_free(zk);
    corral_client_free(other);
}

TEST(containers_ttl_modes_and_bad_modes) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], path[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(path, sizeof path, "%s/box", ns);
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_CONTAINER, NULL, 0, NULL), CORRAL_OK);
    snprintf(path, sizeof path, "%s/ttl", ns);
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_PERSISTENT_WITH_TTL, NULL, 0, NULL), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_client_create_ttl(zk, path, NULL, 0, CORRAL_PERSISTENT, 1000, NULL, 0, NULL, NULL),
             CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_client_create_ttl(zk, path, NULL, 0, CORRAL_PERSISTENT_WITH_TTL, 60000, NULL, 0, NULL, NULL),
             CORRAL_OK);
    CHECK_RC(corral_client_exists(zk, path, NULL), CORRAL_OK);
    CHECK_RC(corral_client_create(zk, path, NULL, 0, 7, NULL, 0, NULL), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_client_create(zk, path, NULL, 0, -1, NULL, 0, NULL), CORRAL_INVALID_ARGUMENT);
    corral_client_free(zk);
}

TEST(null_arguments_bad_paths_and_bad_strings) {
    corral_client *zk = connect_target();
    if (!zk) return;
    uint8_t buf[8];
    size_t len;
    corral_stat st;
    corral_strings *list = NULL;
    int64_t sid;
    int32_t n;
    CHECK_RC(corral_client_create(NULL, "/x", NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_create(zk, NULL, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_create(zk, "/x", NULL, 3, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_get(NULL, "/", buf, sizeof buf, &len, &st), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_get(zk, NULL, buf, sizeof buf, &len, &st), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_get(zk, "/", buf, sizeof buf, NULL, &st), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_get(zk, "/", NULL, 8, &len, &st), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_set(zk, NULL, NULL, 0, -1, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_set(zk, "/", NULL, 1, -1, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_delete(NULL, "/x", -1), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_delete(zk, NULL, -1), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_exists(NULL, "/", NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_exists(zk, NULL, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_get_children(zk, "/", NULL, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_get_children(zk, NULL, &list, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_get_ephemerals(zk, NULL, &list), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_get_ephemerals(zk, "/", NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_get_all_children_number(zk, "/", NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_sync(zk, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_sync(NULL, "/"), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_add_auth(zk, NULL, (const uint8_t *)"a:b", 3), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_session_id(NULL, &sid), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_session_id(zk, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_session_password(NULL, buf, sizeof buf, &len), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_close(NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_connect(NULL, 1000, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_client_connect(target(), 1000, NULL), CORRAL_NULL_ARGUMENT);
    /* Bad paths get the server's answer (ZooKeeper's order: a '/' at all, then the
     * parent, then the whole path). */
    char ns[64], bad[128];
    fresh_ns(zk, ns, sizeof ns);
    CHECK_RC(corral_client_create(zk, "no-slash", NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_BAD_ARGUMENTS);
    snprintf(bad, sizeof bad, "%s/", ns);
    CHECK_RC(corral_client_create(zk, bad, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_BAD_ARGUMENTS);
    snprintf(bad, sizeof bad, "%s/..", ns);
    CHECK_RC(corral_client_create(zk, bad, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_BAD_ARGUMENTS);
    snprintf(bad, sizeof bad, "%s//x", ns);
    CHECK_RC(corral_client_create(zk, bad, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_NO_NODE);
    CHECK_RC(corral_client_get_all_children_number(zk, bad, &n), CORRAL_NO_NODE);
    CHECK(child_count(zk, ns) == 0);
    /* Not UTF-8. */
    CHECK_RC(corral_client_create(zk, "/\xc3\x28", NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_INVALID_UTF8);
    CHECK_RC(corral_client_exists(zk, "/\xff", NULL), CORRAL_INVALID_UTF8);
    corral_client_free(zk);
    corral_client_free(NULL);
}

TEST(bad_connect_strings_and_unreachable_servers) {
    corral_client *zk = (corral_client *)0x1;
    CHECK_RC(corral_client_connect("", 2000, &zk), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_client_connect("127.0.0.1:notaport", 2000, &zk), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_client_connect(target(), 0, &zk), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_client_connect("\xff", 2000, &zk), CORRAL_INVALID_UTF8);
    CHECK(zk == (corral_client *)0x1);
    /* Port 1 on loopback: nothing listens there. */
    CHECK_RC(corral_client_connect("127.0.0.1:1", 2000, &zk), CORRAL_CONNECTION_LOSS);
    CHECK(zk == (corral_client *)0x1);
}

TEST(sync_auth_and_chroot) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], cs[256];
    fresh_ns(zk, ns, sizeof ns);
    CHECK_RC(corral_client_add_auth(zk, "digest", (const uint8_t *)"alice:secret", 12), CORRAL_OK);
    CHECK_RC(corral_client_sync(zk, ns), CORRAL_OK);
    snprintf(cs, sizeof cs, "%s%s", target(), ns);
    corral_client *rooted = NULL;
    REQUIRE_RC(corral_client_connect(cs, SESSION_TIMEOUT_MS, &rooted), CORRAL_OK);
    char out[64];
    size_t len = 0;
    CHECK_RC(corral_client_create(rooted, "/inside", NULL, 0, CORRAL_PERSISTENT, out, sizeof out, &len), CORRAL_OK);
    CHECK(strcmp(out, "/inside") == 0);
    char full[160];
    snprintf(full, sizeof full, "%s/inside", ns);
    CHECK_RC(corral_client_exists(zk, full, NULL), CORRAL_OK);
    corral_client_free(rooted);
    corral_client_free(zk);
}

struct worker { corral_client *zk; const char *ns; int id; int ok; };

static void *create_many(void *arg) {
    struct worker *w = arg;
    char path[160];
    for (int i = 0; i < 25; i++) {
        snprintf(path, sizeof path, "%s/w%d-%d", w->ns, w->id, i);
        if (corral_client_create(w->zk, path, (const uint8_t *)"x", 1, CORRAL_PERSISTENT, NULL, 0, NULL) == CORRAL_OK)
            w->ok++;
    }
    return NULL;
}

TEST(one_handle_shared_by_threads) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64];
    fresh_ns(zk, ns, sizeof ns);
    pthread_t threads[4];
    struct worker workers[4];
    for (int i = 0; i < 4; i++) {
        workers[i] = (struct worker){zk, ns, i, 0};
        CHECK(pthread_create(&threads[i], NULL, create_many, &workers[i]) == 0);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        total += workers[i].ok;
    }
    CHECK(total == 100);
    CHECK(child_count(zk, ns) == 100);
    corral_client_free(zk);
}

