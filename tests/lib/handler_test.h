/*
 * handler_test.h - a handler test harness: hand one event to a context's
 * handler through the real consumer path (envelope and contract checks,
 * inbox claim, one transaction, the handler, its outbox writes, commit) with
 * PostgreSQL and without RabbitMQ, then check what it published and what it
 * wrote (as MassTransit's test harness or NServiceBus.Testing do).
 *
 *   struct handler_test *t = handler_test_start(&payment_service);
 *   struct inventory_stock_reserved in = {.quantity = 1};
 *   ...fill in's ids...
 *   assert_int_equal(handler_test_send(t, &INVENTORY_STOCK_RESERVED, &in, sizeof(in)), 0);
 *   assert_int_equal(handler_test_published(t, &PAYMENT_PAYMENT_SUCCEEDED), 1);
 *   struct payment_payment_succeeded out;
 *   handler_test_take(t, &PAYMENT_PAYMENT_SUCCEEDED, 0, &out, sizeof(out));
 *   assert_int_equal(handler_test_count(t, "SELECT count(*) FROM payments", NULL), 1);
 *   handler_test_stop(t);
 *
 * Each harness applies the context's migrations to a schema of its own
 * (unique to the run, dropped by handler_test_stop), so tests never see each
 * other's rows, and fills the context's config with its defaults (and the
 * environment's values). Every event a handler publishes is checked on the
 * way out: it carries the sent event's correlation id, the sent event's id as
 * causation id and a new span of the sent event's trace (handler_publish /
 * handler_origin), and its data passes its contract. Anything wrong in the setup fails the test (cmocka).
 * Needs DATABASE_URL (tests/run.sh exports it).
 */
#ifndef HANDLER_TEST_H
#define HANDLER_TEST_H

#include "common/contract.h"
#include "common/err.h"
#include "common/service.h"

#include "testlib.h" /* cmocka, for the tests that include this */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct handler_test;

/* A harness for def's handlers, on migrations/<def->name>. */
struct handler_test *handler_test_start(const struct service_def *def);

/* The same on the migrations in dir (a test-only context). */
struct handler_test *handler_test_start_in(const struct service_def *def, const char *dir);

/* Drops the schema and frees t. NULL is a no-op. */
void handler_test_stop(struct handler_test *t);

/*
 * Sends one event of ev's contract with data (a struct of ev, size = sizeof
 * *data), from ev's publisher, with a fresh id, correlation id and trace. Returns
 * what the consumer path answered: 0, CONSUMER_DUPLICATE, or the negative
 * code the handler (or a check) returned; handler_test_error says why.
 */
int handler_test_send(struct handler_test *t, const struct contract_event *ev, const void *data,
                      size_t size);

/* Delivers a CloudEvent body as it is (what a relay published, or a hand-made one). */
int handler_test_deliver(struct handler_test *t, const char *body);

/* Delivers the last body again: a redelivery, which must have no second effect. */
int handler_test_redeliver(struct handler_test *t);

/* The message of the last failed delivery ("" after a success). */
const char *handler_test_error(const struct handler_test *t);

/* The id of the last event delivered. */
const char *handler_test_sent_id(const struct handler_test *t);

/* How many events of ev's type (every type: ev NULL) the last delivery published. */
size_t handler_test_published(const struct handler_test *t, const struct contract_event *ev);

/*
 * Decodes the data of the i-th event of ev's type the last delivery
 * published into out (a struct of ev, size = sizeof *out); fails the test
 * when there is no such event.
 */
void handler_test_take(const struct handler_test *t, const struct contract_event *ev, size_t i,
                       void *out, size_t size);

/* The value of a one-value query (count(*)) on the context's schema, with $1 = p1 (may be NULL). */
int64_t handler_test_count(struct handler_test *t, const char *sql, const char *p1);

/* The connection (search_path = the harness's schema), for checks of your own. */
struct db *handler_test_db(struct handler_test *t);

#endif
