/*
 * stock.h - the stock of one offering: capacity, available, reserved, sold.
 *
 * Pure C: no I/O, no JSON, no database. Each operation is a function that
 * checks, then changes a struct stock (and a struct reservation) in place,
 * and describes what happened as a stock movement (levels before and after)
 * and a domain event. The handlers persist the movement and hand the event
 * to events.c, which decides what becomes an integration event.
 *
 * The invariant, checked before and kept by every operation:
 *   capacity = available + reserved + sold, none of them negative.
 * An operation that fails changes nothing.
 */
#ifndef INVENTORY_DOMAIN_STOCK_H
#define INVENTORY_DOMAIN_STOCK_H

#include "common/err.h"
#include "inventory/domain/reservation.h"

#include <stdbool.h>
#include <stdint.h>

#define STOCK_CAPACITY_MAX 1000000 /* servicecatalog's bound on an offering's capacity */
#define STOCK_QUANTITY_MAX 1000    /* booking's bound on the units of one booking */

struct stock {
    char offering_id[RESERVATION_ID_LEN];
    int64_t capacity;  /* units that can ever be sold; never changes */
    int64_t available; /* free to reserve */
    int64_t reserved;  /* held by reservations waiting for their payment */
    int64_t sold;      /* paid for */
};

/* The three levels a movement records before and after itself. */
struct stock_levels {
    int64_t available;
    int64_t reserved;
    int64_t sold;
};

enum stock_movement_kind {
    STOCK_MOVEMENT_RESERVE, /* available → reserved */
    STOCK_MOVEMENT_RELEASE, /* reserved → available (the compensation) */
    STOCK_MOVEMENT_SALE,    /* reserved → sold */
    STOCK_MOVEMENT_RETURN,  /* sold → available (a sale reversed: its booking expired) */
};

/* One entry of the audit trail (SPEC §1): what moved for which booking, levels before and after. */
struct stock_movement {
    enum stock_movement_kind kind;
    char booking_id[RESERVATION_ID_LEN];
    int64_t quantity;
    struct stock_levels before;
    struct stock_levels after;
};

/* Domain events: in-process facts, free to change (events.c maps them to the contract). */
enum stock_event_kind {
    STOCK_EVENT_OPENED,              /* stock created for a newly published offering */
    STOCK_EVENT_RESERVED,            /* units set aside for a booking */
    STOCK_EVENT_RESERVATION_REFUSED, /* a booking asked for more than is available */
    STOCK_EVENT_SOLD,                /* a reservation became a sale */
    STOCK_EVENT_RELEASED,            /* a reservation went back to available */
};

/* Why a reservation was refused (events.c turns it into the contract's reason string). */
enum stock_refusal {
    STOCK_REFUSAL_NONE,
    STOCK_REFUSAL_INSUFFICIENT_STOCK, /* quantity > available */
};

struct stock_event {
    enum stock_event_kind kind;
    char offering_id[RESERVATION_ID_LEN];
    char booking_id[RESERVATION_ID_LEN]; /* "" for STOCK_EVENT_OPENED */
    int64_t quantity;                    /* units concerned; the capacity for OPENED */
    enum stock_refusal refusal;          /* STOCK_REFUSAL_NONE unless REFUSED */
    int64_t available;                   /* available after the operation (for logs) */
};

/* What one operation did: a movement (unless refused) and one domain event. */
struct stock_outcome {
    bool moved; /* false: stock unchanged, no movement (a refusal) */
    struct stock_movement movement;
    struct stock_event event;
};

/* ---- validation rules ------------------------------------------------------- */

/* True when capacity is within 1..STOCK_CAPACITY_MAX. */
bool stock_capacity_is_valid(int64_t capacity);

/* True when quantity is within 1..STOCK_QUANTITY_MAX. */
bool stock_quantity_is_valid(int64_t quantity);

/*
 * Checks the invariant: capacity within its bounds, each level within
 * 0..capacity, and capacity = available + reserved + sold. Returns 0 or
 * ERR_UNPROCESSABLE naming the broken rule.
 */
int stock_check(const struct stock *s, struct err *err);

/* The current levels of s. */
struct stock_levels stock_levels_of(const struct stock *s);

/* "insufficient_stock" (stored in refusals and logged); "none" or "unknown" otherwise. */
const char *stock_refusal_name(enum stock_refusal refusal);

/* "reserve", "release", "sale" or "return" (stored in the database, shown over HTTP); "unknown" otherwise. */
const char *stock_movement_kind_name(enum stock_movement_kind kind);

/* ---- operations ------------------------------------------------------------- */

/*
 * Opens the stock of a new offering: available = capacity, nothing reserved
 * or sold. Fills *s and *ev (STOCK_EVENT_OPENED). Returns 0; ERR_INVALID for
 * an empty or too long offering id; ERR_UNPROCESSABLE for a capacity out of
 * bounds (s and ev untouched then).
 */
int stock_open(struct stock *s, const char *offering_id, int64_t capacity, struct stock_event *ev,
               struct err *err);

/*
 * Reserves quantity units for booking_id.
 *   enough available: available -= quantity, reserved += quantity; *r is the
 *     new reservation ("reserved"); out->moved with a "reserve" movement and
 *     STOCK_EVENT_RESERVED. Returns 0.
 *   not enough: nothing changes, *r untouched; out->moved is false and the
 *     event is STOCK_EVENT_RESERVATION_REFUSED (insufficient stock). Returns 0:
 *     a refusal is a business outcome, not an error.
 * Errors (nothing changes): ERR_UNPROCESSABLE when s breaks the invariant or
 * quantity is out of bounds; ERR_INVALID for an empty or too long booking id.
 */
int stock_reserve(struct stock *s, const char *booking_id, int64_t quantity, struct reservation *r,
                  struct stock_outcome *out, struct err *err);

/*
 * Turns reservation r into a sale: reserved -= q, sold += q, r → "sold";
 * out gets a "sale" movement and STOCK_EVENT_SOLD. Returns 0, or (nothing
 * changes): ERR_CONFLICT when r is not "reserved"; ERR_INVALID when r belongs
 * to another offering; ERR_UNPROCESSABLE when s breaks the invariant or holds
 * fewer reserved units than r.
 */
int stock_sell(struct stock *s, struct reservation *r, struct stock_outcome *out, struct err *err);

/*
 * Releases reservation r (the compensation of a failed payment): reserved -=
 * q, available += q, r → "released"; out gets a "release" movement and
 * STOCK_EVENT_RELEASED. Returns 0 or the same refusals as stock_sell().
 */
int stock_release(struct stock *s, struct reservation *r, struct stock_outcome *out,
                  struct err *err);

/*
 * Reverses the sale of reservation r, whose booking expired before it could
 * be confirmed (payment refunds the money): sold -= q, available += q, r →
 * "released"; out gets a "return" movement and STOCK_EVENT_RELEASED.
 * Returns 0; ERR_CONFLICT when r is not sold; ERR_UNPROCESSABLE when s
 * breaks the invariant or holds fewer sold units than r.
 */
int stock_return(struct stock *s, struct reservation *r, struct stock_outcome *out,
                 struct err *err);

#endif
