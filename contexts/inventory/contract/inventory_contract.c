/*
 * inventory_contract.c - the contract tables, encoders and decoders of the events
 * inventory publishes (see inventory_contract.h).
 */
#include "inventory_contract.h"

#include <stdio.h>
#include <string.h>

static const struct contract_field inventory_stock_reserved_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking"},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the offering"},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000, "units reserved"},
};
const struct contract_event INVENTORY_STOCK_RESERVED = {
    INVENTORY_STOCK_RESERVED_TYPE, INVENTORY_STOCK_RESERVED_VERSION, "inventory",
    "units were set aside for a booking",
    inventory_stock_reserved_fields, CONTRACT_COUNT(inventory_stock_reserved_fields)};

json_t *inventory_stock_reserved_encode(const struct inventory_stock_reserved *ev)
{
    return json_pack("{s:s, s:s, s:I}",
                     "booking_id", ev->booking_id,
                     "offering_id", ev->offering_id,
                     "quantity", (json_int_t)ev->quantity);
}

int inventory_stock_reserved_decode(const json_t *data, struct inventory_stock_reserved *out, struct err *err)
{
    int rc = contract_validate(&INVENTORY_STOCK_RESERVED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->booking_id, sizeof(out->booking_id), "%s", json_string_value(json_object_get(data, "booking_id")));
    snprintf(out->offering_id, sizeof(out->offering_id), "%s", json_string_value(json_object_get(data, "offering_id")));
    out->quantity = (int64_t)json_integer_value(json_object_get(data, "quantity"));
    return 0;
}

static const struct contract_field inventory_stock_reservation_failed_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking"},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the offering"},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000, "units asked for"},
    {"reason", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 64, "why, e.g. 'insufficient_stock'"},
};
const struct contract_event INVENTORY_STOCK_RESERVATION_FAILED = {
    INVENTORY_STOCK_RESERVATION_FAILED_TYPE, INVENTORY_STOCK_RESERVATION_FAILED_VERSION, "inventory",
    "units could not be set aside for a booking",
    inventory_stock_reservation_failed_fields, CONTRACT_COUNT(inventory_stock_reservation_failed_fields)};

json_t *inventory_stock_reservation_failed_encode(const struct inventory_stock_reservation_failed *ev)
{
    return json_pack("{s:s, s:s, s:I, s:s}",
                     "booking_id", ev->booking_id,
                     "offering_id", ev->offering_id,
                     "quantity", (json_int_t)ev->quantity,
                     "reason", ev->reason);
}

int inventory_stock_reservation_failed_decode(const json_t *data, struct inventory_stock_reservation_failed *out, struct err *err)
{
    int rc = contract_validate(&INVENTORY_STOCK_RESERVATION_FAILED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->booking_id, sizeof(out->booking_id), "%s", json_string_value(json_object_get(data, "booking_id")));
    snprintf(out->offering_id, sizeof(out->offering_id), "%s", json_string_value(json_object_get(data, "offering_id")));
    out->quantity = (int64_t)json_integer_value(json_object_get(data, "quantity"));
    snprintf(out->reason, sizeof(out->reason), "%s", json_string_value(json_object_get(data, "reason")));
    return 0;
}

static const struct contract_field inventory_stock_debited_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking"},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the offering"},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000, "units sold"},
};
const struct contract_event INVENTORY_STOCK_DEBITED = {
    INVENTORY_STOCK_DEBITED_TYPE, INVENTORY_STOCK_DEBITED_VERSION, "inventory",
    "reserved units were sold (payment succeeded)",
    inventory_stock_debited_fields, CONTRACT_COUNT(inventory_stock_debited_fields)};

json_t *inventory_stock_debited_encode(const struct inventory_stock_debited *ev)
{
    return json_pack("{s:s, s:s, s:I}",
                     "booking_id", ev->booking_id,
                     "offering_id", ev->offering_id,
                     "quantity", (json_int_t)ev->quantity);
}

int inventory_stock_debited_decode(const json_t *data, struct inventory_stock_debited *out, struct err *err)
{
    int rc = contract_validate(&INVENTORY_STOCK_DEBITED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->booking_id, sizeof(out->booking_id), "%s", json_string_value(json_object_get(data, "booking_id")));
    snprintf(out->offering_id, sizeof(out->offering_id), "%s", json_string_value(json_object_get(data, "offering_id")));
    out->quantity = (int64_t)json_integer_value(json_object_get(data, "quantity"));
    return 0;
}

static const struct contract_field inventory_stock_released_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking"},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the offering"},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000, "units released"},
};
const struct contract_event INVENTORY_STOCK_RELEASED = {
    INVENTORY_STOCK_RELEASED_TYPE, INVENTORY_STOCK_RELEASED_VERSION, "inventory",
    "reserved units went back to stock (compensation after a failed payment)",
    inventory_stock_released_fields, CONTRACT_COUNT(inventory_stock_released_fields)};

json_t *inventory_stock_released_encode(const struct inventory_stock_released *ev)
{
    return json_pack("{s:s, s:s, s:I}",
                     "booking_id", ev->booking_id,
                     "offering_id", ev->offering_id,
                     "quantity", (json_int_t)ev->quantity);
}

int inventory_stock_released_decode(const json_t *data, struct inventory_stock_released *out, struct err *err)
{
    int rc = contract_validate(&INVENTORY_STOCK_RELEASED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->booking_id, sizeof(out->booking_id), "%s", json_string_value(json_object_get(data, "booking_id")));
    snprintf(out->offering_id, sizeof(out->offering_id), "%s", json_string_value(json_object_get(data, "offering_id")));
    out->quantity = (int64_t)json_integer_value(json_object_get(data, "quantity"));
    return 0;
}

const struct contract_event *const inventory_contract_events[] = {
    &INVENTORY_STOCK_RESERVED,
    &INVENTORY_STOCK_RESERVATION_FAILED,
    &INVENTORY_STOCK_DEBITED,
    &INVENTORY_STOCK_RELEASED,
    NULL,
};
