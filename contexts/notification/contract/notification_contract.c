/*
 * notification_contract.c - the contract tables, encoders and decoders of the events
 * notification publishes (see notification_contract.h).
 */
#include "notification_contract.h"

#include <stdio.h>
#include <string.h>

static const struct contract_field notification_notification_sent_fields[] = {
    {"notification_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the notification"},
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the recipient"},
    {"kind", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 64, "'welcome', 'booking_confirmed', 'booking_rejected' or 'booking_cancelled'"},
    {"reference_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "what it is about: the user (welcome) or the booking"},
    {"channel", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 32, "how it was sent: 'email'"},
};
const struct contract_event NOTIFICATION_NOTIFICATION_SENT = {
    NOTIFICATION_NOTIFICATION_SENT_TYPE, NOTIFICATION_NOTIFICATION_SENT_VERSION, "notification",
    "a notification was sent to a user",
    notification_notification_sent_fields, CONTRACT_COUNT(notification_notification_sent_fields)};

json_t *notification_notification_sent_encode(const struct notification_notification_sent *ev)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}",
                     "notification_id", ev->notification_id,
                     "user_id", ev->user_id,
                     "kind", ev->kind,
                     "reference_id", ev->reference_id,
                     "channel", ev->channel);
}

int notification_notification_sent_decode(const json_t *data, struct notification_notification_sent *out, struct err *err)
{
    int rc = contract_validate(&NOTIFICATION_NOTIFICATION_SENT, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->notification_id, sizeof(out->notification_id), "%s", json_string_value(json_object_get(data, "notification_id")));
    snprintf(out->user_id, sizeof(out->user_id), "%s", json_string_value(json_object_get(data, "user_id")));
    snprintf(out->kind, sizeof(out->kind), "%s", json_string_value(json_object_get(data, "kind")));
    snprintf(out->reference_id, sizeof(out->reference_id), "%s", json_string_value(json_object_get(data, "reference_id")));
    snprintf(out->channel, sizeof(out->channel), "%s", json_string_value(json_object_get(data, "channel")));
    return 0;
}

const struct contract_event *const notification_contract_events[] = {
    &NOTIFICATION_NOTIFICATION_SENT,
    NULL,
};
