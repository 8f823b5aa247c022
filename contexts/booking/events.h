/*
 * events.h - where booking's domain events become integration events.
 *
 * The domain (domain/booking.h) raises in-process events that are free to
 * change; the contract (contract/booking_contract.h) is what other contexts
 * rely on. booking_events_publish is the one deliberate mapping between the
 * two: read it to see exactly what leaves this context.
 */
#ifndef BOOKING_EVENTS_H
#define BOOKING_EVENTS_H

#include "booking/domain/booking.h"
#include "common/err.h"
#include "common/uuid7.h"

struct db;

/*
 * Maps ev to its integration event, if it has one, and adds it to the outbox
 * in the caller's open transaction, with correlation_id and causation_id
 * (NULL: the correlation id, for a flow a request started). When id_out is
 * not NULL it gets the published event's id, or "" when ev is one that stays
 * inside the context. Returns 0, ERR_NOMEM, or an outbox/database error.
 */
int booking_events_publish(struct db *db, const struct booking_domain_event *ev,
                           const char *correlation_id, const char *causation_id,
                           char id_out[UUID7_STR_LEN], struct err *err);

#endif
