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
#include "common/outbox.h"

#include <stdio.h>
#include <string.h>

/* The four contract structs share their identifying fields; copy them once. */
#define COPY_IDS(dst, b)                                                       \
    do {                                                                       \
        snprintf((dst).booking_id, sizeof((dst).booking_id), "%s", (b)->id);  \
        snprintf((dst).user_id, sizeof((dst).user_id), "%s", (b)->user_id);   \
        snprintf((dst).offering_id, sizeof((dst).offering_id), "%s", (b)->offering_id); \
    } while (0)

int booking_events_publish(struct db *db, const struct booking_domain_event *ev,
                           const char *correlation_id, const char *causation_id,
                           char id_out[UUID7_STR_LEN], struct err *err)
{
    const struct booking *b = &ev->booking;
    const struct contract_event *contract = NULL;
    json_t *data = NULL;

    if (id_out)
        id_out[0] = '\0';
    switch (ev->kind) {
    case BOOKING_EVENT_CREATED: {
        struct booking_booking_created out = {.quantity = b->quantity, .amount_cents = b->amount_cents};
        COPY_IDS(out, b);
        contract = &BOOKING_BOOKING_CREATED;
        data = booking_booking_created_encode(&out);
        break;
    }
    case BOOKING_EVENT_CONFIRMED: {
        struct booking_booking_confirmed out = {.quantity = b->quantity, .amount_cents = b->amount_cents};
        COPY_IDS(out, b);
        contract = &BOOKING_BOOKING_CONFIRMED;
        data = booking_booking_confirmed_encode(&out);
        break;
    }
    case BOOKING_EVENT_REJECTED: {
        struct booking_booking_rejected out;
        memset(&out, 0, sizeof(out));
        COPY_IDS(out, b);
        snprintf(out.reason, sizeof(out.reason), "%s", b->reason);
        contract = &BOOKING_BOOKING_REJECTED;
        data = booking_booking_rejected_encode(&out);
        break;
    }
    case BOOKING_EVENT_CANCELLED: {
        struct booking_booking_cancelled out;
        memset(&out, 0, sizeof(out));
        COPY_IDS(out, b);
        snprintf(out.reason, sizeof(out.reason), "%s", b->reason);
        contract = &BOOKING_BOOKING_CANCELLED;
        data = booking_booking_cancelled_encode(&out);
        break;
    }
    case BOOKING_EVENT_EXPIRED: {
        struct booking_booking_expired out = {.quantity = b->quantity, .amount_cents = b->amount_cents};
        COPY_IDS(out, b);
        contract = &BOOKING_BOOKING_EXPIRED;
        data = booking_booking_expired_encode(&out);
        break;
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
    if (!contract)
        return err_set(err, ERR_INTERNAL, "unknown booking domain event kind %d", (int)ev->kind);
    if (!data)
        return err_set(err, ERR_NOMEM, "cannot encode '%s'", contract->type);
    return outbox_publish(db, contract->publisher, contract->type, contract->version, data,
                          correlation_id, causation_id, id_out, err);
}
