/* Recipes from C: the lock (Curator's naming and kazoo's) with its fencing
 * token, and the leader latch. */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>

TEST(lock_excludes_and_its_fencing_token_grows) {
    corral_client *a = connect_target();
    corral_client *b = connect_target();
    if (!a || !b) return;
    char ns[64];
    fresh_ns(a, ns, sizeof ns);
    corral_lock *la = NULL, *lb = NULL;
    REQUIRE_RC(corral_lock_new(a, ns, NULL, &la), CORRAL_OK);
    REQUIRE_RC(corral_lock_new(b, ns, NULL, &lb), CORRAL_OK);
    int64_t t1 = 0, t2 = 0;
    CHECK_RC(corral_lock_fencing_token(la, &t1), CORRAL_NOT_HELD);
    CHECK_RC(corral_lock_release(la), CORRAL_NOT_HELD);
    CHECK_RC(corral_lock_acquire(la, CORRAL_WAIT_FOREVER), CORRAL_OK);
    CHECK(corral_lock_is_held(la));
    CHECK_RC(corral_lock_fencing_token(la, &t1), CORRAL_OK);
    CHECK_RC(corral_lock_acquire(lb, 0), CORRAL_TIMEOUT);
    CHECK_RC(corral_lock_acquire(lb, 200), CORRAL_TIMEOUT);
    CHECK(!corral_lock_is_held(lb));
    CHECK(child_count(a, ns) == 1); /* the timed-out contender's node is gone */
    /* Re-entrant: two holds, two releases. */
    CHECK_RC(corral_lock_acquire(la, 0), CORRAL_OK);
    CHECK_RC(corral_lock_release(la), CORRAL_OK);
    CHECK(corral_lock_is_held(la));
    CHECK_RC(corral_lock_release(la), CORRAL_OK);
    CHECK(!corral_lock_is_held(la));
    CHECK_RC(corral_lock_acquire(lb, 5000), CORRAL_OK);
    CHECK_RC(corral_lock_fencing_token(lb, &t2), CORRAL_OK);
    CHECK(t2 > t1);
    CHECK_RC(corral_lock_acquire(la, -5), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_lock_acquire(NULL, 0), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_lock_new(a, NULL, NULL, &la), CORRAL_NULL_ARGUMENT);
    CHECK(!corral_lock_is_held(NULL));
    /* Freeing a held lock releases it. */
    corral_lock_free(lb);
    CHECK_RC(corral_lock_acquire(la, 5000), CORRAL_OK);
    corral_lock_free(la);
    corral_lock_free(NULL);
    CHECK(child_count(a, ns) == 0);
    corral_client_free(b);
    corral_client_free(a);
}

struct contender { corral_client *zk; const char *path; atomic_int *inside; atomic_int *max_inside; int done; };

static void *contend(void *arg) {
    struct contender *c = arg;
    corral_lock *lock = NULL;
    if (corral_lock_new(c->zk, c->path, "c-worker", &lock) != CORRAL_OK) return NULL;
    for (int i = 0; i < 5; i++) {
        if (corral_lock_acquire(lock, 20000) != CORRAL_OK) break;
        int now = atomic_fetch_add(c->inside, 1) + 1;
        int seen = atomic_load(c->max_inside);
        while (now > seen && !atomic_compare_exchange_weak(c->max_inside, &seen, now)) {
        }
        sleep_ms(5);
        atomic_fetch_sub(c->inside, 1);
        if (corral_lock_release(lock) != CORRAL_OK) break;
        c->done++;
    }
    corral_lock_free(lock);
    return NULL;
}

TEST(kazoo_named_lock_excludes_across_clients_and_threads) {
    char ns[64];
    corral_client *clients[4];
    for (int i = 0; i < 4; i++) {
        clients[i] = connect_target();
        if (!clients[i]) return;
    }
    fresh_ns(clients[0], ns, sizeof ns);
    atomic_int inside, max_inside;
    atomic_init(&inside, 0);
    atomic_init(&max_inside, 0);
    pthread_t threads[4];
    struct contender cs[4];
    for (int i = 0; i < 4; i++) {
        cs[i] = (struct contender){clients[i], ns, &inside, &max_inside, 0};
        CHECK(pthread_create(&threads[i], NULL, contend, &cs[i]) == 0);
    }
    int done = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        done += cs[i].done;
    }
    CHECK(done == 20);
    CHECK(atomic_load(&max_inside) == 1);
    for (int i = 0; i < 4; i++) corral_client_free(clients[i]);
}

TEST(leader_latch_hands_over_on_free) {
    corral_client *a = connect_target();
    corral_client *b = connect_target();
    if (!a || !b) return;
    char ns[64];
    fresh_ns(a, ns, sizeof ns);
    corral_latch *first = NULL, *second = NULL;
    REQUIRE_RC(corral_latch_start(a, ns, "first", &first), CORRAL_OK);
    CHECK_RC(corral_latch_await(first, 10000), CORRAL_OK);
    CHECK(corral_latch_has_leadership(first));
    REQUIRE_RC(corral_latch_start(b, ns, "second", &second), CORRAL_OK);
    CHECK_RC(corral_latch_await(second, 200), CORRAL_TIMEOUT);
    CHECK(!corral_latch_has_leadership(second));
    char id[32];
    size_t len = 0;
    CHECK_RC(corral_latch_leader(second, id, sizeof id, &len), CORRAL_OK);
    CHECK(strcmp(id, "first") == 0 && len == 5);
    char tiny[3];
    CHECK_RC(corral_latch_leader(second, tiny, sizeof tiny, &len), CORRAL_BUFFER_TOO_SMALL);
    CHECK(len == 6);
    corral_latch_free(first);
    CHECK_RC(corral_latch_await(second, 10000), CORRAL_OK);
    CHECK(corral_latch_has_leadership(second));
    CHECK_RC(corral_latch_await(NULL, 0), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_latch_start(a, ns, NULL, &first), CORRAL_NULL_ARGUMENT);
    CHECK(!corral_latch_has_leadership(NULL));
    corral_latch_free(second);
    corral_latch_free(NULL);
    corral_client_free(b);
    corral_client_free(a);
}

TEST(rwlock_shares_reads_and_excludes_writes) {
    corral_client *a = connect_target();
    corral_client *b = connect_target();
    if (!a || !b) return;
    char ns[64];
    fresh_ns(a, ns, sizeof ns);
    corral_rwlock *ra = NULL, *rb = NULL;
    REQUIRE_RC(corral_rwlock_new(a, ns, &ra), CORRAL_OK);
    REQUIRE_RC(corral_rwlock_new(b, ns, &rb), CORRAL_OK);
    CHECK_RC(corral_rwlock_acquire(ra, false, 5000), CORRAL_OK);
    CHECK_RC(corral_rwlock_acquire(rb, false, 5000), CORRAL_OK); /* readers share */
    /* A reader cannot upgrade to writer (it would wait for itself). */
    CHECK_RC(corral_rwlock_acquire(rb, true, 200), CORRAL_BAD_ARGUMENTS);
    corral_rwlock *writer = NULL;
    REQUIRE_RC(corral_rwlock_new(b, ns, &writer), CORRAL_OK);
    CHECK_RC(corral_rwlock_acquire(writer, true, 200), CORRAL_TIMEOUT); /* a writer waits for readers */
    corral_rwlock_free(writer);
    CHECK_RC(corral_rwlock_release(rb, false), CORRAL_OK);
    CHECK_RC(corral_rwlock_release(ra, false), CORRAL_OK);
    CHECK_RC(corral_rwlock_acquire(rb, true, 5000), CORRAL_OK);
    CHECK(corral_rwlock_is_held(rb, true) && !corral_rwlock_is_held(rb, false));
    CHECK_RC(corral_rwlock_acquire(ra, false, 0), CORRAL_TIMEOUT); /* readers wait for the writer */
    CHECK_RC(corral_rwlock_acquire(rb, false, 5000), CORRAL_OK);   /* the writer may read */
    CHECK_RC(corral_rwlock_release(ra, true), CORRAL_NOT_HELD);
    CHECK_RC(corral_rwlock_acquire(ra, true, -9), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_rwlock_acquire(NULL, true, 0), CORRAL_NULL_ARGUMENT);
    CHECK(!corral_rwlock_is_held(NULL, true));
    corral_rwlock_free(rb); /* releases both sides */
    CHECK_RC(corral_rwlock_acquire(ra, true, 5000), CORRAL_OK);
    corral_rwlock_free(ra);
    corral_rwlock_free(NULL);
    CHECK(child_count(a, ns) == 0);
    corral_client_free(b);
    corral_client_free(a);
}
