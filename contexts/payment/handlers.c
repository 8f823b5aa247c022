/*
 * handlers.c - the integration events payment consumes and what each one
 * triggers. The consumer (common/consumer.c) owns the inbox, the
 * transaction and the ack; a handler decodes, loads and locks through the
 * store, lets the domain decide, saves, and maps the domain events through
 * events.c, all in the consumer's transaction.
 *
 *   consumes                      handler                        may publish
 *   booking.booking.created       on_booking_booking_created     payment.payment.succeeded
 *                                                                payment.payment.failed
 *   inventory.stock.reserved      on_inventory_stock_reserved    payment.payment.succeeded
 *                                                                payment.payment.failed
 *   booking.booking.expired       on_booking_booking_expired     payment.payment.refunded
 *
 * The two arrive in either order (different producers, no global order), and
 * the charge needs both: an order-independent join (SPEC §1 step 4, §4
 * Ordering). Each handler records its half and, when the other half is there
 * already, charges at once (charge); the first one publishes nothing and
 * nobody waits for a retry. Both lock the booking's join row first
 * (payment_store_lock_join), so two deliveries of one booking, in one
 * instance or in two, take turns: the second sees the first's committed half
 * and charges; never both, never neither. Lock order: the join row, then the
 * payment row.
 *
 * The expiry (booking.booking.expired) is a third fact on the same join row,
 * under the same lock: an intent is voided, a charge refunded, and a half of
 * the join that arrives after the expiry never charges (an intent is voided
 * at once, a reservation is recorded and acknowledged without a charge).
 */
#include "payment/handlers.h"

#include "payment/events.h"
#include "payment/service.h"
#include "payment/store.h"

#include "booking/contract/booking_contract.h"
#include "inventory/contract/inventory_contract.h"

#include "common/envelope.h"
#include "common/log.h"
#include "common/uuid7.h"

static handler_fn on_booking_booking_created, on_inventory_stock_reserved,
    on_booking_booking_expired;

const struct subscription payment_subscriptions[] = {
    {&BOOKING_BOOKING_CREATED, on_booking_booking_created},
    {&INVENTORY_STOCK_RESERVED, on_inventory_stock_reserved},
    {&BOOKING_BOOKING_EXPIRED, on_booking_booking_expired},
};

/* What the booking's join row holds, read under its lock. */
struct join_row {
    char reserved_by[PAYMENT_ID_LEN]; /* the reservation's event id, "" before it arrived */
    int reserved;                     /* 1 once the reservation arrived */
    int expired;                      /* 1 once the booking expired */
};

/*
 * Locks the booking's join row, always the first lock a handler takes (see
 * the file comment), and reads what it holds into *row.
 */
static int lock_join(struct handler_ctx *hc, const char *booking_id, struct join_row *row,
                     struct err *err)
{
    row->reserved = payment_store_lock_join(hc->db, booking_id, row->reserved_by, err);
    if (row->reserved < 0)
        return row->reserved;
    row->expired = payment_store_join_expired(hc->db, booking_id, err);
    return row->expired < 0 ? row->expired : 0;
}

/*
 * The join is complete (payment_join_next said CHARGE): charges p once
 * (payment_charge: amount_cents > PAYMENT_LIMIT_CENTS is declined with
 * 'limit_exceeded', anything else approved), saves the decision with the
 * reservation's event id and publishes payment.payment.succeeded or
 * payment.payment.failed, caused by the event in hand. p's rows (join and
 * payment) are locked by the caller.
 */
static int charge(struct handler_ctx *hc, struct payment *p, const char *reservation_event_id,
                  struct err *err)
{
    const struct payment_app *app = hc->app;
    struct payment_event ev;
    int rc = payment_charge(p, app->limit_cents, &ev, err);
    if (rc == 0)
        rc = payment_store_save_decision(hc->db, p, reservation_event_id, err);
    if (rc == 0)
        rc = payment_events_publish(handler_origin(hc), &ev, NULL, err);
    if (rc)
        return rc;
    log_info_ev(hc->ev, "payment '%s' of booking '%s' %s: amount_cents %lld, limit %d%s%s", p->id,
                p->booking_id, payment_status_name(p->status), (long long)p->amount_cents,
                app->limit_cents, p->reason != PAYMENT_DECLINE_NONE ? ", reason " : "",
                payment_reason_name(p->reason));
    return 0;
}

/*
 * The booking of p (locked) expired: voids an intent or refunds a charge,
 * saves it (caused by event_id) and publishes payment.payment.refunded for a
 * refund. Nothing to give back (failed, voided, refunded already): no-op.
 */
static int expire(struct handler_ctx *hc, struct payment *p, const char *event_id, struct err *err)
{
    struct payment_event ev;
    int changed = payment_expire(p, &ev, err);
    if (changed <= 0)
        return changed;
    int rc = payment_store_save_expiry(hc->db, p, event_id, err);
    if (rc == 0)
        rc = payment_events_publish(handler_origin(hc), &ev, NULL, err);
    if (rc)
        return rc;
    log_info_ev(hc->ev, "payment '%s' of expired booking '%s' %s: amount_cents %lld", p->id,
                p->booking_id, payment_status_name(p->status), (long long)p->amount_cents);
    return 0;
}

/*
 * booking.booking.created → records the payment intent {booking_id,
 * amount_cents} (payment_open), and charges it at once when the booking's
 * inventory.stock.reserved arrived first (the join's second half). Publishes
 * payment.payment.succeeded or payment.payment.failed in that case, nothing
 * otherwise (the intent is internal: events.c drops it).
 *
 * Idempotent: the inbox stops a redelivery of the same event; another event
 * for a booking already recorded inserts nothing (UNIQUE booking_id) and is
 * accepted when it asks for the same amount, whatever the payment's state;
 * the join row is locked first, so a payment is charged by one handler only.
 *
 * Returns 0; ERR_CONFLICT when the booking is already recorded with another
 * amount (dead letter: a booking's amount never changes); ERR_TRANSIENT or
 * other database errors (retried).
 */
static int on_booking_booking_created(struct handler_ctx *hc, struct err *err)
{
    struct booking_booking_created in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    if (rc)
        return rc;
    char id[UUID7_STR_LEN];
    if (uuid7_generate(id))
        return err_set(err, ERR_INTERNAL, "cannot generate a payment id");
    struct join_row row;
    rc = lock_join(hc, in.booking_id, &row, err);
    if (rc)
        return rc;

    struct payment p;
    struct payment_event ev;
    rc = payment_open(&p, id, in.booking_id, in.amount_cents, &ev, err);
    if (rc)
        return rc;
    int inserted = payment_store_insert_intent(hc->db, &p, hc->ev->id, err);
    if (inserted < 0)
        return inserted;
    if (inserted == 0) {
        /* The booking has a payment already: it must ask for the same amount. */
        /* Payments are never deleted: only a concurrent change could make it vanish. */
        rc = err_if_none(payment_store_lock(hc->db, in.booking_id, &p, err), err, ERR_TRANSIENT,
                         "payment of booking '%s' vanished during the insert", in.booking_id);
        if (rc == 0)
            rc = payment_check_intent(&p, in.amount_cents, err);
    } else {
        rc = payment_events_publish(handler_origin(hc), &ev, NULL, err);
    }
    if (rc)
        return rc;

    struct payment_join j;
    payment_join_of(&j, in.booking_id, &p, row.reserved);
    if (payment_join_next(&j) == PAYMENT_JOIN_CHARGE)
        return charge(hc, &p, row.reserved_by, err);
    if (inserted)
        log_debug_ev(hc->ev,
                     "payment intent for booking '%s' recorded, waiting for its reservation",
                     in.booking_id);
    else
        log_info_ev(hc->ev, "payment intent for booking '%s' already recorded, nothing to do",
                    in.booking_id);
    return 0;
}

/*
 * inventory.stock.reserved → records the booking's reservation and charges
 * the booking once, at once when its intent (booking.booking.created) is
 * there; otherwise the charge happens when the intent arrives (see
 * on_booking_booking_created). Publishes payment.payment.succeeded or
 * payment.payment.failed in the same transaction as the decision, or
 * nothing while the intent is missing.
 *
 * Idempotent: the inbox stops a redelivery of the same event; the join row
 * is locked FOR UPDATE first, and the domain refuses a second reservation
 * and a second charge.
 *
 * Returns 0 (also when the intent has not arrived yet: reordering is
 * normal, not an error); ERR_CONFLICT when the booking already had a
 * reservation or a decided payment (dead letter: stock is reserved once per
 * booking, so a second reservation is a bug upstream); database errors
 * (retried).
 */
static int on_inventory_stock_reserved(struct handler_ctx *hc, struct err *err)
{
    struct inventory_stock_reserved in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    if (rc)
        return rc;
    struct join_row row;
    rc = lock_join(hc, in.booking_id, &row, err);
    if (rc)
        return rc;
    struct payment p;
    int has_intent = payment_store_lock(hc->db, in.booking_id, &p, err);
    if (has_intent < 0)
        return has_intent;

    struct payment_join j;
    enum payment_join_step next = PAYMENT_JOIN_WAIT;
    payment_join_of(&j, in.booking_id, has_intent ? &p : NULL, row.reserved);
    j.expired = row.expired;
    rc = payment_join_reserve(&j, &next, err);
    if (rc == 0)
        rc = payment_store_record_reservation(hc->db, in.booking_id, hc->ev->id, err);
    if (rc)
        return rc;
    if (next == PAYMENT_JOIN_CHARGE)
        return charge(hc, &p, hc->ev->id, err);
    if (row.expired)
        log_info_ev(hc->ev, "booking '%s' expired: late reservation recorded, never charged",
                    in.booking_id);
    else
        log_info_ev(hc->ev, "reservation of booking '%s' recorded, waiting for its payment intent",
                    in.booking_id);
    return 0;
}

/*
 * booking.booking.expired → records the expiry on the booking's join row
 * and gives back what the payment holds: an intent is voided (publishes
 * nothing: nothing was charged), a charge is refunded (publishes
 * payment.payment.refunded), a declined payment is left as it is. With no
 * intent yet, the expiry alone is recorded: the intent is voided when it
 * arrives (on_booking_booking_created). Either way no charge follows.
 *
 * Idempotent: the inbox stops a redelivery; a second expiry finds one
 * recorded and does nothing; payment_expire gives back at most once.
 * Returns 0 or database errors (retried).
 */
static int on_booking_booking_expired(struct handler_ctx *hc, struct err *err)
{
    struct booking_booking_expired in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    if (rc)
        return rc;
    char reserved_by[PAYMENT_ID_LEN];
    rc = payment_store_lock_join(hc->db, in.booking_id, reserved_by, err);
    if (rc < 0)
        return rc;
    rc = payment_store_record_expiry(hc->db, in.booking_id, hc->ev->id, err);
    if (rc <= 0)
        return rc;
    struct payment p;
    rc = payment_store_lock(hc->db, in.booking_id, &p, err);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        log_info_ev(hc->ev, "booking '%s' expired before its payment intent: it will be voided",
                    in.booking_id);
        return 0;
    }
    return expire(hc, &p, hc->ev->id, err);
}
