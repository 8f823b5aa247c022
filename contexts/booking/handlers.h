/*
 * handlers.h - the events booking consumes: the subscription table that
 * service.c hands to the consumer. The handlers themselves are static in
 * handlers.c.
 */
#ifndef BOOKING_HANDLERS_H
#define BOOKING_HANDLERS_H

#include "common/consumer.h"

#include <stddef.h>

/*
 * A constant, so that service.c can put it in its static const descriptor. The
 * table is declared with it: a table with more rows does not compile, and
 * service_main refuses to start with the empty row a shorter one leaves.
 */
#define BOOKING_NSUBSCRIPTIONS 7

extern const struct subscription booking_subscriptions[BOOKING_NSUBSCRIPTIONS];

#endif
