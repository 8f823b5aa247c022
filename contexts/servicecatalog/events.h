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

#include "common/err.h"
#include "common/outbox.h"
#include "common/uuid7.h"
#include "servicecatalog/domain/offering.h"
#include "servicecatalog/domain/provider.h"

/*
 * Maps ev to its integration event and adds it to the outbox from from (a
 * request's, or a handler's handler_origin). When id_out is not NULL it gets
 * the event's id. Returns 0 or a negative code (nothing is half-published:
 * the caller rolls back). servicecatalog has two aggregates, so the shape
 * every context shares comes once per aggregate.
 */
int servicecatalog_events_publish_provider(const struct outbox_origin *from,
                                           const struct provider_event *ev,
                                           char id_out[UUID7_STR_LEN], struct err *err);

/* The same for an offering domain event. */
int servicecatalog_events_publish_offering(const struct outbox_origin *from,
                                           const struct offering_event *ev,
                                           char id_out[UUID7_STR_LEN], struct err *err);

#endif
