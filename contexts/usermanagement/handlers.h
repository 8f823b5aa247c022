/*
 * handlers.h - what usermanagement consumes: the subscription table that
 * service.c hands to the consumer. The handlers themselves are static in
 * handlers.c.
 */
#ifndef USERMANAGEMENT_HANDLERS_H
#define USERMANAGEMENT_HANDLERS_H

#include "common/consumer.h"

#include <stddef.h>

/* Rows of usermanagement_subscriptions; handlers.c checks it (see routes.h for why). */
#define USERMANAGEMENT_NSUBSCRIPTIONS 2

extern const struct subscription usermanagement_subscriptions[];
extern const size_t usermanagement_nsubscriptions;

#endif
