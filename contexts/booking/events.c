/*
 * events.c - the mapping from booking's domain events to its integration
 * events (SPEC §1 "Domain events and integration events"), the only place
 * booking's contract structs are filled. Cross-context fields are strings
 * and numbers, never the domain's enum values: a status or a reason travels
 * by name.
 *
 *   BOOKING_EVENT_CREATED         → booking.booking.created
 *   BOOKING_EVENT_CONFIRMED       → booking.booking.confirmed
 *   BOOKING_EVENT_REJECTED        → booking.booking.rejected
 *   BOOKING_EVENT_CANCELLED       → booking.booking.cancelled
 *   BOOKING_EVENT_EXPIRED         → booking.booking.expired
 *   BOOKING_EVENT_STOCK_RELEASED  → (none: history only)
 *   BOOKING_EVENT_NOTIFIED        → (none: history only)
 *   BOOKING_EVENT_REFUNDED        → (none: history only)
 */
#include "booking/events.h"

#include "booking/contract/booking_contract.h"

#include <stdio.h>

/* The contract structs share their identifying fields; copy them once. */
#define COPY_IDS(dst, b)                                                                           \
    do {                                                                                           \
        snprintf((dst).booking_id, sizeof((dst).booking_id), "%s", (b)->id);                       \
        snprintf((dst).user_id, sizeof((dst).user_id), "%s", (b)->user_id);                        \
        snprintf((dst).offering_id, sizeof((dst).offering_id), "%s", (b)->offering_id);            \
    } while (0)

int booking_events_publish(const struct outbox_origin *from, const struct booking_event *ev,
                           char id_out[UUID7_STR_LEN], struct err *err)
{
    const struct booking *b = &ev->booking;

    if (id_out)
        id_out[0] = '\0';
    switch (ev->kind) {
    case BOOKING_EVENT_CREATED: {
        struct booking_booking_created out = {.quantity = b->quantity,
                                              .amount_cents = b->amount_cents};
        COPY_IDS(out, b);
        return outbox_publish(from, &BOOKING_BOOKING_CREATED, &out, sizeof(out), id_out, err);
    }
    case BOOKING_EVENT_CONFIRMED: {
        struct booking_booking_confirmed out = {.quantity = b->quantity,
                                                .amount_cents = b->amount_cents};
        COPY_IDS(out, b);
        return outbox_publish(from, &BOOKING_BOOKING_CONFIRMED, &out, sizeof(out), id_out, err);
    }
    case BOOKING_EVENT_REJECTED: {
        struct booking_booking_rejected out = {0};
        COPY_IDS(out, b);
        snprintf(out.reason, sizeof(out.reason), "%s", b->reason);
        return outbox_publish(from, &BOOKING_BOOKING_REJECTED, &out, sizeof(out), id_out, err);
    }
    case BOOKING_EVENT_CANCELLED: {
        struct booking_booking_cancelled out = {0};
        COPY_IDS(out, b);
        snprintf(out.reason, sizeof(out.reason), "%s", b->reason);
        return outbox_publish(from, &BOOKING_BOOKING_CANCELLED, &out, sizeof(out), id_out, err);
    }
    case BOOKING_EVENT_EXPIRED: {
        struct booking_booking_expired out = {.quantity = b->quantity,
                                              .amount_cents = b->amount_cents};
        COPY_IDS(out, b);
        return outbox_publish(from, &BOOKING_BOOKING_EXPIRED, &out, sizeof(out), id_out, err);
    }
    case BOOKING_EVENT_STOCK_RELEASED:
    case BOOKING_EVENT_NOTIFIED:
    case BOOKING_EVENT_REFUNDED:
        /*
         * Dropped on purpose: nobody outside cares that booking noticed a
         * release, a notification or a refund (their producers announced them already);
         * these domain events only become history entries.
         */
        return 0;
    }
    return err_set(err, ERR_INTERNAL, "unknown booking domain event kind %d", (int)ev->kind);
}
