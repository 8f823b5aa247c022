/*
 * notification.c - the notification aggregate (see notification.h): the rules
 * that turn facts into notifications and the single path from draft to sent.
 *
 *   (fact) ──notification_for_*()──▶ draft ──notification_send()──▶ sent
 *      │                                                             │
 *      └─ the fact calls for nothing: kind NONE, no draft            └─ send again: ERR_CONFLICT
 *
 * Transitions:
 *   none  → draft  notification_for_role_granted()       role "provider" only
 *   none  → draft  notification_for_booking_confirmed()
 *   none  → draft  notification_for_booking_rejected()
 *   none  → draft  notification_for_booking_cancelled()
 *   none  → draft  notification_for_booking_expired()
 *   draft → sent   notification_send()                   raises NOTIFICATION_EVENT_SENT
 *   sent  → sent   refused (ERR_CONFLICT): a notification goes out once
 *
 * Only sent notifications are stored, so "sent once per (kind, reference)"
 * holds across deliveries through the store's UNIQUE (kind, reference_id);
 * this file keeps it within one aggregate. Bodies never leave this context
 * except by the channel: they are not logged and not in any event.
 */
#include "notification/domain/notification.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The one role whose grant calls for a notification. */
#define NOTIFICATION_PROVIDER_ROLE "provider"

const char *notification_kind_name(enum notification_kind kind)
{
    switch (kind) {
    case NOTIFICATION_KIND_WELCOME: return "welcome";
    case NOTIFICATION_KIND_BOOKING_CONFIRMED: return "booking_confirmed";
    case NOTIFICATION_KIND_BOOKING_REJECTED: return "booking_rejected";
    case NOTIFICATION_KIND_BOOKING_CANCELLED: return "booking_cancelled";
    case NOTIFICATION_KIND_BOOKING_EXPIRED: return "booking_expired";
    case NOTIFICATION_KIND_NONE: break;
    }
    return "none";
}

const char *notification_channel_name(enum notification_channel channel)
{
    (void)channel; /* e-mail is the only channel so far */
    return "email";
}

/* ---- helpers ------------------------------------------------------------------------- */

int notification_format_amount(int64_t amount_cents, char *out, size_t outlen)
{
    /* Work on the magnitude as unsigned so INT64_MIN does not overflow. */
    uint64_t mag = amount_cents < 0 ? (uint64_t)0 - (uint64_t)amount_cents : (uint64_t)amount_cents;
    int n = snprintf(out, outlen, "%s%" PRIu64 ".%02" PRIu64, amount_cents < 0 ? "-" : "",
                     mag / 100, mag % 100);
    if (n < 0 || (size_t)n >= outlen)
        return ERR_INVALID;
    return 0;
}

const char *notification_reason_text(const char *reason)
{
    static const struct {
        const char *reason;
        const char *text;
    } texts[] = {
        {"insufficient_stock", "not enough places were left"},
        {"payment_declined", "the payment was declined"},
        {"limit_exceeded", "the amount is above the payment limit"},
    };
    if (!reason)
        return NULL;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (strcmp(reason, texts[i].reason) == 0)
            return texts[i].text;
    return NULL;
}

/* Copies src into dst[dstlen] only when it fits; false otherwise (dst untouched). */
static bool copy_fitting(char *dst, size_t dstlen, const char *src)
{
    size_t n = strlen(src);
    if (n >= dstlen)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* The common start of every rule: a fresh draft of kind for user_id about reference_id. */
static int draft_init(struct notification *out, enum notification_kind kind, const char *user_id,
                      const char *reference_id, struct err *err)
{
    memset(out, 0, sizeof(*out));
    out->kind = NOTIFICATION_KIND_NONE;
    if (!user_id || !reference_id)
        return err_set(err, ERR_INVALID, "notification needs a user and a reference");
    if (!copy_fitting(out->user_id, sizeof(out->user_id), user_id))
        return err_set(err, ERR_INVALID, "user id '%.40s...' is too long", user_id);
    if (!copy_fitting(out->reference_id, sizeof(out->reference_id), reference_id))
        return err_set(err, ERR_INVALID, "reference id '%.40s...' is too long", reference_id);
    out->kind = kind;
    out->channel = NOTIFICATION_CHANNEL_EMAIL;
    out->status = NOTIFICATION_DRAFT;
    return 0;
}

/*
 * Checks a reason name and writes the phrase a reader gets for it: the known
 * sentence, or "reason '<name>'" for one this context has not learned yet (a
 * new reason upstream must not stop the notification).
 */
static int reason_phrase(const char *reason, char *out, size_t outlen, struct err *err)
{
    if (!reason || !*reason)
        return err_set(err, ERR_INVALID, "a reason is required");
    if (strlen(reason) > NOTIFICATION_REASON_MAX)
        return err_set(err, ERR_INVALID, "reason '%.40s...' is longer than %d", reason,
                       NOTIFICATION_REASON_MAX);
    const char *text = notification_reason_text(reason);
    if (text)
        snprintf(out, outlen, "%s", text);
    else
        snprintf(out, outlen, "reason '%s'", reason);
    return 0;
}

/* ---- rules ------------------------------------------------------------------------------ */

int notification_for_role_granted(const char *user_id, const char *role, struct notification *out,
                                  struct err *err)
{
    memset(out, 0, sizeof(*out));
    if (!role)
        return err_set(err, ERR_INVALID, "a role is required");
    /* Only becoming a provider is news to the user; other roles are silent. */
    if (strcmp(role, NOTIFICATION_PROVIDER_ROLE) != 0)
        return 0;
    int rc = draft_init(out, NOTIFICATION_KIND_WELCOME, user_id, user_id, err);
    if (rc)
        return rc;
    snprintf(out->subject, sizeof(out->subject), "Welcome to the marketplace, provider");
    snprintf(out->body, sizeof(out->body),
             "Hello,\n\n"
             "you are now a provider on the marketplace: once your provider account is "
             "active, the offerings you publish can be booked.\n");
    return 0;
}

int notification_for_booking_confirmed(const char *booking_id, const char *user_id,
                                       int64_t quantity, int64_t amount_cents,
                                       struct notification *out, struct err *err)
{
    int rc = draft_init(out, NOTIFICATION_KIND_BOOKING_CONFIRMED, user_id, booking_id, err);
    if (rc)
        return rc;
    if (quantity < 1 || amount_cents < 0) {
        memset(out, 0, sizeof(*out));
        return err_set(err, ERR_INVALID,
                       "booking '%s': quantity %" PRId64 " or amount %" PRId64 " out of range",
                       booking_id, quantity, amount_cents);
    }
    char amount[32];
    notification_format_amount(amount_cents, amount, sizeof(amount)); /* always fits */
    snprintf(out->subject, sizeof(out->subject), "Your booking is confirmed");
    snprintf(out->body, sizeof(out->body),
             "Hello,\n\n"
             "your booking '%s' is confirmed: %" PRId64 " %s, %s paid.\n",
             booking_id, quantity, quantity == 1 ? "place" : "places", amount);
    return 0;
}

/*
 * The draft of a booking that ended with a reason: "your booking '<id>'
 * <what>: <the reason in words>. <after>".
 */
static int reason_draft(enum notification_kind kind, const char *booking_id, const char *user_id,
                        const char *reason, const char *subject, const char *what,
                        const char *after, struct notification *out, struct err *err)
{
    int rc = draft_init(out, kind, user_id, booking_id, err);
    char phrase[NOTIFICATION_REASON_MAX + 16];
    if (rc == 0)
        rc = reason_phrase(reason, phrase, sizeof(phrase), err);
    if (rc) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    snprintf(out->subject, sizeof(out->subject), "%s", subject);
    snprintf(out->body, sizeof(out->body), "Hello,\n\nyour booking '%s' %s: %s. %s\n", booking_id,
             what, phrase, after);
    return 0;
}

int notification_for_booking_rejected(const char *booking_id, const char *user_id,
                                      const char *reason, struct notification *out, struct err *err)
{
    return reason_draft(NOTIFICATION_KIND_BOOKING_REJECTED, booking_id, user_id, reason,
                        "Your booking could not be made", "could not be made",
                        "Nothing was charged.", out, err);
}

int notification_for_booking_cancelled(const char *booking_id, const char *user_id,
                                       const char *reason, struct notification *out,
                                       struct err *err)
{
    return reason_draft(NOTIFICATION_KIND_BOOKING_CANCELLED, booking_id, user_id, reason,
                        "Your booking was cancelled", "was cancelled",
                        "The places held for you were released.", out, err);
}

int notification_for_booking_expired(const char *booking_id, const char *user_id,
                                     int64_t amount_cents, struct notification *out,
                                     struct err *err)
{
    int rc = draft_init(out, NOTIFICATION_KIND_BOOKING_EXPIRED, user_id, booking_id, err);
    if (rc)
        return rc;
    char amount[32];
    notification_format_amount(amount_cents, amount, sizeof(amount)); /* always fits */
    snprintf(out->subject, sizeof(out->subject), "Your booking expired");
    snprintf(out->body, sizeof(out->body),
             "Hello,\n\n"
             "your booking '%s' could not be completed in time and has expired. The places held "
             "for you were released, and if %s was charged it is refunded.\n",
             booking_id, amount);
    return 0;
}

/* ---- the transition ------------------------------------------------------------------ */

/*
 * A light check on purpose: the full address rule is applied where the
 * address enters the system (usermanagement, and the event contract). Here it
 * only guards the invariant "an e-mail notification has somewhere to go".
 */
static bool email_is_address(const char *email)
{
    size_t n = strlen(email);
    const char *at = strchr(email, '@');
    return n > 0 && n <= NOTIFICATION_EMAIL_MAX && at && at != email && at[1] != '\0';
}

int notification_send(struct notification *n, const char *id, const char *email,
                      struct notification_event *ev, struct err *err)
{
    if (n->kind == NOTIFICATION_KIND_NONE)
        return err_set(err, ERR_CONFLICT, "there is no notification to send");
    if (n->status == NOTIFICATION_SENT)
        return err_set(err, ERR_CONFLICT, "notification '%s' was sent already", n->id);
    if (!id || strlen(id) != NOTIFICATION_ID_LEN - 1)
        return err_set(err, ERR_INVALID, "notification id '%s' is not a uuid", id ? id : "");
    if (!email || !email_is_address(email))
        return err_set(err, ERR_UNPROCESSABLE, "recipient of user '%s' has no e-mail address",
                       n->user_id);

    memcpy(n->id, id, NOTIFICATION_ID_LEN);
    snprintf(n->email, sizeof(n->email), "%s", email);
    n->status = NOTIFICATION_SENT;

    memset(ev, 0, sizeof(*ev));
    ev->kind = NOTIFICATION_EVENT_SENT;
    memcpy(ev->notification_id, n->id, sizeof(ev->notification_id));
    memcpy(ev->user_id, n->user_id, sizeof(ev->user_id));
    ev->notification_kind = n->kind;
    memcpy(ev->reference_id, n->reference_id, sizeof(ev->reference_id));
    ev->channel = n->channel;
    return 0;
}
