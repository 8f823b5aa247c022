/*
 * store.h - every SQL statement of payment, on the tables payment.payments
 * (migrations/payment/0001_schema.sql) and payment.charge_joins
 * (0004_charge_join.sql). The store saves and loads what the domain decided;
 * it makes no decision itself.
 *
 * All functions run on the caller's connection and inside the caller's
 * transaction when one is open (a handler's always is).
 * Return values follow the store convention of docs/architecture.md: writes
 * 0, look-ups 1 found / 0 not, record-once 1 new / 0 known, lists a count;
 * a negative err code with err filled.
 */
#ifndef PAYMENT_STORE_H
#define PAYMENT_STORE_H

#include "payment/domain/payment.h"

#include "common/db.h"
#include "common/err.h"

#define PAYMENT_STORE_TIME_MAX 40 /* RFC 3339 UTC with microseconds */

/* A payment as GET /payments shows it: the aggregate plus its timestamps. */
struct payment_record {
    struct payment payment;
    char created_at[PAYMENT_STORE_TIME_MAX]; /* the intent arrived */
    char decided_at[PAYMENT_STORE_TIME_MAX]; /* "" while an intent */
};

/*
 * Inserts p (an intent, from payment_open) opened by event_id, unless the
 * booking already has a payment. Returns 1 when inserted, 0 when the booking
 * already had one (nothing written), or an error.
 */
int payment_store_insert_intent(struct db *db, const struct payment *p, const char *event_id,
                                struct err *err);

/*
 * Loads the payment of booking_id into *out and locks its row (FOR UPDATE)
 * until the transaction ends, so two deliveries cannot both decide it.
 * Returns 1 when found, 0 when the booking has no payment yet, or an error.
 */
int payment_store_lock(struct db *db, const char *booking_id, struct payment *out, struct err *err);

/*
 * Creates the join row of booking_id when absent and locks it (FOR UPDATE)
 * until the transaction ends. Every handler calls this before touching the
 * booking's payment, so the deliveries of one booking, in one instance or in
 * several, take turns, and each sees what the previous one committed. Copies
 * the id of the recorded inventory.stock.reserved into reservation_event_id
 * ("" when none). Returns 1 when a reservation is recorded, 0 when not, or
 * an error.
 */
int payment_store_lock_join(struct db *db, const char *booking_id,
                            char reservation_event_id[PAYMENT_ID_LEN], struct err *err);

/*
 * 1 when booking.booking.expired is recorded on the join row of booking_id
 * (read after payment_store_lock_join, so under its lock), 0 when not, or an
 * error.
 */
int payment_store_join_expired(struct db *db, const char *booking_id, struct err *err);

/*
 * Records on the locked join row of booking_id that event_id (a
 * booking.booking.expired) expired the booking. Returns 1 when recorded now,
 * 0 when an expiry was recorded before, or an error.
 */
int payment_store_record_expiry(struct db *db, const char *booking_id, const char *event_id,
                                struct err *err);

/*
 * Saves what payment_expire did to p (locked by payment_store_lock): voided
 * (decided now by event_id) or refunded (refunded now by event_id). Returns
 * 0, ERR_CONFLICT when the row was not in the state p left (intent or
 * succeeded), or an error.
 */
int payment_store_save_expiry(struct db *db, const struct payment *p, const char *event_id,
                              struct err *err);

/*
 * Records on the locked join row of booking_id that event_id (an
 * inventory.stock.reserved) reserved its stock. Returns 0, ERR_CONFLICT when
 * a reservation is recorded already (payment_join_reserve checks that
 * first, under the lock, so this does not happen), or an error.
 */
int payment_store_record_reservation(struct db *db, const char *booking_id, const char *event_id,
                                     struct err *err);

/*
 * Saves the decision payment_charge made on p (status, reason) with
 * decided_at = now and the deciding event_id (the inventory.stock.reserved,
 * whichever half of the join came last). Only an intent row is updated:
 * anything else is ERR_CONFLICT (the row must be locked by payment_store_lock
 * first, so this does not happen). Returns 0 or an error.
 */
int payment_store_save_decision(struct db *db, const struct payment *p, const char *event_id,
                                struct err *err);

/* Called once per record; return 0 to go on or a negative err code to stop. */
typedef int (*payment_store_visit_fn)(void *ctx, const struct payment_record *rec, struct err *err);

/*
 * Calls fn for each decided (succeeded or failed) payment of booking_id,
 * oldest first; intents are not payments yet and are left out. rec is
 * borrowed for the call. Returns the number visited or an error.
 */
int payment_store_list_decided(struct db *db, const char *booking_id, payment_store_visit_fn fn,
                               void *ctx, struct err *err);

#endif
