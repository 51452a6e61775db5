/* Leader election from C: a run waits to lead, leads on the caller's thread
 * and relinquishes when its function returns; cancel and loss. */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>

struct leader {
    corral_election *election;
    const char *other_path; /* an election to ask for its leader while leading */
    int64_t token;
    bool was_lost_at_start;
    char seen_leader[32];
    int loss_reason;
    corral_result wait_rc;
    atomic_int leading;
    atomic_int release; /* the lead function returns once set */
};

static void lead(const corral_leadership *l, void *ud) {
    struct leader *me = ud;
    corral_leadership_fencing_token(l, &me->token);
    me->was_lost_at_start = corral_leadership_is_lost(l);
    size_t len = 0;
    corral_election_leader(me->election, me->seen_leader, sizeof me->seen_leader, &len);
    atomic_store(&me->leading, 1);
    while (!atomic_load(&me->release)) sleep_ms(5);
    atomic_store(&me->leading, 0);
}

static void lead_until_lost(const corral_leadership *l, void *ud) {
    struct leader *me = ud;
    atomic_store(&me->leading, 1);
    int32_t reason = 0;
    me->wait_rc = corral_leadership_wait_lost(l, 20000, &reason);
    me->loss_reason = reason;
    atomic_store(&me->leading, 0);
}

struct runner { corral_election *e; corral_lead_fn fn; struct leader *me; int64_t timeout_ms; corral_result rc; };

static void *run_election(void *arg) {
    struct runner *r = arg;
    r->rc = corral_election_run(r->e, r->timeout_ms, r->fn, r->me);
    return NULL;
}

TEST(election_leads_in_turn_and_relinquishes_on_return) {
    corral_client *a = connect_target();
    corral_client *b = connect_target();
    if (!a || !b) return;
    char ns[64];
    fresh_ns(a, ns, sizeof ns);
    corral_election *ea = NULL, *eb = NULL;
    REQUIRE_RC(corral_election_new(a, ns, "first", &ea), CORRAL_OK);
    REQUIRE_RC(corral_election_new(b, ns, "second", &eb), CORRAL_OK);
    char id[32];
    size_t len = 0;
    CHECK_RC(corral_election_leader(ea, id, sizeof id, &len), CORRAL_NO_NODE);
    struct leader first = {.election = ea}, second = {.election = eb};
    pthread_t ta, tb;
    struct runner ra = {ea, lead, &first, CORRAL_WAIT_FOREVER, -1};
    CHECK(pthread_create(&ta, NULL, run_election, &ra) == 0);
    WAIT_FOR(atomic_load(&first.leading), 10000);
    CHECK(atomic_load(&first.leading));
    CHECK(strcmp(first.seen_leader, "first") == 0 && !first.was_lost_at_start && first.token > 0);
    struct runner rb = {eb, lead, &second, 20000, -1};
    CHECK(pthread_create(&tb, NULL, run_election, &rb) == 0);
    WAIT_FOR(child_count(a, ns) == 2, 5000);
    corral_strings *who = NULL;
    CHECK_RC(corral_election_contenders(eb, &who), CORRAL_OK);
    CHECK(corral_strings_len(who) == 2 && strcmp(corral_strings_get(who, 0), "first") == 0 &&
          strcmp(corral_strings_get(who, 1), "second") == 0);
    corral_strings_free(who);
    CHECK_RC(corral_election_leader(eb, id, sizeof id, &len), CORRAL_OK);
    CHECK(strcmp(id, "first") == 0 && len == 5);
    char tiny[3];
    CHECK_RC(corral_election_leader(eb, tiny, sizeof tiny, &len), CORRAL_BUFFER_TOO_SMALL);
    CHECK(len == 6);
    CHECK(!atomic_load(&second.leading));
    /* The first returns: it relinquishes, the second leads with a larger token. */
    atomic_store(&first.release, 1);
    pthread_join(ta, NULL);
    CHECK_RC(ra.rc, CORRAL_OK);
    WAIT_FOR(atomic_load(&second.leading), 10000);
    CHECK(atomic_load(&second.leading));
    CHECK(strcmp(second.seen_leader, "second") == 0 && second.token > first.token);
    atomic_store(&second.release, 1);
    pthread_join(tb, NULL);
    CHECK_RC(rb.rc, CORRAL_OK);
    CHECK(child_count(a, ns) == 0);
    CHECK_RC(corral_election_leader(ea, id, sizeof id, &len), CORRAL_NO_NODE);
    corral_election_free(eb);
    corral_election_free(ea);
    corral_client_free(b);
    corral_client_free(a);
}

TEST(election_run_times_out_or_is_cancelled_while_waiting) {
    corral_client *a = connect_target();
    corral_client *b = connect_target();
    if (!a || !b) return;
    char ns[64];
    fresh_ns(a, ns, sizeof ns);
    corral_election *ea = NULL, *eb = NULL;
    REQUIRE_RC(corral_election_new(a, ns, "holder", &ea), CORRAL_OK);
    REQUIRE_RC(corral_election_new(b, ns, "waiter", &eb), CORRAL_OK);
    struct leader holder = {.election = ea}, waiter = {.election = eb};
    pthread_t ta, tb;
    struct runner ra = {ea, lead, &holder, 10000, -1};
    CHECK(pthread_create(&ta, NULL, run_election, &ra) == 0);
    WAIT_FOR(atomic_load(&holder.leading), 10000);
    /* Another participant leads: the wait times out and leaves the line. */
    CHECK_RC(corral_election_run(eb, 200, lead, &waiter), CORRAL_TIMEOUT);
    CHECK(!atomic_load(&waiter.leading));
    CHECK(child_count(a, ns) == 1);
    /* A cancel stops a waiting run. */
    struct runner rb = {eb, lead, &waiter, CORRAL_WAIT_FOREVER, -1};
    CHECK(pthread_create(&tb, NULL, run_election, &rb) == 0);
    WAIT_FOR(child_count(a, ns) == 2, 5000);
    CHECK_RC(corral_election_cancel(eb), CORRAL_OK);
    pthread_join(tb, NULL);
    CHECK_RC(rb.rc, CORRAL_CANCELLED);
    CHECK(child_count(a, ns) == 1);
    /* A cancel before a run does not stop it. */
    atomic_store(&holder.release, 1);
    pthread_join(ta, NULL);
    CHECK_RC(ra.rc, CORRAL_OK);
    atomic_store(&waiter.release, 1);
    CHECK_RC(corral_election_run(eb, 10000, lead, &waiter), CORRAL_OK);
    CHECK(waiter.token > holder.token);
    /* Bad arguments. */
    CHECK_RC(corral_election_run(NULL, 0, lead, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_election_run(eb, 0, NULL, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_election_run(eb, -2, lead, &waiter), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_election_cancel(NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_election_contenders(eb, NULL), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_election_contenders(NULL, NULL), CORRAL_NULL_ARGUMENT);
    char id[8];
    CHECK_RC(corral_election_leader(eb, id, sizeof id, NULL), CORRAL_NULL_ARGUMENT);
    corral_election *bad = NULL;
    CHECK_RC(corral_election_new(a, ns, NULL, &bad), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_election_new(a, NULL, "x", &bad), CORRAL_NULL_ARGUMENT);
    int64_t token = 0;
    CHECK_RC(corral_leadership_fencing_token(NULL, &token), CORRAL_NULL_ARGUMENT);
    CHECK(!corral_leadership_is_lost(NULL));
    CHECK_RC(corral_leadership_wait_lost(NULL, 0, NULL), CORRAL_NULL_ARGUMENT);
    corral_election_free(eb);
    corral_election_free(ea);
    corral_election_free(NULL);
    /* A closed client: no new election, and a run of an old one fails. */
    CHECK_RC(corral_client_close(b), CORRAL_OK);
    CHECK_RC(corral_election_new(b, ns, "late", &bad), CORRAL_CLOSED_HANDLE);
    corral_client_free(b);
    corral_client_free(a);
}

TEST(a_leader_sees_its_leadership_lost) {
    corral_client *a = connect_target();
    if (!a) return;
    char ns[64];
    fresh_ns(a, ns, sizeof ns);
    corral_election *e = NULL;
    REQUIRE_RC(corral_election_new(a, ns, "me", &e), CORRAL_OK);
    struct leader me = {.election = e};
    pthread_t t;
    struct runner r = {e, lead_until_lost, &me, 10000, -1};
    CHECK(pthread_create(&t, NULL, run_election, &r) == 0);
    WAIT_FOR(atomic_load(&me.leading), 10000);
    /* Someone deletes the leader's node. */
    corral_strings *kids = NULL;
    REQUIRE_RC(corral_client_get_children(a, ns, &kids, NULL), CORRAL_OK);
    char node[192];
    snprintf(node, sizeof node, "%s/%s", ns, corral_strings_get(kids, 0));
    corral_strings_free(kids);
    CHECK_RC(corral_client_delete(a, node, -1), CORRAL_OK);
    pthread_join(t, NULL);
    CHECK_RC(r.rc, CORRAL_OK);
    CHECK_RC(me.wait_rc, CORRAL_OK);
    CHECK(me.loss_reason == CORRAL_LOSS_NODE_DELETED);
    /* A cancel while leading. */
    atomic_store(&me.leading, 0);
    CHECK(pthread_create(&t, NULL, run_election, &r) == 0);
    WAIT_FOR(atomic_load(&me.leading), 10000);
    CHECK_RC(corral_election_cancel(e), CORRAL_OK);
    pthread_join(t, NULL);
    CHECK_RC(r.rc, CORRAL_OK);
    CHECK(me.loss_reason == CORRAL_LOSS_CANCELLED);
    CHECK(child_count(a, ns) == 0);
    corral_election_free(e);
    /* The client closes under a waiting run: it fails. */
    corral_client *b = connect_target();
    corral_client *c = connect_target();
    if (!b || !c) return;
    corral_election *eb = NULL, *ec = NULL;
    REQUIRE_RC(corral_election_new(b, ns, "b", &eb), CORRAL_OK);
    REQUIRE_RC(corral_election_new(c, ns, "c", &ec), CORRAL_OK);
    struct leader lb = {.election = eb}, lc = {.election = ec};
    pthread_t tb, tc;
    struct runner rb = {eb, lead, &lb, 10000, -1}, rcc = {ec, lead, &lc, 10000, -1};
    CHECK(pthread_create(&tb, NULL, run_election, &rb) == 0);
    WAIT_FOR(atomic_load(&lb.leading), 10000);
    CHECK(pthread_create(&tc, NULL, run_election, &rcc) == 0);
    WAIT_FOR(child_count(a, ns) == 2, 5000);
    CHECK_RC(corral_client_close(c), CORRAL_OK);
    pthread_join(tc, NULL);
    CHECK(rcc.rc != CORRAL_OK && rcc.rc != CORRAL_TIMEOUT);
    atomic_store(&lb.release, 1);
    pthread_join(tb, NULL);
    CHECK_RC(rb.rc, CORRAL_OK);
    corral_election_free(ec);
    corral_election_free(eb);
    corral_client_free(c);
    corral_client_free(b);
    corral_client_free(a);
}

struct kazoo_seen { corral_client *zk; const char *path; bool named_as_kazoo; };

static void lead_and_look(const corral_leadership *l, void *ud) {
    (void)l;
    struct kazoo_seen *seen = ud;
    corral_strings *kids = NULL;
    if (corral_client_get_children(seen->zk, seen->path, &kids, NULL) == CORRAL_OK)
        seen->named_as_kazoo = corral_strings_len(kids) == 1 && strstr(corral_strings_get(kids, 0), "__lock__") != NULL;
    corral_strings_free(kids);
}

TEST(election_in_kazoos_layout) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64];
    fresh_ns(zk, ns, sizeof ns);
    corral_election *e = NULL;
    REQUIRE_RC(corral_election_new_layout(zk, ns, "host-a", CORRAL_LAYOUT_KAZOO, &e), CORRAL_OK);
    struct kazoo_seen seen = {zk, ns, false};
    CHECK_RC(corral_election_run(e, 10000, lead_and_look, &seen), CORRAL_OK);
    CHECK(seen.named_as_kazoo);
    corral_election_free(e);
    corral_election *bad = NULL;
    CHECK_RC(corral_election_new_layout(zk, ns, "host-a", 2, &bad), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_election_new_layout(zk, ns, NULL, CORRAL_LAYOUT_KAZOO, &bad), CORRAL_NULL_ARGUMENT);
    CHECK(bad == NULL);
    corral_client_free(zk);
}
