/*
 * routes.c - payment's HTTP API. Read-only: payments are created and
 * decided by events (handlers.c), never by a request.
 *
 *   GET /payments?booking_id=<uuid>   the decided payments of a booking
 */
#include "payment/routes.h"

#include "payment/store.h"

#include "common/route.h"
#include "common/uuid7.h"

static int route_get_payments(const struct http_request *req, struct http_response *resp,
                              void *app);

const struct http_route payment_routes[] = {
    {"GET", "/payments", route_get_payments},
};

/* One payment as JSON: reason only when failed, decided_at only once decided. */
static json_t *payment_json(const struct payment_record *rec)
{
    const struct payment *p = &rec->payment;
    json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s}", "id", p->id, "booking_id", p->booking_id,
                          "amount_cents", (json_int_t)p->amount_cents, "status",
                          payment_status_name(p->status), "created_at", rec->created_at);
    if (o && p->status == PAYMENT_FAILED &&
        json_object_set_new(o, "reason", json_string(payment_reason_name(p->reason)))) {
        json_decref(o);
        return NULL;
    }
    if (o && rec->decided_at[0] &&
        json_object_set_new(o, "decided_at", json_string(rec->decided_at))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int append_payment(void *ctx, const struct payment_record *rec, struct err *err)
{
    json_t *o = payment_json(rec);
    if (!o || json_array_append_new(ctx, o))
        return err_set(err, ERR_NOMEM, "out of memory building the payment list");
    return 0;
}

/*
 * GET /payments?booking_id=<uuid> → 200 {"payments": [...]}: the booking's
 * succeeded or failed payment (at most one; an intent not decided yet is not
 * listed), an empty list when there is none. 400 when booking_id is missing
 * or not a UUID.
 */
static int route_get_payments(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    struct err err;
    err_clear(&err);
    char booking_id[UUID7_STR_LEN];
    if (http_param_uuid(http_query(req, "booking_id"), "query parameter 'booking_id'", booking_id,
                        &err))
        return http_reply_error(resp, &err);
    json_t *list = json_array();
    if (!list)
        return ERR_NOMEM;
    int rc = payment_store_list_decided(route_db(req), booking_id, append_payment, list, &err);
    if (rc < 0) {
        json_decref(list);
        return http_reply_error(resp, &err);
    }
    return http_reply_json(resp, 200, json_pack("{s:o}", "payments", list));
}
