/*
 * booking.h - the booking aggregate: its states, the transitions between
 * them, the validation rules of a new booking, and the domain events every
 * change raises. Pure C: no database, broker, HTTP or JSON here.
 *
 * The state machine and its "transition → function" list are at the top of
 * booking.c; booking status changes nowhere else. A domain event is an
 * in-process fact, free to change: events.c decides which of them become
 * integration events (the contract), and every one of them is also one
 * entry of the booking's history.
 */
#ifndef BOOKING_DOMAIN_BOOKING_H
#define BOOKING_DOMAIN_BOOKING_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOOKING_ID_LEN       36 /* canonical UUID text, without the terminator */
#define BOOKING_QUANTITY_MIN 1  /* units one booking may ask for */
#define BOOKING_QUANTITY_MAX 1000
#define BOOKING_PRICE_MAX    100000000      /* largest unit price an offering may have, in cents */
#define BOOKING_AMOUNT_MAX   100000000000LL /* QUANTITY_MAX × PRICE_MAX: the contract's bound */
#define BOOKING_REASON_MAX   64             /* longest reason of a rejection or cancellation */
#define BOOKING_CAUSE_MAX    128            /* longest event type named in the history */

/* Why a booking is cancelled when its payment fails (SPEC: booking.booking.cancelled). */
#define BOOKING_REASON_PAYMENT_DECLINED "payment_declined"

enum booking_status {
    BOOKING_PENDING,   /* created, waiting for stock and payment */
    BOOKING_CONFIRMED, /* final: stock sold */
    BOOKING_REJECTED,  /* final: stock could not be reserved */
    BOOKING_CANCELLED, /* final: payment failed, stock released */
    BOOKING_EXPIRED,   /* final: still pending at its deadline; stock and money go back */
};

struct booking {
    char id[BOOKING_ID_LEN + 1];
    char user_id[BOOKING_ID_LEN + 1];
    char offering_id[BOOKING_ID_LEN + 1];
    int64_t quantity;
    int64_t amount_cents; /* quantity × unit price, fixed at creation */
    enum booking_status status;
    char reason[BOOKING_REASON_MAX + 1]; /* "" unless rejected or cancelled */
};

enum booking_event_kind {
    BOOKING_EVENT_CREATED,        /* → pending */
    BOOKING_EVENT_CONFIRMED,      /* pending → confirmed */
    BOOKING_EVENT_REJECTED,       /* pending → rejected */
    BOOKING_EVENT_CANCELLED,      /* pending → cancelled */
    BOOKING_EVENT_EXPIRED,        /* pending → expired */
    BOOKING_EVENT_STOCK_RELEASED, /* fact for the history: the reserved units went back */
    BOOKING_EVENT_NOTIFIED,       /* fact for the history: the customer was told */
    BOOKING_EVENT_REFUNDED,       /* fact for the history: the charge was given back (expired) */
};

/*
 * One domain event: what happened, the aggregate as it left it, and the
 * event type the history shows for it (the integration event that caused a
 * transition or fact; for the creation, the event the creation publishes).
 */
struct booking_event {
    enum booking_event_kind kind;
    struct booking booking;
    char cause[BOOKING_CAUSE_MAX + 1];
};

/* ---- validation rules (pure; used by the HTTP layer before any I/O) -------- */

/* 0 when quantity is within [BOOKING_QUANTITY_MIN, BOOKING_QUANTITY_MAX], else ERR_UNPROCESSABLE. */
int booking_validate_quantity(int64_t quantity, struct err *err);

/*
 * amount = quantity × price_cents, checked: ERR_UNPROCESSABLE when the
 * quantity is out of bounds, the price is not in [1, BOOKING_PRICE_MAX], the
 * product would overflow int64 or exceeds BOOKING_AMOUNT_MAX. *amount_cents
 * is written only on success.
 */
int booking_amount(int64_t quantity, int64_t price_cents, int64_t *amount_cents, struct err *err);

/* ---- transitions: each returns 0 and fills *ev, or an error and leaves *b and *ev alone ---- */

/*
 * A new pending booking in *b with amount = quantity × price_cents. Ids must
 * be 36-character UUID texts; they are kept lowercase (the form PostgreSQL
 * prints), so every copy of an id compares equal as text. Raises
 * BOOKING_EVENT_CREATED with cause. ERR_INVALID for a malformed id or cause,
 * ERR_UNPROCESSABLE for a rule broken (see booking_amount).
 */
int booking_create(struct booking *b, const char *id, const char *user_id, const char *offering_id,
                   int64_t quantity, int64_t price_cents, const char *cause,
                   struct booking_event *ev, struct err *err);

/* pending → confirmed. ERR_CONFLICT from any other state. */
int booking_confirm(struct booking *b, const char *cause, struct booking_event *ev,
                    struct err *err);

/* pending → rejected with reason (1..BOOKING_REASON_MAX chars, else ERR_INVALID). ERR_CONFLICT from any other state. */
int booking_reject(struct booking *b, const char *reason, const char *cause,
                   struct booking_event *ev, struct err *err);

/* pending → cancelled with reason (as for booking_reject). ERR_CONFLICT from any other state. */
int booking_cancel(struct booking *b, const char *reason, const char *cause,
                   struct booking_event *ev, struct err *err);

/* pending → expired (its deadline passed). ERR_CONFLICT from any other state. */
int booking_expire(struct booking *b, const char *cause, struct booking_event *ev, struct err *err);

/*
 * True when an event of the saga that would move b (stock debited, payment
 * failed, reservation failed) comes too late to matter: b expired first. The
 * transitions still refuse it (ERR_CONFLICT); the handlers use this to
 * acknowledge it without effect instead of dead-lettering it.
 */
bool booking_is_late_for(const struct booking *b);

/*
 * Facts without a status change, allowed in every state (they may arrive
 * before or after the transition they follow): raise BOOKING_EVENT_STOCK_RELEASED,
 * BOOKING_EVENT_NOTIFIED or BOOKING_EVENT_REFUNDED with the current status.
 * ERR_INVALID for a bad cause.
 */
int booking_note_stock_released(const struct booking *b, const char *cause,
                                struct booking_event *ev, struct err *err);
int booking_note_notified(const struct booking *b, const char *cause, struct booking_event *ev,
                          struct err *err);
int booking_note_refunded(const struct booking *b, const char *cause, struct booking_event *ev,
                          struct err *err);

/* ---- names ------------------------------------------------------------------ */

/* "pending", "confirmed", "rejected", "cancelled", "expired" (the stored and published spelling). */
const char *booking_status_name(enum booking_status status);

/* Parses a status name. Returns 0, or ERR_INVALID for an unknown name. */
int booking_status_parse(const char *name, enum booking_status *out, struct err *err);

/* True for a final status (no transition leaves it). */
bool booking_status_is_final(enum booking_status status);

#endif
