/*
 * routes.c - inventory's HTTP API (SPEC §5): read-only views of the stock.
 *
 *   GET /stock/{offering_id}            → 200 {offering_id, capacity, available, reserved, sold}
 *   GET /stock/{offering_id}/movements  → 200 {offering_id, movements: [...]} oldest first
 *
 * Both answer 400 for a path id that is not a UUID and 404 for an offering
 * without stock. Stock changes only through events (handlers.c), never here.
 */
#include "inventory/routes.h"

#include "common/db.h"
#include "common/service.h"
#include "common/uuid7.h"
#include "inventory/store.h"

static int route_get_stock(const struct http_request *req, struct http_response *resp, void *app);
static int route_get_movements(const struct http_request *req, struct http_response *resp,
                               void *app);

const struct http_route inventory_routes[] = {
    {"GET", "/stock/{offering_id}", route_get_stock},
    {"GET", "/stock/{offering_id}/movements", route_get_movements},
};
_Static_assert(sizeof(inventory_routes) / sizeof(inventory_routes[0]) == INVENTORY_NROUTES,
               "INVENTORY_NROUTES must count the rows of inventory_routes");
const size_t inventory_nroutes = INVENTORY_NROUTES;

/* 400 unless the path parameter is a canonical UUID. */
static int check_offering_id(const char *id, struct err *err)
{
    if (!uuid7_is_valid(id))
        return err_set(err, ERR_INVALID, "offering id '%.64s' is not a uuid", id);
    return 0;
}

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
    const char *offering_id = req->params[0];
    if (check_offering_id(offering_id, &err))
        return http_reply_error(resp, &err);
    struct stock s;
    int rc = stock_store_find(service_db(req), offering_id, &s, &err);
    if (rc == 0)
        rc = err_set(&err, ERR_NOT_FOUND, "no stock for offering '%s'", offering_id);
    if (rc < 0)
        return http_reply_error(resp, &err);
    return http_reply_json(resp, 200,
                           json_pack("{s:s, s:I, s:I, s:I, s:I}", "offering_id", s.offering_id,
                                     "capacity", (json_int_t)s.capacity, "available",
                                     (json_int_t)s.available, "reserved", (json_int_t)s.reserved,
                                     "sold", (json_int_t)s.sold));
}

/* Appends one movement to the JSON array ctx. */
static int movement_json(void *ctx, const struct stock_movement_record *rec, struct err *err)
{
    const struct stock_movement *m = &rec->movement;
    json_t *item =
        json_pack("{s:s, s:s, s:I, s:s, s:s, s:o, s:o, s:s}", "id", rec->id, "kind",
                  stock_movement_kind_name(m->kind), "quantity", (json_int_t)m->quantity,
                  "booking_id", m->booking_id, "event_id", rec->event_id, "before",
                  levels_json(&m->before), "after", levels_json(&m->after), "at", rec->at);
    if (!item || json_array_append_new(ctx, item) != 0)
        return err_set(err, ERR_NOMEM, "cannot build the movements list");
    return 0;
}

/*
 * GET /stock/{offering_id}/movements: the audit trail, oldest first. Read in
 * one REPEATABLE READ snapshot, so the "does it exist" check and the list
 * agree.
 */
static int route_get_movements(const struct http_request *req, struct http_response *resp,
                               void *app)
{
    (void)app;
    struct err err;
    err_clear(&err);
    const char *offering_id = req->params[0];
    if (check_offering_id(offering_id, &err))
        return http_reply_error(resp, &err);
    struct db *db = service_db(req);
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    struct stock s = {0};
    int rc = db_begin_isolation(db, DB_REPEATABLE_READ, &err);
    if (rc == 0) {
        rc = stock_store_find(db, offering_id, &s, &err);
        if (rc == 0)
            rc = err_set(&err, ERR_NOT_FOUND, "no stock for offering '%s'", offering_id);
        if (rc > 0)
            rc = stock_store_list_movements(db, offering_id, movement_json, list, &err);
        if (rc >= 0)
            rc = db_commit(db, &err);
        else
            db_rollback(db);
    }
    if (rc < 0) {
        json_decref(list);
        return http_reply_error(resp, &err);
    }
    return http_reply_json(
        resp, 200, json_pack("{s:s, s:o}", "offering_id", s.offering_id, "movements", list));
}
