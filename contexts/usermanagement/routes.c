/*
 * routes.c - usermanagement's HTTP API (SPEC §5), one static handler per route:
 *
 *   POST /users        {email, name} → 201 the new user; publishes usermanagement.user.registered
 *   GET  /users/{id}   → 200 the user
 *
 * Each write follows one path: parse and type-check the body (400) → domain
 * rules (422) → one transaction holding the row and its outbox event → reply.
 * Every failure after BEGIN rolls back, so nothing is ever half written.
 */
#include "usermanagement/routes.h"

#include "common/db.h"
#include "common/service.h"
#include "common/uuid7.h"
#include "usermanagement/domain/user.h"
#include "usermanagement/events.h"
#include "usermanagement/store.h"

static int route_post_users(const struct http_request *req, struct http_response *resp,
                            void *app);
static int route_get_user(const struct http_request *req, struct http_response *resp,
                          void *app);

const struct http_route usermanagement_routes[] = {
    {"POST", "/users", route_post_users},
    {"GET", "/users/{id}", route_get_user},
};
const size_t usermanagement_nroutes = USERMANAGEMENT_NROUTES;
_Static_assert(sizeof(usermanagement_routes) / sizeof(usermanagement_routes[0]) ==
                   USERMANAGEMENT_NROUTES,
               "USERMANAGEMENT_NROUTES must match the usermanagement_routes table");

/* The user as the API shows it: roles sorted, statuses as names. NULL when out of memory. */
static json_t *user_json(const struct user *u)
{
    json_t *roles = json_array();
    for (unsigned i = 0; roles && i < USER_ROLE_COUNT; i++) {
        /* enum user_role is in name order, so this list comes out sorted. */
        if (user_has_role(u, (enum user_role)i) &&
            json_array_append_new(roles, json_string(user_role_name((enum user_role)i))) < 0) {
            json_decref(roles);
            return NULL;
        }
    }
    if (!roles)
        return NULL;
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s}", "id", u->id, "email", u->email, "name",
                     u->name, "roles", roles, "provider_status",
                     user_provider_status_name(u->provider_status), "created_at", u->created_at);
}

/* A required string member of body, or NULL after filling err (400: missing or wrong type). */
static const json_t *body_string(const json_t *body, const char *key, struct err *err)
{
    const json_t *v = json_object_get(body, key);
    if (!v) {
        err_set(err, ERR_INVALID, "field '%s' is required", key);
        return NULL;
    }
    if (!json_is_string(v)) {
        err_set(err, ERR_INVALID, "field '%s' must be a string", key);
        return NULL;
    }
    return v;
}

/*
 * POST /users {email, name}: registers a user with no roles and provider
 * status "none", stored with the e-mail lowercased, and publishes
 * usermanagement.user.registered in the same transaction. 201 the user; 400
 * a field missing or not a string; 422 an e-mail or name breaking a rule
 * (domain/user.h); 409 the e-mail is taken (compared case-insensitively);
 * 503 the database is unavailable.
 */
static int route_post_users(const struct http_request *req, struct http_response *resp,
                            void *app)
{
    (void)app;
    struct err err;
    err_clear(&err);
    json_t *body = NULL;
    if (http_body_json(req, &body, &err) < 0)
        return http_reply_error(resp, &err);

    struct user u;
    struct user_events evs;
    user_events_init(&evs);
    char id[UUID7_STR_LEN];
    const json_t *email = body_string(body, "email", &err);
    const json_t *name = email ? body_string(body, "name", &err) : NULL;
    int rc = name ? 0 : err.code;
    if (rc == 0 && uuid7_generate(id) < 0)
        rc = err_set(&err, ERR_INTERNAL, "cannot make a user id: no randomness");
    if (rc == 0)
        rc = user_register(&u, id, json_string_value(email), json_string_length(email),
                           json_string_value(name), json_string_length(name), &evs, &err);
    json_decref(body); /* user_register copied what it keeps */
    if (rc < 0)
        return http_reply_error(resp, &err);

    struct db *db = service_db(req);
    rc = db_begin(db, &err);
    if (rc == 0)
        rc = user_store_insert(db, &u, &err);
    struct outbox_origin from = {db, req->correlation_id, NULL};
    for (size_t i = 0; rc == 0 && i < evs.n; i++)
        rc = usermanagement_events_publish(&from, &evs.items[i], NULL, &err);
    if (rc == 0)
        rc = db_commit(db, &err);
    if (rc < 0) {
        db_rollback(db);
        return http_reply_error(resp, &err);
    }
    return http_reply_json(resp, 201, user_json(&u));
}

/* GET /users/{id}: 200 the user; 400 the id is not a UUID; 404 no such user. */
static int route_get_user(const struct http_request *req, struct http_response *resp,
                          void *app)
{
    (void)app;
    struct err err;
    err_clear(&err);
    const char *id = req->params[0];
    if (!uuid7_is_valid(id)) {
        err_set(&err, ERR_INVALID, "user id '%s' is not a UUID", id);
        return http_reply_error(resp, &err);
    }
    struct user u;
    int rc = user_store_get(service_db(req), id, &u, &err);
    if (rc == 0)
        rc = err_set(&err, ERR_NOT_FOUND, "unknown user '%s'", id);
    if (rc < 0)
        return http_reply_error(resp, &err);
    return http_reply_json(resp, 200, user_json(&u));
}
