/* Leader election with fencing: three participants join a leader latch; the
 * leader takes the lock that guards the shared resource and writes with its
 * fencing token; when it leaves, the next one leads with a larger token.
 *   cc election.c $(pkg-config --cflags --libs corral) -o election && ./election [connect-string] */
#include <corral.h>
#include <stdio.h>

#define PARTICIPANTS 3

int main(int argc, char **argv) {
    corral_server *srv = NULL;
    const char *hosts = argc > 1 ? argv[1] : NULL;
    if (!hosts) {
        if (corral_server_start(NULL, &srv) != CORRAL_OK) return 1;
        hosts = corral_server_connect_string(srv);
    }
    const char *names[PARTICIPANTS] = {"scheduler-a", "scheduler-b", "scheduler-c"};
    corral_client *zk[PARTICIPANTS] = {0};
    corral_latch *latch[PARTICIPANTS] = {0};
    for (int i = 0; i < PARTICIPANTS; i++) {
        if (corral_client_connect(hosts, 10000, &zk[i]) != CORRAL_OK) return 1;
        if (corral_latch_start(zk[i], "/examples/election", names[i], &latch[i]) != CORRAL_OK) return 1;
    }
    int64_t last_token = 0;
    for (int round = 0; round < PARTICIPANTS; round++) {
        /* Whoever leads now does the work, fenced by the guard lock's token. */
        int leader = -1;
        for (int i = 0; i < PARTICIPANTS && leader < 0; i++)
            if (latch[i] && corral_latch_await(latch[i], 10000) == CORRAL_OK) leader = i;
        if (leader < 0) return 1;
        corral_lock *guard = NULL;
        int64_t token = 0;
        if (corral_lock_new(zk[leader], "/examples/election-guard", NULL, &guard) != CORRAL_OK ||
            corral_lock_acquire(guard, 10000) != CORRAL_OK || corral_lock_fencing_token(guard, &token) != CORRAL_OK)
            return 1;
        printf("%s leads, writes with fencing token %lld (%s)\n", names[leader], (long long)token,
               token > last_token ? "newer than any before" : "STALE");
        if (token <= last_token) return 1;
        last_token = token;
        corral_lock_free(guard);
        /* It steps down: the next participant in line leads. */
        corral_latch_free(latch[leader]);
        latch[leader] = NULL;
    }
    for (int i = 0; i < PARTICIPANTS; i++) corral_client_free(zk[i]);
    corral_server_free(srv);
    return 0;
}
