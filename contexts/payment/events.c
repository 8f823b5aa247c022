/*
 * events.c - domain events → integration events, for payment. Inside the
 * context a payment's outcome is an enum; on the wire it is the contract of
 * payment_contract.h with strings ("limit_exceeded"), versioned. This file is
 * the only place that turns the one into the other.
 *
 *   PAYMENT_EVENT_INTENT_RECORDED  → (dropped: nobody outside needs to know
 *                                      an intent exists; booking already knows
 *                                      it created the booking)
 *   PAYMENT_EVENT_SUCCEEDED        → payment.payment.succeeded v1
 *   PAYMENT_EVENT_FAILED           → payment.payment.failed v1 (reason as text)
 *   PAYMENT_EVENT_VOIDED           → (dropped: nothing was charged, so nothing
 *                                      happened that anyone outside could see)
 *   PAYMENT_EVENT_REFUNDED         → payment.payment.refunded v1
 */
#include "payment/events.h"

#include "payment/contract/payment_contract.h"

#include <stdio.h>

/* Every payment event names the payment, the booking and the amount. */
#define COPY_IDS(dst, ev)                                                                          \
    do {                                                                                           \
        snprintf((dst).payment_id, sizeof((dst).payment_id), "%s", (ev)->payment_id);              \
        snprintf((dst).booking_id, sizeof((dst).booking_id), "%s", (ev)->booking_id);              \
        (dst).amount_cents = (ev)->amount_cents;                                                   \
    } while (0)

int payment_events_publish(const struct outbox_origin *from, const struct payment_event *ev,
                           char id_out[UUID7_STR_LEN], struct err *err)
{
    if (id_out)
        id_out[0] = '\0';
    switch (ev->kind) {
    case PAYMENT_EVENT_INTENT_RECORDED:
    case PAYMENT_EVENT_VOIDED:
        /* Internal bookkeeping: dropped on purpose (see the table above). */
        return 0;
    case PAYMENT_EVENT_SUCCEEDED: {
        struct payment_payment_succeeded out = {0};
        COPY_IDS(out, ev);
        return outbox_publish(from, &PAYMENT_PAYMENT_SUCCEEDED, &out, sizeof(out), id_out, err);
    }
    case PAYMENT_EVENT_FAILED: {
        struct payment_payment_failed out = {0};
        COPY_IDS(out, ev);
        snprintf(out.reason, sizeof(out.reason), "%s", payment_reason_name(ev->reason));
        return outbox_publish(from, &PAYMENT_PAYMENT_FAILED, &out, sizeof(out), id_out, err);
    }
    case PAYMENT_EVENT_REFUNDED: {
        struct payment_payment_refunded out = {0};
        COPY_IDS(out, ev);
        return outbox_publish(from, &PAYMENT_PAYMENT_REFUNDED, &out, sizeof(out), id_out, err);
    }
    }
    return err_set(err, ERR_INTERNAL, "unknown payment domain event kind %d", (int)ev->kind);
}
