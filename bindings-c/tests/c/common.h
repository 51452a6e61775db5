/* What corral's C tests share (defined in common.c). */
#ifndef CORRAL_TEST_COMMON_H
#define CORRAL_TEST_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdint.h>

#include "check.h"

#define SESSION_TIMEOUT_MS 10000

/* The connect string of the server under test. */
const char *target(void);
/* Whether the tests run against CORRAL_TEST_CONNECT (Apache ZooKeeper). */
bool against_zookeeper(void);
/* A connected client, or NULL with a failure recorded. */
corral_client *connect_target(void);
/* Creates a fresh, empty node for one test into `out`. */
void fresh_ns(corral_client *zk, char *out, size_t cap);
/* The number of children of `path` (-1 on error). */
int child_count(corral_client *zk, const char *path);
void sleep_ms(long ms);

/* Polls `cond` every 10 ms until it holds or `ms` milliseconds pass; the
 * test then CHECKs the condition itself. */
#define WAIT_FOR(cond, ms) for (long w_ = 0; w_ < (ms) && !(cond); w_ += 10) sleep_ms(10)

#endif
