/*
 * store.c - the notification context's SQL (see store.h). Every statement is
 * parameterised through db_exec; values are never spliced into SQL. The
 * UNIQUE (kind, reference_id) of notifications is what "sent once" rests on
 * across redeliveries and instances: the insert below relies on it rather than
 * on a read-then-write, so two concurrent deliveries cannot both send.
 */
#include "notification/store.h"

#include "common/db.h"

#include <stdio.h>

int recipient_store_insert(struct db *db, const char *user_id, const char *email, struct err *err)
{
    const char *params[] = {user_id, email};
    return db_exec(db,
                   "INSERT INTO recipients (user_id, email) VALUES ($1::uuid, $2)"
                   " ON CONFLICT (user_id) DO NOTHING",
                   2, params, NULL, NULL, err);
}

int recipient_store_email(struct db *db, const char *user_id, char *email, size_t emaillen,
                          struct err *err)
{
    const char *params[] = {user_id};
    return db_exec_value(db, "SELECT email FROM recipients WHERE user_id = $1::uuid", 1, params,
                         email, emaillen, err);
}

int notification_store_insert(struct db *db, const struct notification *n, const char *event_id,
                              struct err *err)
{
    const char *params[] = {n->id,
                            n->user_id,
                            notification_kind_name(n->kind),
                            n->reference_id,
                            notification_channel_name(n->channel),
                            n->email,
                            n->subject,
                            n->body,
                            event_id};
    /* ON CONFLICT on the (kind, reference_id) key only: any other violation is a real error. */
    return db_exec(db,
                   "INSERT INTO notifications"
                   " (id, user_id, kind, reference_id, channel, email, subject, body, event_id)"
                   " VALUES ($1::uuid, $2::uuid, $3, $4::uuid, $5, $6, $7, $8, $9::uuid)"
                   " ON CONFLICT (kind, reference_id) DO NOTHING",
                   9, params, NULL, NULL, err);
}

struct list_ctx {
    notification_store_row_fn fn;
    void *ctx;
};

static int list_row(void *ctx, const struct db_row *row, struct err *err)
{
    struct list_ctx *lc = ctx;
    struct notification_store_row r = {
        .id = db_row_text(row, 0),
        .user_id = db_row_text(row, 1),
        .kind = db_row_text(row, 2),
        .reference_id = db_row_text(row, 3),
        .channel = db_row_text(row, 4),
        .email = db_row_text(row, 5),
        .subject = db_row_text(row, 6),
        .sent_at = db_row_text(row, 7),
    };
    return lc->fn(lc->ctx, &r, err);
}

int notification_store_list_by_user(struct db *db, const char *user_id, int limit,
                                    notification_store_row_fn fn, void *ctx, struct err *err)
{
    char limit_text[16];
    snprintf(limit_text, sizeof(limit_text), "%d", limit);
    const char *params[] = {user_id, limit_text};
    struct list_ctx lc = {fn, ctx};
    /* id breaks ties: uuid7 ids sort by creation time too. */
    return db_exec(db,
                   "SELECT id, user_id, kind, reference_id, channel, email, subject,"
                   " to_char(sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
                   " FROM notifications WHERE user_id = $1::uuid"
                   " ORDER BY sent_at DESC, id DESC LIMIT $2::int",
                   2, params, list_row, &lc, err);
}
