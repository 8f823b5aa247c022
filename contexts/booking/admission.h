/*
 * admission.h - a bound on the booking sagas in flight (BOOKING_IN_FLIGHT_MAX).
 *
 * HTTP accepts bookings several times faster than the saga completes them
 * (docs/benchmark.md): without a bound, a burst becomes a backlog in the
 * queues that outlives BOOKING_TIMEOUT_MS, and bookings expire that were
 * never looked at. With it, POST /bookings answers 503 with Retry-After
 * while BOOKING_IN_FLIGHT_MAX bookings are pending, so a client waits at its
 * end instead of in ours, and what was accepted completes in time (ADR 0009).
 */
#ifndef BOOKING_ADMISSION_H
#define BOOKING_ADMISSION_H

#include "common/err.h"

#include <stdbool.h>

struct db;

#define BOOKING_IN_FLIGHT_MAX_MAX 1000000 /* bound of BOOKING_IN_FLIGHT_MAX (0 turns it off) */
#define BOOKING_RETRY_AFTER_S     "1"     /* what a refused client is told to wait, in seconds */

/*
 * Counts the pending bookings, up to in_flight_max, and opens or closes
 * admission (in_flight_max 0: always open). Run by the service tick, every
 * BOOKING_TICK_MS, so a request only reads a flag. Returns 0 or an error.
 */
int admission_tick(struct db *db, int in_flight_max, struct err *err);

/* True while the last tick found BOOKING_IN_FLIGHT_MAX bookings pending. */
bool admission_closed(void);

#endif
