/*
 * events.c - domain events → integration events, for payment. Inside the
 * context a payment's outcome is an enum; on the wire it is the contract of
 * payment_contract.h with strings ("limit_exceeded"), versioned. This file is
 * the only place that turns the one into the other.
 *
 *   PAYMENT_DOMAIN_INTENT_RECORDED  → (dropped: nobody outside needs to know
 *                                      an intent exists; booking already knows
 *                                      it created the booking)
 *   PAYMENT_DOMAIN_SUCCEEDED        → payment.payment.succeeded v1
 *   PAYMENT_DOMAIN_FAILED           → payment.payment.failed v1 (reason as text)
 *   PAYMENT_DOMAIN_VOIDED           → (dropped: nothing was charged, so nothing
 *                                      happened that anyone outside could see)
 *   PAYMENT_DOMAIN_REFUNDED         → payment.payment.refunded v1
 */
#include "payment/events.h"

#include "payment/contract/payment_contract.h"

#include "common/outbox.h"

#include <stdio.h>
#include <string.h>

#define PAYMENT_CONTEXT "payment"

static int publish_succeeded(struct db *db, const struct payment_domain_event *ev,
                             const char *correlation_id, const char *causation_id, struct err *err)
{
    struct payment_payment_succeeded out;
    memset(&out, 0, sizeof(out));
    snprintf(out.payment_id, sizeof(out.payment_id), "%s", ev->payment_id);
    snprintf(out.booking_id, sizeof(out.booking_id), "%s", ev->booking_id);
    out.amount_cents = ev->amount_cents;
    json_t *data = payment_payment_succeeded_encode(&out);
    if (!data)
        return err_set(err, ERR_NOMEM, "cannot encode '%s'", PAYMENT_PAYMENT_SUCCEEDED_TYPE);
    return outbox_publish(db, PAYMENT_CONTEXT, PAYMENT_PAYMENT_SUCCEEDED_TYPE,
                          PAYMENT_PAYMENT_SUCCEEDED_VERSION, data, correlation_id, causation_id,
                          NULL, err);
}

static int publish_failed(struct db *db, const struct payment_domain_event *ev,
                          const char *correlation_id, const char *causation_id, struct err *err)
{
    struct payment_payment_failed out;
    memset(&out, 0, sizeof(out));
    snprintf(out.payment_id, sizeof(out.payment_id), "%s", ev->payment_id);
    snprintf(out.booking_id, sizeof(out.booking_id), "%s", ev->booking_id);
    out.amount_cents = ev->amount_cents;
    snprintf(out.reason, sizeof(out.reason), "%s", payment_reason_name(ev->reason));
    json_t *data = payment_payment_failed_encode(&out);
    if (!data)
        return err_set(err, ERR_NOMEM, "cannot encode '%s'", PAYMENT_PAYMENT_FAILED_TYPE);
    return outbox_publish(db, PAYMENT_CONTEXT, PAYMENT_PAYMENT_FAILED_TYPE,
                          PAYMENT_PAYMENT_FAILED_VERSION, data, correlation_id, causation_id, NULL,
                          err);
}

static int publish_refunded(struct db *db, const struct payment_domain_event *ev,
                            const char *correlation_id, const char *causation_id, struct err *err)
{
    struct payment_payment_refunded out;
    memset(&out, 0, sizeof(out));
    snprintf(out.payment_id, sizeof(out.payment_id), "%s", ev->payment_id);
    snprintf(out.booking_id, sizeof(out.booking_id), "%s", ev->booking_id);
    out.amount_cents = ev->amount_cents;
    json_t *data = payment_payment_refunded_encode(&out);
    if (!data)
        return err_set(err, ERR_NOMEM, "cannot encode '%s'", PAYMENT_PAYMENT_REFUNDED_TYPE);
    return outbox_publish(db, PAYMENT_CONTEXT, PAYMENT_PAYMENT_REFUNDED_TYPE,
                          PAYMENT_PAYMENT_REFUNDED_VERSION, data, correlation_id, causation_id,
                          NULL, err);
}

int payment_events_publish(struct db *db, const struct payment_domain_event *evs, size_t n,
                           const char *correlation_id, const char *causation_id, struct err *err)
{
    for (size_t i = 0; i < n; i++) {
        int rc = 0;
        switch (evs[i].kind) {
        case PAYMENT_DOMAIN_INTENT_RECORDED:
        case PAYMENT_DOMAIN_VOIDED:
            /* Internal bookkeeping: dropped on purpose (see the table above). */
            break;
        case PAYMENT_DOMAIN_REFUNDED:
            rc = publish_refunded(db, &evs[i], correlation_id, causation_id, err);
            break;
        case PAYMENT_DOMAIN_SUCCEEDED:
            rc = publish_succeeded(db, &evs[i], correlation_id, causation_id, err);
            break;
        case PAYMENT_DOMAIN_FAILED:
            rc = publish_failed(db, &evs[i], correlation_id, causation_id, err);
            break;
        }
        if (rc)
            return rc;
    }
    return 0;
}
