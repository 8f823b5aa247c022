/*
 * payment.c - the payment aggregate's rules and its one state machine. The
 * status of a payment changes here and nowhere else; the store only saves
 * what these functions decided.
 *
 *                  payment_open
 *     (none) ─────────────────────▶ intent
 *                                     │
 *            payment_charge           │          payment_charge
 *            amount ≤ limit           │          amount > limit
 *          ┌──────────────────────────┴──────────────────────────┐
 *          ▼                                                     ▼
 *      succeeded                                        failed ("limit_exceeded")
 *          │
 *          │ payment_expire (booking.booking.expired)     intent ──payment_expire──▶ voided
 *          ▼
 *      refunded
 *
 *   Transitions → the function that performs them:
 *     (none) → intent        payment_open     booking.booking.created arrived
 *     intent → succeeded     payment_charge   the join is complete, approved
 *     intent → failed        payment_charge   the join is complete, declined
 *     intent → voided        payment_expire   the booking expired before the charge
 *     succeeded → refunded   payment_expire   the booking expired after the charge
 *     failed → failed        payment_expire   nothing was taken: nothing to give back
 *   Refused: payment_charge on succeeded or failed (ERR_CONFLICT): a booking
 *   is charged at most once. payment_check_intent refuses a second intent for
 *   the same booking with another amount (ERR_CONFLICT).
 *
 * The join decides when to charge: booking.booking.created (the intent) and
 * inventory.stock.reserved (the reservation) arrive in either order; the
 * second of them completes it (payment_join_next says CHARGE), whichever it
 * is. payment_join_reserve refuses a second reservation (ERR_CONFLICT).
 *
 *     neither ──created──▶ intent only ──reserved──▶ both: CHARGE
 *        └─────reserved──▶ reservation only ──created──▶ both: CHARGE
 *
 * An expired booking (booking.booking.expired recorded on the join) is never
 * charged, whichever half arrives after the expiry: payment_join_next says
 * DONE (an intent arriving then is voided at once), and payment_join_reserve
 * accepts a late reservation without a charge instead of refusing it.
 *
 * Invariants: reason is PAYMENT_DECLINE_NONE unless status is PAYMENT_FAILED;
 * a payment with both halves of its join is decided once the handler that
 * completed the join commits.
 */
#include "payment/domain/payment.h"

#include <stdio.h>
#include <string.h>

int payment_amount_check(int64_t amount_cents, struct err *err)
{
    if (amount_cents < PAYMENT_AMOUNT_MIN || amount_cents > PAYMENT_AMOUNT_MAX)
        return err_set(err, ERR_INVALID, "amount_cents %lld outside [%lld, %lld]",
                       (long long)amount_cents, (long long)PAYMENT_AMOUNT_MIN,
                       (long long)PAYMENT_AMOUNT_MAX);
    return 0;
}

int payment_decide(int64_t amount_cents, int64_t limit_cents, struct payment_decision *out,
                   struct err *err)
{
    int rc = payment_amount_check(amount_cents, err);
    if (rc)
        return rc;
    if (limit_cents < PAYMENT_LIMIT_MIN || limit_cents > PAYMENT_LIMIT_MAX)
        return err_set(err, ERR_INVALID, "payment limit %lld outside [%lld, %lld]",
                       (long long)limit_cents, (long long)PAYMENT_LIMIT_MIN,
                       (long long)PAYMENT_LIMIT_MAX);
    /* The limit itself is allowed: only an amount strictly above it is declined (SPEC §1 step 4). */
    if (amount_cents > limit_cents) {
        out->approved = 0;
        out->reason = PAYMENT_DECLINE_LIMIT_EXCEEDED;
    } else {
        out->approved = 1;
        out->reason = PAYMENT_DECLINE_NONE;
    }
    return 0;
}

/* Ids arrive validated by the contracts and uuid7_generate; this only guards the copy. */
static int id_check(const char *what, const char *id, struct err *err)
{
    if (!id || strlen(id) != PAYMENT_ID_LEN - 1)
        return err_set(err, ERR_INVALID, "%s '%.40s' is not a uuid", what, id ? id : "");
    return 0;
}

static void event_fill(struct payment_event *ev, enum payment_event_kind kind,
                       const struct payment *p)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    memcpy(ev->payment_id, p->id, sizeof(ev->payment_id));
    memcpy(ev->booking_id, p->booking_id, sizeof(ev->booking_id));
    ev->amount_cents = p->amount_cents;
    ev->reason = p->reason;
}

int payment_open(struct payment *p, const char *id, const char *booking_id, int64_t amount_cents,
                 struct payment_event *ev, struct err *err)
{
    int rc = id_check("payment id", id, err);
    if (rc == 0)
        rc = id_check("booking id", booking_id, err);
    if (rc == 0)
        rc = payment_amount_check(amount_cents, err);
    if (rc)
        return rc;
    memset(p, 0, sizeof(*p));
    memcpy(p->id, id, PAYMENT_ID_LEN);
    memcpy(p->booking_id, booking_id, PAYMENT_ID_LEN);
    p->amount_cents = amount_cents;
    p->status = PAYMENT_INTENT;
    p->reason = PAYMENT_DECLINE_NONE;
    event_fill(ev, PAYMENT_EVENT_INTENT_RECORDED, p);
    return 0;
}

int payment_check_intent(const struct payment *p, int64_t amount_cents, struct err *err)
{
    if (p->amount_cents != amount_cents)
        return err_set(
            err, ERR_CONFLICT,
            "payment intent for booking '%s' already recorded with amount_cents %lld, not %lld",
            p->booking_id, (long long)p->amount_cents, (long long)amount_cents);
    return 0;
}

int payment_charge(struct payment *p, int64_t limit_cents, struct payment_event *ev,
                   struct err *err)
{
    if (p->status != PAYMENT_INTENT)
        return err_set(err, ERR_CONFLICT, "payment for booking '%s' is already %s", p->booking_id,
                       payment_status_name(p->status));
    struct payment_decision d = {0};
    int rc = payment_decide(p->amount_cents, limit_cents, &d, err);
    if (rc)
        return rc;
    p->status = d.approved ? PAYMENT_SUCCEEDED : PAYMENT_FAILED;
    p->reason = d.reason;
    event_fill(ev, d.approved ? PAYMENT_EVENT_SUCCEEDED : PAYMENT_EVENT_FAILED, p);
    return 0;
}

void payment_join_of(struct payment_join *j, const char *booking_id, const struct payment *p,
                     int has_reservation)
{
    memset(j, 0, sizeof(*j));
    snprintf(j->booking_id, sizeof(j->booking_id), "%s", booking_id);
    j->has_intent = p != NULL;
    j->status = p ? p->status : PAYMENT_INTENT;
    j->has_reservation = has_reservation != 0;
}

enum payment_join_step payment_join_next(const struct payment_join *j)
{
    if (j->expired)
        return PAYMENT_JOIN_DONE;
    if (!j->has_intent || !j->has_reservation)
        return PAYMENT_JOIN_WAIT;
    return j->status == PAYMENT_INTENT ? PAYMENT_JOIN_CHARGE : PAYMENT_JOIN_DONE;
}

int payment_join_reserve(struct payment_join *j, enum payment_join_step *next, struct err *err)
{
    if (j->has_reservation)
        return err_set(err, ERR_CONFLICT, "stock for booking '%s' is already reserved",
                       j->booking_id);
    /* After the expiry the reservation is late, not a second one: recorded, never charged. */
    if (j->expired) {
        j->has_reservation = 1;
        *next = PAYMENT_JOIN_DONE;
        return 0;
    }
    /*
     * Every decision records its reservation, so a decided payment without one
     * was decided before the join was recorded (migration 0004): this
     * reservation is its second.
     */
    if (j->has_intent && j->status != PAYMENT_INTENT)
        return err_set(err, ERR_CONFLICT, "payment for booking '%s' is already %s", j->booking_id,
                       payment_status_name(j->status));
    j->has_reservation = 1;
    *next = payment_join_next(j);
    return 0;
}

int payment_expire(struct payment *p, struct payment_event *ev, struct err *err)
{
    (void)err;
    switch (p->status) {
    case PAYMENT_INTENT:
        p->status = PAYMENT_VOIDED;
        event_fill(ev, PAYMENT_EVENT_VOIDED, p);
        return 1;
    case PAYMENT_SUCCEEDED:
        p->status = PAYMENT_REFUNDED;
        event_fill(ev, PAYMENT_EVENT_REFUNDED, p);
        return 1;
    case PAYMENT_FAILED:
    case PAYMENT_VOIDED:
    case PAYMENT_REFUNDED: break;
    }
    return 0;
}

/* ---- names ------------------------------------------------------------------- */

static const char *const status_names[] = {
    [PAYMENT_INTENT] = "intent", [PAYMENT_SUCCEEDED] = "succeeded", [PAYMENT_FAILED] = "failed",
    [PAYMENT_VOIDED] = "voided", [PAYMENT_REFUNDED] = "refunded",
};

static const char *const reason_names[] = {
    [PAYMENT_DECLINE_NONE] = "",
    [PAYMENT_DECLINE_LIMIT_EXCEEDED] = "limit_exceeded",
};

#define NAMES_COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *payment_status_name(enum payment_status status)
{
    return (size_t)status < NAMES_COUNT(status_names) ? status_names[status] : "unknown";
}

int payment_status_parse(const char *name, enum payment_status *out, struct err *err)
{
    for (size_t i = 0; name && i < NAMES_COUNT(status_names); i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (enum payment_status)i;
            return 0;
        }
    }
    return err_set(err, ERR_INVALID, "unknown payment status '%.32s'", name ? name : "");
}

const char *payment_reason_name(enum payment_decline_reason reason)
{
    return (size_t)reason < NAMES_COUNT(reason_names) ? reason_names[reason] : "unknown";
}

int payment_reason_parse(const char *name, enum payment_decline_reason *out, struct err *err)
{
    for (size_t i = 0; name && i < NAMES_COUNT(reason_names); i++) {
        if (strcmp(name, reason_names[i]) == 0) {
            *out = (enum payment_decline_reason)i;
            return 0;
        }
    }
    return err_set(err, ERR_INVALID, "unknown decline reason '%.32s'", name ? name : "");
}
