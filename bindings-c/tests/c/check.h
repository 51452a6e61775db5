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

/* Failures of the running test (checked by the runner after each test). */
extern int current_failures;
/* Adds a test; TEST() calls it before main. */
void register_test(const char *name, test_fn fn);
/* Runs every test whose name contains `only` (all with NULL); prints
 * "N passed, N failed"; 0 when all passed and at least one ran. */
int run_tests(const char *only);

#define TEST(name)                                                        \
    static void name(void);                                               \
    __attribute__((constructor)) static void register_##name(void) { register_test(#name, name); } \
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

#endif
