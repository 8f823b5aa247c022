/*
 * events.h - the one place where servicecatalog's domain events become
 * integration events (SPEC §1 "Domain events and integration events").
 *
 * The domain raises plain structs (domain/provider.h, domain/offering.h),
 * free to change; what leaves the context is the versioned contract in
 * contract/servicecatalog_contract.h, with strings instead of enums. Routes
 * and handlers never encode an integration event themselves: they hand the
 * domain events to these functions, inside their open transaction.
 */
#ifndef SERVICECATALOG_EVENTS_H
#define SERVICECATALOG_EVENTS_H

#include "common/db.h"
#include "common/err.h"
#include "servicecatalog/domain/offering.h"
#include "servicecatalog/domain/provider.h"

#include <stddef.h>

/*
 * Maps each of the n provider domain events in evs to its integration event
 * and adds it to the outbox in db's open transaction. correlation_id is the
 * request's or the handled event's; causation_id may be NULL (then the
 * correlation id is the cause: an HTTP request). Returns 0 or a negative
 * code (nothing is half-published: the caller rolls back).
 */
int servicecatalog_events_publish_provider(struct db *db, const struct provider_event *evs,
                                           size_t n, const char *correlation_id,
                                           const char *causation_id, struct err *err);

/* The same for offering domain events. */
int servicecatalog_events_publish_offering(struct db *db, const struct offering_event *evs,
                                           size_t n, const char *correlation_id,
                                           const char *causation_id, struct err *err);

#endif
