/*
 * routes.c - booking's HTTP API (SPEC §5):
 *
 *   POST /bookings        {user_id, offering_id, quantity} → 202 {id, status, amount_cents}
 *   GET  /bookings/{id}   → 200 {id, user_id, offering_id, quantity, status, amount_cents,
 *                                reason?, history: [{at, status, event}]}
 *
 * Input is checked in two steps before any database work: shape (a missing
 * field, a wrong JSON type, an id that is not a UUID → 400 invalid), then
 * rules (quantity bounds, from the domain → 422 unprocessable). A write runs
 * in one transaction with its history entry and its outbox row, and every
 * failure path rolls it back, so nothing is ever half-written.
 */
#include "booking/routes.h"

#include "booking/admission.h"
#include "booking/contract/booking_contract.h"
#include "booking/domain/booking.h"
#include "booking/events.h"
#include "booking/service.h"
#include "booking/store.h"
#include "common/db.h"
#include "common/route.h"
#include "common/uuid7.h"

#include <stdint.h>
#include <string.h>

static int route_post_bookings(const struct http_request *req, struct http_response *resp,
                               void *app);
static int route_get_booking(const struct http_request *req, struct http_response *resp, void *app);

const struct http_route booking_routes[] = {
    {"POST", "/bookings", route_post_bookings},
    {"GET", "/bookings/{id}", route_get_booking},
};

/*
 * POST /bookings: a pending booking with amount = quantity × the offering's
 * price (from the replica), its first history entry and
 * booking.booking.created, in one transaction. 409 when the offering is not
 * known (yet: its servicecatalog.offering.published may still be on its way).
 * 503 with Retry-After while BOOKING_IN_FLIGHT_MAX bookings are pending
 * (admission.h), before the body is even read.
 */
static int route_post_bookings(const struct http_request *req, struct http_response *resp,
                               void *app)
{
    const struct booking_app *cfg = app;
    struct err err;
    err_clear(&err);
    json_t *body = NULL;
    char user_id[UUID7_STR_LEN], offering_id[UUID7_STR_LEN];
    int64_t quantity = 0, price_cents = 0;
    struct booking b;
    struct booking_event ev;
    char id[UUID7_STR_LEN], event_id[UUID7_STR_LEN];
    struct db *db = route_db(req);
    memset(&b, 0, sizeof(b));
    memset(&ev, 0, sizeof(ev));

    if (admission_closed()) {
        int rc = http_reply_json(
            resp, 503,
            json_pack("{s:s, s:s}", "error", "busy", "detail",
                      "too many bookings in flight: retry after " BOOKING_RETRY_AFTER_S " s"));
        return rc ? rc : http_reply_header(resp, "Retry-After", BOOKING_RETRY_AFTER_S);
    }
    int rc = http_body_json(req, &body, &err);
    if (!rc)
        rc = http_body_uuid(body, "user_id", user_id, &err);
    if (!rc)
        rc = http_body_uuid(body, "offering_id", offering_id, &err);
    if (!rc)
        rc = http_body_integer(body, "quantity", &quantity, &err);
    if (!rc)
        rc = booking_validate_quantity(quantity, &err);
    if (!rc && uuid7_generate(id) != 0)
        rc = err_set(&err, ERR_INTERNAL, "cannot generate a booking id");
    if (rc)
        goto done;

    /*
     * One transaction: each step runs only when the one before it
     * succeeded, and any failure rolls everything back. The price look-up is
     * the one step whose "not found" is an answer: 409.
     */
    rc = db_begin(db, &err);
    if (rc)
        goto done;
    rc = err_if_none(booking_store_offering_price(db, offering_id, &price_cents, &err), &err,
                     ERR_CONFLICT, "offering '%s' is not known (yet)", offering_id);
    if (!rc)
        rc = booking_create(&b, id, user_id, offering_id, quantity, price_cents,
                            BOOKING_BOOKING_CREATED_TYPE, &ev, &err);
    if (!rc)
        rc = booking_store_insert(db, &b, cfg->timeout_ms, req->correlation_id, &err);
    if (!rc)
        rc = booking_events_publish(&(struct outbox_origin){db, req->correlation_id, NULL}, &ev,
                                    event_id, &err);
    if (!rc)
        rc = booking_store_append_history(db, &ev, event_id, &err);
    rc = route_end(db, rc, &err);

done:
    json_decref(body);
    if (rc)
        return http_reply_error(resp, &err);
    return http_reply_json(resp, 202,
                           json_pack("{s:s, s:s, s:I}", "id", b.id, "status",
                                     booking_status_name(b.status), "amount_cents",
                                     (json_int_t)b.amount_cents));
}

/* Adds one history entry to the JSON array ctx. */
static int add_history_entry(void *ctx, const struct booking_store_history_entry *entry,
                             struct err *err)
{
    json_t *item =
        json_pack("{s:s, s:s, s:s}", "at", entry->at ? entry->at : "", "status",
                  entry->status ? entry->status : "", "event", entry->event ? entry->event : "");
    if (!item || json_array_append_new(ctx, item) != 0)
        return err_set(err, ERR_NOMEM, "cannot build the history");
    return 0;
}

/*
 * GET /bookings/{id}: the booking and its history, read in one repeatable-read
 * transaction so both come from the same snapshot. 400 for a malformed id,
 * 404 for an unknown one.
 */
static int route_get_booking(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    struct err err;
    err_clear(&err);
    char id[UUID7_STR_LEN];
    struct booking b;
    json_t *history = NULL, *reply = NULL;
    struct db *db = route_db(req);
    memset(&b, 0, sizeof(b));

    int rc = http_param_uuid(req->params[0], "booking id", id, &err);
    if (!rc && !(history = json_array()))
        rc = err_set(&err, ERR_NOMEM, "out of memory");
    if (rc)
        goto done;

    rc = db_begin_isolation(db, DB_REPEATABLE_READ, &err);
    if (rc)
        goto done;
    rc = http_found(booking_store_get(db, id, &b, &err), "booking", id, &err);
    if (!rc) {
        int n = booking_store_list_history(db, id, add_history_entry, history, &err);
        rc = n < 0 ? n : 0;
    }
    rc = route_end(db, rc, &err);
    if (rc)
        goto done;

    reply = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:O}", "id", b.id, "user_id", b.user_id,
                      "offering_id", b.offering_id, "quantity", (json_int_t)b.quantity, "status",
                      booking_status_name(b.status), "amount_cents", (json_int_t)b.amount_cents,
                      "history", history);
    /* A reason belongs to a failed booking only (rejected or cancelled). */
    if (reply && b.reason[0] && json_object_set_new(reply, "reason", json_string(b.reason)) != 0) {
        json_decref(reply);
        reply = NULL;
    }
    if (!reply)
        rc = err_set(&err, ERR_NOMEM, "out of memory");

done:
    json_decref(history);
    if (rc)
        return http_reply_error(resp, &err);
    return http_reply_json(resp, 200, reply);
}
