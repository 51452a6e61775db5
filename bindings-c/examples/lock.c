/* A distributed lock guarding a shared resource, with its fencing token.
 *   cc lock.c $(pkg-config --cflags --libs corral) -o lock && ./lock [connect-string]
 * With no connect string it starts an embedded server. Two workers (two
 * sessions) take turns; each prints the token it would attach to its writes. */
#include <corral.h>
#include <stdio.h>

static int work(const char *hosts, const char *name) {
    corral_client *zk = NULL;
    corral_result rc = corral_client_connect(hosts, 10000, &zk);
    if (rc != CORRAL_OK) {
        fprintf(stderr, "%s: connect: %s\n", name, corral_result_message(rc));
        return 1;
    }
    corral_lock *lock = NULL;
    rc = corral_lock_new(zk, "/examples/locks/report", NULL, &lock);
    if (rc == CORRAL_OK) rc = corral_lock_acquire(lock, 10000);
    if (rc == CORRAL_OK) {
        int64_t token = 0;
        corral_lock_fencing_token(lock, &token);
        printf("%s holds the lock, fencing token %lld\n", name, (long long)token);
        rc = corral_lock_release(lock);
    }
    if (rc != CORRAL_OK) fprintf(stderr, "%s: %s\n", name, corral_result_message(rc));
    corral_lock_free(lock);
    corral_client_free(zk);
    return rc == CORRAL_OK ? 0 : 1;
}

int main(int argc, char **argv) {
    corral_server *srv = NULL;
    const char *hosts = argc > 1 ? argv[1] : NULL;
    if (!hosts) {
        if (corral_server_start(NULL, &srv) != CORRAL_OK) return 1;
        hosts = corral_server_connect_string(srv);
    }
    int failed = work(hosts, "worker-1") + work(hosts, "worker-2");
    corral_server_free(srv);
    return failed ? 1 : 0;
}
