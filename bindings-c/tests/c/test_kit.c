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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

static uint16_t free_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    uint16_t port = 0;
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0) close(s);
    return port;
}

struct member { corral_server_options *opts; corral_server *srv; corral_result rc; };

static void *start_member(void *arg) {
    struct member *m = arg;
    m->rc = corral_server_start(m->opts, &m->srv);
    return NULL;
}

TEST(embedded_servers_form_an_ensemble_from_server_ids_and_peers) {
    if (against_zookeeper()) return;
    uint16_t ports[6];
    for (int i = 0; i < 6; i++) ports[i] = free_port();
    char specs[2][96], dirs[2][32];
    struct member m[2];
    for (int i = 0; i < 2; i++) {
        snprintf(specs[i], sizeof specs[i], "127.0.0.1:%u:%u;127.0.0.1:%u", (unsigned)ports[2 + 2 * i],
                 (unsigned)ports[3 + 2 * i], (unsigned)ports[i]);
        snprintf(dirs[i], sizeof dirs[i], "/tmp/corral-c-member-XXXXXX");
        CHECK(mkdtemp(dirs[i]) != NULL);
    }
    for (int i = 0; i < 2; i++) {
        m[i] = (struct member){NULL, NULL, 1};
        REQUIRE_RC(corral_server_options_new(&m[i].opts), CORRAL_OK);
        CHECK_RC(corral_server_options_data_dir(m[i].opts, dirs[i]), CORRAL_OK);
        CHECK_RC(corral_server_options_set(m[i].opts, "tickTime", "100"), CORRAL_OK);
        CHECK_RC(corral_server_options_server_id(m[i].opts, (uint64_t)i + 1), CORRAL_OK);
        CHECK_RC(corral_server_options_peer(m[i].opts, 1, specs[0]), CORRAL_OK);
        CHECK_RC(corral_server_options_peer(m[i].opts, 2, specs[1]), CORRAL_OK);
    }
    /* Each member blocks until it serves, which needs the other: start both at once. */
    pthread_t t[2];
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&t[i], NULL, start_member, &m[i]) == 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    CHECK_RC(m[0].rc, CORRAL_OK);
    CHECK_RC(m[1].rc, CORRAL_OK);
    if (m[0].rc == CORRAL_OK && m[1].rc == CORRAL_OK) {
        CHECK(corral_server_port(m[0].srv) == ports[0] && corral_server_port(m[1].srv) == ports[1]);
        char hosts[128];
        snprintf(hosts, sizeof hosts, "%s,%s", corral_server_connect_string(m[0].srv), corral_server_connect_string(m[1].srv));
        corral_client *zk = NULL;
        REQUIRE_RC(corral_client_connect(hosts, 10000, &zk), CORRAL_OK);
        corral_result rc = CORRAL_CONNECTION_LOSS;
        WAIT_FOR((rc = corral_client_create(zk, "/replicated", NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL)) == CORRAL_OK ||
                     rc == CORRAL_NODE_EXISTS, 10000);
        CHECK(rc == CORRAL_OK || rc == CORRAL_NODE_EXISTS);
        /* Read through each member alone. */
        for (int i = 0; i < 2; i++) {
            corral_client *one = NULL;
            REQUIRE_RC(corral_client_connect(corral_server_connect_string(m[i].srv), 10000, &one), CORRAL_OK);
            CHECK_RC(corral_client_sync(one, "/"), CORRAL_OK);
            CHECK_RC(corral_client_exists(one, "/replicated", NULL), CORRAL_OK);
            corral_client_free(one);
        }
        corral_client_free(zk);
    }
    for (int i = 0; i < 2; i++) {
        corral_server_free(m[i].srv);
        corral_server_options_free(m[i].opts);
    }
    /* A peer spec that is not one is refused with a code. */
    corral_server_options *bad = NULL;
    REQUIRE_RC(corral_server_options_new(&bad), CORRAL_OK);
    CHECK_RC(corral_server_options_server_id(bad, 1), CORRAL_OK);
    CHECK_RC(corral_server_options_peer(bad, 1, "127.0.0.1:notaport:1"), CORRAL_OK);
    CHECK_RC(corral_server_options_peer(bad, 2, "h:1:2"), CORRAL_OK);
    corral_server *none = NULL;
    CHECK_RC(corral_server_start(bad, &none), CORRAL_SERVER_ERROR);
    corral_server_options_free(bad);
}
