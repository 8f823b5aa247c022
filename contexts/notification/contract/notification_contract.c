/*
 * notification_contract.c - the contract tables of the events
 * notification publishes (see notification_contract.h).
 */
#include "notification_contract.h"

#define ROW(m) CONTRACT_AT(struct notification_notification_sent, m)
static const struct contract_field notification_notification_sent_fields[] = {
    {"notification_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0,
     "the notification", ROW(notification_id)},
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the recipient",
     ROW(user_id)},
    {"kind", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 64,
     "'welcome', 'booking_confirmed', 'booking_rejected' or 'booking_cancelled'", ROW(kind)},
    {"reference_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0,
     "what it is about: the user (welcome) or the booking", ROW(reference_id)},
    {"channel", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 32,
     "how it was sent: 'email'", ROW(channel)},
};
#undef ROW
const struct contract_event NOTIFICATION_NOTIFICATION_SENT = {
    NOTIFICATION_NOTIFICATION_SENT_TYPE,
    NOTIFICATION_NOTIFICATION_SENT_VERSION,
    "notification",
    "a notification was sent to a user",
    notification_notification_sent_fields,
    CONTRACT_COUNT(notification_notification_sent_fields),
    sizeof(struct notification_notification_sent)};

const struct contract_event *const notification_contract_events[] = {
    &NOTIFICATION_NOTIFICATION_SENT,
    NULL,
};
