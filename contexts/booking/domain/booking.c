/*
 * booking.c - the booking state machine: the one place a booking's status
 * changes. Pure C (standard headers and common/err.h only), so every rule
 * here is unit-tested without a database or a broker.
 *
 *                          POST /bookings
 *                          booking_create
 *                                |
 *                                v
 *                          +-----------+   BOOKING_TIMEOUT_MS passed   +-----------+
 *          +---------------|  pending  |------------------------------>|  expired  |
 *          |               +-----------+   booking_expire (the tick)   +-----------+
 *          |                     |                      |
 *  inventory.stock.debited  inventory.stock.      payment.payment.failed
 *          |                reservation_failed          |
 *          v                     v                      v
 *   +-------------+       +------------+        +-------------+
 *   |  confirmed  |       |  rejected  |        |  cancelled  |
 *   +-------------+       +------------+        +-------------+
 *
 * Transition → function (each happens at most once per booking):
 *   (new)   → pending     booking_create()   POST /bookings
 *   pending → confirmed   booking_confirm()  inventory.stock.debited
 *   pending → rejected    booking_reject()   inventory.stock.reservation_failed
 *   pending → cancelled   booking_cancel()   payment.payment.failed
 *   pending → expired     booking_expire()   the deadline passed (handlers.c booking_expire_due)
 *   any     → unchanged   booking_note_stock_released()  inventory.stock.released
 *   any     → unchanged   booking_note_notified()        notification.notification.sent
 *   any     → unchanged   booking_note_refunded()        payment.payment.refunded
 *
 * The four final states have no way out: any transition from them is
 * refused with ERR_CONFLICT, which makes a consumer dead-letter the event
 * with the message as its reason. That is what makes "every booking reaches
 * exactly one final state" hold even if a contradicting event arrives. The
 * one exception is expected, not contradicting: an event of the saga still
 * in flight when the booking expired (booking_is_late_for says which), which
 * the handlers acknowledge without effect, since booking.booking.expired
 * makes the other contexts undo what that event did.
 * Every function raises exactly one domain event on success and changes
 * nothing on failure.
 */
#include "booking/domain/booking.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
    [BOOKING_PENDING] = "pending",   [BOOKING_CONFIRMED] = "confirmed",
    [BOOKING_REJECTED] = "rejected", [BOOKING_CANCELLED] = "cancelled",
    [BOOKING_EXPIRED] = "expired",
};
#define STATUS_COUNT (sizeof(status_names) / sizeof(status_names[0]))

const char *booking_status_name(enum booking_status status)
{
    if ((size_t)status >= STATUS_COUNT)
        return "unknown";
    return status_names[status];
}

int booking_status_parse(const char *name, enum booking_status *out, struct err *err)
{
    for (size_t i = 0; name && i < STATUS_COUNT; i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (enum booking_status)i;
            return 0;
        }
    }
    return err_set(err, ERR_INVALID, "unknown booking status '%.32s'", name ? name : "(null)");
}

bool booking_status_is_final(enum booking_status status)
{
    return status != BOOKING_PENDING;
}

int booking_validate_quantity(int64_t quantity, struct err *err)
{
    if (quantity < BOOKING_QUANTITY_MIN || quantity > BOOKING_QUANTITY_MAX)
        return err_set(err, ERR_UNPROCESSABLE, "quantity %" PRId64 " is not in [%d, %d]", quantity,
                       BOOKING_QUANTITY_MIN, BOOKING_QUANTITY_MAX);
    return 0;
}

int booking_amount(int64_t quantity, int64_t price_cents, int64_t *amount_cents, struct err *err)
{
    int rc = booking_validate_quantity(quantity, err);
    if (rc)
        return rc;
    if (price_cents < 1 || price_cents > BOOKING_PRICE_MAX)
        return err_set(err, ERR_UNPROCESSABLE, "price %" PRId64 " cents is not in [1, %d]",
                       price_cents, BOOKING_PRICE_MAX);
    /* Both factors are positive here, so this division is the exact overflow test. */
    if (price_cents > INT64_MAX / quantity)
        return err_set(err, ERR_UNPROCESSABLE, "amount %" PRId64 " × %" PRId64 " cents overflows",
                       quantity, price_cents);
    int64_t amount = quantity * price_cents;
    if (amount > BOOKING_AMOUNT_MAX)
        return err_set(err, ERR_UNPROCESSABLE, "amount %" PRId64 " cents is above %lld", amount,
                       BOOKING_AMOUNT_MAX);
    *amount_cents = amount;
    return 0;
}

/* A 36-character UUID text copied lowercase into out; the format itself is checked at the edge. */
static int copy_id(char out[BOOKING_ID_LEN + 1], const char *id, const char *what, struct err *err)
{
    if (!id || strlen(id) != BOOKING_ID_LEN)
        return err_set(err, ERR_INVALID, "%s '%.64s' is not a %d-character uuid", what,
                       id ? id : "(null)", BOOKING_ID_LEN);
    for (size_t i = 0; i < BOOKING_ID_LEN; i++) {
        char c = id[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[BOOKING_ID_LEN] = '\0';
    return 0;
}

static int check_text(const char *text, size_t max, const char *what, struct err *err)
{
    if (!text || !text[0])
        return err_set(err, ERR_INVALID, "%s is empty", what);
    if (strlen(text) > max)
        return err_set(err, ERR_INVALID, "%s '%.32s…' is longer than %zu characters", what, text,
                       max);
    return 0;
}

static void raise_event(struct booking_event *ev, enum booking_event_kind kind,
                        const struct booking *b, const char *cause)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    ev->booking = *b;
    snprintf(ev->cause, sizeof(ev->cause), "%s", cause);
}

int booking_create(struct booking *b, const char *id, const char *user_id, const char *offering_id,
                   int64_t quantity, int64_t price_cents, const char *cause,
                   struct booking_event *ev, struct err *err)
{
    struct booking fresh;
    memset(&fresh, 0, sizeof(fresh));
    int rc = copy_id(fresh.id, id, "booking id", err);
    if (!rc)
        rc = copy_id(fresh.user_id, user_id, "user id", err);
    if (!rc)
        rc = copy_id(fresh.offering_id, offering_id, "offering id", err);
    if (!rc)
        rc = check_text(cause, BOOKING_CAUSE_MAX, "cause", err);
    if (!rc)
        rc = booking_amount(quantity, price_cents, &fresh.amount_cents, err);
    if (rc)
        return rc;
    fresh.quantity = quantity;
    fresh.status = BOOKING_PENDING;
    *b = fresh;
    raise_event(ev, BOOKING_EVENT_CREATED, b, cause);
    return 0;
}

/*
 * The one guarded step every transition goes through: only a pending booking
 * moves, and only to a final state. Inputs are checked before the state, so
 * a refusal never depends on which bad argument came first.
 */
static int transition(struct booking *b, enum booking_status to, const char *reason,
                      const char *cause, enum booking_event_kind kind, struct booking_event *ev,
                      struct err *err)
{
    int rc = check_text(cause, BOOKING_CAUSE_MAX, "cause", err);
    if (!rc && reason)
        rc = check_text(reason, BOOKING_REASON_MAX, "reason", err);
    if (rc)
        return rc;
    if (b->status != BOOKING_PENDING)
        return err_set(err, ERR_CONFLICT, "booking '%s' is already %s: it cannot become %s", b->id,
                       booking_status_name(b->status), booking_status_name(to));
    b->status = to;
    snprintf(b->reason, sizeof(b->reason), "%s", reason ? reason : "");
    raise_event(ev, kind, b, cause);
    return 0;
}

int booking_confirm(struct booking *b, const char *cause, struct booking_event *ev, struct err *err)
{
    return transition(b, BOOKING_CONFIRMED, NULL, cause, BOOKING_EVENT_CONFIRMED, ev, err);
}

int booking_reject(struct booking *b, const char *reason, const char *cause,
                   struct booking_event *ev, struct err *err)
{
    if (!reason)
        return err_set(err, ERR_INVALID, "reason is empty");
    return transition(b, BOOKING_REJECTED, reason, cause, BOOKING_EVENT_REJECTED, ev, err);
}

int booking_cancel(struct booking *b, const char *reason, const char *cause,
                   struct booking_event *ev, struct err *err)
{
    if (!reason)
        return err_set(err, ERR_INVALID, "reason is empty");
    return transition(b, BOOKING_CANCELLED, reason, cause, BOOKING_EVENT_CANCELLED, ev, err);
}

int booking_expire(struct booking *b, const char *cause, struct booking_event *ev, struct err *err)
{
    return transition(b, BOOKING_EXPIRED, NULL, cause, BOOKING_EVENT_EXPIRED, ev, err);
}

bool booking_is_late_for(const struct booking *b)
{
    return b->status == BOOKING_EXPIRED;
}

/* The step every booking_note_* takes: an event about b, which does not change. */
static int note(const struct booking *b, enum booking_event_kind kind, const char *cause,
                struct booking_event *ev, struct err *err)
{
    int rc = check_text(cause, BOOKING_CAUSE_MAX, "cause", err);
    if (rc)
        return rc;
    raise_event(ev, kind, b, cause);
    return 0;
}

int booking_note_stock_released(const struct booking *b, const char *cause,
                                struct booking_event *ev, struct err *err)
{
    return note(b, BOOKING_EVENT_STOCK_RELEASED, cause, ev, err);
}

int booking_note_notified(const struct booking *b, const char *cause, struct booking_event *ev,
                          struct err *err)
{
    return note(b, BOOKING_EVENT_NOTIFIED, cause, ev, err);
}

int booking_note_refunded(const struct booking *b, const char *cause, struct booking_event *ev,
                          struct err *err)
{
    return note(b, BOOKING_EVENT_REFUNDED, cause, ev, err);
}
