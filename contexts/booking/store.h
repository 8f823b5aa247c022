/*
 * store.h - every SQL statement of the booking context, and nothing else:
 * the offering price replica, the bookings and their history, all in the
 * schema "booking" (the connection's search_path, so names are unqualified).
 *
 * No function here opens or ends a transaction: callers (a route, or the
 * consumer around a handler) own it. Return values follow the store
 * convention of docs/architecture.md: writes 0, look-ups 1 found / 0 not,
 * lists a count; a negative err code from db.h with err filled.
 */
#ifndef BOOKING_STORE_H
#define BOOKING_STORE_H

#include "booking/domain/booking.h"
#include "common/err.h"
#include "common/envelope.h"

#include <stdint.h>

struct db;

/* ---- offering price replica (filled by servicecatalog.offering.published) ---- */

/* Records an offering's unit price once. Returns 1 when new, 0 when already known. */
int booking_store_put_offering(struct db *db, const char *offering_id, int64_t price_cents,
                               struct err *err);

/* Reads an offering's unit price. Returns 1 when known (*price_cents set), 0 when not. */
int booking_store_offering_price(struct db *db, const char *offering_id, int64_t *price_cents,
                                 struct err *err);

/* ---- bookings -------------------------------------------------------------------- */

/*
 * Inserts a new booking (as booking_create made it) with its deadline, now +
 * timeout_ms, and the correlation id of its saga. Returns 0, or an error
 * (ERR_CONFLICT on a duplicate id).
 */
int booking_store_insert(struct db *db, const struct booking *b, int timeout_ms,
                         const char *correlation_id, struct err *err);

/* A pending booking past its deadline, and the correlation id of its saga. */
struct booking_store_overdue {
    struct booking booking;
    char correlation_id[ENVELOPE_REF_MAX];
};

/*
 * Whether at least n bookings are pending: 1 yes, 0 no, or an error. Reads at
 * most n entries of the pending index, whatever the backlog.
 */
int booking_store_pending_at_least(struct db *db, int n, struct err *err);

/*
 * Reads up to max pending bookings whose deadline has passed, oldest
 * deadline first, into out, and locks them until the transaction ends
 * (FOR UPDATE SKIP LOCKED: rows another transaction holds are skipped, not
 * waited for). Returns the number read, or an error.
 */
int booking_store_lock_overdue(struct db *db, struct booking_store_overdue *out, int max,
                               struct err *err);

/*
 * Reads booking id into *out and locks its row until the transaction ends
 * (SELECT … FOR UPDATE), so two events for one booking are applied one after
 * the other. Returns 1 when found, 0 when not.
 */
int booking_store_lock(struct db *db, const char *id, struct booking *out, struct err *err);

/* Reads booking id into *out without locking. Returns 1 when found, 0 when not. */
int booking_store_get(struct db *db, const char *id, struct booking *out, struct err *err);

/* Writes the status and reason of b (after a transition). Returns 0, or ERR_INTERNAL when the row is gone. */
int booking_store_update_status(struct db *db, const struct booking *b, struct err *err);

/* ---- history: one row per domain event ------------------------------------------------ */

/*
 * Appends the history entry of domain event ev: the booking's status after
 * it, ev->cause as the event type shown, and event_id, the id of that
 * integration event. Returns 0, or ERR_CONFLICT when this event is already
 * in this booking's history.
 */
int booking_store_append_history(struct db *db, const struct booking_event *ev,
                                 const char *event_id, struct err *err);

/* One history entry as read back; valid during the callback only. */
struct booking_store_history_entry {
    const char *at;     /* RFC 3339 UTC */
    const char *status; /* the booking status after the entry */
    const char *event;  /* the event type that caused it */
};

/* Called per entry, oldest first; return 0 to go on or a negative code with err set to stop. */
typedef int (*booking_store_history_fn)(void *ctx, const struct booking_store_history_entry *entry,
                                        struct err *err);

/* Calls fn for each history entry of booking id, oldest first. Returns the number of entries. */
int booking_store_list_history(struct db *db, const char *id, booking_store_history_fn fn,
                               void *ctx, struct err *err);

#endif
