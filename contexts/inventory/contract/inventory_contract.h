/*
 * inventory_contract.h - the integration events inventory PUBLISHES: its public
 * contract, and the only header of inventory another context may include.
 *
 * Each event has a type name, a major version, its data as a C struct and a
 * contract table (common/contract.h) whose rows say where each field lives in
 * the struct: the table encodes, validates, decodes and generates
 * docs/events.md; there is no code per event. Names follow the type:
 * inventory.stock.reserved → INVENTORY_STOCK_RESERVED, struct inventory_stock_reserved.
 * Adding a field: optional and backwards compatible, or a new major version.
 */
#ifndef INVENTORY_CONTRACT_H
#define INVENTORY_CONTRACT_H

#include "common/contract.h"
#include "common/uuid7.h"

#include <stdint.h>

/* inventory.stock.reserved (v1): units were set aside for a booking. */
#define INVENTORY_STOCK_RESERVED_TYPE    "inventory.stock.reserved"
#define INVENTORY_STOCK_RESERVED_VERSION 1
extern const struct contract_event INVENTORY_STOCK_RESERVED;

struct inventory_stock_reserved {
    char booking_id[UUID7_STR_LEN];
    char offering_id[UUID7_STR_LEN];
    int64_t quantity;
};

/* inventory.stock.reservation_failed (v1): units could not be set aside for a booking. */
#define INVENTORY_STOCK_RESERVATION_FAILED_TYPE    "inventory.stock.reservation_failed"
#define INVENTORY_STOCK_RESERVATION_FAILED_VERSION 1
extern const struct contract_event INVENTORY_STOCK_RESERVATION_FAILED;

struct inventory_stock_reservation_failed {
    char booking_id[UUID7_STR_LEN];
    char offering_id[UUID7_STR_LEN];
    int64_t quantity;
    char reason[CONTRACT_NAME_MAX + 1];
};

/* inventory.stock.debited (v1): reserved units were sold (payment succeeded). */
#define INVENTORY_STOCK_DEBITED_TYPE    "inventory.stock.debited"
#define INVENTORY_STOCK_DEBITED_VERSION 1
extern const struct contract_event INVENTORY_STOCK_DEBITED;

struct inventory_stock_debited {
    char booking_id[UUID7_STR_LEN];
    char offering_id[UUID7_STR_LEN];
    int64_t quantity;
};

/* inventory.stock.released (v1): reserved units went back to stock (compensation after a failed payment). */
#define INVENTORY_STOCK_RELEASED_TYPE    "inventory.stock.released"
#define INVENTORY_STOCK_RELEASED_VERSION 1
extern const struct contract_event INVENTORY_STOCK_RELEASED;

struct inventory_stock_released {
    char booking_id[UUID7_STR_LEN];
    char offering_id[UUID7_STR_LEN];
    int64_t quantity;
};

/* Every event inventory publishes, NULL-terminated (for the catalog). */
extern const struct contract_event *const inventory_contract_events[];

#endif
