/* The testing kit from C: a replicated ensemble in the process (failover,
 * restart catch-up, observers), the fault relay (drop, block, expire) and
 * expiring a client's session. Embedded servers only (not run against
 * CORRAL_TEST_CONNECT: there is nothing of Apache ZooKeeper's to start here). */
#include "common.h"

TEST(cluster_fails_over_and_a_restarted_member_catches_up) {
    if (against_zookeeper()) return;
    corral_cluster *c = NULL;
    REQUIRE_RC(corral_cluster_start(3, 1, &c), CORRAL_OK);
    CHECK(corral_cluster_size(c) == 4);
    size_t leader = 99;
    CHECK_RC(corral_cluster_leader(c, 10000, &leader), CORRAL_OK);
    CHECK(leader < 3);
    int32_t mode = -9;
    CHECK_RC(corral_cluster_mode(c, 3, &mode), CORRAL_OK);
    CHECK(mode == CORRAL_MODE_OBSERVER);
    corral_client *zk = NULL;
    REQUIRE_RC(corral_client_connect(corral_cluster_connect_string(c), 10000, &zk), CORRAL_OK);
    CHECK_RC(corral_client_create(zk, "/before", (const uint8_t *)"1", 1, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
    CHECK_RC(corral_cluster_kill(c, leader), CORRAL_OK);
    CHECK_RC(corral_cluster_mode(c, leader, &mode), CORRAL_OK);
    CHECK(mode == CORRAL_MODE_DOWN);
    size_t next = leader;
    CHECK_RC(corral_cluster_leader(c, 10000, &next), CORRAL_OK);
    CHECK(next != leader && next < 3);
    /* Writes go on (the client moves to a survivor). */
    corral_result rc = CORRAL_CONNECTION_LOSS;
    WAIT_FOR((rc = corral_client_create(zk, "/after", NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL)) == CORRAL_OK ||
                 rc == CORRAL_NODE_EXISTS, 10000);
    CHECK(rc == CORRAL_OK || rc == CORRAL_NODE_EXISTS);
    CHECK_RC(corral_cluster_restart(c, leader), CORRAL_OK);
    CHECK_RC(corral_cluster_wait_serving(c, 10000), CORRAL_OK);
    /* The restarted member has everything, read through it alone. */
    uint16_t port = 0;
    CHECK_RC(corral_cluster_port(c, leader, &port), CORRAL_OK);
    char one[64];
    snprintf(one, sizeof one, "127.0.0.1:%u", (unsigned)port);
    corral_client *direct = NULL;
    REQUIRE_RC(corral_client_connect(one, 10000, &direct), CORRAL_OK);
    CHECK_RC(corral_client_sync(direct, "/"), CORRAL_OK);
    CHECK_RC(corral_client_exists(direct, "/before", NULL), CORRAL_OK);
    CHECK_RC(corral_client_exists(direct, "/after", NULL), CORRAL_OK);
    /* An observer serves reads. */
    CHECK_RC(corral_cluster_port(c, 3, &port), CORRAL_OK);
    snprintf(one, sizeof one, "127.0.0.1:%u", (unsigned)port);
    corral_client *obs = NULL;
    REQUIRE_RC(corral_client_connect(one, 10000, &obs), CORRAL_OK);
    CHECK_RC(corral_client_sync(obs, "/"), CORRAL_OK);
    CHECK_RC(corral_client_exists(obs, "/after", NULL), CORRAL_OK);
    /* Bad indexes and NULLs. */
    CHECK_RC(corral_cluster_kill(c, 17), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_cluster_port(c, 17, &port), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_cluster_mode(NULL, 0, &mode), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_cluster_leader(c, 1000, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_cluster_start(0, 1, &c), CORRAL_INVALID_ARGUMENT);
    CHECK(corral_cluster_connect_string(NULL) == NULL && corral_cluster_size(NULL) == 0);
    corral_client_free(obs);
    corral_client_free(direct);
    corral_client_free(zk);
    corral_cluster_free(c);
    corral_cluster_free(NULL);
}

static void on_state(int32_t state, void *userdata) {
    int *states = userdata; /* states[0] is the count */
    if (states[0] < 31) states[++states[0]] = state;
}

static bool saw(const volatile int *states, int state) {
    for (int i = 1; i <= states[0]; i++)
        if (states[i] == state) return true;
    return false;
}

TEST(fault_relay_drops_blocks_and_expires) {
    if (against_zookeeper()) return;
    corral_server *srv = NULL;
    REQUIRE_RC(corral_server_start(NULL, &srv), CORRAL_OK);
    corral_fault_relay *relay = NULL;
    REQUIRE_RC(corral_fault_relay_start(corral_server_connect_string(srv), &relay), CORRAL_OK);
    volatile int states[32] = {0};
    corral_client_options *o = NULL;
    REQUIRE_RC(corral_client_options_new(&o), CORRAL_OK);
    CHECK_RC(corral_client_options_state_callback(o, on_state, (void *)states), CORRAL_OK);
    corral_client *zk = NULL;
    REQUIRE_RC(corral_client_connect_with(corral_fault_relay_connect_string(relay), o, &zk), CORRAL_OK);
    corral_client_options_free(o);
    CHECK_RC(corral_client_create(zk, "/mine", NULL, 0, CORRAL_EPHEMERAL, NULL, 0, NULL), CORRAL_OK);
    int64_t sid = 0;
    CHECK_RC(corral_client_session_id(zk, &sid), CORRAL_OK);
    /* Drop: the client reconnects with the same session. */
    CHECK_RC(corral_fault_relay_drop(relay), CORRAL_OK);
    WAIT_FOR(saw(states, CORRAL_STATE_RECONNECTED), 10000);
    CHECK(saw(states, CORRAL_STATE_SUSPENDED) && saw(states, CORRAL_STATE_RECONNECTED));
    int64_t now = 0;
    CHECK_RC(corral_client_session_id(zk, &now), CORRAL_OK);
    CHECK(now == sid);
    /* Block: calls fail while held out, work again after. */
    CHECK_RC(corral_fault_relay_block(relay), CORRAL_OK);
    corral_result rc = CORRAL_OK;
    WAIT_FOR((rc = corral_client_exists(zk, "/mine", NULL)) == CORRAL_CONNECTION_LOSS, 5000);
    CHECK(rc == CORRAL_CONNECTION_LOSS);
    CHECK_RC(corral_fault_relay_unblock(relay), CORRAL_OK);
    WAIT_FOR((rc = corral_client_exists(zk, "/mine", NULL)) == CORRAL_OK, 10000);
    CHECK(rc == CORRAL_OK);
    /* Expire: the session ends on the server, its ephemeral goes. */
    CHECK_RC(corral_fault_relay_expire(relay, sid), CORRAL_OK);
    WAIT_FOR(saw(states, CORRAL_STATE_LOST), 10000);
    CHECK(saw(states, CORRAL_STATE_LOST));
    WAIT_FOR((rc = corral_client_exists(zk, "/mine", NULL)) == CORRAL_NO_NODE, 10000);
    CHECK(rc == CORRAL_NO_NODE);
    CHECK_RC(corral_fault_relay_expire(relay, 12345), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_fault_relay_drop(NULL), CORRAL_NULL_ARGUMENT);
    CHECK(corral_fault_relay_connect_string(NULL) == NULL);
    corral_client_free(zk);
    corral_fault_relay_free(relay);
    corral_fault_relay_free(NULL);
    corral_server_free(srv);
}

TEST(expire_session_gives_the_client_a_new_session) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], path[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(path, sizeof path, "%s/eph", ns);
    CHECK_RC(corral_client_create(zk, path, NULL, 0, CORRAL_EPHEMERAL, NULL, 0, NULL), CORRAL_OK);
    int64_t before = 0, after = 0;
    CHECK_RC(corral_client_session_id(zk, &before), CORRAL_OK);
    CHECK_RC(corral_client_expire_session(zk, target(), 20000), CORRAL_OK);
    CHECK_RC(corral_client_session_id(zk, &after), CORRAL_OK);
    CHECK(after != 0 && after != before);
    CHECK_RC(corral_client_exists(zk, path, NULL), CORRAL_NO_NODE);
    CHECK_RC(corral_client_expire_session(NULL, target(), 1000), CORRAL_NULL_ARGUMENT);
    corral_client_free(zk);
}
