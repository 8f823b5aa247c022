/*
 * events.h - the one place where usermanagement's domain events become
 * integration events (SPEC §1 "Domain events and integration events").
 */
#ifndef USERMANAGEMENT_EVENTS_H
#define USERMANAGEMENT_EVENTS_H

#include "common/err.h"
#include "usermanagement/domain/user.h"

#include <stddef.h>

struct db;

/*
 * Maps each domain event in evs that other contexts care about to its
 * contract struct and adds it to the outbox in the caller's open transaction
 * (outbox_publish). correlation_id is the request's or the handled event's;
 * causation_id is the handled event's id, or NULL in a route (then the
 * correlation id is the cause). Domain events nobody outside cares about are
 * dropped. Returns 0 or the first outbox error.
 */
int usermanagement_events_publish(struct db *db, const struct user_events *evs,
                                  const char *correlation_id, const char *causation_id,
                                  struct err *err);

#endif
