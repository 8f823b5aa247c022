/*
 * expiry.c - expires pending bookings past their deadline (see expiry.h).
 *
 * Why a tick and not a delayed message: the deadline is a row in the same
 * table as the status, so "still pending at the deadline" is decided under
 * the same row lock the event handlers take (booking_store_lock): a handler
 * confirming the booking and the tick expiring it take turns, and whichever
 * commits first wins; the second sees a final booking. SKIP LOCKED means the
 * tick never waits for a handler: a booking held right now is looked at
 * again on the next tick.
 */
#include "booking/expiry.h"

#include "booking/contract/booking_contract.h"
#include "booking/domain/booking.h"
#include "booking/events.h"
#include "booking/store.h"
#include "common/log.h"
#include "common/uuid7.h"

#include <stdlib.h>

/* Expires one locked booking: status, booking.booking.expired, history entry. */
static int expire_one(struct db *db, struct booking_store_overdue *o, struct err *err)
{
    struct booking_event ev;
    char event_id[UUID7_STR_LEN];
    int rc = booking_expire(&o->booking, BOOKING_BOOKING_EXPIRED_TYPE, &ev, err);
    if (!rc)
        rc = booking_store_update_status(db, &o->booking, err);
    if (!rc)
        rc = booking_events_publish(&(struct outbox_origin){db, o->correlation_id, NULL}, &ev,
                                    event_id, err);
    if (!rc)
        rc = booking_store_append_history(db, &ev, event_id, err);
    if (rc < 0)
        return rc;
    log_info("booking '%s' expired at its deadline: %s published", o->booking.id,
             BOOKING_BOOKING_EXPIRED_TYPE);
    return 0;
}

int expiry_tick(struct db *db, void *app, struct err *err)
{
    (void)app;
    struct booking_store_overdue *due = calloc(EXPIRY_BATCH, sizeof(*due));
    if (!due)
        return err_set(err, ERR_NOMEM, "cannot allocate the expiry batch");
    int n = booking_store_lock_overdue(db, due, EXPIRY_BATCH, err);
    int rc = n < 0 ? n : 0;
    for (int i = 0; rc == 0 && i < n; i++)
        rc = expire_one(db, &due[i], err);
    free(due);
    return rc;
}
