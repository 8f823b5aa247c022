/*
 * ops_fixtures.h - database fixtures for the operations tool's tests
 * (integration.eventctl and integration.dashboard): run a statement, read
 * one value, empty a context's outbox and inbox, write one outbox or inbox
 * row, and write the small booking saga both tests inspect.
 *
 * Every value travels as a $n text parameter of db_exec, never inside the
 * statement text. The one exception is the context's schema name, an
 * identifier that cannot be a parameter: it must match [a-z][a-z0-9_]*
 * (at most 63 bytes) and goes into the text double-quoted. Each helper fails
 * the running cmocka test on any error, so a test reads as its steps; it is
 * test code, not part of common/.
 */
#ifndef OPS_FIXTURES_H
#define OPS_FIXTURES_H

#include "common/db.h"

#include <stddef.h>

/* last_error of an outbox row written with status "failed". */
#define OPS_FIXTURES_OUTBOX_ERROR "unroutable: no queue bound"
/* last_error of an inbox row written with status "failed" or "dead". */
#define OPS_FIXTURES_INBOX_ERROR "handler failed: stock row locked"

/*
 * Runs sql with nparams text parameters ($1..$n; a NULL element is SQL NULL;
 * 0 and NULL for a statement without values). Fails the test on an error.
 */
void ops_fixtures_exec(struct db *db, const char *sql, int nparams, const char *const *params);

/*
 * Runs sql (parameters as for ops_fixtures_exec), which returns at most one
 * row, and copies its first column into out (outlen bytes; "" for no row or
 * SQL NULL). Fails the test on an error or a value too long for out.
 */
void ops_fixtures_value(struct db *db, const char *sql, int nparams, const char *const *params,
                        char *out, size_t outlen);

/* Empties context's outbox and inbox (TRUNCATE). Fails the test on a bad name or an error. */
void ops_fixtures_truncate(struct db *db, const char *context);

/*
 * Inserts one row into context's outbox: event id, correlation and causation
 * ids, event type, created at `at` (a timestamptz literal such as
 * "2026-01-01 10:00:00.000+00"), the given status and attempts, and payload
 * {"source":"/<context>"}. A "published" row gets published_at = at, a
 * "failed" one last_error = OPS_FIXTURES_OUTBOX_ERROR; otherwise both are
 * NULL. Fails the test on a bad name or an error.
 */
void ops_fixtures_outbox(struct db *db, const char *context, const char *id,
                         const char *correlation, const char *type, const char *causation,
                         const char *at, const char *status, int attempts);

/*
 * Inserts one row into context's inbox, consumed by context itself: event id,
 * correlation and causation ids, event type, first seen at `seen`, the given
 * status and attempts, processed_at = processed (NULL for SQL NULL), payload
 * {}. A "failed" or "dead" row gets last_error = OPS_FIXTURES_INBOX_ERROR,
 * any other NULL. Fails the test on a bad name or an error.
 */
void ops_fixtures_inbox(struct db *db, const char *context, const char *id, const char *correlation,
                        const char *type, const char *causation, const char *seen,
                        const char *status, int attempts, const char *processed);

/* ---- failures ------------------------------------------------------------------ */

/*
 * Inserts a dead message into context's inbox (consumed by context itself):
 * event id, correlation id, type, last_error = error, 5 attempts, and as
 * payload and body a CloudEvent of that id, type and correlation id whose
 * data is {"amount": 41}. Fails the test on a bad name or an error.
 */
void ops_fixtures_dead(struct db *db, const char *context, const char *id, const char *correlation,
                       const char *type, const char *error);

/*
 * Records poison in context's dead_letter table the way the consumer does
 * (dead_letter_record): message id, routing key = type, the raw body
 * (len bytes) and the reason. Fails the test on a bad name or an error.
 */
void ops_fixtures_poison(struct db *db, const char *context, const char *message_id,
                         const char *type, const char *body, size_t len, const char *reason);

/* ---- the saga ------------------------------------------------------------------ */

#define OPS_FIXTURES_E1 "01900000-0000-7000-8000-0000000000e1"
#define OPS_FIXTURES_E2 "01900000-0000-7000-8000-0000000000e2"
#define OPS_FIXTURES_E3 "01900000-0000-7000-8000-0000000000e3"
#define OPS_FIXTURES_E4 "01900000-0000-7000-8000-0000000000e4"

/*
 * Writes the saga into the booking, inventory and payment schemas (migrated,
 * empty), in correlation id corr, all on 2026-01-01 (UTC):
 *   E1 booking.booking.created (booking, caused by request-1, 10:00:00.000)
 *      → payment processed after 12 ms, inventory processed after 15 ms
 *   E2 inventory.stock.reserved (inventory, caused by E1)
 *      → payment processed after 17 ms, at the second attempt
 *   E3 payment.payment.succeeded (payment, caused by E2)
 *      → inventory dead after 5 attempts
 * and in correlation id corr2 one booking.booking.created (E4, caused by
 * request-2, 10:00:00.040) that the relay failed to publish after 10
 * attempts (no queue bound), so nobody received it. Fails the test on an error.
 */
void ops_fixtures_saga(struct db *db, const char *corr, const char *corr2);

#endif
