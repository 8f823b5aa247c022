/*
 * routes.c - servicecatalog's HTTP routes (SPEC §5; table in routes.h).
 *
 * Every write follows one path: parse and type-check the body (400 invalid),
 * then in ONE transaction: load through the store (404 not_found), let the
 * domain decide (422 unprocessable for a value breaking a rule or an unknown
 * owner, 409 conflict for a refused transition), write through the store,
 * turn the domain events into outbox rows (events.c), commit, reply. Any
 * failure rolls back, so a change and its event are stored together or not
 * at all. Ids in paths and bodies are canonical UUIDs (400 otherwise) and are
 * lowercased before use, so events always carry the canonical form.
 */
#include "servicecatalog/routes.h"

#include "common/db.h"
#include "common/route.h"
#include "common/uuid7.h"
#include "servicecatalog/domain/offering.h"
#include "servicecatalog/domain/provider.h"
#include "servicecatalog/events.h"
#include "servicecatalog/store.h"

#include <stdint.h>
#include <stdio.h>

static int route_post_providers(const struct http_request *req, struct http_response *resp,
                                void *app);
static int route_get_provider(const struct http_request *req, struct http_response *resp,
                              void *app);
static int route_post_provider_activate(const struct http_request *req, struct http_response *resp,
                                        void *app);
static int route_post_provider_offerings(const struct http_request *req, struct http_response *resp,
                                         void *app);
static int route_get_offering(const struct http_request *req, struct http_response *resp,
                              void *app);

const struct http_route servicecatalog_routes[] = {
    {"POST", "/providers", route_post_providers},
    {"GET", "/providers/{id}", route_get_provider},
    {"POST", "/providers/{id}/activate", route_post_provider_activate},
    {"POST", "/providers/{id}/offerings", route_post_provider_offerings},
    {"GET", "/offerings/{id}", route_get_offering},
};

static int new_id(char out[UUID7_STR_LEN], struct err *err)
{
    if (uuid7_generate(out))
        return err_set(err, ERR_INTERNAL, "cannot generate an id: no randomness");
    return 0;
}

/* ---- replies ----------------------------------------------------------------- */

static json_t *provider_json(const struct provider *p)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", p->id, "owner_id", p->owner_id,
                     "business_name", p->business_name, "provider_type", p->provider_type, "status",
                     provider_status_name(p->status), "created_at", p->created_at);
}

static json_t *offering_json(const struct offering *o)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "id", o->id, "provider_id", o->provider_id,
                     "name", o->name, "price_cents", (json_int_t)o->price_cents, "capacity",
                     (json_int_t)o->capacity, "created_at", o->created_at);
}

/* ---- routes ------------------------------------------------------------------ */

/*
 * POST /providers {owner_id, business_name, provider_type} → 201 provider.
 * 400 missing/mistyped field or owner_id not a UUID; 422 bounds, type format
 * or "unknown owner '<id>'" (the owner is not in the replica: either no such
 * user, or its registration has not reached us yet). Publishes
 * servicecatalog.provider.registered.
 */
static int route_post_providers(const struct http_request *req, struct http_response *resp,
                                void *app)
{
    (void)app;
    struct err err;
    err_clear(&err);
    struct db *db = route_db(req);
    json_t *body = NULL;
    const char *name = NULL, *type = NULL;
    size_t name_len = 0, type_len = 0;
    char owner_id[UUID7_STR_LEN], id[UUID7_STR_LEN];
    struct provider p = {0};
    struct provider_event ev = {0};

    int rc = http_body_json(req, &body, &err);
    if (rc || (rc = http_body_uuid(body, "owner_id", owner_id, &err)) ||
        (rc = http_body_string(body, "business_name", &name, &name_len, &err)) ||
        (rc = http_body_string(body, "provider_type", &type, &type_len, &err)) ||
        (rc = new_id(id, &err)) || (rc = db_begin(db, &err)))
        goto done;
    int known = known_user_store_exists(db, owner_id, &err);
    if (known < 0) {
        rc = known;
        goto done;
    }
    rc = provider_register(&p, id, owner_id, known > 0, name, name_len, type, type_len, &ev, &err);
    if (rc == 0)
        rc = provider_store_insert(db, &p, &err);
    if (rc == 0)
        rc = servicecatalog_events_publish_provider(
            &(struct outbox_origin){db, req->correlation_id, NULL}, &ev, NULL, &err);
done:
    json_decref(body);
    rc = route_end(db, rc, &err);
    return rc ? http_reply_error(resp, &err) : http_reply_json(resp, 201, provider_json(&p));
}

/* GET /providers/{id} → 200 provider; 400 id not a UUID; 404 unknown. */
static int route_get_provider(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    struct err err;
    err_clear(&err);
    char id[UUID7_STR_LEN];
    struct provider p = {0};
    int rc = http_param_uuid(req->params[0], "provider id", id, &err);
    if (rc == 0)
        rc = http_found(provider_store_get(route_db(req), id, false, &p, &err), "provider", id,
                        &err);
    if (rc)
        return http_reply_error(resp, &err);
    return http_reply_json(resp, 200, provider_json(&p));
}

/*
 * POST /providers/{id}/activate (any body ignored) → 200 provider, now
 * active. 400 id not a UUID; 404 unknown; 409 already active (the row is
 * locked first, so of two concurrent activations exactly one wins and the
 * other sees 409). Publishes servicecatalog.provider.activated.
 */
static int route_post_provider_activate(const struct http_request *req, struct http_response *resp,
                                        void *app)
{
    (void)app;
    struct err err;
    err_clear(&err);
    struct db *db = route_db(req);
    char id[UUID7_STR_LEN];
    struct provider p = {0};
    struct provider_event ev = {0};

    int rc = http_param_uuid(req->params[0], "provider id", id, &err);
    if (rc || (rc = db_begin(db, &err)) ||
        (rc = http_found(provider_store_get(db, id, true, &p, &err), "provider", id, &err)))
        goto done;
    rc = provider_activate(&p, &ev, &err);
    if (rc == 0)
        rc = provider_store_update_status(db, &p, &err);
    if (rc == 0)
        rc = servicecatalog_events_publish_provider(
            &(struct outbox_origin){db, req->correlation_id, NULL}, &ev, NULL, &err);
done:
    rc = route_end(db, rc, &err);
    return rc ? http_reply_error(resp, &err) : http_reply_json(resp, 200, provider_json(&p));
}

/*
 * POST /providers/{id}/offerings {name, price_cents, capacity} → 201
 * offering. 400 id not a UUID or a field missing/mistyped (a non-integer
 * number is mistyped); 404 unknown provider; 422 a value out of bounds.
 * Publishes servicecatalog.offering.published. The provider need not be
 * active yet: the SPEC asks only that it exists.
 */
static int route_post_provider_offerings(const struct http_request *req, struct http_response *resp,
                                         void *app)
{
    (void)app;
    struct err err;
    err_clear(&err);
    struct db *db = route_db(req);
    json_t *body = NULL;
    const char *name = NULL;
    size_t name_len = 0;
    int64_t price_cents = 0, capacity = 0;
    char provider_id[UUID7_STR_LEN], id[UUID7_STR_LEN];
    struct provider p = {0};
    struct offering o = {0};
    struct offering_event ev = {0};

    int rc = http_param_uuid(req->params[0], "provider id", provider_id, &err);
    if (rc || (rc = http_body_json(req, &body, &err)) ||
        (rc = http_body_string(body, "name", &name, &name_len, &err)) ||
        (rc = http_body_integer(body, "price_cents", &price_cents, &err)) ||
        (rc = http_body_integer(body, "capacity", &capacity, &err)) || (rc = new_id(id, &err)) ||
        (rc = db_begin(db, &err)))
        goto done;
    /*
     * No lock: providers are never deleted, and the offering's foreign key
     * holds the provider row for the rest of the transaction anyway.
     */
    rc = http_found(provider_store_get(db, provider_id, false, &p, &err), "provider", provider_id,
                    &err);
    if (rc)
        goto done;
    rc = offering_publish(&o, id, p.id, name, name_len, price_cents, capacity, &ev, &err);
    if (rc == 0)
        rc = offering_store_insert(db, &o, &err);
    if (rc == 0)
        rc = servicecatalog_events_publish_offering(
            &(struct outbox_origin){db, req->correlation_id, NULL}, &ev, NULL, &err);
done:
    json_decref(body);
    rc = route_end(db, rc, &err);
    return rc ? http_reply_error(resp, &err) : http_reply_json(resp, 201, offering_json(&o));
}

/* GET /offerings/{id} → 200 offering; 400 id not a UUID; 404 unknown. */
static int route_get_offering(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    struct err err;
    err_clear(&err);
    char id[UUID7_STR_LEN];
    struct offering o = {0};
    int rc = http_param_uuid(req->params[0], "offering id", id, &err);
    if (rc == 0)
        rc = http_found(offering_store_get(route_db(req), id, &o, &err), "offering", id, &err);
    if (rc)
        return http_reply_error(resp, &err);
    return http_reply_json(resp, 200, offering_json(&o));
}
