/*
 * handlers.c - what booking does with the events it consumes.
 *
 *   consumed type                       handler                                   may publish
 *   servicecatalog.offering.published   on_servicecatalog_offering_published()    -
 *   inventory.stock.debited             on_inventory_stock_debited()              booking.booking.confirmed
 *   inventory.stock.reservation_failed  on_inventory_stock_reservation_failed()   booking.booking.rejected
 *   payment.payment.failed              on_payment_payment_failed()               booking.booking.cancelled
 *   inventory.stock.released            on_inventory_stock_released()             - (history only)
 *   notification.notification.sent      on_notification_notification_sent()       - (history only)
 *   payment.payment.refunded            on_payment_payment_refunded()             - (history only)
 *
 * Every handler runs inside the consumer's transaction (inbox row, these
 * writes and the outbox rows commit together), so a handler never begins,
 * commits or acks. The inbox already makes a redelivery a no-op; beyond that
 * the state machine refuses a second transition, so "each booking reaches
 * exactly one final state" holds whatever arrives. The shape of each:
 * decode → lock the booking → domain function → store → events.c.
 *
 * Late events (SPEC §1: "late events for an expired booking never confirm
 * it"): a stock debit, reservation failure or payment failure that reaches a
 * booking already expired is acknowledged without effect, not dead-lettered.
 * It is the expected outcome of a race between the deadline and the saga,
 * not a bug: booking.booking.expired makes inventory and payment undo
 * whatever that late event stands for (a sale is reversed, a charge
 * refunded), so there is nothing for an operator to do. It is idempotent:
 * the booking stays expired, nothing is written and nothing published, so a
 * redelivery does the same nothing. Contradictions between the other final
 * states still dead-letter (ERR_CONFLICT).
 */
#include "booking/handlers.h"

#include "booking/domain/booking.h"
#include "booking/events.h"
#include "booking/store.h"
#include "common/envelope.h"
#include "common/log.h"
#include "inventory/contract/inventory_contract.h"
#include "notification/contract/notification_contract.h"
#include "payment/contract/payment_contract.h"
#include "servicecatalog/contract/servicecatalog_contract.h"

#include <stdbool.h>
#include <string.h>

/* Notification kinds about a booking start with this; the others (welcome) are not ours. */
#define BOOKING_NOTIFICATION_PREFIX "booking_"

static handler_fn on_servicecatalog_offering_published, on_inventory_stock_debited,
    on_inventory_stock_reservation_failed, on_payment_payment_failed, on_inventory_stock_released,
    on_notification_notification_sent, on_payment_payment_refunded;

const struct subscription booking_subscriptions[] = {
    {&SERVICECATALOG_OFFERING_PUBLISHED, on_servicecatalog_offering_published},
    {&INVENTORY_STOCK_DEBITED, on_inventory_stock_debited},
    {&INVENTORY_STOCK_RESERVATION_FAILED, on_inventory_stock_reservation_failed},
    {&PAYMENT_PAYMENT_FAILED, on_payment_payment_failed},
    {&INVENTORY_STOCK_RELEASED, on_inventory_stock_released},
    {&NOTIFICATION_NOTIFICATION_SENT, on_notification_notification_sent},
    {&PAYMENT_PAYMENT_REFUNDED, on_payment_payment_refunded},
};

/*
 * Locks the booking an event is about. Its creation committed before any
 * event about it could exist, so "not found" can only be a race with that
 * commit's visibility: ERR_TRANSIENT, and the retry finds it.
 */
static int lock_booking(struct handler_ctx *hc, const char *booking_id, struct booking *b,
                        struct err *err)
{
    int rc = booking_store_lock(hc->db, booking_id, b, err);
    return err_if_none(rc, err, ERR_TRANSIENT, "booking '%s' is not known yet", booking_id);
}

/*
 * True (and logged) when the handled event arrives after b expired: the
 * handler then acknowledges it without effect (see the file comment).
 */
static bool late_for_expired(struct handler_ctx *hc, const struct booking *b)
{
    if (!booking_is_late_for(b))
        return false;
    log_info_ev(hc->ev, "booking '%s' expired already: late '%s' acknowledged without effect",
                b->id, hc->ev->type);
    return true;
}

/*
 * Stores what a domain event says, in the consumer's transaction: the new
 * status (when it changed), the history entry, and the integration event
 * events.c maps it to (caused by the handled event, in its correlation).
 */
static int record(struct handler_ctx *hc, const struct booking_event *ev, bool status_changed,
                  struct err *err)
{
    int rc = 0;
    if (status_changed)
        rc = booking_store_update_status(hc->db, &ev->booking, err);
    if (rc >= 0)
        rc = booking_store_append_history(hc->db, ev, hc->ev->id, err);
    if (rc >= 0)
        rc = booking_events_publish(handler_origin(hc), ev, NULL, err);
    return rc < 0 ? rc : 0;
}

/*
 * servicecatalog.offering.published → the price replica; publishes nothing.
 * Idempotent: the first copy of an offering wins (ON CONFLICT DO NOTHING),
 * and offerings never change price. Errors: only database ones (transient
 * ones retried).
 */
static int on_servicecatalog_offering_published(struct handler_ctx *hc, struct err *err)
{
    struct servicecatalog_offering_published in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    if (rc)
        return rc;
    rc = booking_store_put_offering(hc->db, in.offering_id, in.price_cents, err);
    return rc < 0 ? rc : 0;
}

/* A transition to a final state (booking_confirm, _reject or _cancel, with reason when it takes one). */
typedef int decide_fn(struct booking *b, const char *reason, const char *cause,
                      struct booking_event *ev, struct err *err);

static int confirm(struct booking *b, const char *reason, const char *cause,
                   struct booking_event *ev, struct err *err)
{
    (void)reason;
    return booking_confirm(b, cause, ev, err);
}

/*
 * The path of the three handlers that end a booking: lock it, acknowledge a
 * late event of an expired one without effect, let the domain decide, record.
 */
static int decide(struct handler_ctx *hc, const char *booking_id, decide_fn *fn, const char *reason,
                  struct err *err)
{
    struct booking b;
    struct booking_event ev;
    int rc = lock_booking(hc, booking_id, &b, err);
    if (rc || late_for_expired(hc, &b))
        return rc;
    rc = fn(&b, reason, hc->ev->type, &ev, err);
    return rc ? rc : record(hc, &ev, true, err);
}

/* What a booking notes without changing (booking_note_*). */
typedef int note_fn(const struct booking *b, const char *cause, struct booking_event *ev,
                    struct err *err);

/* The path of the handlers that only add a history entry: lock, note, record. */
static int note(struct handler_ctx *hc, const char *booking_id, note_fn *fn, struct err *err)
{
    struct booking b;
    struct booking_event ev;
    int rc = lock_booking(hc, booking_id, &b, err);
    if (!rc)
        rc = fn(&b, hc->ev->type, &ev, err);
    return rc ? rc : record(hc, &ev, false, err);
}

/*
 * inventory.stock.debited → pending → confirmed; publishes
 * booking.booking.confirmed. Idempotent: the inbox drops a redelivery, and a
 * booking that is no longer pending refuses the transition. Errors:
 * ERR_TRANSIENT when the booking is not visible yet (retried); ERR_CONFLICT
 * when it is already final (dead letter: a contradicting event).
 */
static int on_inventory_stock_debited(struct handler_ctx *hc, struct err *err)
{
    struct inventory_stock_debited in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    return rc ? rc : decide(hc, in.booking_id, confirm, NULL, err);
}

/*
 * inventory.stock.reservation_failed → pending → rejected with the event's
 * reason (e.g. "insufficient_stock"); publishes booking.booking.rejected.
 * Idempotent and errors as on_inventory_stock_debited.
 */
static int on_inventory_stock_reservation_failed(struct handler_ctx *hc, struct err *err)
{
    struct inventory_stock_reservation_failed in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    return rc ? rc : decide(hc, in.booking_id, booking_reject, in.reason, err);
}

/*
 * payment.payment.failed → pending → cancelled, reason "payment_declined"
 * (whatever payment's own reason was: the customer learns the booking's
 * outcome, not the payment's internals); publishes booking.booking.cancelled.
 * Inventory releases the stock on the same event, independently. Idempotent
 * and errors as on_inventory_stock_debited.
 */
static int on_payment_payment_failed(struct handler_ctx *hc, struct err *err)
{
    struct payment_payment_failed in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    return rc ? rc
              : decide(hc, in.booking_id, booking_cancel, BOOKING_REASON_PAYMENT_DECLINED, err);
}

/*
 * inventory.stock.released → a history entry with the current status (it
 * may come before or after payment.payment.failed moved the booking to
 * cancelled); publishes nothing. Idempotent: the inbox drops a redelivery,
 * and the history keeps one row per event id. Errors: ERR_TRANSIENT when the
 * booking is not visible yet.
 */
static int on_inventory_stock_released(struct handler_ctx *hc, struct err *err)
{
    struct inventory_stock_released in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    return rc ? rc : note(hc, in.booking_id, booking_note_stock_released, err);
}

/*
 * notification.notification.sent of a "booking_*" kind → a history entry
 * with the current status; other kinds (welcome) are not about a booking and
 * are a no-op. Publishes nothing. Idempotent as on_inventory_stock_released.
 * Errors: ERR_TRANSIENT when the booking (reference_id) is not visible yet.
 */
static int on_notification_notification_sent(struct handler_ctx *hc, struct err *err)
{
    struct notification_notification_sent in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    if (rc)
        return rc;
    if (strncmp(in.kind, BOOKING_NOTIFICATION_PREFIX, strlen(BOOKING_NOTIFICATION_PREFIX)) != 0)
        return 0;
    return note(hc, in.reference_id, booking_note_notified, err);
}

/*
 * payment.payment.refunded → a history entry with the current status
 * (expired: payment gives a charge back only for an expired booking), so
 * the booking's history shows its money went back; publishes nothing.
 * Idempotent and errors as on_inventory_stock_released.
 */
static int on_payment_payment_refunded(struct handler_ctx *hc, struct err *err)
{
    struct payment_payment_refunded in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    return rc ? rc : note(hc, in.booking_id, booking_note_refunded, err);
}
