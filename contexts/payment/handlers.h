/*
 * handlers.h - what payment consumes: the subscription table service.c
 * hands to the consumer (bodies and the per-type notes in handlers.c).
 */
#ifndef PAYMENT_HANDLERS_H
#define PAYMENT_HANDLERS_H

#include "common/consumer.h"

#include <stddef.h>

/* Rows of payment_subscriptions; handlers.c checks the table has exactly this many. */
#define PAYMENT_NSUBSCRIPTIONS 3

extern const struct subscription payment_subscriptions[];
extern const size_t payment_nsubscriptions;

#endif
