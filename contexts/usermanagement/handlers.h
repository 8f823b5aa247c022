/*
 * handlers.h - what usermanagement consumes: the subscription table that
 * service.c hands to the consumer. The handlers themselves are static in
 * handlers.c.
 */
#ifndef USERMANAGEMENT_HANDLERS_H
#define USERMANAGEMENT_HANDLERS_H

#include "common/consumer.h"

#include <stddef.h>

/*
 * A constant, so that service.c can put it in its static const descriptor. The
 * table is declared with it: a table with more rows does not compile, and
 * service_main refuses to start with the empty row a shorter one leaves.
 */
#define USERMANAGEMENT_NSUBSCRIPTIONS 2

extern const struct subscription usermanagement_subscriptions[USERMANAGEMENT_NSUBSCRIPTIONS];

#endif
