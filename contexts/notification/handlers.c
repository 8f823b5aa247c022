/*
 * handlers.c - what notification does with the events it consumes.
 *
 *   usermanagement.user.registered    on_usermanagement_user_registered    publishes nothing
 *   usermanagement.user.role_granted  on_usermanagement_user_role_granted  notification.notification.sent
 *   booking.booking.confirmed         on_booking_booking_confirmed         notification.notification.sent
 *   booking.booking.rejected          on_booking_booking_rejected          notification.notification.sent
 *   booking.booking.cancelled         on_booking_booking_cancelled         notification.notification.sent
 *   booking.booking.expired           on_booking_booking_expired           notification.notification.sent
 *
 * Each handler runs inside the consumer's transaction (inbox row, these
 * writes and the outbox rows commit together) and never BEGINs, COMMITs or
 * acks. The four senders share one use case, send_draft(): the domain decides
 * whether the fact calls for a notification and composes it; "sending" is
 * storing the row (UNIQUE (kind, reference_id)), publishing
 * notification.notification.sent and writing ONE info log line that names the
 * recipient's address. Bodies are never logged.
 */
#include "notification/handlers.h"

#include "booking/contract/booking_contract.h"
#include "common/envelope.h"
#include "common/log.h"
#include "common/uuid7.h"
#include "notification/domain/notification.h"
#include "notification/events.h"
#include "notification/store.h"
#include "usermanagement/contract/usermanagement_contract.h"

static handler_fn on_usermanagement_user_registered, on_usermanagement_user_role_granted,
    on_booking_booking_confirmed, on_booking_booking_rejected, on_booking_booking_cancelled,
    on_booking_booking_expired;

const struct subscription notification_subscriptions[] = {
    {&USERMANAGEMENT_USER_REGISTERED, on_usermanagement_user_registered},
    {&USERMANAGEMENT_USER_ROLE_GRANTED, on_usermanagement_user_role_granted},
    {&BOOKING_BOOKING_CONFIRMED, on_booking_booking_confirmed},
    {&BOOKING_BOOKING_REJECTED, on_booking_booking_rejected},
    {&BOOKING_BOOKING_CANCELLED, on_booking_booking_cancelled},
    {&BOOKING_BOOKING_EXPIRED, on_booking_booking_expired},
};

/*
 * The use case "send a notification", shared by every handler that sends:
 * look the recipient's address up in the replica, send the draft (domain),
 * store it, publish notification.notification.sent (events.c), log one line.
 *
 * Idempotent: a second delivery of the same event is stopped by the inbox;
 * another event about the same (kind, reference) finds the row there already
 * (the insert does nothing) and so publishes and logs nothing.
 *
 * Returns 0; ERR_TRANSIENT when the recipient is not in the replica yet
 * (usermanagement.user.registered may arrive after the fact: retry);
 * ERR_UNPROCESSABLE when the replica's address is unusable; database codes.
 */
static int send_draft(struct handler_ctx *hc, struct notification *draft, struct err *err)
{
    char email[NOTIFICATION_EMAIL_MAX + 1];
    int rc = recipient_store_email(hc->db, draft->user_id, email, sizeof(email), err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return err_set(err, ERR_TRANSIENT, "recipient '%s' has not arrived yet", draft->user_id);

    char id[UUID7_STR_LEN];
    if (uuid7_generate(id))
        return err_set(err, ERR_INTERNAL, "cannot generate a notification id");
    struct notification_event ev;
    rc = notification_send(draft, id, email, &ev, err);
    if (rc)
        return rc;

    rc = notification_store_insert(hc->db, draft, hc->ev->id, err);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        log_debug_ev(hc->ev, "notification '%s' about '%s' was sent before: nothing to do",
                     notification_kind_name(draft->kind), draft->reference_id);
        return 0;
    }
    rc = notification_events_publish(handler_origin(hc), &ev, NULL, err);
    if (rc)
        return rc;
    /* The "delivery" itself: the one line per notification, naming the address. */
    log_info_ev(
        hc->ev,
        "notification '%s' sent by %s to '%s' (notification '%s', user '%s', reference '%s')",
        notification_kind_name(draft->kind), notification_channel_name(draft->channel),
        draft->email, draft->id, draft->user_id, draft->reference_id);
    return 0;
}

/*
 * Consumes usermanagement.user.registered: records user_id → email in the
 * replica. Publishes nothing. Idempotent: ON CONFLICT DO NOTHING (the first
 * address recorded stays). Returns 0 or a database code. The address is not
 * logged here: it is logged only when something is sent to it.
 */
static int on_usermanagement_user_registered(struct handler_ctx *hc, struct err *err)
{
    struct usermanagement_user_registered ev;
    int rc = handler_decode(hc, &ev, sizeof(ev), err);
    if (rc)
        return rc;
    rc = recipient_store_insert(hc->db, ev.user_id, ev.email, err);
    if (rc < 0)
        return rc;
    log_debug_ev(hc->ev, "recipient '%s' %s", ev.user_id, rc ? "recorded" : "was known already");
    return 0;
}

/*
 * Consumes usermanagement.user.role_granted: role "provider" → a welcome
 * (reference = the user); any other role → nothing. Publishes
 * notification.notification.sent once per user. Idempotent: see send_draft.
 * Returns 0; ERR_TRANSIENT when the user's registration has not arrived yet;
 * ERR_INVALID when the data breaks the domain's bounds (dead letter).
 */
static int on_usermanagement_user_role_granted(struct handler_ctx *hc, struct err *err)
{
    struct usermanagement_user_role_granted ev;
    int rc = handler_decode(hc, &ev, sizeof(ev), err);
    if (rc)
        return rc;
    struct notification draft;
    rc = notification_for_role_granted(ev.user_id, ev.role, &draft, err);
    if (rc)
        return rc;
    if (draft.kind == NOTIFICATION_KIND_NONE) {
        log_debug_ev(hc->ev, "role '%s' of user '%s' calls for no notification", ev.role,
                     ev.user_id);
        return 0;
    }
    return send_draft(hc, &draft, err);
}

/*
 * Consumes booking.booking.confirmed: "booking_confirmed" to the booker
 * (reference = the booking). Publishes notification.notification.sent once per
 * booking. Idempotent: see send_draft. Returns 0; ERR_TRANSIENT when the
 * booker is not in the replica yet; ERR_INVALID for data out of the domain's
 * bounds.
 */
static int on_booking_booking_confirmed(struct handler_ctx *hc, struct err *err)
{
    struct booking_booking_confirmed ev;
    struct notification draft;
    int rc = handler_decode(hc, &ev, sizeof(ev), err);
    if (!rc)
        rc = notification_for_booking_confirmed(ev.booking_id, ev.user_id, ev.quantity,
                                                ev.amount_cents, &draft, err);
    return rc ? rc : send_draft(hc, &draft, err);
}

/*
 * Consumes booking.booking.rejected: "booking_rejected" with the reason in
 * words. Publishes notification.notification.sent once per booking.
 * Idempotent and error codes: as on_booking_booking_confirmed.
 */
static int on_booking_booking_rejected(struct handler_ctx *hc, struct err *err)
{
    struct booking_booking_rejected ev;
    struct notification draft;
    int rc = handler_decode(hc, &ev, sizeof(ev), err);
    if (!rc)
        rc = notification_for_booking_rejected(ev.booking_id, ev.user_id, ev.reason, &draft, err);
    return rc ? rc : send_draft(hc, &draft, err);
}

/*
 * Consumes booking.booking.cancelled: "booking_cancelled" with the reason in
 * words. Publishes notification.notification.sent once per booking.
 * Idempotent and error codes: as on_booking_booking_confirmed.
 */
static int on_booking_booking_cancelled(struct handler_ctx *hc, struct err *err)
{
    struct booking_booking_cancelled ev;
    struct notification draft;
    int rc = handler_decode(hc, &ev, sizeof(ev), err);
    if (!rc)
        rc = notification_for_booking_cancelled(ev.booking_id, ev.user_id, ev.reason, &draft, err);
    return rc ? rc : send_draft(hc, &draft, err);
}

/*
 * Consumes booking.booking.expired: "booking_expired" (places released, any
 * charge refunded). Publishes notification.notification.sent once per
 * booking. Idempotent and error codes: as on_booking_booking_confirmed.
 */
static int on_booking_booking_expired(struct handler_ctx *hc, struct err *err)
{
    struct booking_booking_expired ev;
    struct notification draft;
    int rc = handler_decode(hc, &ev, sizeof(ev), err);
    if (!rc)
        rc = notification_for_booking_expired(ev.booking_id, ev.user_id, ev.amount_cents, &draft,
                                              err);
    return rc ? rc : send_draft(hc, &draft, err);
}
