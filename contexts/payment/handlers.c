/*
 * handlers.c - the integration events payment consumes and what each one
 * triggers. The consumer (common/consumer.c) owns the inbox, the
 * transaction and the ack; a handler decodes, loads and locks through the
 * store, lets the domain decide, saves, and maps the domain events through
 * events.c, all in the consumer's transaction.
 *
 *   consumes                      handler                        may publish
 *   booking.booking.created       on_booking_booking_created     (nothing)
 *   inventory.stock.reserved      on_inventory_stock_reserved    payment.payment.succeeded
 *                                                                payment.payment.failed
 *
 * The two arrive in either order (different producers, no global order):
 * a reservation whose intent is not there yet is retried (ERR_TRANSIENT)
 * until booking.booking.created has been handled (SPEC §1, step 4).
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

static int on_booking_booking_created(struct handler_ctx *hc, struct err *err);
static int on_inventory_stock_reserved(struct handler_ctx *hc, struct err *err);

const struct subscription payment_subscriptions[] = {
    {&BOOKING_BOOKING_CREATED, on_booking_booking_created},
    {&INVENTORY_STOCK_RESERVED, on_inventory_stock_reserved},
};
const size_t payment_nsubscriptions = CONTRACT_COUNT(payment_subscriptions);
_Static_assert(CONTRACT_COUNT(payment_subscriptions) == PAYMENT_NSUBSCRIPTIONS,
               "PAYMENT_NSUBSCRIPTIONS must match the payment_subscriptions table");

/*
 * booking.booking.created → records the payment intent {booking_id,
 * amount_cents} (payment_open). Publishes nothing: the intent is internal
 * (events.c drops it).
 *
 * Idempotent: the inbox stops a redelivery of the same event; another event
 * for a booking already recorded inserts nothing (UNIQUE booking_id) and is
 * accepted when it asks for the same amount, whatever the payment's state.
 *
 * Returns 0; ERR_CONFLICT when the booking is already recorded with another
 * amount (dead letter: a booking's amount never changes); ERR_TRANSIENT or
 * other database errors (retried).
 */
static int on_booking_booking_created(struct handler_ctx *hc, struct err *err)
{
    struct booking_booking_created in;
    int rc = booking_booking_created_decode(hc->ev->data, &in, err);
    if (rc)
        return rc;
    char id[UUID7_STR_LEN];
    if (uuid7_generate(id))
        return err_set(err, ERR_INTERNAL, "cannot generate a payment id");

    struct payment p;
    struct payment_domain_event ev;
    rc = payment_open(&p, id, in.booking_id, in.amount_cents, &ev, err);
    if (rc)
        return rc;
    rc = payment_store_insert_intent(hc->db, &p, hc->ev->id, err);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        /* The booking has a payment already: same amount → nothing to do. */
        struct payment existing;
        rc = payment_store_lock(hc->db, in.booking_id, &existing, err);
        if (rc < 0)
            return rc;
        if (rc == 0) /* payments are never deleted: only a concurrent change could do this */
            return err_set(err, ERR_TRANSIENT, "payment of booking '%s' vanished during the insert",
                           in.booking_id);
        rc = payment_check_intent(&existing, in.amount_cents, err);
        if (rc == 0)
            log_info_ev(hc->ev, "payment intent for booking '%s' already recorded, nothing to do",
                        in.booking_id);
        return rc;
    }
    return payment_events_publish(hc->db, &ev, 1, hc->ev->correlation_id, hc->ev->id, err);
}

/*
 * inventory.stock.reserved → charges the booking once (payment_charge):
 * amount_cents > PAYMENT_LIMIT_CENTS is declined with 'limit_exceeded',
 * anything else approved. Publishes payment.payment.succeeded or
 * payment.payment.failed in the same transaction as the decision.
 *
 * Idempotent: the inbox stops a redelivery of the same event; the intent
 * row is locked FOR UPDATE, and a decided payment refuses a second charge.
 *
 * Returns 0; ERR_TRANSIENT when the intent (booking.booking.created) has not
 * been handled yet: reordering is normal, the retry settles it; ERR_CONFLICT
 * when the booking's payment was already decided (dead letter: stock is
 * reserved once per booking, so a second reservation is a bug upstream);
 * other database errors (retried).
 */
static int on_inventory_stock_reserved(struct handler_ctx *hc, struct err *err)
{
    const struct payment_app *app = hc->app;
    struct inventory_stock_reserved in;
    int rc = inventory_stock_reserved_decode(hc->ev->data, &in, err);
    if (rc)
        return rc;

    struct payment p;
    rc = payment_store_lock(hc->db, in.booking_id, &p, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return err_set(err, ERR_TRANSIENT, "payment intent for booking '%s' has not arrived yet",
                       in.booking_id);

    struct payment_domain_event ev;
    rc = payment_charge(&p, app->limit_cents, &ev, err);
    if (rc == 0)
        rc = payment_store_save_decision(hc->db, &p, hc->ev->id, err);
    if (rc == 0)
        rc = payment_events_publish(hc->db, &ev, 1, hc->ev->correlation_id, hc->ev->id, err);
    if (rc)
        return rc;
    log_info_ev(hc->ev, "payment '%s' of booking '%s' %s: amount_cents %lld, limit %d%s%s", p.id,
                p.booking_id, payment_status_name(p.status), (long long)p.amount_cents,
                app->limit_cents, p.reason != PAYMENT_DECLINE_NONE ? ", reason " : "",
                payment_reason_name(p.reason));
    return 0;
}
