/*
 * inventory_contract.c - the contract tables of the events
 * inventory publishes (see inventory_contract.h).
 */
#include "inventory_contract.h"

/* What every inventory event carries: the booking, the offering and how many units. */
#define ROWS(s, units)                                                                             \
    CONTRACT_UUID(s, booking_id, "the booking"), CONTRACT_UUID(s, offering_id, "the offering"),    \
        CONTRACT_INT(s, quantity, 1, 1000, units)

static const struct contract_field reserved[] = {ROWS(inventory_stock_reserved, "units reserved")};
CONTRACT_EVENT(INVENTORY_STOCK_RESERVED, "inventory", "units were set aside for a booking",
               reserved, inventory_stock_reserved);

static const struct contract_field reservation_failed[] = {
    ROWS(inventory_stock_reservation_failed, "units asked for"),
    CONTRACT_NAME(inventory_stock_reservation_failed, reason, CONTRACT_NAME_MAX,
                  "why, e.g. 'insufficient_stock'"),
};
CONTRACT_EVENT(INVENTORY_STOCK_RESERVATION_FAILED, "inventory",
               "units could not be set aside for a booking", reservation_failed,
               inventory_stock_reservation_failed);

static const struct contract_field debited[] = {ROWS(inventory_stock_debited, "units sold")};
CONTRACT_EVENT(INVENTORY_STOCK_DEBITED, "inventory", "reserved units were sold (payment succeeded)",
               debited, inventory_stock_debited);

static const struct contract_field released[] = {ROWS(inventory_stock_released, "units released")};
CONTRACT_EVENT(INVENTORY_STOCK_RELEASED, "inventory",
               "reserved units went back to stock (compensation after a failed payment)", released,
               inventory_stock_released);

const struct contract_event *const inventory_contract_events[] = {
    &INVENTORY_STOCK_RESERVED,
    &INVENTORY_STOCK_RESERVATION_FAILED,
    &INVENTORY_STOCK_DEBITED,
    &INVENTORY_STOCK_RELEASED,
    NULL,
};
