/*
 * notification_contract.c - the contract tables of the events
 * notification publishes (see notification_contract.h).
 */
#include "notification_contract.h"

static const struct contract_field sent[] = {
    CONTRACT_UUID(notification_notification_sent, notification_id, "the notification"),
    CONTRACT_UUID(notification_notification_sent, user_id, "the recipient"),
    CONTRACT_NAME(notification_notification_sent, kind, CONTRACT_NAME_MAX,
                  "'welcome', 'booking_confirmed', 'booking_rejected' or 'booking_cancelled'"),
    CONTRACT_UUID(notification_notification_sent, reference_id,
                  "what it is about: the user (welcome) or the booking"),
    CONTRACT_NAME(notification_notification_sent, channel, 32, "how it was sent: 'email'"),
};
CONTRACT_EVENT(NOTIFICATION_NOTIFICATION_SENT, "notification", "a notification was sent to a user",
               sent, notification_notification_sent);

const struct contract_event *const notification_contract_events[] = {
    &NOTIFICATION_NOTIFICATION_SENT,
    NULL,
};
