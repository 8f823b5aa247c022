/*
 * handlers.h - the events notification consumes: its subscription table
 * (see handlers.c for what each handler does and may publish).
 */
#ifndef NOTIFICATION_HANDLERS_H
#define NOTIFICATION_HANDLERS_H

#include "common/consumer.h"

#include <stddef.h>

/*
 * The count is a constant so that service.c can put it in its static const
 * descriptor; the table is declared with it, so a table with more rows does
 * not compile; one with fewer would leave an empty row, so keep the two in
 * step (the list at the top of handlers.c names every row).
 */
#define NOTIFICATION_NSUBSCRIPTIONS 6

extern const struct subscription notification_subscriptions
    []; /* NOTIFICATION_NSUBSCRIPTIONS rows, checked where it is defined */
extern const size_t notification_nsubscriptions;

#endif
