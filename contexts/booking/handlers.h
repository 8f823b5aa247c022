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
 * The count is a constant so that service.c can put the table into its
 * static const service_def (a count read from another file is not a
 * constant expression in C); a _Static_assert next to the table in
 * handlers.c keeps the two equal.
 */
#define BOOKING_NSUBSCRIPTIONS 7

extern const struct subscription booking_subscriptions[];

#endif
