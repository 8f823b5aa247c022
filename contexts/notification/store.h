/*
 * store.h - every SQL statement of the notification context (schema
 * "notification", tables unqualified): the recipients replica and the
 * notifications sent. Nothing else lives here: no rules, no JSON.
 *
 * All functions run on the caller's connection and inside the caller's
 * transaction when one is open; they never BEGIN or COMMIT.
 * Return values follow the store convention of docs/architecture.md: writes
 * 0, look-ups 1 found / 0 not, record-once 1 new / 0 known, lists a count;
 * a negative err code with err filled.
 */
#ifndef NOTIFICATION_STORE_H
#define NOTIFICATION_STORE_H

#include "common/err.h"
#include "notification/domain/notification.h"

#include <stddef.h>

struct db;

/* ---- recipients: the replica of usermanagement's users ------------------------ */

/*
 * Records user_id → email. Idempotent: a user already known keeps the address
 * first recorded (ON CONFLICT DO NOTHING). Returns 1 when recorded now, 0 when
 * known already, or a negative code.
 */
int recipient_store_insert(struct db *db, const char *user_id, const char *email, struct err *err);

/*
 * Copies the e-mail address of user_id into email (emaillen bytes). Returns 1
 * when the user is known, 0 when not (email is then ""), or a negative code.
 */
int recipient_store_email(struct db *db, const char *user_id, char *email, size_t emaillen,
                          struct err *err);

/* ---- notifications ------------------------------------------------------------------ */

/*
 * Stores the sent notification n, caused by event_id. Returns 1 when stored,
 * 0 when a notification of the same (kind, reference_id) exists already (it
 * was sent before: nothing is written), or a negative code.
 */
int notification_store_insert(struct db *db, const struct notification *n, const char *event_id,
                              struct err *err);

/* One stored notification as the list reads it; every field borrowed for the callback. */
struct notification_store_row {
    const char *id;
    const char *user_id;
    const char *kind;
    const char *reference_id;
    const char *channel;
    const char *email;
    const char *subject;
    const char *sent_at; /* RFC 3339 UTC, microseconds */
};

/* Called once per row; return 0 to go on or a negative code (with err) to stop. */
typedef int (*notification_store_row_fn)(void *ctx, const struct notification_store_row *row,
                                         struct err *err);

/*
 * Calls fn for at most limit notifications of user_id, newest first. Returns
 * the number of rows, or a negative code.
 */
int notification_store_list_by_user(struct db *db, const char *user_id, int limit,
                                    notification_store_row_fn fn, void *ctx, struct err *err);

#endif
