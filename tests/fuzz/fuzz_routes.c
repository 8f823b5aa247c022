/*
 * fuzz_routes.c - an input is an HTTP request to one route of one context:
 * what every route does with its body and path before the database answers.
 *
 * Why the routes themselves: they can run without PostgreSQL. A route
 * reaches the database only through the connection in req->thread_ctx, and
 * here that is a db handle (db_new) whose server is a Unix socket in a
 * directory that does not exist: the first statement fails at once
 * (ERR_TRANSIENT, 503), later ones wait for the handle's backoff without
 * sleeping. So each route runs exactly as in production up to its first
 * query: http_body_json, its static field readers (routes.c) and the domain
 * rules it applies before BEGIN (booking_validate_quantity, user_register).
 * The routes come from every context's service descriptor, so a new route
 * is fuzzed without an edit here.
 *
 * What a route applies only after its first query (the provider, offering
 * and booking constructors in contexts/<c>/domain/) gets the same body here
 * directly (post_query_rules below), with the value the route would read from
 * the database taken from the body too. Each must accept or refuse with a
 * 4xx code, and what it accepts must pass the contract of the event the
 * context then publishes: a value the domain takes but the contract refuses
 * would be poison in every consumer.
 *
 * Input: byte 0 picks the route (modulo the number of routes), then one line
 * per {placeholder} of its pattern ("\n"-terminated), then the body.
 *
 * Checks: no crash, leak or undefined behaviour; with no database no route
 * may succeed or fail with 500: every reply is 400, 404, 409, 422 or 503,
 * with the SPEC error body {"error": …, "detail": …}.
 */
#include "fuzz.h"

#include "booking/contract/booking_contract.h"
#include "booking/domain/booking.h"
#include "common/db.h"
#include "common/http.h"
#include "servicecatalog/contract/servicecatalog_contract.h"
#include "servicecatalog/domain/offering.h"
#include "servicecatalog/domain/provider.h"
#include "usermanagement/contract/usermanagement_contract.h"
#include "usermanagement/domain/user.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A server that cannot exist: connecting fails at once, without a network round trip. */
#define FUZZ_DEAD_DATABASE "host=/nonexistent/fuzz port=1 dbname=fuzz user=fuzz"
#define FUZZ_ID            "01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f"

static struct db *dead_db;

/* ---- the rules routes apply after their first query ---------------------- */

/* The contract must accept data (new reference, dropped here): what the domain accepted. */
/* What outbox_publish checks before its INSERT: the struct, encoded by its table, passes it. */
static void check_struct(const struct contract_event *ev, const void *data, size_t size)
{
    struct err err;
    err_clear(&err);
    json_t *json = NULL;
    int rc = contract_encode(ev, data, size, &json, &err);
    FUZZ_CHECK(rc == 0, "encoding '%s' failed: %s", ev->type, err.msg);
    rc = contract_validate(ev, json, &err);
    FUZZ_CHECK(rc == 0, "the domain accepted what contract '%s' refuses: %s", ev->type, err.msg);
    json_decref(json);
}

/* A domain constructor's answer: 0, or a code that is a client error. */
static void check_domain_code(const char *what, int rc, const struct err *err)
{
    FUZZ_CHECK(rc == 0 || rc == ERR_INVALID || rc == ERR_UNPROCESSABLE, "%s answered %d: %s", what,
               rc, err->msg);
}

/* The body member key when it is a string (borrowed) and its byte length; else NULL. */
static const char *body_string(const json_t *body, const char *key, size_t *len)
{
    const json_t *v = json_object_get(body, key);
    if (!json_is_string(v))
        return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

/* The body member key when it is an integer; else dflt. */
static int64_t body_integer(const json_t *body, const char *key, int64_t dflt)
{
    const json_t *v = json_object_get(body, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/* POST /providers: provider_register; owner_known, a database answer, is the body's own. */
static void rules_provider(const json_t *body, const char *const *params)
{
    (void)params;
    size_t name_len = 0, type_len = 0;
    const char *name = body_string(body, "business_name", &name_len);
    const char *type = body_string(body, "provider_type", &type_len);
    if (!name || !type)
        return;
    struct provider p;
    struct provider_event ev;
    struct err err;
    err_clear(&err);
    int rc = provider_register(&p, FUZZ_ID, FUZZ_ID,
                               !json_is_false(json_object_get(body, "owner_known")), name, name_len,
                               type, type_len, &ev, &err);
    check_domain_code("provider_register", rc, &err);
    if (rc)
        return;
    /* As servicecatalog/events.c maps it. */
    struct servicecatalog_provider_registered out = {0};
    snprintf(out.provider_id, sizeof(out.provider_id), "%s", p.id);
    snprintf(out.owner_id, sizeof(out.owner_id), "%s", p.owner_id);
    snprintf(out.business_name, sizeof(out.business_name), "%s", p.business_name);
    snprintf(out.provider_type, sizeof(out.provider_type), "%s", p.provider_type);
    FUZZ_CHECK(strlen(out.business_name) == name_len && strlen(out.provider_type) == type_len,
               "a provider's name or type does not fit its event");
    check_struct(&SERVICECATALOG_PROVIDER_REGISTERED, &out, sizeof(out));
}

/* POST /providers/{id}/offerings: offering_publish. */
static void rules_offering(const json_t *body, const char *const *params)
{
    (void)params;
    size_t name_len = 0;
    const char *name = body_string(body, "name", &name_len);
    if (!name || !json_is_integer(json_object_get(body, "price_cents")) ||
        !json_is_integer(json_object_get(body, "capacity")))
        return;
    struct offering o;
    struct offering_event ev;
    struct err err;
    err_clear(&err);
    int rc =
        offering_publish(&o, FUZZ_ID, FUZZ_ID, name, name_len, body_integer(body, "price_cents", 0),
                         body_integer(body, "capacity", 0), &ev, &err);
    check_domain_code("offering_publish", rc, &err);
    if (rc)
        return;
    struct servicecatalog_offering_published out = {.price_cents = o.price_cents,
                                                    .capacity = o.capacity};
    snprintf(out.offering_id, sizeof(out.offering_id), "%s", o.id);
    snprintf(out.provider_id, sizeof(out.provider_id), "%s", o.provider_id);
    snprintf(out.name, sizeof(out.name), "%s", o.name);
    FUZZ_CHECK(strlen(out.name) == name_len, "an offering's name does not fit its event");
    check_struct(&SERVICECATALOG_OFFERING_PUBLISHED, &out, sizeof(out));
}

/* POST /bookings: booking_create; the price, a database answer, is the body's price_cents. */
static void rules_booking(const json_t *body, const char *const *params)
{
    (void)params;
    if (!json_is_integer(json_object_get(body, "quantity")))
        return;
    struct booking b;
    struct booking_event ev;
    struct err err;
    err_clear(&err);
    int rc = booking_create(&b, FUZZ_ID, FUZZ_ID, FUZZ_ID, body_integer(body, "quantity", 0),
                            body_integer(body, "price_cents", 100), BOOKING_BOOKING_CREATED_TYPE,
                            &ev, &err);
    check_domain_code("booking_create", rc, &err);
    if (rc)
        return;
    struct booking_booking_created out = {.quantity = b.quantity, .amount_cents = b.amount_cents};
    snprintf(out.booking_id, sizeof(out.booking_id), "%s", b.id);
    snprintf(out.user_id, sizeof(out.user_id), "%s", b.user_id);
    snprintf(out.offering_id, sizeof(out.offering_id), "%s", b.offering_id);
    check_struct(&BOOKING_BOOKING_CREATED, &out, sizeof(out));
}

/* POST /users: user_register runs before the query, but what it accepts must also fit the event. */
static void rules_user(const json_t *body, const char *const *params)
{
    (void)params;
    size_t email_len = 0, name_len = 0;
    const char *email = body_string(body, "email", &email_len);
    const char *name = body_string(body, "name", &name_len);
    if (!email || !name)
        return;
    struct user u;
    struct user_events evs;
    user_events_init(&evs);
    struct err err;
    err_clear(&err);
    int rc = user_register(&u, FUZZ_ID, email, email_len, name, name_len, &evs, &err);
    check_domain_code("user_register", rc, &err);
    if (rc)
        return;
    struct usermanagement_user_registered out = {0};
    snprintf(out.user_id, sizeof(out.user_id), "%s", u.id);
    snprintf(out.email, sizeof(out.email), "%s", u.email);
    snprintf(out.name, sizeof(out.name), "%s", u.name);
    FUZZ_CHECK(strlen(out.email) == email_len && strlen(out.name) == name_len,
               "a user's e-mail or name does not fit its event");
    check_struct(&USERMANAGEMENT_USER_REGISTERED, &out, sizeof(out));
}

/* Which route each applies to; a row whose route is gone fails at start, so none goes stale. */
static const struct post_query_rule {
    const char *service, *method, *pattern;
    void (*fn)(const json_t *body, const char *const *params);
} post_query_rules[] = {
    {"servicecatalog", "POST", "/providers", rules_provider},
    {"servicecatalog", "POST", "/providers/{id}/offerings", rules_offering},
    {"booking", "POST", "/bookings", rules_booking},
    {"usermanagement", "POST", "/users", rules_user},
};
#define NRULES (sizeof(post_query_rules) / sizeof(post_query_rules[0]))

/* ---- the routes ------------------------------------------------------------ */

struct fuzz_route {
    const struct service_def *service;
    const struct http_route *route;
    size_t nparams;
    const struct post_query_rule *rule; /* or NULL */
};

#define FUZZ_ROUTES_MAX 256
static struct fuzz_route routes[FUZZ_ROUTES_MAX];
static size_t nroutes;

static size_t count_placeholders(const char *pattern)
{
    size_t n = 0;
    for (const char *p = pattern; *p; p++)
        n += *p == '{';
    return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    dead_db = db_new(FUZZ_DEAD_DATABASE);
    FUZZ_CHECK(dead_db != NULL, "db_new failed");
    bool used[NRULES] = {false};
    for (const struct service_def *const *s = fuzz_services; *s; s++) {
        for (size_t i = 0; i < (*s)->nroutes; i++) {
            FUZZ_CHECK(nroutes < FUZZ_ROUTES_MAX, "more than %d routes", FUZZ_ROUTES_MAX);
            struct fuzz_route *r = &routes[nroutes++];
            r->service = *s;
            r->route = &(*s)->routes[i];
            r->nparams = count_placeholders(r->route->pattern);
            FUZZ_CHECK(r->nparams <= HTTP_MAX_PARAMS, "route '%s' has too many parameters",
                       r->route->pattern);
            for (size_t k = 0; k < NRULES; k++) {
                const struct post_query_rule *q = &post_query_rules[k];
                if (strcmp(q->service, (*s)->name) == 0 &&
                    strcmp(q->method, r->route->method) == 0 &&
                    strcmp(q->pattern, r->route->pattern) == 0) {
                    r->rule = q;
                    used[k] = true;
                }
            }
        }
    }
    FUZZ_CHECK(nroutes > 0, "no routes in any service descriptor");
    for (size_t k = 0; k < NRULES; k++)
        FUZZ_CHECK(used[k], "post_query_rules names route '%s %s' of %s, which no longer exists",
                   post_query_rules[k].method, post_query_rules[k].pattern,
                   post_query_rules[k].service);
    return 0;
}

/* A reply with no database: a client error or 503, with the SPEC error body. */
static void check_reply(const struct fuzz_route *r, int rc, const struct http_response *resp)
{
    const char *what = r->route->pattern;
    FUZZ_CHECK(resp->status != 0 || rc < 0, "'%s %s' returned %d without a reply", r->route->method,
               what, rc);
    int status = resp->status ? resp->status : 500;
    FUZZ_CHECK(status == 400 || status == 404 || status == 409 || status == 422 || status == 503,
               "'%s %s' answered %d (handler returned %d) with no database", r->route->method, what,
               status, rc);
    FUZZ_CHECK(json_is_object(resp->body) && json_is_string(json_object_get(resp->body, "error")) &&
                   json_is_string(json_object_get(resp->body, "detail")),
               "'%s %s' answered %d without the error body", r->route->method, what, status);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct fuzz_route *r = &routes[data[0] % nroutes];
    char *input = fuzz_strndup(data + 1, size - 1);
    const char *end = input + (size - 1);

    struct http_request req = {
        .method = r->route->method,
        .path = r->route->pattern,
        .correlation_id = "fuzz",
        .thread_ctx = dead_db,
    };
    /*
     * One line per placeholder. The server hands a route only what its
     * pattern matched: one non-empty segment (no '/') of at most HTTP_PARAM_MAX bytes;
     * anything else cannot reach a route and is not tried.
     */
    char *p = input;
    for (size_t i = 0; i < r->nparams; i++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl)
            *nl = '\0';
        if (!*p || strlen(p) > HTTP_PARAM_MAX || strchr(p, '/')) {
            free(input);
            return 0;
        }
        req.params[i] = p;
        p = nl ? nl + 1 : (char *)end;
    }
    req.nparams = r->nparams;
    req.body = p;
    req.body_len = (size_t)(end - p);

    struct http_response resp = {0};
    int rc = r->route->fn(&req, &resp, r->service->app);
    check_reply(r, rc, &resp);
    json_decref(resp.body);
    free(resp.text);

    if (r->rule) {
        json_error_t jerr;
        json_t *body = json_loadb(req.body, req.body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (json_is_object(body))
            r->rule->fn(body, req.params);
        json_decref(body);
    }
    free(input);
    return 0;
}
