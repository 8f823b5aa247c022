/*
 * events.h - where inventory's domain events become integration events.
 *
 * The domain (domain/stock.c) raises struct stock_event values: in-process,
 * free to change, with internal enums. Only inventory_events_publish() (the shape every context's
 * events.c shares) turns
 * the ones other contexts care about into the published contract
 * (contract/inventory_contract.h: versioned, strings instead of enums) and
 * adds them to the outbox. Nothing else in the context builds an event.
 */
#ifndef INVENTORY_EVENTS_H
#define INVENTORY_EVENTS_H

#include "common/err.h"
#include "common/outbox.h"
#include "common/uuid7.h"
#include "inventory/domain/stock.h"

/*
 * Maps ev to its integration event, if it has one, and adds it to
 * inventory's outbox from from (a handler's handler_origin). When id_out is
 * not NULL it gets the event's id, or "" when ev is dropped on purpose.
 * Returns 0 or an error (the caller rolls back).
 */
int inventory_events_publish(const struct outbox_origin *from, const struct stock_event *ev,
                             char id_out[UUID7_STR_LEN], struct err *err);

/*
 * The contract's reason string for a refusal ("insufficient_stock"), the one
 * place an internal enum becomes the string other contexts read.
 */
const char *inventory_events_refusal_reason(enum stock_refusal refusal);

#endif
