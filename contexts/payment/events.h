/*
 * events.h - where payment's domain events become integration events: the
 * one deliberate mapping (SPEC §1 "Domain events and integration events").
 */
#ifndef PAYMENT_EVENTS_H
#define PAYMENT_EVENTS_H

#include "payment/domain/payment.h"

#include "common/db.h"
#include "common/err.h"

#include <stddef.h>

/*
 * Maps each of the n domain events in evs that other contexts care about to
 * its contract struct, encodes it and adds it to payment's outbox inside the
 * caller's open transaction, with correlation_id and causation_id (the event
 * that caused it). Domain events nobody outside needs are dropped here.
 * Returns 0 or an error from the encoder or the outbox (nothing is then
 * worth committing: the caller rolls back).
 */
int payment_events_publish(struct db *db, const struct payment_domain_event *evs, size_t n,
                           const char *correlation_id, const char *causation_id, struct err *err);

#endif
