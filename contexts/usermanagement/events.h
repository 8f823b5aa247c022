/*
 * events.h - the one place where usermanagement's domain events become
 * integration events (SPEC §1 "Domain events and integration events").
 */
#ifndef USERMANAGEMENT_EVENTS_H
#define USERMANAGEMENT_EVENTS_H

#include "common/err.h"
#include "common/outbox.h"
#include "common/uuid7.h"
#include "usermanagement/domain/user.h"

/*
 * Maps ev to its integration event, if other contexts care about it, and
 * adds it to the outbox from from (a handler's handler_origin, or a
 * request's). When id_out is not NULL it gets the event's id, or "" when ev
 * is dropped. Returns 0 or an outbox error (the caller rolls back).
 */
int usermanagement_events_publish(const struct outbox_origin *from, const struct user_event *ev,
                                  char id_out[UUID7_STR_LEN], struct err *err);

#endif
