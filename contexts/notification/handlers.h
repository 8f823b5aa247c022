/*
 * handlers.h - the events notification consumes: its subscription table
 * (see handlers.c for what each handler does and may publish).
 */
#ifndef NOTIFICATION_HANDLERS_H
#define NOTIFICATION_HANDLERS_H

#include "common/consumer.h"

#include <stddef.h>

/*
 * A constant, so that service.c can put it in its static const descriptor. The
 * table is declared with it: a table with more rows does not compile, and
 * service_main refuses to start with the empty row a shorter one leaves.
 */
#define NOTIFICATION_NSUBSCRIPTIONS 6

extern const struct subscription notification_subscriptions[NOTIFICATION_NSUBSCRIPTIONS];

#endif
