/*
 * inventory_contract.h - the integration events inventory PUBLISHES: its public
 * contract, and the only header of inventory another context may include.
 *
 * Each event has a type name, a major version, its data as a C struct, an
 * encoder and a decoder, and a contract table (common/contract.h) that
 * validates incoming data and generates docs/events.md. Names follow the type:
 * inventory.stock.reserved → INVENTORY_STOCK_RESERVED, struct inventory_stock_reserved.
 * Adding a field: optional and backwards compatible, or a new major version.
 */
#ifndef INVENTORY_CONTRACT_H
#define INVENTORY_CONTRACT_H

#include "common/contract.h"
#include "common/err.h"

#include <jansson.h>
#include <stdint.h>

/* inventory.stock.reserved (v1): units were set aside for a booking. */
#define INVENTORY_STOCK_RESERVED_TYPE "inventory.stock.reserved"
#define INVENTORY_STOCK_RESERVED_VERSION 1
extern const struct contract_event INVENTORY_STOCK_RESERVED;

struct inventory_stock_reserved {
    char booking_id[37];
    char offering_id[37];
    int64_t quantity;
};

/* The event data as a new JSON object (NULL when out of memory). */
json_t *inventory_stock_reserved_encode(const struct inventory_stock_reserved *ev);

/* Reads data that passed the contract into *out. Returns 0 or ERR_INVALID. */
int inventory_stock_reserved_decode(const json_t *data, struct inventory_stock_reserved *out, struct err *err);

/* inventory.stock.reservation_failed (v1): units could not be set aside for a booking. */
#define INVENTORY_STOCK_RESERVATION_FAILED_TYPE "inventory.stock.reservation_failed"
#define INVENTORY_STOCK_RESERVATION_FAILED_VERSION 1
extern const struct contract_event INVENTORY_STOCK_RESERVATION_FAILED;

struct inventory_stock_reservation_failed {
    char booking_id[37];
    char offering_id[37];
    int64_t quantity;
    char reason[65];
};

/* The event data as a new JSON object (NULL when out of memory). */
json_t *inventory_stock_reservation_failed_encode(const struct inventory_stock_reservation_failed *ev);

/* Reads data that passed the contract into *out. Returns 0 or ERR_INVALID. */
int inventory_stock_reservation_failed_decode(const json_t *data, struct inventory_stock_reservation_failed *out, struct err *err);

/* inventory.stock.debited (v1): reserved units were sold (payment succeeded). */
#define INVENTORY_STOCK_DEBITED_TYPE "inventory.stock.debited"
#define INVENTORY_STOCK_DEBITED_VERSION 1
extern const struct contract_event INVENTORY_STOCK_DEBITED;

struct inventory_stock_debited {
    char booking_id[37];
    char offering_id[37];
    int64_t quantity;
};

/* The event data as a new JSON object (NULL when out of memory). */
json_t *inventory_stock_debited_encode(const struct inventory_stock_debited *ev);

/* Reads data that passed the contract into *out. Returns 0 or ERR_INVALID. */
int inventory_stock_debited_decode(const json_t *data, struct inventory_stock_debited *out, struct err *err);

/* inventory.stock.released (v1): reserved units went back to stock (compensation after a failed payment). */
#define INVENTORY_STOCK_RELEASED_TYPE "inventory.stock.released"
#define INVENTORY_STOCK_RELEASED_VERSION 1
extern const struct contract_event INVENTORY_STOCK_RELEASED;

struct inventory_stock_released {
    char booking_id[37];
    char offering_id[37];
    int64_t quantity;
};

/* The event data as a new JSON object (NULL when out of memory). */
json_t *inventory_stock_released_encode(const struct inventory_stock_released *ev);

/* Reads data that passed the contract into *out. Returns 0 or ERR_INVALID. */
int inventory_stock_released_decode(const json_t *data, struct inventory_stock_released *out, struct err *err);

/* Every event inventory publishes, NULL-terminated (for the catalog). */
extern const struct contract_event *const inventory_contract_events[];

#endif
