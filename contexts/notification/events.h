/*
 * events.h - the one place where notification's domain events become
 * integration events (SPEC §1 "Domain events and integration events").
 */
#ifndef NOTIFICATION_EVENTS_H
#define NOTIFICATION_EVENTS_H

#include "common/err.h"
#include "common/outbox.h"
#include "common/uuid7.h"
#include "notification/domain/notification.h"

/*
 * Maps ev to its integration event, if other contexts care about it, and
 * adds it to the outbox from from (a handler's handler_origin). When id_out
 * is not NULL it gets the event's id, or "" when ev stays inside. Returns 0
 * or an error (the caller rolls back).
 */
int notification_events_publish(const struct outbox_origin *from,
                                const struct notification_event *ev, char id_out[UUID7_STR_LEN],
                                struct err *err);

#endif
