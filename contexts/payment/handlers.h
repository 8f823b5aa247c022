/*
 * handlers.h - what payment consumes: the subscription table service.c
 * hands to the consumer (bodies and the per-type notes in handlers.c).
 */
#ifndef PAYMENT_HANDLERS_H
#define PAYMENT_HANDLERS_H

#include "common/consumer.h"

#include <stddef.h>

/*
 * A constant, so that service.c can put it in its static const descriptor. The
 * table is declared with it: a table with more rows does not compile, and
 * service_main refuses to start with the empty row a shorter one leaves.
 */
#define PAYMENT_NSUBSCRIPTIONS 3

extern const struct subscription payment_subscriptions[PAYMENT_NSUBSCRIPTIONS];

#endif
