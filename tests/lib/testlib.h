/*
 * testlib.h - fixtures for integration and e2e tests.
 *
 * tests/run.sh starts a private PostgreSQL and RabbitMQ on free ports and
 * exports DATABASE_URL, AMQP_URL and INFRA_SH (deploy/local/infra.sh set up
 * for those instances). A test that needs them calls testlib_require_env():
 * without them it fails with a line saying so (never a silent skip, which
 * would let a broken script pass CI with no integration test run).
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* The value of an environment variable the test needs; exits 1 with a clear line when missing. */
const char *testlib_require_env(const char *name);

/* Runs "$INFRA_SH <action> <component>" (e.g. "restart", "postgres"); returns its exit status. */
int testlib_infra(const char *action, const char *component);

/* A name unique to this process and call, e.g. "t_12345_3", for queues, schemas, tables. */
void testlib_unique_name(char *out, size_t outlen, const char *prefix);

/* Milliseconds from a monotonic clock. */
int64_t testlib_now_ms(void);

/* Sleeps ms milliseconds. */
void testlib_sleep_ms(int ms);

/* A TCP port free on 127.0.0.1 right now (the kernel's pick), or -1. */
int testlib_free_port(void);

/* How a reaped child ended, for messages: "exit 0", "signal 9". */
void testlib_describe_status(int status, char *out, size_t outlen);

#endif
