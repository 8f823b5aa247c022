/*
 * inbox.h - the inbox of one context: exactly-once effect on top of
 * at-least-once delivery (SPEC §4).
 *
 * Numbered invariants, referred to by the tests:
 *   (I1) an event has at most one effect per consumer: the row keyed
 *        (id, consumer) is locked by the handler transaction and marked
 *        processed in it, so a duplicate finds it processed and does nothing;
 *   (I2) the inbox row, the handler's writes and the handler's outbox rows
 *        commit together, and the broker ack follows the commit;
 *   (I3) every handler start is counted durably before the handler runs
 *        again, so a message that kills the process is, after
 *        RETRY_MAX_ATTEMPTS starts, dead-lettered instead of run again (a
 *        first delivery's start is counted by the broker's redelivered flag,
 *        every later one by a committed row);
 *   (I4) once a failure is recorded the database owns the message: retries
 *        run from the stored body (the exact text the first attempt parsed,
 *        not jsonb's normal form), and a redelivery of it is a duplicate.
 *
 * Handlers never see this module; the consumer (consumer.c) drives it. The
 * inbox status changes only in inbox.c.
 */
#ifndef COMMON_INBOX_H
#define COMMON_INBOX_H

#include "common/err.h"
#include "common/envelope.h"

#include <stddef.h>
#include <stdint.h>

struct db;
struct envelope;

#define INBOX_BATCH_MAX 64
#define INBOX_ERROR_MAX 512
/* Entries kept in inbox.errors: every failed attempt's error, the last ones. */
#define INBOX_ERRORS_KEPT 20

enum inbox_start {
    INBOX_RUN,       /* run the handler: this is start number *attempts */
    INBOX_DUPLICATE, /* already processed, or owned by the database (failed/dead): ack, no effect */
    INBOX_EXHAUSTED, /* started too often without finishing (I3): dead-letter it */
};

/*
 * Records a start of ev for consumer (I3) in its own one-statement
 * transaction, outside any open one. Pass a connection with asynchronous
 * commit (db_set_async_commit): the counter has to survive our process, not
 * the database server, and a later synchronous commit flushes it anyway.
 * payload is the event's JSON text. Returns an enum inbox_start (≥ 0) and the
 * start count in *attempts, or an error.
 */
int inbox_record_start(struct db *db, const struct envelope *ev, const char *payload,
                       const char *consumer, int max_attempts, int *attempts, struct err *err);

/*
 * A first delivery (the broker says it was never delivered before), inside
 * the handler transaction: inserts the row as processed, so the start needs
 * no record of its own (I3 holds: if the handler kills the process, the
 * broker redelivers it flagged, and inbox_record_start counts this start).
 * Returns 1 (run the handler), 0 (a duplicate: processed already, or owned
 * by the database), or an error.
 */
int inbox_claim_first(struct db *db, const struct envelope *ev, const char *payload,
                      const char *consumer, struct err *err);

/*
 * Inside the handler transaction: locks the row and checks it is still in
 * status expected ("processing" for a delivery, "failed" for a retry).
 * Returns 1 when it is (run the handler), 0 when another transaction
 * finished it meanwhile (a duplicate: no effect), or an error.
 */
int inbox_lock(struct db *db, const char *id, const char *consumer, const char *expected,
               struct err *err);

/* Inside the handler transaction: marks the row processed (I1, I2). */
int inbox_mark_processed(struct db *db, const char *id, const char *consumer, struct err *err);

/*
 * After a rollback: the failure, attempts so far, and when to try again
 * (I4). Creates the row when the rollback took it (a first delivery). Does
 * nothing to a row that is processed or dead.
 */
int inbox_mark_failed(struct db *db, const struct envelope *ev, const char *payload,
                      const char *consumer, int attempts, const char *error, int64_t delay_ms,
                      struct err *err);

/* After a rollback, or for an exhausted start: dead, with the reason (as inbox_mark_failed). */
int inbox_mark_dead(struct db *db, const struct envelope *ev, const char *payload,
                    const char *consumer, int attempts, const char *error, struct err *err);

/* A stored row whose payload no handler can take any more (unreadable, or its type unsubscribed): dead. */
int inbox_mark_unhandled_dead(struct db *db, const char *id, const char *consumer,
                              const char *error, struct err *err);

struct inbox_row {
    char id[UUID7_STR_LEN];
    char type[ENVELOPE_TYPE_MAX + 1];
    char *payload;    /* owned: the CloudEvent JSON text */
    char *last_error; /* owned, may be NULL */
    int attempts;
};

void inbox_rows_release(struct inbox_row *rows, size_t n);

/*
 * Retries due now: claims up to max failed rows of consumer whose time has
 * come, records the start (attempts + 1, I3) and leases them for lease_ms,
 * in one statement. Fills rows[0..*n).
 */
int inbox_claim_due(struct db *db, const char *consumer, int max, int lease_ms,
                    struct inbox_row *rows, size_t *n, struct err *err);

/* Dead rows whose copy has not reached the dead-letter queue yet, leased for lease_ms. */
int inbox_claim_dead_letters(struct db *db, const char *consumer, int max, int lease_ms,
                             struct inbox_row *rows, size_t *n, struct err *err);

/* The dead-letter copy of id was confirmed by the broker. */
int inbox_mark_dead_lettered(struct db *db, const char *id, const char *consumer, struct err *err);

/*
 * Sends a dead message back for one more round: status failed, attempts 0,
 * due now. consumer NULL = every consumer that holds it dead. Returns the
 * number of rows requeued (0 = no such dead message) or an error.
 */
int inbox_requeue(struct db *db, const char *id, const char *consumer, struct err *err);

/* Deletes up to batch processed rows older than hours. Returns rows deleted or an error. */
int inbox_purge_processed(struct db *db, int hours, int batch, struct err *err);

/*
 * Deletes every dead row older than older_than_s seconds (counted from the
 * later of arrival and death). Dead rows are kept until an operator decides:
 * this is that decision (eventctl purge). Returns rows deleted or an error.
 */
int inbox_purge_dead(struct db *db, long long older_than_s, struct err *err);

/* ---- what the operations tool reads and changes (eventctl) ------------------ */

/* One dead row, every pointer borrowed (valid during the callback). */
struct inbox_dead {
    const char *id;
    const char *consumer;
    const char *type;
    const char *correlation_id;
    const char *last_error; /* "" when none was recorded */
    const char *created_at; /* first seen, UTC, "2026-01-01T10:00:00.000Z" */
    const char *dead_at;    /* the later of first seen and the dead-letter copy, same form */
    int64_t attempts;
};

/* Called once per dead row; return 0 to go on, or a negative code after filling err. */
typedef int (*inbox_dead_fn)(void *ctx, const struct inbox_dead *row, struct err *err);

/* Every dead row, oldest first, for fn. Returns the number of rows or an error. */
int inbox_list_dead(struct db *db, inbox_dead_fn fn, void *ctx, struct err *err);

/*
 * The exact text of dead message (id, consumer) (body, else payload) into
 * *text (new, free it). Returns 1, 0 when no such dead row (*text NULL), or an error.
 */
int inbox_dead_text(struct db *db, const char *id, const char *consumer, char **text,
                    struct err *err);

/* Deletes dead message (id, consumer): an operator's decision. Returns rows deleted or an error. */
int inbox_delete_dead(struct db *db, const char *id, const char *consumer, struct err *err);

/*
 * Replaces dead message (id, consumer) by an edited copy, in one statement: a
 * failed row due now with new_id and payload (the edited CloudEvent's text,
 * whose causation id is id), the same type and correlation id, attempts 0;
 * the dead row is deleted (the new row's causation id keeps the link).
 * Returns 1, 0 when no such dead row, or an error.
 */
int inbox_replace_dead(struct db *db, const char *id, const char *consumer, const char *new_id,
                       const char *payload, struct err *err);

#endif
