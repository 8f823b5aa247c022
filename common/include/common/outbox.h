/*
 * outbox.h - the transactional outbox of one context (SPEC §4).
 *
 * A context adds an event to <context>.outbox inside the transaction of its
 * business change; the relay (relay.h) publishes it later. Numbered
 * invariants, referred to by the tests:
 *   (O1) an event is in the outbox iff the business transaction committed;
 *   (O2) a row is marked published only after the broker acknowledged it;
 *   (O3) a claimed row is leased to one relay; after the lease any relay may
 *        take it, so a dead relay's rows are published by another;
 *   (O4) rows are claimed by status and due time, never by "id above the last
 *        seen" (rows commit out of id order).
 *
 * All statements name the tables unqualified: the connection's search_path
 * is the context's schema (db_set_schema). The outbox status changes only in
 * outbox.c.
 */
#ifndef COMMON_OUTBOX_H
#define COMMON_OUTBOX_H

#include "common/contract.h"
#include "common/err.h"
#include "common/envelope.h"
#include "common/trace.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct envelope;

#define OUTBOX_BATCH_MAX 256 /* rows one claim may take */
#define OUTBOX_ERROR_MAX 512 /* longest last_error stored */
#define OUTBOX_OWNER_MAX 64  /* a lease owner (relay instance id) and its NUL */

/*
 * Adds ev to the outbox inside the caller's open transaction and NOTIFYs the
 * relay (delivered at commit). Returns 0, ERR_INTERNAL when no transaction is
 * open (an outbox write outside one would break O1), or a database error.
 */
int outbox_enqueue(struct db *db, const struct envelope *ev, struct err *err);

/*
 * Where an event is written and what caused it. A handler gets its own from
 * handler_origin(hc) (handler.h); a route fills one from its request.
 */
struct outbox_origin {
    struct db *db;              /* in the caller's open transaction */
    const char *correlation_id; /* the flow's */
    const char
        *causation_id; /* the event that caused it; NULL: the request named by correlation_id */
};

/*
 * Publishes one event of ev's contract from data, a struct of ev (size =
 * sizeof *data): encodes it by ev's table (contract_encode), validates it
 * against ev and adds it to the outbox in from's transaction (envelope_build +
 * outbox_enqueue). Type, version and the publishing context come from ev.
 * Data that breaks the contract is ERR_INVALID naming the field, and nothing
 * is inserted: a producer learns of its own bug in its own transaction, not
 * as poison in a consumer. When id_out is not NULL the new event id is copied
 * there.
 */
int outbox_publish(const struct outbox_origin *from, const struct contract_event *ev,
                   const void *data, size_t size, char *id_out, struct err *err);

/* The NOTIFY channel of a context's outbox: "<context>_outbox". */
void outbox_channel(const char *context, char *out, size_t outlen);

/* ---- for the relay -------------------------------------------------------- */

struct outbox_row {
    char id[UUID7_STR_LEN];
    char type[ENVELOPE_TYPE_MAX + 1];
    char correlation_id[ENVELOPE_REF_MAX];
    char *payload; /* owned: the CloudEvent JSON text */
    size_t payload_len;
    int attempts;
    char traceparent[TRACE_PARENT_LEN]; /* "" when the event has none */
};

/*
 * Claims up to max (≤ OUTBOX_BATCH_MAX) due pending rows for instance with a
 * lease of lease_ms, oldest due first, skipping rows other relays hold (O3,
 * O4). With take_own, rows instance itself holds are taken too: left by a
 * pass that never finished (a restart with the same INSTANCE_ID, a failed
 * pass); without it they are not, as they may be on their way to the relay
 * from its own process (ADR 0011). Runs in its own short transaction. Fills
 * rows[0..*n). Returns 0 or a database error. Free the payloads with
 * outbox_rows_release.
 */
int outbox_claim(struct db *db, const char *instance, int max, int lease_ms, bool take_own,
                 struct outbox_row *rows, size_t *n, struct err *err);

void outbox_rows_release(struct outbox_row *rows, size_t n);

/* Marks ids (n of them) published; call only after the broker's ack (O2). */
int outbox_mark_published(struct db *db, const char *const *ids, size_t n, struct err *err);

/*
 * Records a failed publish of ids: attempts + 1, next_attempt_at after an
 * exponential backoff with jitter (base_ms doubling, capped at max_ms),
 * last_error, lease released. A row reaching give_up_after attempts becomes
 * 'failed' (an operator requeues it); 0 = never give up.
 */
int outbox_mark_retry(struct db *db, const char *const *ids, size_t n, const char *error,
                      int base_ms, int max_ms, int give_up_after, struct err *err);

/*
 * Extends to lease_ms from now the leases instance holds on ids (n of them)
 * that are still pending: a relay whose batch waits for the broker keeps its
 * rows (O3) however short LEASE_MS is. Rows another relay took meanwhile, or
 * already marked, are left alone. Returns the rows renewed or an error.
 */
int outbox_renew_leases(struct db *db, const char *instance, const char *const *ids, size_t n,
                        int lease_ms, struct err *err);

/* Releases every lease instance holds (graceful stop). */
int outbox_release_leases(struct db *db, const char *instance, struct err *err);

/* Pending rows and the age in seconds of the oldest (0 when none). */
int outbox_stats(struct db *db, int64_t *pending, double *oldest_age_s, struct err *err);

/* Deletes up to batch published rows older than hours. Returns rows deleted or an error. */
int outbox_purge_published(struct db *db, int hours, int batch, struct err *err);

/* Sends a failed row back to pending with its attempts reset. 1 when one was, 0 when none. */
int outbox_requeue(struct db *db, const char *id, struct err *err);

#endif
