/*
 * notification_contract.h - the integration events notification PUBLISHES: its public
 * contract, and the only header of notification another context may include.
 *
 * Each event has a type name, a major version, its data as a C struct, an
 * encoder and a decoder, and a contract table (common/contract.h) that
 * validates incoming data and generates docs/events.md. Names follow the type:
 * notification.notification.sent → NOTIFICATION_NOTIFICATION_SENT, struct notification_notification_sent.
 * Adding a field: optional and backwards compatible, or a new major version.
 */
#ifndef NOTIFICATION_CONTRACT_H
#define NOTIFICATION_CONTRACT_H

#include "common/contract.h"
#include "common/err.h"

#include <jansson.h>
#include <stdint.h>

/* notification.notification.sent (v1): a notification was sent to a user. */
#define NOTIFICATION_NOTIFICATION_SENT_TYPE "notification.notification.sent"
#define NOTIFICATION_NOTIFICATION_SENT_VERSION 1
extern const struct contract_event NOTIFICATION_NOTIFICATION_SENT;

struct notification_notification_sent {
    char notification_id[37];
    char user_id[37];
    char kind[65];
    char reference_id[37];
    char channel[33];
};

/* The event data as a new JSON object (NULL when out of memory). */
json_t *notification_notification_sent_encode(const struct notification_notification_sent *ev);

/* Reads data that passed the contract into *out. Returns 0 or ERR_INVALID. */
int notification_notification_sent_decode(const json_t *data, struct notification_notification_sent *out, struct err *err);

/* Every event notification publishes, NULL-terminated (for the catalog). */
extern const struct contract_event *const notification_contract_events[];

#endif
