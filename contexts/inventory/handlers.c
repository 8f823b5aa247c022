/*
 * handlers.c - what inventory does with the events it consumes.
 *
 *   servicecatalog.offering.published → on_servicecatalog_offering_published
 *       publishes nothing
 *   booking.booking.created → on_booking_booking_created
 *       publishes inventory.stock.reserved or inventory.stock.reservation_failed
 *   payment.payment.succeeded → on_payment_payment_succeeded
 *       publishes inventory.stock.debited
 *   payment.payment.failed → on_payment_payment_failed
 *       publishes inventory.stock.released (the compensation)
 *   booking.booking.expired → on_booking_booking_expired
 *       publishes inventory.stock.released when the booking held stock
 *
 * Late events of an expired booking (SPEC §1): once booking.booking.expired
 * is recorded (table expirations), a booking.booking.created reserves
 * nothing and a payment outcome for a reservation the expiry released sells
 * or releases nothing: both are acknowledged without effect. A payment that
 * succeeded before the expiry reached us was a sale; the expiry reverses it
 * (a 'return' movement) and payment refunds the money on the same event.
 *
 * Each handler runs inside the consumer's transaction (the inbox row, these
 * writes and the outbox rows commit together) and follows one path:
 * decode → lock via the store → decide in the domain → write via the store →
 * events.c. It never begins, commits or acks.
 *
 * Never oversell: every handler that changes stock first locks the stock row
 * (stock_store_lock: SELECT … FOR UPDATE), so deliveries for one offering,
 * in one instance or in several, are serialised on that row, and each
 * decides on the levels the previous one committed. Lock order: the stock
 * row, then a reservation row, always.
 */
#include "inventory/handlers.h"

#include "booking/contract/booking_contract.h"
#include "common/envelope.h"
#include "common/log.h"
#include "inventory/domain/stock.h"
#include "inventory/events.h"
#include "inventory/store.h"
#include "payment/contract/payment_contract.h"
#include "servicecatalog/contract/servicecatalog_contract.h"

static handler_fn on_servicecatalog_offering_published, on_booking_booking_created,
    on_payment_payment_succeeded, on_payment_payment_failed, on_booking_booking_expired;

const struct subscription inventory_subscriptions[] = {
    {&SERVICECATALOG_OFFERING_PUBLISHED, on_servicecatalog_offering_published},
    {&BOOKING_BOOKING_CREATED, on_booking_booking_created},
    {&PAYMENT_PAYMENT_SUCCEEDED, on_payment_payment_succeeded},
    {&PAYMENT_PAYMENT_FAILED, on_payment_payment_failed},
    {&BOOKING_BOOKING_EXPIRED, on_booking_booking_expired},
};

/* Publishes the domain event of one operation through the single mapping in events.c. */
static int publish(struct handler_ctx *hc, const struct stock_event *ev, struct err *err)
{
    return inventory_events_publish(handler_origin(hc), ev, NULL, err);
}

/*
 * Consumes servicecatalog.offering.published: opens the offering's stock
 * (available = capacity, nothing reserved or sold). Publishes nothing (the
 * domain event "opened" is dropped in events.c).
 * Idempotent: the insert does nothing when the stock exists already; the
 * same offering with another capacity is a contradiction, not a duplicate.
 * Returns 0; ERR_CONFLICT when the stock exists with a different capacity
 * (dead letter); ERR_UNPROCESSABLE for a capacity the domain refuses (the
 * contract has the same bounds, so only after a contract change); database
 * errors (ERR_TRANSIENT: retried).
 */
static int on_servicecatalog_offering_published(struct handler_ctx *hc, struct err *err)
{
    struct servicecatalog_offering_published in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    if (rc)
        return rc;
    struct stock s;
    struct stock_event opened;
    rc = stock_open(&s, in.offering_id, in.capacity, &opened, err);
    if (rc)
        return rc;
    rc = stock_store_insert(hc->db, &s, hc->ev->id, err);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        struct stock existing;
        rc = stock_store_find(hc->db, in.offering_id, &existing, err);
        if (rc < 0)
            return rc;
        if (rc == 1 && existing.capacity != s.capacity)
            return err_set(err, ERR_CONFLICT,
                           "offering '%s' already has stock of capacity %lld, not %lld",
                           in.offering_id, (long long)existing.capacity, (long long)s.capacity);
        log_info_ev(hc->ev, "stock of offering '%s' exists already: nothing to do", in.offering_id);
        return 0;
    }
    log_info_ev(hc->ev, "stock of offering '%s' opened with capacity %lld", in.offering_id,
                (long long)s.capacity);
    return publish(hc, &opened, err);
}

/*
 * Consumes booking.booking.created: reserves the booking's quantity.
 * Publishes inventory.stock.reserved (available -= q, reserved += q; a
 * reservation row and a "reserve" movement), or
 * inventory.stock.reservation_failed with reason "insufficient_stock" when
 * fewer units are available (stock unchanged, no movement; the refusal is
 * recorded).
 * Never oversells: the stock row is locked before the decision. Idempotent
 * beyond the inbox: a booking that already has a reservation or a refusal
 * (checked under the lock) is left alone, so it gets one answer only.
 * Returns 0; ERR_TRANSIENT when the offering's stock does not exist yet
 * (offering.published not handled yet: retried) or on database trouble;
 * ERR_UNPROCESSABLE when the stored stock breaks the invariant (dead letter).
 */
static int on_booking_booking_created(struct handler_ctx *hc, struct err *err)
{
    struct booking_booking_created in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    if (rc)
        return rc;
    struct stock s;
    rc = stock_store_lock(hc->db, in.offering_id, &s, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return err_set(err, ERR_TRANSIENT,
                       "no stock for offering '%s' yet (offering.published not handled yet)",
                       in.offering_id);

    rc = stock_store_booking_answered(hc->db, in.booking_id, err);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        log_info_ev(hc->ev, "booking '%s' was decided or expired already: nothing to do",
                    in.booking_id);
        return 0;
    }

    struct reservation r;
    struct stock_outcome out;
    rc = stock_reserve(&s, in.booking_id, in.quantity, &r, &out, err);
    if (rc)
        return rc;
    if (out.moved) {
        int64_t seq = 0;
        rc = stock_store_update(hc->db, &s, &seq, err);
        if (rc == 0)
            rc = reservation_store_insert(hc->db, &r, hc->ev->id, err);
        if (rc == 0)
            rc = stock_store_insert_movement(hc->db, s.offering_id, seq, &out.movement, hc->ev->id,
                                             err);
        if (rc)
            return rc;
        log_info_ev(hc->ev, "reserved %lld of offering '%s' for booking '%s' (available now %lld)",
                    (long long)in.quantity, in.offering_id, in.booking_id, (long long)s.available);
    } else {
        rc = stock_store_insert_refusal(hc->db, &out.event, stock_refusal_name(out.event.refusal),
                                        hc->ev->id, err);
        if (rc)
            return rc;
        log_info_ev(hc->ev, "refused %lld of offering '%s' for booking '%s': only %lld available",
                    (long long)in.quantity, in.offering_id, in.booking_id, (long long)s.available);
    }
    return publish(hc, &out.event, err);
}

/* stock_sell, stock_release or stock_return: what a payment's outcome or an expiry does to a reservation. */
typedef int (*settle_fn)(struct stock *s, struct reservation *r, struct stock_outcome *out,
                         struct err *err);

/*
 * Settles reservation r of stock s (both locked) with fn, writes stock,
 * reservation and movement (caused by the handled event) and publishes.
 */
static int settle_locked(struct handler_ctx *hc, struct stock *s, struct reservation *r,
                         settle_fn fn, struct err *err)
{
    struct stock_outcome out;
    int rc = fn(s, r, &out, err);
    if (rc)
        return rc;
    int64_t seq = 0;
    rc = stock_store_update(hc->db, s, &seq, err);
    if (rc == 0)
        rc = reservation_store_update(hc->db, r, hc->ev->id, err);
    if (rc == 0)
        rc = stock_store_insert_movement(hc->db, s->offering_id, seq, &out.movement, hc->ev->id,
                                         err);
    if (rc)
        return rc;
    log_info_ev(hc->ev,
                "reservation of booking '%s' %s: %lld of offering '%s' (available %lld, reserved "
                "%lld, sold %lld)",
                r->booking_id, reservation_status_name(r->status), (long long)r->quantity,
                s->offering_id, (long long)s->available, (long long)s->reserved,
                (long long)s->sold);
    return publish(hc, &out.event, err);
}

/*
 * The path both payment handlers share: find the reservation, lock its stock
 * row, re-read the reservation under that lock, let the domain settle it,
 * write stock, reservation and movement, publish.
 */
static int settle(struct handler_ctx *hc, const char *booking_id, settle_fn fn, struct err *err)
{
    struct reservation r;
    int rc = reservation_store_find(hc->db, booking_id, false, &r, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return err_set(err, ERR_TRANSIENT, "no reservation for booking '%s' yet", booking_id);
    struct stock s;
    rc = stock_store_lock(hc->db, r.offering_id, &s, err);
    if (rc < 0)
        return rc;
    if (rc == 0) /* the foreign key makes this impossible; say so if it happens */
        return err_set(err, ERR_UNPROCESSABLE,
                       "reservation of booking '%s' names offering '%s' without stock", booking_id,
                       r.offering_id);
    /* Another delivery may have settled it while we waited for the lock: read it again. */
    rc = reservation_store_find(hc->db, booking_id, true, &r, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return err_set(err, ERR_INTERNAL, "reservation of booking '%s' vanished", booking_id);
    if (r.status != RESERVATION_RESERVED) {
        /* Settled already: by the expiry of its booking, a late outcome is expected, not a bug. */
        rc = expiration_store_exists(hc->db, booking_id, err);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            log_info_ev(hc->ev, "booking '%s' expired: late '%s' acknowledged without effect",
                        booking_id, hc->ev->type);
            return 0;
        }
    }
    return settle_locked(hc, &s, &r, fn, err);
}

/*
 * Consumes payment.payment.succeeded: the booking's reservation becomes a
 * sale (reserved -= q, sold += q; a "sale" movement). Publishes
 * inventory.stock.debited.
 * Idempotent: the inbox drops a redelivery; any other second settlement of
 * the reservation is refused by the domain.
 * Returns 0 (also, without effect, when the booking expired and its
 * reservation was released by that); ERR_TRANSIENT when the reservation is
 * not there yet (retried) or on database trouble; ERR_CONFLICT when the
 * reservation is no longer "reserved" otherwise (dead letter: sold or
 * released already).
 */
static int on_payment_payment_succeeded(struct handler_ctx *hc, struct err *err)
{
    struct payment_payment_succeeded in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    if (rc)
        return rc;
    return settle(hc, in.booking_id, stock_sell, err);
}

/*
 * Consumes payment.payment.failed: the compensation. The booking's
 * reservation is released (reserved -= q, available += q; a "release"
 * movement). Publishes inventory.stock.released.
 * Idempotent and error codes as on_payment_payment_succeeded.
 */
static int on_payment_payment_failed(struct handler_ctx *hc, struct err *err)
{
    struct payment_payment_failed in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    if (rc)
        return rc;
    return settle(hc, in.booking_id, stock_release, err);
}

/*
 * Consumes booking.booking.expired: gives back whatever the booking holds.
 * A reservation still reserved is released (a "release" movement); one
 * already sold (the payment succeeded before the deadline but the booking
 * was not confirmed in time) is returned to available (a "return" movement;
 * payment refunds the money on the same event). Either publishes
 * inventory.stock.released. Nothing reserved, refused or released already:
 * no movement, nothing published. In every case the expiry is recorded, so
 * later events of the booking have no effect (see the file comment).
 * Idempotent: the expiry is recorded once (a second one is a no-op), under
 * the stock row's lock, as every other change of the booking's stock.
 * Returns 0, or database errors (retried).
 */
static int on_booking_booking_expired(struct handler_ctx *hc, struct err *err)
{
    struct booking_booking_expired in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    if (rc)
        return rc;
    struct stock s;
    int has_stock = stock_store_lock(hc->db, in.offering_id, &s, err);
    if (has_stock < 0)
        return has_stock;
    rc = expiration_store_insert(hc->db, in.booking_id, in.offering_id, hc->ev->id, err);
    if (rc <= 0)
        return rc;
    struct reservation r;
    rc = has_stock ? reservation_store_find(hc->db, in.booking_id, true, &r, err) : 0;
    if (rc < 0)
        return rc;
    if (rc == 0 || r.status == RESERVATION_RELEASED) {
        log_info_ev(hc->ev, "booking '%s' expired holding no stock: nothing to give back",
                    in.booking_id);
        return 0;
    }
    return settle_locked(hc, &s, &r, r.status == RESERVATION_SOLD ? stock_return : stock_release,
                         err);
}
