/*
 * events.h - the one place where notification's domain events become
 * integration events (SPEC §1 "Domain events and integration events").
 */
#ifndef NOTIFICATION_EVENTS_H
#define NOTIFICATION_EVENTS_H

#include "common/err.h"
#include "notification/domain/notification.h"

#include <stddef.h>

struct db;

/*
 * Maps each of the n domain events in evs that other contexts care about to
 * its integration event and adds it to the outbox, inside the caller's open
 * transaction, with correlation_id and causation_id (NULL = the correlation
 * id). Returns 0 or the first error (the caller rolls back).
 */
int notification_events_publish(struct db *db, const struct notification_domain_event *evs,
                                size_t n, const char *correlation_id, const char *causation_id,
                                struct err *err);

#endif
