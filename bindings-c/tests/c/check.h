/* A small test harness for corral's C tests: TEST(name) defines a test,
 * CHECK(cond) and CHECK_RC(call, code) record failures without stopping the
 * test, and RUN_TESTS() runs every test and prints "N passed, N failed". */
#ifndef CORRAL_CHECK_H
#define CORRAL_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <corral.h>

typedef void (*test_fn)(void);
struct test_case { const char *name; test_fn fn; };

#define TESTS_MAX 256
static struct test_case tests[TESTS_MAX];
static int test_count;
static int current_failures;

#define TEST(name)                                                        \
    static void name(void);                                               \
    __attribute__((constructor)) static void register_##name(void) {      \
        if (test_count < TESTS_MAX) tests[test_count++] = (struct test_case){#name, name}; \
    }                                                                     \
    static void name(void)

#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            current_failures++;                                           \
        }                                                                 \
    } while (0)

#define CHECK_RC(call, expected)                                          \
    do {                                                                  \
        corral_result rc_ = (call);                                       \
        corral_result want_ = (expected);                                 \
        if (rc_ != want_) {                                               \
            fprintf(stderr, "  %s:%d: %s returned %d (%s), expected %d (%s)\n", __FILE__, __LINE__, \
                    #call, rc_, corral_result_message(rc_), want_, corral_result_message(want_)); \
            current_failures++;                                           \
        }                                                                 \
    } while (0)

/* Stops the current test when a set-up step fails. */
#define REQUIRE_RC(call, expected)                                        \
    do {                                                                  \
        int before_ = current_failures;                                   \
        CHECK_RC(call, expected);                                         \
        if (current_failures != before_) return;                          \
    } while (0)

static int run_tests(const char *only) {
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

#endif
