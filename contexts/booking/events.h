/*
 * events.h - where booking's domain events become integration events.
 *
 * The domain (domain/booking.h) raises in-process events that are free to
 * change; the contract (contract/booking_contract.h) is what other contexts
 * rely on. booking_events_publish is the one deliberate mapping between the
 * two: read it to see exactly what leaves this context. Every context has
 * this function, with this shape: <context>_events_publish(from, event,
 * id_out, err), one domain event at a time.
 */
#ifndef BOOKING_EVENTS_H
#define BOOKING_EVENTS_H

#include "booking/domain/booking.h"
#include "common/err.h"
#include "common/outbox.h"
#include "common/uuid7.h"

/*
 * Maps ev to its integration event, if it has one, and adds it to the outbox
 * from from (a handler's handler_origin, or a request's). When id_out is not
 * NULL it gets the published event's id, or "" when ev stays inside the
 * context. Returns 0, ERR_INVALID (the mapping broke the contract), or an
 * outbox error.
 */
int booking_events_publish(const struct outbox_origin *from, const struct booking_event *ev,
                           char id_out[UUID7_STR_LEN], struct err *err);

#endif
