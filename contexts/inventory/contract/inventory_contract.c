/*
 * inventory_contract.c - the contract tables of the events
 * inventory publishes (see inventory_contract.h).
 */
#include "inventory_contract.h"

#define ROW(m) CONTRACT_AT(struct inventory_stock_reserved, m)
static const struct contract_field inventory_stock_reserved_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking",
     ROW(booking_id)},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the offering",
     ROW(offering_id)},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000,
     "units reserved", ROW(quantity)},
};
#undef ROW
const struct contract_event INVENTORY_STOCK_RESERVED = {
    INVENTORY_STOCK_RESERVED_TYPE,
    INVENTORY_STOCK_RESERVED_VERSION,
    "inventory",
    "units were set aside for a booking",
    inventory_stock_reserved_fields,
    CONTRACT_COUNT(inventory_stock_reserved_fields),
    sizeof(struct inventory_stock_reserved)};

#define ROW(m) CONTRACT_AT(struct inventory_stock_reservation_failed, m)
static const struct contract_field inventory_stock_reservation_failed_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking",
     ROW(booking_id)},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the offering",
     ROW(offering_id)},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000,
     "units asked for", ROW(quantity)},
    {"reason", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 64,
     "why, e.g. 'insufficient_stock'", ROW(reason)},
};
#undef ROW
const struct contract_event INVENTORY_STOCK_RESERVATION_FAILED = {
    INVENTORY_STOCK_RESERVATION_FAILED_TYPE,
    INVENTORY_STOCK_RESERVATION_FAILED_VERSION,
    "inventory",
    "units could not be set aside for a booking",
    inventory_stock_reservation_failed_fields,
    CONTRACT_COUNT(inventory_stock_reservation_failed_fields),
    sizeof(struct inventory_stock_reservation_failed)};

#define ROW(m) CONTRACT_AT(struct inventory_stock_debited, m)
static const struct contract_field inventory_stock_debited_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking",
     ROW(booking_id)},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the offering",
     ROW(offering_id)},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000, "units sold",
     ROW(quantity)},
};
#undef ROW
const struct contract_event INVENTORY_STOCK_DEBITED = {
    INVENTORY_STOCK_DEBITED_TYPE,
    INVENTORY_STOCK_DEBITED_VERSION,
    "inventory",
    "reserved units were sold (payment succeeded)",
    inventory_stock_debited_fields,
    CONTRACT_COUNT(inventory_stock_debited_fields),
    sizeof(struct inventory_stock_debited)};

#define ROW(m) CONTRACT_AT(struct inventory_stock_released, m)
static const struct contract_field inventory_stock_released_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking",
     ROW(booking_id)},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the offering",
     ROW(offering_id)},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000,
     "units released", ROW(quantity)},
};
#undef ROW
const struct contract_event INVENTORY_STOCK_RELEASED = {
    INVENTORY_STOCK_RELEASED_TYPE,
    INVENTORY_STOCK_RELEASED_VERSION,
    "inventory",
    "reserved units went back to stock (compensation after a failed payment)",
    inventory_stock_released_fields,
    CONTRACT_COUNT(inventory_stock_released_fields),
    sizeof(struct inventory_stock_released)};

const struct contract_event *const inventory_contract_events[] = {
    &INVENTORY_STOCK_RESERVED,
    &INVENTORY_STOCK_RESERVATION_FAILED,
    &INVENTORY_STOCK_DEBITED,
    &INVENTORY_STOCK_RELEASED,
    NULL,
};
