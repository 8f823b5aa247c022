/*
 * events.c - the one mapping from inventory's domain events to its
 * integration events (SPEC §1 "Domain events and integration events").
 *
 *   domain event (domain/stock.h)     integration event (contract)
 *   STOCK_EVENT_OPENED                (none: dropped, see below)
 *   STOCK_EVENT_RESERVED              inventory.stock.reserved
 *   STOCK_EVENT_RESERVATION_REFUSED   inventory.stock.reservation_failed {reason}
 *   STOCK_EVENT_SOLD                  inventory.stock.debited
 *   STOCK_EVENT_RELEASED              inventory.stock.released
 *
 * Fields crossing the boundary are strings and plain numbers: the refusal
 * enum becomes the reason text here, and nowhere else.
 */
#include "inventory/events.h"

#include "inventory/contract/inventory_contract.h"

#include <stdio.h>

const char *inventory_events_refusal_reason(enum stock_refusal refusal)
{
    switch (refusal) {
    case STOCK_REFUSAL_INSUFFICIENT_STOCK: return "insufficient_stock";
    case STOCK_REFUSAL_NONE: break;
    }
    return "unknown";
}

/* Every inventory event names the booking, the offering and a quantity. */
#define COPY_IDS(dst, ev)                                                                          \
    do {                                                                                           \
        snprintf((dst).booking_id, sizeof((dst).booking_id), "%s", (ev)->booking_id);              \
        snprintf((dst).offering_id, sizeof((dst).offering_id), "%s", (ev)->offering_id);           \
        (dst).quantity = (ev)->quantity;                                                           \
    } while (0)

int inventory_events_publish(const struct outbox_origin *from, const struct stock_event *ev,
                             char id_out[UUID7_STR_LEN], struct err *err)
{
    if (id_out)
        id_out[0] = '\0';
    switch (ev->kind) {
    case STOCK_EVENT_OPENED:
        /*
         * Dropped on purpose: that an offering now has stock is inventory's own
         * business. booking learns prices from servicecatalog, and nobody waits
         * for stock to exist (a booking arriving first is retried here).
         */
        return 0;
    case STOCK_EVENT_RESERVED: {
        struct inventory_stock_reserved out = {0};
        COPY_IDS(out, ev);
        return outbox_publish(from, &INVENTORY_STOCK_RESERVED, &out, sizeof(out), id_out, err);
    }
    case STOCK_EVENT_RESERVATION_REFUSED: {
        struct inventory_stock_reservation_failed out = {0};
        COPY_IDS(out, ev);
        snprintf(out.reason, sizeof(out.reason), "%s",
                 inventory_events_refusal_reason(ev->refusal));
        return outbox_publish(from, &INVENTORY_STOCK_RESERVATION_FAILED, &out, sizeof(out), id_out,
                              err);
    }
    case STOCK_EVENT_SOLD: {
        struct inventory_stock_debited out = {0};
        COPY_IDS(out, ev);
        return outbox_publish(from, &INVENTORY_STOCK_DEBITED, &out, sizeof(out), id_out, err);
    }
    case STOCK_EVENT_RELEASED: {
        struct inventory_stock_released out = {0};
        COPY_IDS(out, ev);
        return outbox_publish(from, &INVENTORY_STOCK_RELEASED, &out, sizeof(out), id_out, err);
    }
    }
    return err_set(err, ERR_INTERNAL, "unknown stock domain event kind %d", (int)ev->kind);
}
