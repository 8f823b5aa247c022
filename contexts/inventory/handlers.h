/*
 * handlers.h - the events inventory consumes: its subscription table.
 *
 * The handlers themselves are static in handlers.c; the consumer reaches them
 * only through this table. The size is a macro as well, because service.c
 * puts the table into a constant initializer, where an extern const size_t
 * is not a constant expression in C.
 */
#ifndef INVENTORY_HANDLERS_H
#define INVENTORY_HANDLERS_H

#include "common/consumer.h"

#include <stddef.h>

/*
 * A constant, so that service.c can put it in its static const descriptor. The
 * table is declared with it: a table with more rows does not compile, and
 * service_main refuses to start with the empty row a shorter one leaves.
 */
#define INVENTORY_NSUBSCRIPTIONS 5

extern const struct subscription inventory_subscriptions[INVENTORY_NSUBSCRIPTIONS];

#endif
