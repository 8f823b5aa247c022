/*
 * payment_contract.c - the contract tables, encoders and decoders of the events
 * payment publishes (see payment_contract.h).
 */
#include "payment_contract.h"

#include <stdio.h>
#include <string.h>

static const struct contract_field payment_payment_succeeded_fields[] = {
    {"payment_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the payment"},
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking paid for"},
    {"amount_cents", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 100000000000, "amount charged, in cents"},
};
const struct contract_event PAYMENT_PAYMENT_SUCCEEDED = {
    PAYMENT_PAYMENT_SUCCEEDED_TYPE, PAYMENT_PAYMENT_SUCCEEDED_VERSION, "payment",
    "the amount of a booking was charged",
    payment_payment_succeeded_fields, CONTRACT_COUNT(payment_payment_succeeded_fields)};

json_t *payment_payment_succeeded_encode(const struct payment_payment_succeeded *ev)
{
    return json_pack("{s:s, s:s, s:I}",
                     "payment_id", ev->payment_id,
                     "booking_id", ev->booking_id,
                     "amount_cents", (json_int_t)ev->amount_cents);
}

int payment_payment_succeeded_decode(const json_t *data, struct payment_payment_succeeded *out, struct err *err)
{
    int rc = contract_validate(&PAYMENT_PAYMENT_SUCCEEDED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->payment_id, sizeof(out->payment_id), "%s", json_string_value(json_object_get(data, "payment_id")));
    snprintf(out->booking_id, sizeof(out->booking_id), "%s", json_string_value(json_object_get(data, "booking_id")));
    out->amount_cents = (int64_t)json_integer_value(json_object_get(data, "amount_cents"));
    return 0;
}

static const struct contract_field payment_payment_failed_fields[] = {
    {"payment_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the payment"},
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking"},
    {"amount_cents", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 100000000000, "amount asked, in cents"},
    {"reason", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 64, "why, e.g. 'limit_exceeded'"},
};
const struct contract_event PAYMENT_PAYMENT_FAILED = {
    PAYMENT_PAYMENT_FAILED_TYPE, PAYMENT_PAYMENT_FAILED_VERSION, "payment",
    "the charge for a booking was declined",
    payment_payment_failed_fields, CONTRACT_COUNT(payment_payment_failed_fields)};

json_t *payment_payment_failed_encode(const struct payment_payment_failed *ev)
{
    return json_pack("{s:s, s:s, s:I, s:s}",
                     "payment_id", ev->payment_id,
                     "booking_id", ev->booking_id,
                     "amount_cents", (json_int_t)ev->amount_cents,
                     "reason", ev->reason);
}

int payment_payment_failed_decode(const json_t *data, struct payment_payment_failed *out, struct err *err)
{
    int rc = contract_validate(&PAYMENT_PAYMENT_FAILED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->payment_id, sizeof(out->payment_id), "%s", json_string_value(json_object_get(data, "payment_id")));
    snprintf(out->booking_id, sizeof(out->booking_id), "%s", json_string_value(json_object_get(data, "booking_id")));
    out->amount_cents = (int64_t)json_integer_value(json_object_get(data, "amount_cents"));
    snprintf(out->reason, sizeof(out->reason), "%s", json_string_value(json_object_get(data, "reason")));
    return 0;
}

static const struct contract_field payment_payment_refunded_fields[] = {
    {"payment_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the payment"},
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the expired booking"},
    {"amount_cents", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 100000000000, "amount given back, in cents"},
};
const struct contract_event PAYMENT_PAYMENT_REFUNDED = {
    PAYMENT_PAYMENT_REFUNDED_TYPE, PAYMENT_PAYMENT_REFUNDED_VERSION, "payment",
    "a charge was given back because its booking expired unconfirmed",
    payment_payment_refunded_fields, CONTRACT_COUNT(payment_payment_refunded_fields)};

json_t *payment_payment_refunded_encode(const struct payment_payment_refunded *ev)
{
    return json_pack("{s:s, s:s, s:I}",
                     "payment_id", ev->payment_id,
                     "booking_id", ev->booking_id,
                     "amount_cents", (json_int_t)ev->amount_cents);
}

int payment_payment_refunded_decode(const json_t *data, struct payment_payment_refunded *out, struct err *err)
{
    int rc = contract_validate(&PAYMENT_PAYMENT_REFUNDED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->payment_id, sizeof(out->payment_id), "%s", json_string_value(json_object_get(data, "payment_id")));
    snprintf(out->booking_id, sizeof(out->booking_id), "%s", json_string_value(json_object_get(data, "booking_id")));
    out->amount_cents = (int64_t)json_integer_value(json_object_get(data, "amount_cents"));
    return 0;
}

const struct contract_event *const payment_contract_events[] = {
    &PAYMENT_PAYMENT_SUCCEEDED,
    &PAYMENT_PAYMENT_FAILED,
    &PAYMENT_PAYMENT_REFUNDED,
    NULL,
};
