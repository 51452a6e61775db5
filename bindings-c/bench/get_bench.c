/* Blocking get throughput from one C thread: libcorral against Apache
 * ZooKeeper's C client (libzookeeper-mt), against the same server, in one run.
 *   bash bindings-c/bench/run.sh                 # builds, starts servers, prints ratios
 *   get_bench <connect-string> [ops] [rounds]    # one server
 * Each round reads one 100-byte node `ops` times with each client, in turns
 * (corral first in odd rounds, ZooKeeper's client first in even ones). */
#define _POSIX_C_SOURCE 200809L
/* libzookeeper-mt's synchronous API. */
#define THREADED
#include <corral.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double bench_corral(corral_client *zk, const char *path, long ops) {
    uint8_t buf[256];
    size_t len = 0;
    double start = now_s();
    for (long i = 0; i < ops; i++)
        if (corral_client_get(zk, path, buf, sizeof buf, &len, NULL) != CORRAL_OK || len != 100) return -1;
    return (double)ops / (now_s() - start);
}

static double bench_zookeeper(zhandle_t *zh, const char *path, long ops) {
    char buf[256];
    double start = now_s();
    for (long i = 0; i < ops; i++) {
        int len = sizeof buf;
        if (zoo_get(zh, path, 0, buf, &len, NULL) != ZOK || len != 100) return -1;
    }
    return (double)ops / (now_s() - start);
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: get_bench <connect-string> [ops] [rounds]\n");
        return 2;
    }
    const char *hosts = argv[1];
    long ops = argc > 2 ? atol(argv[2]) : 20000;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    if (rounds > 32) rounds = 32;
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    corral_client *zk = NULL;
    if (corral_client_connect(hosts, 10000, &zk) != CORRAL_OK) return 1;
    zhandle_t *zh = zookeeper_init(hosts, NULL, 10000, NULL, NULL, 0);
    for (int i = 0; zh && zoo_state(zh) != ZOO_CONNECTED_STATE && i < 500; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    if (!zh || zoo_state(zh) != ZOO_CONNECTED_STATE) return 1;
    char path[64];
    snprintf(path, sizeof path, "/get-bench-%ld", (long)time(NULL));
    uint8_t data[100];
    memset(data, 'x', sizeof data);
    if (corral_client_create(zk, path, data, sizeof data, CORRAL_EPHEMERAL, NULL, 0, NULL) != CORRAL_OK) return 1;
    bench_corral(zk, path, ops / 10); /* warm-up */
    bench_zookeeper(zh, path, ops / 10);
    double c[32], z[32];
    for (int r = 0; r < rounds; r++) {
        if (r % 2 == 0) {
            c[r] = bench_corral(zk, path, ops);
            z[r] = bench_zookeeper(zh, path, ops);
        } else {
            z[r] = bench_zookeeper(zh, path, ops);
            c[r] = bench_corral(zk, path, ops);
        }
        if (c[r] < 0 || z[r] < 0) return 1;
        printf("round %d: libcorral %.0f gets/s, libzookeeper-mt %.0f gets/s\n", r + 1, c[r], z[r]);
    }
    qsort(c, rounds, sizeof c[0], cmp);
    qsort(z, rounds, sizeof z[0], cmp);
    printf("median: libcorral %.0f gets/s, libzookeeper-mt %.0f gets/s, ratio %.2fx\n", c[rounds / 2], z[rounds / 2],
           c[rounds / 2] / z[rounds / 2]);
    zookeeper_close(zh);
    corral_client_free(zk);
    return 0;
}
