/*
 * payment.h - the payment aggregate: one payment per booking, from the
 * intent (booking.booking.created told us the amount) to its one decision
 * (inventory.stock.reserved told us to charge), and the join of those two
 * events, which arrive in either order. Pure C: no I/O, no JSON, no
 * database; ids and the limit come in as values.
 *
 * The charge is a pure function of the amount and the limit
 * (payment_decide), so the rule "declined when amount_cents > limit" is
 * tested without a database. Transitions raise domain events (struct
 * payment_event); events.c decides which become integration events.
 * The state machine is drawn in payment.c.
 */
#ifndef PAYMENT_DOMAIN_PAYMENT_H
#define PAYMENT_DOMAIN_PAYMENT_H

#include "common/err.h"
#include "common/uuid7.h"

#include <stdint.h>

#define PAYMENT_ID_LEN     UUID7_STR_LEN  /* canonical UUID text and the terminator */
#define PAYMENT_AMOUNT_MIN 1              /* a booking always costs something */
#define PAYMENT_AMOUNT_MAX 100000000000LL /* the contracts' bound on amount_cents */
#define PAYMENT_LIMIT_MIN  1              /* PAYMENT_LIMIT_CENTS bounds (an int setting) */
#define PAYMENT_LIMIT_MAX  2000000000LL

/* The payment's states; the text form ("intent", ...) is what the store keeps. */
enum payment_status {
    PAYMENT_INTENT,    /* the amount is known; nothing charged yet */
    PAYMENT_SUCCEEDED, /* charged (final) */
    PAYMENT_FAILED,    /* declined (final); reason says why */
    PAYMENT_VOIDED,    /* the booking expired before the charge: never charged (final) */
    PAYMENT_REFUNDED,  /* the booking expired after the charge: money given back (final) */
};

/* Why a charge was declined. PAYMENT_DECLINE_NONE unless the payment failed. */
enum payment_decline_reason {
    PAYMENT_DECLINE_NONE,
    PAYMENT_DECLINE_LIMIT_EXCEEDED, /* amount_cents > the configured limit */
};

/* The outcome of payment_decide. */
struct payment_decision {
    int approved;                       /* 1 approved, 0 declined */
    enum payment_decline_reason reason; /* PAYMENT_DECLINE_NONE when approved */
};

/* The aggregate. Change status only through the transitions below. */
struct payment {
    char id[PAYMENT_ID_LEN];
    char booking_id[PAYMENT_ID_LEN];
    int64_t amount_cents;
    enum payment_status status;
    enum payment_decline_reason reason;
};

/* What a transition raised: plain in-process facts, free to change. */
enum payment_event_kind {
    PAYMENT_EVENT_INTENT_RECORDED, /* payment_open */
    PAYMENT_EVENT_SUCCEEDED,       /* payment_charge, approved */
    PAYMENT_EVENT_FAILED,          /* payment_charge, declined */
    PAYMENT_EVENT_VOIDED,          /* payment_expire on an intent */
    PAYMENT_EVENT_REFUNDED,        /* payment_expire on a charge */
};

struct payment_event {
    enum payment_event_kind kind;
    char payment_id[PAYMENT_ID_LEN];
    char booking_id[PAYMENT_ID_LEN];
    int64_t amount_cents;
    enum payment_decline_reason reason; /* PAYMENT_EVENT_FAILED only */
};

/* ---- rules ----------------------------------------------------------------- */

/*
 * The charge decision, a pure function: amount_cents > limit_cents →
 * declined with PAYMENT_DECLINE_LIMIT_EXCEEDED, else approved (an amount
 * equal to the limit is approved). Fills *out. Returns 0, or ERR_INVALID when
 * amount_cents is outside [PAYMENT_AMOUNT_MIN, PAYMENT_AMOUNT_MAX] or
 * limit_cents outside [PAYMENT_LIMIT_MIN, PAYMENT_LIMIT_MAX].
 */
int payment_decide(int64_t amount_cents, int64_t limit_cents, struct payment_decision *out,
                   struct err *err);

/* 0 when amount_cents is within [PAYMENT_AMOUNT_MIN, PAYMENT_AMOUNT_MAX], else ERR_INVALID. */
int payment_amount_check(int64_t amount_cents, struct err *err);

/* ---- transitions ------------------------------------------------------------- */

/*
 * (none) → intent. Fills *p from the ids (canonical UUID text) and the amount
 * and raises PAYMENT_EVENT_INTENT_RECORDED into *ev. Returns 0, or
 * ERR_INVALID for an id that is not 36 characters or an amount out of bounds.
 */
int payment_open(struct payment *p, const char *id, const char *booking_id, int64_t amount_cents,
                 struct payment_event *ev, struct err *err);

/*
 * The same booking.booking.created seen again (a different event id for the
 * same booking): accepted as a no-op when it asks for the same amount as the
 * recorded payment p, whatever p's state; ERR_CONFLICT when the amount
 * differs, since a booking's amount never changes.
 */
int payment_check_intent(const struct payment *p, int64_t amount_cents, struct err *err);

/*
 * intent → succeeded | failed, once: decides with payment_decide against
 * limit_cents, moves p and raises PAYMENT_EVENT_SUCCEEDED or
 * PAYMENT_EVENT_FAILED (with the reason) into *ev. Returns 0; ERR_CONFLICT
 * when p is already succeeded or failed (p untouched); ERR_INVALID from
 * payment_decide.
 */
int payment_charge(struct payment *p, int64_t limit_cents, struct payment_event *ev,
                   struct err *err);

/*
 * The booking of p expired (booking.booking.expired): intent → voided
 * (PAYMENT_EVENT_VOIDED), succeeded → refunded (PAYMENT_EVENT_REFUNDED),
 * each raised into *ev. Returns 1 when p changed, 0 when there is nothing to
 * give back (failed, voided or refunded already; p and ev untouched). Cannot
 * fail; err is for symmetry with the other transitions.
 */
int payment_expire(struct payment *p, struct payment_event *ev, struct err *err);

/* ---- the join: two events, either order, one charge ------------------------- */

/*
 * What payment knows of one booking when booking.booking.created or
 * inventory.stock.reserved arrives (SPEC §1 step 4, §4 Ordering). They come
 * from different producers, so either may be first: the first is recorded,
 * the second completes the join and the charge happens then, once, without a
 * retry. The handlers fill this under the booking's lock, so it is the whole
 * truth while they decide.
 */
struct payment_join {
    char booking_id[PAYMENT_ID_LEN];
    int has_intent;             /* booking.booking.created handled: the payment exists */
    enum payment_status status; /* the payment's status, when has_intent */
    int has_reservation;        /* inventory.stock.reserved handled */
    int expired; /* booking.booking.expired handled: never charge (set by the caller) */
};

/* What to do with a booking's payment once the arriving half is recorded. */
enum payment_join_step {
    PAYMENT_JOIN_WAIT,   /* the other half is missing: keep this one, do nothing more */
    PAYMENT_JOIN_CHARGE, /* both halves, still an intent: charge now (payment_charge) */
    PAYMENT_JOIN_DONE,   /* both halves, decided already: nothing left to do */
};

/*
 * Fills *j for booking_id from what the store found under the lock: p, the
 * booking's payment (NULL when its intent has not arrived), and whether a
 * reservation is recorded. Cannot fail.
 */
void payment_join_of(struct payment_join *j, const char *booking_id, const struct payment *p,
                     int has_reservation);

/*
 * The step j calls for: DONE once expired; else WAIT unless both halves are
 * there, then CHARGE or DONE. Cannot fail.
 */
enum payment_join_step payment_join_next(const struct payment_join *j);

/*
 * inventory.stock.reserved arrived for j's booking: records the reservation
 * in j and puts the step it calls for into *next (WAIT or CHARGE; DONE when
 * expired: a late reservation is recorded, never charged). Returns 0;
 * ERR_CONFLICT when j already has a reservation or its payment is decided
 * and not expired (stock is reserved once per booking: a second reservation
 * is a bug upstream), with j untouched.
 */
int payment_join_reserve(struct payment_join *j, enum payment_join_step *next, struct err *err);

/* ---- names ------------------------------------------------------------------- */

/* "intent", "succeeded", "failed", "voided", "refunded". */
const char *payment_status_name(enum payment_status status);

/* Parses a status name into *out. Returns 0, or ERR_INVALID for anything else. */
int payment_status_parse(const char *name, enum payment_status *out, struct err *err);

/* "" for PAYMENT_DECLINE_NONE, "limit_exceeded". */
const char *payment_reason_name(enum payment_decline_reason reason);

/* Parses a reason name ("" = none) into *out. Returns 0, or ERR_INVALID. */
int payment_reason_parse(const char *name, enum payment_decline_reason *out, struct err *err);

#endif
