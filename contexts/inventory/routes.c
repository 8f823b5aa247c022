/*
 * routes.c - inventory's HTTP API (SPEC §5): read-only views of the stock.
 *
 *   GET /stock/{offering_id}            → 200 {offering_id, capacity, available, reserved, sold}
 *   GET /stock/{offering_id}/movements[?limit=N][&cursor=C]
 *                                       → 200 {offering_id, movements: [...], next_cursor}
 *                                         oldest first, a page at a time
 *
 * Both answer 400 for a path id that is not a UUID and 404 for an offering
 * without stock. Stock changes only through events (handlers.c), never here.
 *
 * Paging: limit is 1..MOVEMENTS_LIMIT_MAX (default MOVEMENTS_LIMIT_DEFAULT);
 * next_cursor is null on the last page, else the opaque value to send as
 * cursor for the next one. It is a keyset cursor (the last movement's seq),
 * never an OFFSET, so a deep page costs what the first does and movements
 * appended meanwhile are neither skipped nor repeated.
 */
#include "inventory/routes.h"

#include "common/db.h"
#include "common/route.h"
#include "common/uuid7.h"
#include "inventory/store.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOVEMENTS_LIMIT_DEFAULT 100
#define MOVEMENTS_LIMIT_MAX     1000
#define MOVEMENTS_CURSOR_DIGITS 18 /* a seq is a bigint; 18 digits cannot overflow it */

static int route_get_stock(const struct http_request *req, struct http_response *resp, void *app);
static int route_get_movements(const struct http_request *req, struct http_response *resp,
                               void *app);

const struct http_route inventory_routes[] = {
    {"GET", "/stock/{offering_id}", route_get_stock},
    {"GET", "/stock/{offering_id}/movements", route_get_movements},
};

static json_t *levels_json(const struct stock_levels *l)
{
    return json_pack("{s:I, s:I, s:I}", "available", (json_int_t)l->available, "reserved",
                     (json_int_t)l->reserved, "sold", (json_int_t)l->sold);
}

/* GET /stock/{offering_id}: the current levels of one offering's stock. */
static int route_get_stock(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    struct err err;
    err_clear(&err);
    char offering_id[UUID7_STR_LEN];
    struct stock s;
    int rc = http_param_uuid(req->params[0], "offering id", offering_id, &err);
    if (!rc)
        rc = http_found(stock_store_find(route_db(req), offering_id, &s, &err), "stock of offering",
                        offering_id, &err);
    if (rc)
        return http_reply_error(resp, &err);
    return http_reply_json(resp, 200,
                           json_pack("{s:s, s:I, s:I, s:I, s:I}", "offering_id", s.offering_id,
                                     "capacity", (json_int_t)s.capacity, "available",
                                     (json_int_t)s.available, "reserved", (json_int_t)s.reserved,
                                     "sold", (json_int_t)s.sold));
}

/* One page of movements being built: the store reads one row more than the page holds. */
struct movement_page {
    json_t *list;
    int64_t limit;
    int64_t count;
    int64_t last_seq; /* of the last movement in list */
    bool more;        /* a row beyond the page exists */
};

/* Appends one movement to the page ctx, or notes that there are more. */
static int movement_json(void *ctx, const struct stock_movement_record *rec, struct err *err)
{
    struct movement_page *page = ctx;
    if (page->count == page->limit) {
        page->more = true;
        return 0;
    }
    page->count++;
    page->last_seq = rec->seq;
    const struct stock_movement *m = &rec->movement;
    json_t *item =
        json_pack("{s:s, s:s, s:I, s:s, s:s, s:o, s:o, s:s}", "id", rec->id, "kind",
                  stock_movement_kind_name(m->kind), "quantity", (json_int_t)m->quantity,
                  "booking_id", m->booking_id, "event_id", rec->event_id, "before",
                  levels_json(&m->before), "after", levels_json(&m->after), "at", rec->at);
    if (!item || json_array_append_new(page->list, item) != 0)
        return err_set(err, ERR_NOMEM, "cannot build the movements list");
    return 0;
}

/*
 * Reads ?limit= and ?cursor= into *limit and *after_seq (-1 without a
 * cursor). Returns 0 or ERR_INVALID.
 */
static int page_params(const struct http_request *req, int64_t *limit, int64_t *after_seq,
                       struct err *err)
{
    *limit = MOVEMENTS_LIMIT_DEFAULT;
    *after_seq = -1;
    const char *text = http_query(req, "limit");
    if (text) {
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (errno || end == text || *end || v < 1 || v > MOVEMENTS_LIMIT_MAX)
            return err_set(err, ERR_INVALID, "invalid limit '%.32s': want an integer in [1, %d]",
                           text, MOVEMENTS_LIMIT_MAX);
        *limit = v;
    }
    text = http_query(req, "cursor");
    if (text) {
        size_t n = strlen(text);
        if (n == 0 || n > MOVEMENTS_CURSOR_DIGITS || strspn(text, "0123456789") != n)
            return err_set(err, ERR_INVALID,
                           "invalid cursor '%.32s': send the next_cursor of the previous page",
                           text);
        *after_seq = strtoll(text, NULL, 10);
    }
    return 0;
}

/*
 * GET /stock/{offering_id}/movements: the audit trail, oldest first, one
 * page (see the top of this file). Read in one REPEATABLE READ snapshot, so
 * the "does it exist" check and the page agree.
 */
static int route_get_movements(const struct http_request *req, struct http_response *resp,
                               void *app)
{
    (void)app;
    struct err err;
    err_clear(&err);
    char offering_id[UUID7_STR_LEN];
    struct movement_page page = {.list = NULL};
    int64_t after_seq;
    if (http_param_uuid(req->params[0], "offering id", offering_id, &err) ||
        page_params(req, &page.limit, &after_seq, &err))
        return http_reply_error(resp, &err);
    struct db *db = route_db(req);
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    page.list = list;
    struct stock s = {0};
    int rc = db_begin_isolation(db, DB_REPEATABLE_READ, &err);
    if (rc == 0) {
        rc = http_found(stock_store_find(db, offering_id, &s, &err), "stock of offering",
                        offering_id, &err);
        if (rc == 0)
            rc = stock_store_list_movements(db, offering_id, after_seq, page.limit + 1,
                                            movement_json, &page, &err);
        if (rc >= 0)
            rc = db_commit(db, &err);
        else
            db_rollback(db);
    }
    if (rc < 0) {
        json_decref(list);
        return http_reply_error(resp, &err);
    }
    char cursor[24];
    snprintf(cursor, sizeof(cursor), "%lld", (long long)page.last_seq);
    return http_reply_json(resp, 200,
                           json_pack("{s:s, s:o, s:s?}", "offering_id", s.offering_id, "movements",
                                     list, "next_cursor", page.more ? cursor : NULL));
}
