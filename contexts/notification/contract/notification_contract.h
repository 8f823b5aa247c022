/*
 * notification_contract.h - the integration events notification PUBLISHES: its public
 * contract, and the only header of notification another context may include.
 *
 * Each event has a type name, a major version, its data as a C struct and a
 * contract table (common/contract.h) whose rows say where each field lives in
 * the struct: the table encodes, validates, decodes and generates
 * docs/events.md; there is no code per event. Names follow the type:
 * notification.notification.sent → NOTIFICATION_NOTIFICATION_SENT, struct notification_notification_sent.
 * Adding a field: optional and backwards compatible, or a new major version.
 */
#ifndef NOTIFICATION_CONTRACT_H
#define NOTIFICATION_CONTRACT_H

#include "common/contract.h"
#include "common/uuid7.h"

#include <stdint.h>

/* notification.notification.sent (v1): a notification was sent to a user. */
#define NOTIFICATION_NOTIFICATION_SENT_TYPE    "notification.notification.sent"
#define NOTIFICATION_NOTIFICATION_SENT_VERSION 1
extern const struct contract_event NOTIFICATION_NOTIFICATION_SENT;

struct notification_notification_sent {
    char notification_id[UUID7_STR_LEN];
    char user_id[UUID7_STR_LEN];
    char kind[CONTRACT_NAME_MAX + 1];
    char reference_id[UUID7_STR_LEN];
    char channel[33];
};

/* Every event notification publishes, NULL-terminated (for the catalog). */
extern const struct contract_event *const notification_contract_events[];

#endif
