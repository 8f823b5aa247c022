/*
 * events.c - domain events → integration events, in one place (see events.h).
 *
 *   NOTIFICATION_EVENT_SENT  →  notification.notification.sent (v1)
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

#include "notification/contract/notification_contract.h"

#include <stdio.h>

int notification_events_publish(const struct outbox_origin *from,
                                const struct notification_event *ev, char id_out[UUID7_STR_LEN],
                                struct err *err)
{
    if (id_out)
        id_out[0] = '\0';
    switch (ev->kind) {
    case NOTIFICATION_EVENT_SENT: {
        struct notification_notification_sent out = {0};
        snprintf(out.notification_id, sizeof(out.notification_id), "%s", ev->notification_id);
        snprintf(out.user_id, sizeof(out.user_id), "%s", ev->user_id);
        snprintf(out.kind, sizeof(out.kind), "%s", notification_kind_name(ev->notification_kind));
        snprintf(out.reference_id, sizeof(out.reference_id), "%s", ev->reference_id);
        snprintf(out.channel, sizeof(out.channel), "%s", notification_channel_name(ev->channel));
        return outbox_publish(from, &NOTIFICATION_NOTIFICATION_SENT, &out, sizeof(out), id_out,
                              err);
    }
    }
    return err_set(err, ERR_INTERNAL, "unknown notification domain event kind %d", (int)ev->kind);
}
