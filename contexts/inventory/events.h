/*
 * events.h - where inventory's domain events become integration events.
 *
 * The domain (domain/stock.c) raises struct stock_event values: in-process,
 * free to change, with internal enums. Only inventory_events_publish() turns
 * the ones other contexts care about into the published contract
 * (contract/inventory_contract.h: versioned, strings instead of enums) and
 * adds them to the outbox. Nothing else in the context builds an event.
 */
#ifndef INVENTORY_EVENTS_H
#define INVENTORY_EVENTS_H

#include "common/err.h"
#include "inventory/domain/stock.h"

#include <stddef.h>

struct db;

/*
 * Maps each of the n domain events in evs to its integration event, if it
 * has one, and adds it to inventory's outbox inside the caller's open
 * transaction, with correlation_id and causation_id (the handled event's
 * id). Domain events without an integration event are dropped on purpose.
 * Returns 0 or the first error (the caller rolls back).
 */
int inventory_events_publish(struct db *db, const struct stock_event *evs, size_t n,
                             const char *correlation_id, const char *causation_id, struct err *err);

/*
 * The contract's reason string for a refusal ("insufficient_stock"), the one
 * place an internal enum becomes the string other contexts read.
 */
const char *inventory_events_refusal_reason(enum stock_refusal refusal);

#endif
