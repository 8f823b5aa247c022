/*
 * events.c - domain events → integration events, in one place (see events.h).
 *
 *   NOTIFICATION_DOMAIN_SENT  →  notification.notification.sent (v1)
 *
 * Every domain event this context raises so far matters outside, so none is
 * dropped; one that only matters inside would be ignored in the switch below,
 * with a comment saying so.
 *
 * The domain speaks in enums (enum notification_kind, enum
 * notification_channel); the contract speaks in strings ("booking_confirmed",
 * "email"), so a consumer never depends on this context's enum numbering. The
 * subject, body and address stay here: they are the user's, not the bus's.
 */
#include "notification/events.h"

#include "common/outbox.h"
#include "notification/contract/notification_contract.h"

#include <stdio.h>

static int publish_sent(struct db *db, const struct notification_domain_event *ev,
                        const char *correlation_id, const char *causation_id, struct err *err)
{
    struct notification_notification_sent sent;
    snprintf(sent.notification_id, sizeof(sent.notification_id), "%s", ev->notification_id);
    snprintf(sent.user_id, sizeof(sent.user_id), "%s", ev->user_id);
    snprintf(sent.kind, sizeof(sent.kind), "%s", notification_kind_name(ev->notification_kind));
    snprintf(sent.reference_id, sizeof(sent.reference_id), "%s", ev->reference_id);
    snprintf(sent.channel, sizeof(sent.channel), "%s", notification_channel_name(ev->channel));
    json_t *data = notification_notification_sent_encode(&sent);
    if (!data)
        return err_set(err, ERR_NOMEM, "cannot encode '%s'", NOTIFICATION_NOTIFICATION_SENT_TYPE);
    return outbox_publish(db, "notification", NOTIFICATION_NOTIFICATION_SENT_TYPE,
                          NOTIFICATION_NOTIFICATION_SENT_VERSION, data, correlation_id,
                          causation_id, NULL, err);
}

int notification_events_publish(struct db *db, const struct notification_domain_event *evs,
                                size_t n, const char *correlation_id, const char *causation_id,
                                struct err *err)
{
    for (size_t i = 0; i < n; i++) {
        int rc = 0;
        switch (evs[i].kind) {
        case NOTIFICATION_DOMAIN_SENT:
            rc = publish_sent(db, &evs[i], correlation_id, causation_id, err);
            break;
        }
        if (rc)
            return rc;
    }
    return 0;
}
