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

#include "common/outbox.h"
#include "inventory/contract/inventory_contract.h"

#include <stdio.h>

#define INVENTORY_CONTEXT "inventory"

const char *inventory_events_refusal_reason(enum stock_refusal refusal)
{
    switch (refusal) {
    case STOCK_REFUSAL_INSUFFICIENT_STOCK: return "insufficient_stock";
    case STOCK_REFUSAL_NONE: break;
    }
    return "unknown";
}

/* Builds the contract data of ev, naming it in *type and *version. NULL: not published. */
static json_t *to_integration(const struct stock_event *ev, const char **type, int *version)
{
    switch (ev->kind) {
    case STOCK_EVENT_OPENED:
        /*
         * Dropped on purpose: that an offering now has stock is inventory's own
         * business. booking learns prices from servicecatalog, and nobody waits
         * for stock to exist (a booking arriving first is retried here).
         */
        return NULL;
    case STOCK_EVENT_RESERVED: {
        struct inventory_stock_reserved out = {.quantity = ev->quantity};
        snprintf(out.booking_id, sizeof(out.booking_id), "%s", ev->booking_id);
        snprintf(out.offering_id, sizeof(out.offering_id), "%s", ev->offering_id);
        *type = INVENTORY_STOCK_RESERVED_TYPE;
        *version = INVENTORY_STOCK_RESERVED_VERSION;
        return inventory_stock_reserved_encode(&out);
    }
    case STOCK_EVENT_RESERVATION_REFUSED: {
        struct inventory_stock_reservation_failed out = {.quantity = ev->quantity};
        snprintf(out.booking_id, sizeof(out.booking_id), "%s", ev->booking_id);
        snprintf(out.offering_id, sizeof(out.offering_id), "%s", ev->offering_id);
        snprintf(out.reason, sizeof(out.reason), "%s",
                 inventory_events_refusal_reason(ev->refusal));
        *type = INVENTORY_STOCK_RESERVATION_FAILED_TYPE;
        *version = INVENTORY_STOCK_RESERVATION_FAILED_VERSION;
        return inventory_stock_reservation_failed_encode(&out);
    }
    case STOCK_EVENT_SOLD: {
        struct inventory_stock_debited out = {.quantity = ev->quantity};
        snprintf(out.booking_id, sizeof(out.booking_id), "%s", ev->booking_id);
        snprintf(out.offering_id, sizeof(out.offering_id), "%s", ev->offering_id);
        *type = INVENTORY_STOCK_DEBITED_TYPE;
        *version = INVENTORY_STOCK_DEBITED_VERSION;
        return inventory_stock_debited_encode(&out);
    }
    case STOCK_EVENT_RELEASED: {
        struct inventory_stock_released out = {.quantity = ev->quantity};
        snprintf(out.booking_id, sizeof(out.booking_id), "%s", ev->booking_id);
        snprintf(out.offering_id, sizeof(out.offering_id), "%s", ev->offering_id);
        *type = INVENTORY_STOCK_RELEASED_TYPE;
        *version = INVENTORY_STOCK_RELEASED_VERSION;
        return inventory_stock_released_encode(&out);
    }
    }
    return NULL;
}

int inventory_events_publish(struct db *db, const struct stock_event *evs, size_t n,
                             const char *correlation_id, const char *causation_id, struct err *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *type = NULL;
        int version = 0;
        json_t *data = to_integration(&evs[i], &type, &version);
        if (!data) {
            if (type) /* an encoder failed: out of memory */
                return err_set(err, ERR_NOMEM, "cannot encode '%s'", type);
            continue;
        }
        int rc = outbox_publish(db, INVENTORY_CONTEXT, type, version, data, correlation_id,
                                causation_id, NULL, err);
        if (rc)
            return rc;
    }
    return 0;
}
