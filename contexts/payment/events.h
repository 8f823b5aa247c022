/*
 * events.h - where payment's domain events become integration events: the
 * one deliberate mapping (SPEC §1 "Domain events and integration events").
 */
#ifndef PAYMENT_EVENTS_H
#define PAYMENT_EVENTS_H

#include "payment/domain/payment.h"

#include "common/err.h"
#include "common/outbox.h"
#include "common/uuid7.h"

/*
 * Maps ev to its integration event, if other contexts care about it, and
 * adds it to payment's outbox from from (a handler's handler_origin). When
 * id_out is not NULL it gets the event's id, or "" when ev is dropped here.
 * Returns 0 or an error (nothing is then worth committing: the caller rolls
 * back).
 */
int payment_events_publish(const struct outbox_origin *from, const struct payment_event *ev,
                           char id_out[UUID7_STR_LEN], struct err *err);

#endif
