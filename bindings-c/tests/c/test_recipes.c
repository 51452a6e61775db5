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

/* Whether every child of `path` has `marker` in its name and `data` as its data. */
static bool children_are(corral_client *zk, const char *path, const char *marker, const char *data, int n) {
    corral_strings *kids = NULL;
    if (corral_client_get_children(zk, path, &kids, NULL) != CORRAL_OK) return false;
    bool ok = (int)corral_strings_len(kids) == n;
    for (size_t i = 0; ok && i < corral_strings_len(kids); i++) {
        char child[256];
        uint8_t buf[64];
        snprintf(child, sizeof child, "%s/%s", path, corral_strings_get(kids, i));
        size_t len = 0;
        ok = strstr(corral_strings_get(kids, i), marker) != NULL &&
             corral_client_get(zk, child, buf, sizeof buf, &len, NULL) == CORRAL_OK && len == strlen(data) &&
             memcmp(buf, data, len) == 0;
    }
    corral_strings_free(kids);
    return ok;
}

TEST(kazoo_layouts_for_rwlock_and_semaphore) {
    corral_client *zk = connect_target();
    if (!zk) return;
    char ns[64], rw_path[96], sem_path[96], sem_lock[128];
    fresh_ns(zk, ns, sizeof ns);
    snprintf(rw_path, sizeof rw_path, "%s/rw", ns);
    snprintf(sem_path, sizeof sem_path, "%s/sem", ns);
    snprintf(sem_lock, sizeof sem_lock, "%s-__lock__", sem_path);
    /* kazoo's ReadLock and WriteLock: __rlock__ / __lock__ nodes holding the identifier. */
    corral_rwlock *rw = NULL;
    REQUIRE_RC(corral_rwlock_new_layout(zk, rw_path, CORRAL_LAYOUT_KAZOO, "host-a", &rw), CORRAL_OK);
    CHECK_RC(corral_rwlock_acquire(rw, false, 5000), CORRAL_OK);
    CHECK(children_are(zk, rw_path, "__rlock__", "host-a", 1));
    CHECK_RC(corral_rwlock_release(rw, false), CORRAL_OK);
    CHECK_RC(corral_rwlock_acquire(rw, true, 5000), CORRAL_OK);
    CHECK(children_are(zk, rw_path, "__lock__", "host-a", 1));
    corral_rwlock_free(rw);
    /* kazoo's Semaphore: lease nodes directly under the path, its lock beside it. */
    corral_semaphore *sem = NULL;
    REQUIRE_RC(corral_semaphore_new_layout(zk, sem_path, 2, CORRAL_LAYOUT_KAZOO, "host-b", &sem), CORRAL_OK);
    CHECK_RC(corral_semaphore_acquire(sem, 5000), CORRAL_OK);
    CHECK(children_are(zk, sem_path, "", "host-b", 1));
    CHECK(child_count(zk, sem_lock) >= 0);
    corral_semaphore_free(sem);
    /* Curator's layout by name, and bad layouts. */
    corral_rwlock *cur = NULL;
    REQUIRE_RC(corral_rwlock_new_layout(zk, rw_path, CORRAL_LAYOUT_CURATOR, NULL, &cur), CORRAL_OK);
    CHECK_RC(corral_rwlock_acquire(cur, true, 5000), CORRAL_OK);
    CHECK(children_are(zk, rw_path, "__WRIT__", "", 1));
    corral_rwlock_free(cur);
    corral_rwlock *bad = NULL;
    CHECK_RC(corral_rwlock_new_layout(zk, rw_path, 7, NULL, &bad), CORRAL_INVALID_ARGUMENT);
    CHECK(bad == NULL);
    corral_semaphore *bad_sem = NULL;
    CHECK_RC(corral_semaphore_new_layout(zk, sem_path, 2, -1, NULL, &bad_sem), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_semaphore_new_layout(zk, sem_path, 0, CORRAL_LAYOUT_KAZOO, NULL, &bad_sem), CORRAL_INVALID_ARGUMENT);
    CHECK_RC(corral_rwlock_new_layout(NULL, rw_path, CORRAL_LAYOUT_KAZOO, NULL, &bad), CORRAL_NULL_ARGUMENT);
    CHECK_RC(corral_rwlock_new_layout(zk, NULL, CORRAL_LAYOUT_KAZOO, NULL, &bad), CORRAL_NULL_ARGUMENT);
    corral_client_free(zk);
}
