/*
 * store.h - every SQL statement of inventory, and nothing else: no decision
 * is taken here (the domain takes them), no event is built here (events.c).
 *
 * All statements run on the caller's connection and, for writes, inside the
 * caller's transaction (a handler's, or a route's). Tables are named
 * unqualified: the connection's search_path is the inventory schema.
 * Return values follow the store convention of docs/architecture.md: writes
 * 0, look-ups 1 found / 0 not, record-once 1 new / 0 known, lists a count;
 * a negative err code with err filled.
 */
#ifndef INVENTORY_STORE_H
#define INVENTORY_STORE_H

#include "common/err.h"
#include "inventory/domain/reservation.h"
#include "inventory/domain/stock.h"

#include <stdbool.h>
#include <stdint.h>

struct db;

#define STOCK_STORE_TIME_MAX 40 /* an RFC 3339 UTC timestamp and its terminator */

/* ---- stock -------------------------------------------------------------------- */

/*
 * Inserts the stock of a new offering unless it exists (ON CONFLICT DO
 * NOTHING). event_id is the offering.published that created it. Returns 1
 * when inserted, 0 when a row was there already, or an error.
 */
int stock_store_insert(struct db *db, const struct stock *s, const char *event_id, struct err *err);

/* Reads the stock of offering_id into *out. Returns 1, 0 when there is none, or an error. */
int stock_store_find(struct db *db, const char *offering_id, struct stock *out, struct err *err);

/*
 * Like stock_store_find, with SELECT … FOR UPDATE: the row stays locked until
 * the caller's transaction ends, so concurrent deliveries (and other
 * inventory instances) that touch this offering wait and then read the levels
 * this transaction wrote. This lock is what makes "never oversell" hold.
 * Always take it before locking a reservation of the offering (one lock
 * order, no deadlock).
 */
int stock_store_lock(struct db *db, const char *offering_id, struct stock *out, struct err *err);

/*
 * Writes the levels of s (locked by stock_store_lock in this transaction) and
 * bumps the row's version; *seq_out gets the new version, the movement's
 * place in the offering's audit trail. Returns 0, ERR_NOT_FOUND when the row
 * is gone, ERR_UNPROCESSABLE when the stock_invariant CHECK refuses the
 * levels, or another error.
 */
int stock_store_update(struct db *db, const struct stock *s, int64_t *seq_out, struct err *err);

/* ---- movements (the audit trail) ---------------------------------------------- */

/*
 * Appends movement m of offering_id at position seq (from stock_store_update),
 * caused by event_id, with a new uuid7 id. Returns 0 or an error
 * (ERR_CONFLICT when this booking already has a movement of this kind).
 */
int stock_store_insert_movement(struct db *db, const char *offering_id, int64_t seq,
                                const struct stock_movement *m, const char *event_id,
                                struct err *err);

/* One stored movement, as stock_store_list_movements hands it over. */
struct stock_movement_record {
    char id[RESERVATION_ID_LEN];
    char event_id[RESERVATION_ID_LEN];
    char at[STOCK_STORE_TIME_MAX]; /* RFC 3339 UTC */
    int64_t seq;
    struct stock_movement movement;
};

/* Called once per movement, oldest first; return 0 to go on or a negative code with err set. */
typedef int (*stock_store_movement_fn)(void *ctx, const struct stock_movement_record *rec,
                                       struct err *err);

/*
 * Lists at most limit movements of offering_id with a seq above after_seq
 * (-1: from the first), oldest first (by seq): keyset pagination on
 * UNIQUE (offering_id, seq), so a page costs the same however deep it is.
 * Returns their number or an error.
 */
int stock_store_list_movements(struct db *db, const char *offering_id, int64_t after_seq,
                               int64_t limit, stock_store_movement_fn fn, void *ctx,
                               struct err *err);

/* ---- refusals ------------------------------------------------------------------- */

/*
 * Records that booking booking_id was refused (no stock moved) with reason
 * and the available units at the decision. Returns 0 or an error.
 */
int stock_store_insert_refusal(struct db *db, const struct stock_event *ev, const char *reason,
                               const char *event_id, struct err *err);

/*
 * 1 when booking_id has had its answer already — a reservation, a refusal —
 * or has expired, 0 when none of them, or an error. One statement for the
 * three look-ups booking.booking.created makes under the stock row's lock.
 */
int stock_store_booking_answered(struct db *db, const char *booking_id, struct err *err);

/* ---- expirations (booking.booking.expired) --------------------------------------- */

/*
 * Records that booking_id (of offering_id) expired, by event_id. Returns 1
 * when recorded now, 0 when it was recorded before, or an error.
 */
int expiration_store_insert(struct db *db, const char *booking_id, const char *offering_id,
                            const char *event_id, struct err *err);

/* 1 when booking_id expired, 0 when not, or an error. */
int expiration_store_exists(struct db *db, const char *booking_id, struct err *err);

/* ---- reservations ----------------------------------------------------------------- */

/*
 * Reads the reservation of booking_id into *out; with lock, FOR UPDATE (take
 * the stock row's lock first). Returns 1, 0 when there is none, or an error.
 */
int reservation_store_find(struct db *db, const char *booking_id, bool lock,
                           struct reservation *out, struct err *err);

/* Inserts new reservation r, reserved by event_id. Returns 0 or an error (ERR_CONFLICT: exists). */
int reservation_store_insert(struct db *db, const struct reservation *r, const char *event_id,
                             struct err *err);

/*
 * Writes the status r reached (sold or released) and the event that settled
 * it. Returns 0, ERR_NOT_FOUND when the row is gone, or an error.
 */
int reservation_store_update(struct db *db, const struct reservation *r, const char *event_id,
                             struct err *err);

#endif
