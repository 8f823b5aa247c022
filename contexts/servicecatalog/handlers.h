/*
 * handlers.h - what servicecatalog consumes, as one static const table; the
 * handlers are static in handlers.c (its top block lists them).
 */
#ifndef SERVICECATALOG_HANDLERS_H
#define SERVICECATALOG_HANDLERS_H

#include "common/consumer.h"

#include <stddef.h>

/*
 * A constant, so that service.c can put it in its static const descriptor. The
 * table is declared with it: a table with more rows does not compile, and
 * service_main refuses to start with the empty row a shorter one leaves.
 */
#define SERVICECATALOG_NSUBSCRIPTIONS 1

extern const struct subscription servicecatalog_subscriptions[SERVICECATALOG_NSUBSCRIPTIONS];

#endif
