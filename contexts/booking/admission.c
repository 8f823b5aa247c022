/*
 * admission.c - a bound on the booking sagas in flight (see admission.h).
 *
 * One writer (the service tick, on its own thread) and many readers (the
 * HTTP threads): a flag, atomic, and nothing else shared. Between two ticks
 * a few more bookings than the bound may be accepted; the bound is a brake,
 * not an invariant.
 */
#include "booking/admission.h"

#include "booking/store.h"
#include "common/log.h"

#include <stdatomic.h>

static atomic_bool admission_full;

int admission_tick(struct db *db, int in_flight_max, struct err *err)
{
    bool full = false;
    if (in_flight_max > 0) {
        int rc = booking_store_pending_at_least(db, in_flight_max, err);
        if (rc < 0)
            return rc;
        full = rc > 0;
    }
    bool was = atomic_exchange(&admission_full, full);
    if (full && !was)
        log_warn("%d bookings in flight (BOOKING_IN_FLIGHT_MAX): new bookings refused with 503 "
                 "until some complete",
                 in_flight_max);
    else if (!full && was)
        log_info("bookings in flight below BOOKING_IN_FLIGHT_MAX again: new bookings accepted");
    return 0;
}

bool admission_closed(void)
{
    return atomic_load(&admission_full);
}
