/*
 * reservation.h - a booking's hold on units of one offering, and the state
 * machine it goes through (diagram in reservation.c).
 *
 * Pure C: no I/O. A reservation is created only by stock_reserve() and moves
 * on only through stock_sell() / stock_release() (domain/stock.h), which call
 * the transitions below, so its status and the stock levels change together.
 * Invariant: a reservation leaves "reserved" exactly once, to "sold" or to
 * "released"; both are final.
 */
#ifndef INVENTORY_DOMAIN_RESERVATION_H
#define INVENTORY_DOMAIN_RESERVATION_H

#include "common/err.h"
#include "common/uuid7.h"

#include <stdint.h>

#define RESERVATION_ID_LEN UUID7_STR_LEN /* a UUID in text form and its terminator */

enum reservation_status {
    RESERVATION_RESERVED, /* units set aside, waiting for the payment's outcome */
    RESERVATION_SOLD,     /* payment succeeded: the units are sold (final) */
    RESERVATION_RELEASED, /* payment failed: the units went back to stock (final) */
};

struct reservation {
    char booking_id[RESERVATION_ID_LEN]; /* the key: one reservation per booking */
    char offering_id[RESERVATION_ID_LEN];
    int64_t quantity;
    enum reservation_status status;
};

/* "reserved", "sold" or "released" (the value stored in the database); "unknown" otherwise. */
const char *reservation_status_name(enum reservation_status status);

/* Parses a status name into *out. Returns 0, or ERR_INVALID for any other text. */
int reservation_status_parse(const char *text, enum reservation_status *out, struct err *err);

/*
 * (none) → reserved: fills *r as a new reservation of quantity units of
 * offering_id for booking_id. Returns 0, or ERR_INVALID when an id is empty or
 * too long (r is then untouched). Called by stock_reserve().
 */
int reservation_open(struct reservation *r, const char *booking_id, const char *offering_id,
                     int64_t quantity, struct err *err);

/*
 * reserved → sold. Returns 0, or ERR_CONFLICT when r is not "reserved" (r is
 * then untouched). Called by stock_sell().
 */
int reservation_sell(struct reservation *r, struct err *err);

/*
 * reserved → released. Returns 0, or ERR_CONFLICT when r is not "reserved"
 * (r is then untouched). Called by stock_release().
 */
int reservation_release(struct reservation *r, struct err *err);

/* sold → released (a sale reversed because its booking expired). ERR_CONFLICT from any other state. */
int reservation_return(struct reservation *r, struct err *err);

#endif
