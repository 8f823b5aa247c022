/*
 * handlers.h - what servicecatalog consumes, as one static const table; the
 * handlers are static in handlers.c (its top block lists them).
 */
#ifndef SERVICECATALOG_HANDLERS_H
#define SERVICECATALOG_HANDLERS_H

#include "common/consumer.h"

#include <stddef.h>

/* The table's length, in the declaration so the descriptor can use it as a constant. */
#define SERVICECATALOG_NSUBSCRIPTIONS 1

extern const struct subscription servicecatalog_subscriptions
    []; /* SERVICECATALOG_NSUBSCRIPTIONS rows, checked where it is defined */
extern const size_t servicecatalog_nsubscriptions;

#endif
