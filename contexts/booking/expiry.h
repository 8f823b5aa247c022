/*
 * expiry.h - the booking deadline (SPEC §1: BOOKING_TIMEOUT_MS): the tick
 * service_main runs every BOOKING_TICK_MS, which expires pending bookings
 * past their deadline.
 */
#ifndef BOOKING_EXPIRY_H
#define BOOKING_EXPIRY_H

#include "common/err.h"

struct db;

/* Bookings one pass expires at most; the rest wait for the next tick. */
#define EXPIRY_BATCH 100

/*
 * One pass, inside the transaction the tick opened (service_tick_fn): locks
 * up to EXPIRY_BATCH overdue pending bookings (skipping those a handler
 * holds), moves each to expired through the state machine, and writes its
 * status, its history entry and booking.booking.expired (in the booking's own
 * correlation) in that same transaction. Returns 0 or an error (the pass is
 * rolled back and the next tick tries again).
 */
int expiry_tick(struct db *db, void *app, struct err *err);

#endif
