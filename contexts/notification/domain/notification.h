/*
 * notification.h - the notification aggregate: which facts call for a
 * notification, what it says, and the one-way step from draft to sent.
 *
 * Pure C: no I/O, no jansson, no database. The handlers hand in plain values
 * decoded from integration events; the domain answers with a composed
 * notification (or none) and, when one is sent, a domain event that events.c
 * maps to notification.notification.sent. The invariant that matters: a
 * notification is sent at most once (draft → sent, never again); the store
 * backs it with UNIQUE (kind, reference_id).
 */
#ifndef NOTIFICATION_DOMAIN_NOTIFICATION_H
#define NOTIFICATION_DOMAIN_NOTIFICATION_H

#include "common/err.h"
#include "common/uuid7.h"

#include <stddef.h>
#include <stdint.h>

#define NOTIFICATION_ID_LEN      UUID7_STR_LEN /* canonical UUID text and its terminator */
#define NOTIFICATION_EMAIL_MAX   254           /* longest address (as usermanagement accepts) */
#define NOTIFICATION_REASON_MAX  64            /* longest reason name in booking's events */
#define NOTIFICATION_SUBJECT_MAX 200           /* longest subject line, in bytes */
#define NOTIFICATION_BODY_MAX    1000          /* longest body, in bytes */

/* What a notification is about. The names are the cross-context strings. */
enum notification_kind {
    NOTIFICATION_KIND_NONE = 0,          /* the fact calls for no notification */
    NOTIFICATION_KIND_WELCOME,           /* "welcome": the user became a provider */
    NOTIFICATION_KIND_BOOKING_CONFIRMED, /* "booking_confirmed" */
    NOTIFICATION_KIND_BOOKING_REJECTED,  /* "booking_rejected" */
    NOTIFICATION_KIND_BOOKING_CANCELLED, /* "booking_cancelled" */
    NOTIFICATION_KIND_BOOKING_EXPIRED,   /* "booking_expired" */
};

/* How it goes out. Only e-mail exists; the enum keeps the string in one place. */
enum notification_channel {
    NOTIFICATION_CHANNEL_EMAIL = 0, /* "email" */
};

enum notification_status {
    NOTIFICATION_DRAFT = 0, /* composed, not sent: never stored */
    NOTIFICATION_SENT,      /* sent to its recipient: stored */
};

struct notification {
    char id[NOTIFICATION_ID_LEN]; /* set when sent */
    enum notification_kind kind;
    char user_id[NOTIFICATION_ID_LEN];      /* the recipient */
    char reference_id[NOTIFICATION_ID_LEN]; /* the user (welcome) or the booking */
    enum notification_channel channel;
    char email[NOTIFICATION_EMAIL_MAX + 1]; /* the address it was sent to; set when sent */
    char subject[NOTIFICATION_SUBJECT_MAX + 1];
    char body[NOTIFICATION_BODY_MAX + 1];
    enum notification_status status;
};

/* Domain events: in-process facts, free to change (events.c maps them). */
enum notification_event_kind {
    NOTIFICATION_EVENT_SENT, /* a notification went out */
};

struct notification_event {
    enum notification_event_kind kind;
    char notification_id[NOTIFICATION_ID_LEN];
    char user_id[NOTIFICATION_ID_LEN];
    enum notification_kind notification_kind;
    char reference_id[NOTIFICATION_ID_LEN];
    enum notification_channel channel;
};

/* ---- names ---------------------------------------------------------------- */

/* "welcome", "booking_confirmed", ... ("none" for NOTIFICATION_KIND_NONE). Static. */
const char *notification_kind_name(enum notification_kind kind);

/* "email". Static. */
const char *notification_channel_name(enum notification_channel channel);

/* ---- rules: which fact produces which notification (none → draft) --------- */

/*
 * Each function below composes *out as a draft for the fact it is named
 * after, or leaves out->kind = NOTIFICATION_KIND_NONE when the fact calls for
 * no notification. *out is overwritten either way. Returns 0, or
 * ERR_INVALID when an argument is NULL or does not fit (an id longer than a
 * UUID, a reason longer than NOTIFICATION_REASON_MAX).
 */

/* A role was granted: "provider" → a welcome (reference = the user); any other role → none. */
int notification_for_role_granted(const char *user_id, const char *role, struct notification *out,
                                  struct err *err);

/* A booking was confirmed: quantity units for amount_cents (≥ 0) → "booking_confirmed". */
int notification_for_booking_confirmed(const char *booking_id, const char *user_id,
                                       int64_t quantity, int64_t amount_cents,
                                       struct notification *out, struct err *err);

/* A booking was rejected for reason (e.g. "insufficient_stock") → "booking_rejected". */
int notification_for_booking_rejected(const char *booking_id, const char *user_id,
                                      const char *reason, struct notification *out,
                                      struct err *err);

/* A booking was cancelled for reason (e.g. "payment_declined") → "booking_cancelled". */
int notification_for_booking_cancelled(const char *booking_id, const char *user_id,
                                       const char *reason, struct notification *out,
                                       struct err *err);

/*
 * A booking expired unconfirmed (BOOKING_TIMEOUT_MS) → "booking_expired": its
 * places were released and any money taken is refunded.
 */
int notification_for_booking_expired(const char *booking_id, const char *user_id,
                                     int64_t amount_cents, struct notification *out,
                                     struct err *err);

/* ---- the transition: draft → sent --------------------------------------------- */

/*
 * Sends the draft n as notification id to the address email (both copied):
 * n becomes NOTIFICATION_SENT and *ev is the NOTIFICATION_EVENT_SENT event.
 * Returns 0; ERR_CONFLICT when n was sent already or there is nothing to send
 * (kind NONE); ERR_INVALID when id is not 36 characters; ERR_UNPROCESSABLE
 * when email is not an address (empty, no '@' between two non-empty parts,
 * longer than NOTIFICATION_EMAIL_MAX). On failure n and *ev are unchanged.
 */
int notification_send(struct notification *n, const char *id, const char *email,
                      struct notification_event *ev, struct err *err);

/* ---- helpers the rules use, exposed for tests ---------------------------------- */

/*
 * Writes amount_cents as a decimal amount, "1234" → "12.34", into out.
 * Negative amounts keep their sign. Returns 0, or ERR_INVALID when out is too small.
 */
int notification_format_amount(int64_t amount_cents, char *out, size_t outlen);

/*
 * A reader's sentence for a reason name: "insufficient_stock" → "not enough
 * places were left", "payment_declined" → "the payment was declined". NULL
 * for a reason it does not know (the body then names the reason as it is).
 */
const char *notification_reason_text(const char *reason);

#endif
