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
#include "common/route.h"
#include "common/uuid7.h"
#include "usermanagement/domain/user.h"
#include "usermanagement/events.h"
#include "usermanagement/store.h"

static int route_post_users(const struct http_request *req, struct http_response *resp, void *app);
static int route_get_user(const struct http_request *req, struct http_response *resp, void *app);

const struct http_route usermanagement_routes[] = {
    {"POST", "/users", route_post_users},
    {"GET", "/users/{id}", route_get_user},
};

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

/*
 * POST /users {email, name}: registers a user with no roles and provider
 * status "none", stored with the e-mail lowercased, and publishes
 * usermanagement.user.registered in the same transaction. 201 the user; 400
 * a field missing or not a string; 422 an e-mail or name breaking a rule
 * (domain/user.h); 409 the e-mail is taken (compared case-insensitively);
 * 503 the database is unavailable.
 */
static int route_post_users(const struct http_request *req, struct http_response *resp, void *app)
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
    const char *email = NULL, *name = NULL;
    size_t email_len = 0, name_len = 0;
    int rc = http_body_string(body, "email", &email, &email_len, &err);
    if (rc == 0)
        rc = http_body_string(body, "name", &name, &name_len, &err);
    if (rc == 0 && uuid7_generate(id) < 0)
        rc = err_set(&err, ERR_INTERNAL, "cannot make a user id: no randomness");
    if (rc == 0)
        rc = user_register(&u, id, email, email_len, name, name_len, &evs, &err);
    json_decref(body); /* user_register copied what it keeps */
    if (rc < 0)
        return http_reply_error(resp, &err);

    struct db *db = route_db(req);
    rc = db_begin(db, &err);
    if (rc == 0)
        rc = user_store_insert(db, &u, &err);
    struct outbox_origin from = {db, req->correlation_id, NULL};
    for (size_t i = 0; rc == 0 && i < evs.n; i++)
        rc = usermanagement_events_publish(&from, &evs.items[i], NULL, &err);
    rc = route_end(db, rc, &err);
    return rc ? http_reply_error(resp, &err) : http_reply_json(resp, 201, user_json(&u));
}

/* GET /users/{id}: 200 the user; 400 the id is not a UUID; 404 no such user. */
static int route_get_user(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    struct err err;
    err_clear(&err);
    char id[UUID7_STR_LEN];
    struct user u;
    int rc = http_param_uuid(req->params[0], "user id", id, &err);
    if (!rc)
        rc = http_found(user_store_get(route_db(req), id, &u, &err), "user", id, &err);
    if (rc)
        return http_reply_error(resp, &err);
    return http_reply_json(resp, 200, user_json(&u));
}
