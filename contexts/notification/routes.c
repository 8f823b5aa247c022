/*
 * routes.c - notification's HTTP API: read-only, the notifications sent.
 *
 *   GET /notifications?user_id=<uuid>  → 200 {"notifications": [...]}, newest first
 *
 * Nothing is written over HTTP: notifications are sent only in answer to
 * events (handlers.c). Bodies are not returned: the list says what was sent,
 * to whom and when; the content stays in the table.
 */
#include "notification/routes.h"

#include "common/route.h"
#include "common/uuid7.h"
#include "notification/store.h"

/* The most a list returns: the newest ones (a user has one per final booking). */
#define NOTIFICATION_LIST_MAX 1000

static int route_get_notifications(const struct http_request *req, struct http_response *resp,
                                   void *app);

const struct http_route notification_routes[] = {
    {"GET", "/notifications", route_get_notifications},
};

static int append_row(void *ctx, const struct notification_store_row *row, struct err *err)
{
    json_t *list = ctx;
    json_t *item = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", row->id, "user_id",
                             row->user_id, "kind", row->kind, "reference_id", row->reference_id,
                             "channel", row->channel, "email", row->email, "subject", row->subject,
                             "sent_at", row->sent_at);
    if (!item || json_array_append_new(list, item))
        return err_set(err, ERR_NOMEM, "cannot build the notification list");
    return 0;
}

/*
 * GET /notifications?user_id=<uuid>: the user's notifications, newest first
 * (at most NOTIFICATION_LIST_MAX). 400 when user_id is missing or not a
 * UUID; an unknown user has none (200, empty list).
 */
static int route_get_notifications(const struct http_request *req, struct http_response *resp,
                                   void *app)
{
    (void)app;
    struct err err = {0};
    char user_id[UUID7_STR_LEN];
    if (http_param_uuid(http_query(req, "user_id"), "query parameter 'user_id'", user_id, &err))
        return http_reply_error(resp, &err);
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    int rc = notification_store_list_by_user(route_db(req), user_id, NOTIFICATION_LIST_MAX,
                                             append_row, list, &err);
    if (rc < 0) {
        json_decref(list);
        return http_reply_error(resp, &err);
    }
    return http_reply_json(resp, 200, json_pack("{s:o}", "notifications", list));
}
