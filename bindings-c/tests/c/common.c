/* The test runner of corral's C tests and what the tests share: the server
 * under test (the embedded server, or CORRAL_TEST_CONNECT: Apache ZooKeeper
 * 3.8 in CI), fresh namespaces, short sleeps. Usage: test_corral [filter]. */
#include "common.h"

#include <time.h>
#include <unistd.h>

#define TESTS_MAX 256

struct test_case { const char *name; test_fn fn; };
static struct test_case tests[TESTS_MAX];
static int test_count;
int current_failures;

static corral_server *shared_server;
static char prefix[64];
static int namespaces;

void register_test(const char *name, test_fn fn) {
    if (test_count < TESTS_MAX) tests[test_count++] = (struct test_case){name, fn};
}

int run_tests(const char *only) {
    int passed = 0, failed = 0;
    for (int i = 0; i < test_count; i++) {
        if (only && !strstr(tests[i].name, only)) continue;
        current_failures = 0;
        fprintf(stderr, "%s ...\n", tests[i].name);
        tests[i].fn();
        if (current_failures == 0) {
            passed++;
        } else {
            failed++;
            fprintf(stderr, "FAILED %s\n", tests[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

bool against_zookeeper(void) {
    const char *env = getenv("CORRAL_TEST_CONNECT");
    return env && *env;
}

const char *target(void) {
    if (against_zookeeper()) return getenv("CORRAL_TEST_CONNECT");
    if (!shared_server && corral_server_start(NULL, &shared_server) != CORRAL_OK) {
        fprintf(stderr, "cannot start the embedded server\n");
        exit(2);
    }
    return corral_server_connect_string(shared_server);
}

void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

corral_client *connect_target(void) {
    corral_client *zk = NULL;
    corral_result rc = corral_client_connect(target(), SESSION_TIMEOUT_MS, &zk);
    if (rc != CORRAL_OK) {
        fprintf(stderr, "  cannot connect to %s: %s\n", target(), corral_result_message(rc));
        current_failures++;
        return NULL;
    }
    return zk;
}

void fresh_ns(corral_client *zk, char *out, size_t cap) {
    snprintf(out, cap, "%s-%d", prefix, namespaces++);
    CHECK_RC(corral_client_create(zk, out, NULL, 0, CORRAL_PERSISTENT, NULL, 0, NULL), CORRAL_OK);
}

int child_count(corral_client *zk, const char *path) {
    corral_strings *kids = NULL;
    if (corral_client_get_children(zk, path, &kids, NULL) != CORRAL_OK) return -1;
    int n = (int)corral_strings_len(kids);
    corral_strings_free(kids);
    return n;
}

int main(int argc, char **argv) {
    snprintf(prefix, sizeof prefix, "/c-%ld", (long)getpid());
    int rc = run_tests(argc > 1 ? argv[1] : NULL);
    corral_server_free(shared_server);
    return rc;
}
