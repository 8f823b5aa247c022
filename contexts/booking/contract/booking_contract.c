/*
 * booking_contract.c - the contract tables, encoders and decoders of the events
 * booking publishes (see booking_contract.h).
 */
#include "booking_contract.h"

#include <stdio.h>
#include <string.h>

static const struct contract_field booking_booking_created_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the new booking"},
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "who books"},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "what is booked"},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000, "units asked for"},
    {"amount_cents", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 100000000000, "quantity × unit price, in cents"},
};
const struct contract_event BOOKING_BOOKING_CREATED = {
    BOOKING_BOOKING_CREATED_TYPE, BOOKING_BOOKING_CREATED_VERSION, "booking",
    "a customer asked to book units of an offering",
    booking_booking_created_fields, CONTRACT_COUNT(booking_booking_created_fields)};

json_t *booking_booking_created_encode(const struct booking_booking_created *ev)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I}",
                     "booking_id", ev->booking_id,
                     "user_id", ev->user_id,
                     "offering_id", ev->offering_id,
                     "quantity", (json_int_t)ev->quantity,
                     "amount_cents", (json_int_t)ev->amount_cents);
}

int booking_booking_created_decode(const json_t *data, struct booking_booking_created *out, struct err *err)
{
    int rc = contract_validate(&BOOKING_BOOKING_CREATED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->booking_id, sizeof(out->booking_id), "%s", json_string_value(json_object_get(data, "booking_id")));
    snprintf(out->user_id, sizeof(out->user_id), "%s", json_string_value(json_object_get(data, "user_id")));
    snprintf(out->offering_id, sizeof(out->offering_id), "%s", json_string_value(json_object_get(data, "offering_id")));
    out->quantity = (int64_t)json_integer_value(json_object_get(data, "quantity"));
    out->amount_cents = (int64_t)json_integer_value(json_object_get(data, "amount_cents"));
    return 0;
}

static const struct contract_field booking_booking_confirmed_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking"},
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "who booked"},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "what was booked"},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000, "units sold"},
    {"amount_cents", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 100000000000, "amount paid, in cents"},
};
const struct contract_event BOOKING_BOOKING_CONFIRMED = {
    BOOKING_BOOKING_CONFIRMED_TYPE, BOOKING_BOOKING_CONFIRMED_VERSION, "booking",
    "stock was reserved, paid and debited: the booking holds",
    booking_booking_confirmed_fields, CONTRACT_COUNT(booking_booking_confirmed_fields)};

json_t *booking_booking_confirmed_encode(const struct booking_booking_confirmed *ev)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I}",
                     "booking_id", ev->booking_id,
                     "user_id", ev->user_id,
                     "offering_id", ev->offering_id,
                     "quantity", (json_int_t)ev->quantity,
                     "amount_cents", (json_int_t)ev->amount_cents);
}

int booking_booking_confirmed_decode(const json_t *data, struct booking_booking_confirmed *out, struct err *err)
{
    int rc = contract_validate(&BOOKING_BOOKING_CONFIRMED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->booking_id, sizeof(out->booking_id), "%s", json_string_value(json_object_get(data, "booking_id")));
    snprintf(out->user_id, sizeof(out->user_id), "%s", json_string_value(json_object_get(data, "user_id")));
    snprintf(out->offering_id, sizeof(out->offering_id), "%s", json_string_value(json_object_get(data, "offering_id")));
    out->quantity = (int64_t)json_integer_value(json_object_get(data, "quantity"));
    out->amount_cents = (int64_t)json_integer_value(json_object_get(data, "amount_cents"));
    return 0;
}

static const struct contract_field booking_booking_rejected_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking"},
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "who booked"},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "what was booked"},
    {"reason", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 64, "why, e.g. 'insufficient_stock'"},
};
const struct contract_event BOOKING_BOOKING_REJECTED = {
    BOOKING_BOOKING_REJECTED_TYPE, BOOKING_BOOKING_REJECTED_VERSION, "booking",
    "not enough stock: the booking failed before payment",
    booking_booking_rejected_fields, CONTRACT_COUNT(booking_booking_rejected_fields)};

json_t *booking_booking_rejected_encode(const struct booking_booking_rejected *ev)
{
    return json_pack("{s:s, s:s, s:s, s:s}",
                     "booking_id", ev->booking_id,
                     "user_id", ev->user_id,
                     "offering_id", ev->offering_id,
                     "reason", ev->reason);
}

int booking_booking_rejected_decode(const json_t *data, struct booking_booking_rejected *out, struct err *err)
{
    int rc = contract_validate(&BOOKING_BOOKING_REJECTED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->booking_id, sizeof(out->booking_id), "%s", json_string_value(json_object_get(data, "booking_id")));
    snprintf(out->user_id, sizeof(out->user_id), "%s", json_string_value(json_object_get(data, "user_id")));
    snprintf(out->offering_id, sizeof(out->offering_id), "%s", json_string_value(json_object_get(data, "offering_id")));
    snprintf(out->reason, sizeof(out->reason), "%s", json_string_value(json_object_get(data, "reason")));
    return 0;
}

static const struct contract_field booking_booking_cancelled_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking"},
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "who booked"},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "what was booked"},
    {"reason", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 64, "why, e.g. 'payment_declined'"},
};
const struct contract_event BOOKING_BOOKING_CANCELLED = {
    BOOKING_BOOKING_CANCELLED_TYPE, BOOKING_BOOKING_CANCELLED_VERSION, "booking",
    "payment failed: the booking was cancelled and its stock released",
    booking_booking_cancelled_fields, CONTRACT_COUNT(booking_booking_cancelled_fields)};

json_t *booking_booking_cancelled_encode(const struct booking_booking_cancelled *ev)
{
    return json_pack("{s:s, s:s, s:s, s:s}",
                     "booking_id", ev->booking_id,
                     "user_id", ev->user_id,
                     "offering_id", ev->offering_id,
                     "reason", ev->reason);
}

int booking_booking_cancelled_decode(const json_t *data, struct booking_booking_cancelled *out, struct err *err)
{
    int rc = contract_validate(&BOOKING_BOOKING_CANCELLED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->booking_id, sizeof(out->booking_id), "%s", json_string_value(json_object_get(data, "booking_id")));
    snprintf(out->user_id, sizeof(out->user_id), "%s", json_string_value(json_object_get(data, "user_id")));
    snprintf(out->offering_id, sizeof(out->offering_id), "%s", json_string_value(json_object_get(data, "offering_id")));
    snprintf(out->reason, sizeof(out->reason), "%s", json_string_value(json_object_get(data, "reason")));
    return 0;
}

static const struct contract_field booking_booking_expired_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking"},
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "who booked"},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "what was booked"},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000, "units to give back if reserved or sold"},
    {"amount_cents", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 100000000000, "amount to give back if charged, in cents"},
};
const struct contract_event BOOKING_BOOKING_EXPIRED = {
    BOOKING_BOOKING_EXPIRED_TYPE, BOOKING_BOOKING_EXPIRED_VERSION, "booking",
    "the booking was still pending at its deadline: stock and money it holds go back",
    booking_booking_expired_fields, CONTRACT_COUNT(booking_booking_expired_fields)};

json_t *booking_booking_expired_encode(const struct booking_booking_expired *ev)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I}",
                     "booking_id", ev->booking_id,
                     "user_id", ev->user_id,
                     "offering_id", ev->offering_id,
                     "quantity", (json_int_t)ev->quantity,
                     "amount_cents", (json_int_t)ev->amount_cents);
}

int booking_booking_expired_decode(const json_t *data, struct booking_booking_expired *out, struct err *err)
{
    int rc = contract_validate(&BOOKING_BOOKING_EXPIRED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->booking_id, sizeof(out->booking_id), "%s", json_string_value(json_object_get(data, "booking_id")));
    snprintf(out->user_id, sizeof(out->user_id), "%s", json_string_value(json_object_get(data, "user_id")));
    snprintf(out->offering_id, sizeof(out->offering_id), "%s", json_string_value(json_object_get(data, "offering_id")));
    out->quantity = (int64_t)json_integer_value(json_object_get(data, "quantity"));
    out->amount_cents = (int64_t)json_integer_value(json_object_get(data, "amount_cents"));
    return 0;
}

const struct contract_event *const booking_contract_events[] = {
    &BOOKING_BOOKING_CREATED,
    &BOOKING_BOOKING_CONFIRMED,
    &BOOKING_BOOKING_REJECTED,
    &BOOKING_BOOKING_CANCELLED,
    &BOOKING_BOOKING_EXPIRED,
    NULL,
};
