/*
 * test_provider_registration.c - SPEC §1 "Provider registration" end to end
 * over HTTP, against the six real executables: a user registers, becomes a
 * provider owner, gets the role and a welcome, and the provider is activated.
 * Also the refusals on the way (unknown owner, duplicate e-mail, bad input),
 * checked to write nothing, and the correlation/causation ids every outbox and
 * inbox row of the flow carries. Also the web surface every service shares
 * (415 for a body that is not JSON, 403 for a foreign Host: docs/security.md)
 * and the paging of inventory's movements.
 */
#include "e2e_harness.h"

#include "common/uuid7.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define USERS_COUNT "SELECT count(*) FROM usermanagement.users"

static int setup(void **state)
{
    (void)state;
    e2e_setup(NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_teardown();
    return 0;
}

/* A correlation id for one step: "<step>-<uuid>" (valid: visible ASCII, ≤ 128). */
static void new_cid(char out[E2E_CID_LEN], const char *step)
{
    char id[E2E_ID_LEN];
    e2e_new_uuid(id);
    snprintf(out, E2E_CID_LEN, "%s-%s", step, id);
}

static bool has_role(const json_t *user, const char *role)
{
    const json_t *roles = json_object_get(user, "roles");
    size_t i;
    const json_t *r;
    json_array_foreach(roles, i, r)
    {
        if (json_is_string(r) && strcmp(json_string_value(r), role) == 0)
            return true;
    }
    return false;
}

struct user_want {
    const char *role; /* NULL: roles must be [] */
    const char *provider_status;
};

static bool user_is(long status, const json_t *user, const void *arg)
{
    const struct user_want *w = arg;
    if (status != 200 || strcmp(e2e_str(user, "provider_status"), w->provider_status) != 0)
        return false;
    const json_t *roles = json_object_get(user, "roles");
    return w->role ? has_role(user, w->role) : json_is_array(roles) && json_array_size(roles) == 0;
}

struct notification_want {
    const char *kind;
    const char *reference_id;
};

static bool has_notification(long status, const json_t *reply, const void *arg)
{
    const struct notification_want *w = arg;
    return status == 200 && e2e_find(json_object_get(reply, "notifications"), "kind", w->kind,
                                     "reference_id", w->reference_id) != NULL;
}

/* Sum of count(*) over the outbox of all six contexts. */
static int64_t all_outbox_rows(void)
{
    int64_t n = 0;
    for (int c = 0; c < E2E_NCTX; c++) {
        char sql[96];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s.outbox", e2e_ctx_name(c));
        n += e2e_count(sql, NULL, NULL);
    }
    return n;
}

/*
 * SELECT over every <c>.outbox (or inbox) of the six schemas, as rows
 * [schema, id, type, correlation_id, causation_id, payload correlationid,
 * payload causationid].
 */
static json_t *all_rows(const char *table)
{
    char sql[4096] = "";
    for (int c = 0; c < E2E_NCTX; c++)
        snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
                 "%sSELECT '%s', id::text, type, correlation_id, causation_id,"
                 " payload->>'correlationid', payload->>'causationid' FROM %s.%s",
                 c ? " UNION ALL " : "", e2e_ctx_name(c), e2e_ctx_name(c), table);
    return e2e_rows(sql, NULL, NULL);
}

static const char *col(const json_t *row, size_t i)
{
    const json_t *v = json_array_get(row, i);
    return json_is_string(v) ? json_string_value(v) : "<null>";
}

/* The one outbox row of type (fails unless exactly one exists). */
static const json_t *one_of_type(const json_t *rows, const char *type)
{
    const json_t *found = NULL;
    size_t i, n = 0;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (strcmp(col(row, 2), type) == 0) {
            found = row;
            n++;
        }
    }
    if (n != 1)
        fail_msg("expected exactly one outbox row of type '%s', found %zu: %s", type, n,
                 e2e_dump(rows));
    return found;
}

static void assert_chain(const json_t *row, const char *schema, const char *correlation,
                         const char *causation)
{
    if (strcmp(col(row, 0), schema) != 0 || strcmp(col(row, 3), correlation) != 0 ||
        strcmp(col(row, 4), causation) != 0 || strcmp(col(row, 5), correlation) != 0 ||
        strcmp(col(row, 6), causation) != 0)
        fail_msg("event %s: expected in %s.outbox with correlation '%s' and causation '%s' (in the "
                 "columns and the CloudEvent), got %s",
                 col(row, 2), schema, correlation, causation, e2e_dump(row));
}

/* The whole SPEC §1 flow, step by step, then the ids every row of it carries. */
static void test_provider_registration_walks_to_an_active_provider_with_a_welcome(void **state)
{
    (void)state;
    char c_user[E2E_CID_LEN], c_prov[E2E_CID_LEN], c_act[E2E_CID_LEN], c_again[E2E_CID_LEN];
    new_cid(c_user, "register-user");
    new_cid(c_prov, "register-provider");
    new_cid(c_act, "activate-provider");
    new_cid(c_again, "activate-again");

    /* 1. POST /users: 201, the correlation id echoed, e-mail stored lowercased. */
    char email[128], lower[128];
    e2e_unique_email(email, sizeof(email), "Owner");
    for (size_t i = 0; i <= strlen(email); i++)
        lower[i] = (char)tolower((unsigned char)email[i]);
    char body[256], resp_cid[E2E_CID_LEN], path[160];
    snprintf(body, sizeof(body), "{\"email\": \"%s\", \"name\": \"Olga Owner\"}", email);
    long status;
    json_t *user;
    e2e_post(E2E_USERMANAGEMENT, "/users", body, c_user, &status, &user, resp_cid);
    if (status != 201)
        fail_msg("POST /users: status %ld, expected 201: %s", status, e2e_dump(user));
    assert_string_equal(resp_cid, c_user);
    char user_id[E2E_ID_LEN];
    snprintf(user_id, sizeof(user_id), "%s", e2e_str(user, "id"));
    assert_true(uuid7_is_valid(user_id));
    assert_string_equal(e2e_str(user, "email"), lower);
    assert_string_equal(e2e_str(user, "name"), "Olga Owner");
    assert_string_equal(e2e_str(user, "provider_status"), "none");
    assert_true(json_is_array(json_object_get(user, "roles")));
    assert_int_equal(json_array_size(json_object_get(user, "roles")), 0);
    assert_true(json_is_string(json_object_get(user, "created_at")));
    json_decref(user);

    snprintf(path, sizeof(path), "/users/%s", user_id);
    e2e_get(E2E_USERMANAGEMENT, path, c_user, &status, &user, resp_cid);
    assert_int_equal(status, 200);
    assert_string_equal(resp_cid, c_user);
    assert_true(user_is(status, user, &(struct user_want){NULL, "none"}));
    assert_string_equal(e2e_str(user, "id"), user_id);
    json_decref(user);

    /* 3. POST /providers: 422 until servicecatalog's replica knows the owner, then 201. */
    char provider_id[E2E_ID_LEN];
    json_t *provider = e2e_create_provider(user_id, c_prov, provider_id);
    assert_string_equal(e2e_str(provider, "status"), "registered");
    assert_string_equal(e2e_str(provider, "owner_id"), user_id);
    assert_string_equal(e2e_str(provider, "business_name"), "E2E Rooms");
    assert_string_equal(e2e_str(provider, "provider_type"), "hotel");
    json_decref(provider);
    char provider_path[160];
    snprintf(provider_path, sizeof(provider_path), "/providers/%s", provider_id);
    e2e_get(E2E_SERVICECATALOG, provider_path, NULL, &status, &provider, NULL);
    assert_int_equal(status, 200);
    assert_string_equal(e2e_str(provider, "status"), "registered");
    json_decref(provider);

    /* 4. usermanagement grants the role: provider_status pending. */
    json_t *granted =
        e2e_poll(E2E_USERMANAGEMENT, path, user_is, &(struct user_want){"provider", "pending"},
                 E2E_WAIT_MS, "the user to get role 'provider' with provider_status 'pending'");
    assert_int_equal(json_array_size(json_object_get(granted, "roles")), 1);
    json_decref(granted);

    /* 5. notification sends the welcome. */
    char npath[160];
    snprintf(npath, sizeof(npath), "/notifications?user_id=%s", user_id);
    json_t *notes = e2e_poll(E2E_NOTIFICATION, npath, has_notification,
                             &(struct notification_want){"welcome", user_id}, E2E_WAIT_MS,
                             "a 'welcome' notification for the new provider owner");
    const json_t *welcome =
        e2e_find(json_object_get(notes, "notifications"), "kind", "welcome", NULL, NULL);
    assert_string_equal(e2e_str(welcome, "user_id"), user_id);
    assert_string_equal(e2e_str(welcome, "channel"), "email");
    assert_string_equal(e2e_str(welcome, "email"), lower);
    assert_int_equal(e2e_count_matching(json_object_get(notes, "notifications"), "kind", "welcome"),
                     1);
    json_decref(notes);

    /* 6. Activation: 200 active, the user follows; a second activation is a 409. */
    char apath[192];
    snprintf(apath, sizeof(apath), "/providers/%s/activate", provider_id);
    json_t *active;
    e2e_post(E2E_SERVICECATALOG, apath, NULL, c_act, &status, &active, resp_cid);
    if (status != 200)
        fail_msg("POST %s: status %ld, expected 200: %s", apath, status, e2e_dump(active));
    assert_string_equal(resp_cid, c_act);
    assert_string_equal(e2e_str(active, "status"), "active");
    assert_string_equal(e2e_str(active, "id"), provider_id);
    json_decref(active);
    json_decref(e2e_poll(E2E_USERMANAGEMENT, path, user_is,
                         &(struct user_want){"provider", "active"}, E2E_WAIT_MS,
                         "the user's provider_status to become 'active'"));
    e2e_post(E2E_SERVICECATALOG, apath, NULL, c_again, &status, &active, NULL);
    if (status != 409)
        fail_msg("second POST %s: status %ld, expected 409: %s", apath, status, e2e_dump(active));
    e2e_assert_error_body(active, "conflict", "second activation");
    json_decref(active);
    e2e_get(E2E_SERVICECATALOG, provider_path, NULL, &status, &provider, NULL);
    assert_string_equal(e2e_str(provider, "status"), "active");
    json_decref(provider);

    /* Every consumer has handled what it consumes (booking sees the welcome's sent event too). */
    e2e_wait_handled(E2E_SERVICECATALOG, "usermanagement.user.registered", "user_id", user_id,
                     E2E_WAIT_MS);
    e2e_wait_handled(E2E_NOTIFICATION, "usermanagement.user.registered", "user_id", user_id,
                     E2E_WAIT_MS);
    e2e_wait_handled(E2E_USERMANAGEMENT, "servicecatalog.provider.registered", "provider_id",
                     provider_id, E2E_WAIT_MS);
    e2e_wait_handled(E2E_NOTIFICATION, "usermanagement.user.role_granted", "user_id", user_id,
                     E2E_WAIT_MS);
    e2e_wait_handled(E2E_BOOKING, "notification.notification.sent", "user_id", user_id,
                     E2E_WAIT_MS);
    e2e_wait_handled(E2E_USERMANAGEMENT, "servicecatalog.provider.activated", "provider_id",
                     provider_id, E2E_WAIT_MS);
    const char *unsettled = e2e_settled_problem(10000);
    if (unsettled)
        fail_msg("the flow did not settle: %s", unsettled);

    /* Correlation and causation: each event names the request or event that caused it. */
    json_t *out = all_rows("outbox");
    assert_int_equal(json_array_size(out), 5);
    const json_t *registered = one_of_type(out, "usermanagement.user.registered");
    const json_t *prov_registered = one_of_type(out, "servicecatalog.provider.registered");
    const json_t *role_granted = one_of_type(out, "usermanagement.user.role_granted");
    const json_t *sent = one_of_type(out, "notification.notification.sent");
    const json_t *activated = one_of_type(out, "servicecatalog.provider.activated");
    assert_chain(registered, "usermanagement", c_user, c_user);
    assert_chain(prov_registered, "servicecatalog", c_prov, c_prov);
    assert_chain(role_granted, "usermanagement", c_prov, col(prov_registered, 1));
    assert_chain(sent, "notification", c_prov, col(role_granted, 1));
    assert_chain(activated, "servicecatalog", c_act, c_act);

    /* Every inbox row is a copy of the ids of the outbox row it received. */
    json_t *in = all_rows("inbox");
    size_t i;
    const json_t *row;
    json_array_foreach(in, i, row)
    {
        const json_t *src = NULL;
        size_t j;
        const json_t *o;
        json_array_foreach(out, j, o)
        {
            if (strcmp(col(o, 1), col(row, 1)) == 0)
                src = o;
        }
        if (!src)
            fail_msg("inbox row %s has no outbox row with its id", e2e_dump(row));
        for (size_t k = 2; k <= 6; k++)
            if (strcmp(col(row, k), col(src, k)) != 0)
                fail_msg("inbox row %s differs from its outbox row %s", e2e_dump(row),
                         e2e_dump(src));
    }
    /* servicecatalog+notification (registered), usermanagement (provider registered and
     * activated), notification (role granted), booking (sent). */
    assert_int_equal(json_array_size(in), 6);
    json_decref(in);
    json_decref(out);
}

/* Step 3's refusal: an owner nobody registered. */
static void test_provider_with_unknown_owner_is_unprocessable(void **state)
{
    (void)state;
    char owner[E2E_ID_LEN], body[256];
    e2e_new_uuid(owner);
    snprintf(
        body, sizeof(body),
        "{\"owner_id\": \"%s\", \"business_name\": \"Nobody's\", \"provider_type\": \"hotel\"}",
        owner);
    long status;
    json_t *reply;
    e2e_post(E2E_SERVICECATALOG, "/providers", body, NULL, &status, &reply, NULL);
    if (status != 422)
        fail_msg("POST /providers with unknown owner: status %ld, expected 422: %s", status,
                 e2e_dump(reply));
    e2e_assert_error_body(reply, "unprocessable", "unknown owner");
    json_decref(reply);
    assert_int_equal(e2e_count("SELECT count(*) FROM servicecatalog.outbox", NULL, NULL), 0);
}

/* E-mail addresses are unique regardless of case. */
static void test_duplicate_email_in_another_case_is_a_conflict(void **state)
{
    (void)state;
    char email[128], upper[128], id[E2E_ID_LEN], body[256];
    e2e_unique_email(email, sizeof(email), "dup");
    for (size_t i = 0; i <= strlen(email); i++)
        upper[i] = (char)toupper((unsigned char)email[i]);
    e2e_create_user(email, "First", NULL, id);
    snprintf(body, sizeof(body), "{\"email\": \"%s\", \"name\": \"Second\"}", upper);
    long status;
    json_t *reply;
    e2e_post(E2E_USERMANAGEMENT, "/users", body, NULL, &status, &reply, NULL);
    if (status != 409)
        fail_msg("POST /users with '%s' after '%s': status %ld, expected 409: %s", upper, email,
                 status, e2e_dump(reply));
    e2e_assert_error_body(reply, "conflict", "duplicate e-mail");
    json_decref(reply);
    assert_int_equal(e2e_count(USERS_COUNT, NULL, NULL), 1);
    assert_int_equal(e2e_count("SELECT count(*) FROM usermanagement.outbox", NULL, NULL), 1);
}

static void expect_post_users(const char *body, size_t len, long want, const char *error,
                              const char *what)
{
    long status;
    json_t *reply;
    char errbuf[256];
    if (e2e_http("POST", E2E_USERMANAGEMENT, "/users", body, len, NULL, &status, &reply, NULL,
                 errbuf) != 0)
        fail_msg("%s: %s", what, errbuf);
    if (status != want)
        fail_msg("POST /users with %s: status %ld, expected %ld: %s", what, status, want,
                 e2e_dump(reply));
    e2e_assert_error_body(reply, error, what);
    json_decref(reply);
}

static void expect_get_user(const char *id, long want, const char *error, const char *what)
{
    char path[256];
    snprintf(path, sizeof(path), "/users/%s", id);
    long status;
    json_t *reply;
    e2e_get(E2E_USERMANAGEMENT, path, NULL, &status, &reply, NULL);
    if (status != want)
        fail_msg("GET %s (%s): status %ld, expected %ld: %s", path, what, status, want,
                 e2e_dump(reply));
    e2e_assert_error_body(reply, error, what);
    json_decref(reply);
}

/* Every refusal of POST /users and GET /users/{id}, and none of them writes anything. */
static void test_bad_user_input_is_refused_and_nothing_is_half_written(void **state)
{
    (void)state;
    char email[128], id[E2E_ID_LEN];
    e2e_unique_email(email, sizeof(email), "good");
    e2e_create_user(email, "Good", NULL, id);
    int64_t users = e2e_count(USERS_COUNT, NULL, NULL);
    int64_t outbox = all_outbox_rows();
    assert_int_equal(users, 1);

    static const struct {
        const char *body;
        long status;
        const char *error;
        const char *what;
    } cases[] = {
        {"{\"email\": \"x@example.com\", \"name\": ", 400, "invalid", "invalid JSON"},
        {"[\"not\", \"an\", \"object\"]", 400, "invalid", "a JSON array"},
        {"{\"name\": \"No Mail\"}", 400, "invalid", "missing email"},
        {"{\"email\": \"nomail@example.com\"}", 400, "invalid", "missing name"},
        {"{\"email\": 42, \"name\": \"Num\"}", 400, "invalid", "email of the wrong type"},
        {"{\"email\": \"nobody\", \"name\": \"Nobody\"}", 422, "unprocessable", "e-mail 'nobody'"},
        {"{\"email\": \"empty@example.com\", \"name\": \"\"}", 422, "unprocessable", "empty name"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_post_users(cases[i].body, strlen(cases[i].body), cases[i].status, cases[i].error,
                          cases[i].what);

    /* A name of 201 characters (bounds: 1..200). */
    char long_name[512];
    snprintf(long_name, sizeof(long_name),
             "{\"email\": \"long@example.com\", \"name\": \"%0201d\"}", 0);
    expect_post_users(long_name, strlen(long_name), 422, "unprocessable", "a 201-character name");

    /* A body above 1 MiB: refused before any handler runs. */
    size_t big_len = 1024 * 1024 + 64;
    char *big = malloc(big_len + 1);
    assert_non_null(big);
    memset(big, 'a', big_len);
    memcpy(big, "{\"email\": \"", 11);
    memcpy(big + big_len - 27, "@example.com\", \"name\": \"B\"}", 27);
    big[big_len] = '\0';
    expect_post_users(big, big_len, 413, "payload_too_large", "a body above 1 MiB");
    free(big);

    expect_get_user("not-a-uuid", 400, "invalid", "a malformed id");
    char unknown[E2E_ID_LEN];
    e2e_new_uuid(unknown);
    expect_get_user(unknown, 404, "not_found", "an unknown id");

    assert_int_equal(e2e_count(USERS_COUNT, NULL, NULL), users);
    assert_int_equal(all_outbox_rows(), outbox);
}

/* Without X-Correlation-ID each service makes one up, returns it, and the events carry it. */
static void test_correlation_id_is_generated_when_absent(void **state)
{
    (void)state;
    for (int c = 0; c < E2E_NCTX; c++) {
        long status;
        char cid[E2E_CID_LEN];
        e2e_get(c, "/health", NULL, &status, NULL, cid);
        assert_int_equal(status, 200);
        if (!uuid7_is_valid(cid))
            fail_msg(
                "GET /health on '%s' without X-Correlation-ID: reply header '%s' is not a UUID",
                e2e_ctx_name(c), cid);
    }
    char email[128], body[256], cid[E2E_CID_LEN];
    e2e_unique_email(email, sizeof(email), "nocid");
    snprintf(body, sizeof(body), "{\"email\": \"%s\", \"name\": \"No Cid\"}", email);
    long status;
    json_t *user;
    e2e_post(E2E_USERMANAGEMENT, "/users", body, NULL, &status, &user, cid);
    assert_int_equal(status, 201);
    if (!uuid7_is_valid(cid))
        fail_msg("POST /users without X-Correlation-ID: reply header '%s' is not a UUID", cid);
    json_decref(user);
    /* The generated id is the request's correlation id: the event it caused carries it. */
    assert_int_equal(e2e_count("SELECT count(*) FROM usermanagement.outbox WHERE type ="
                               " 'usermanagement.user.registered' AND correlation_id = $1"
                               " AND causation_id = $1",
                               cid, NULL),
                     1);
    /* Two requests without the header get two different ids. */
    char cid2[E2E_CID_LEN];
    e2e_get(E2E_USERMANAGEMENT, "/health", NULL, &status, NULL, cid2);
    assert_string_not_equal(cid, cid2);
}

/* ---- the web surface ------------------------------------------------------------ */

/*
 * Sends the raw request text to 127.0.0.1:port and returns the status of the
 * reply ("HTTP/1.1 415 ..."), or -1 when none came within 10 s. Raw, so the
 * test says exactly which Host and Content-Type go out.
 */
static int raw_status(int port, const char *request)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char reply[64] = "";
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
        send(fd, request, strlen(request), MSG_NOSIGNAL) == (ssize_t)strlen(request)) {
        ssize_t n;
        while (got < sizeof(reply) - 1 &&
               (n = recv(fd, reply + got, sizeof(reply) - 1 - got, 0)) > 0)
            got += (size_t)n;
    }
    close(fd);
    reply[got] = '\0';
    int status = -1;
    if (sscanf(reply, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    return status;
}

static void test_every_service_refuses_non_json_bodies_and_foreign_hosts(void **state)
{
    (void)state;
    for (int c = 0; c < E2E_NCTX; c++) {
        char req[512];
        int port = e2e_port(c);
        /* What a form on any web page can post: text/plain, no preflight. Refused before routing.
         */
        snprintf(req, sizeof(req),
                 "POST /health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: text/plain\r\n"
                 "Content-Length: 2\r\nConnection: close\r\n\r\n{}",
                 port);
        int status = raw_status(port, req);
        if (status != 415)
            fail_msg("'%s': a text/plain POST answered %d, expected 415", e2e_ctx_name(c), status);
        /* A DNS-rebinding page: our address, its name. */
        snprintf(req, sizeof(req),
                 "GET /health HTTP/1.1\r\nHost: rebound.example:%d\r\nConnection: close\r\n\r\n",
                 port);
        status = raw_status(port, req);
        if (status != 403)
            fail_msg("'%s': Host rebound.example answered %d, expected 403", e2e_ctx_name(c),
                     status);
        /* Its own names still pass. */
        snprintf(req, sizeof(req),
                 "GET /health HTTP/1.1\r\nHost: localhost:%d\r\nConnection: close\r\n\r\n", port);
        status = raw_status(port, req);
        if (status != 200)
            fail_msg("'%s': Host localhost answered %d, expected 200", e2e_ctx_name(c), status);
    }
    /* A real write route: the cross-site form creates no user. */
    int64_t users = e2e_count(USERS_COUNT, NULL, NULL);
    char email[128], body[256], req[768];
    e2e_unique_email(email, sizeof(email), "form");
    snprintf(body, sizeof(body), "{\"email\": \"%s\", \"name\": \"Form Post\"}", email);
    int port = e2e_port(E2E_USERMANAGEMENT);
    snprintf(
        req, sizeof(req),
        "POST /users HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: text/plain;charset=UTF-8\r\n"
        "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
        port, strlen(body), body);
    assert_int_equal(raw_status(port, req), 415);
    assert_int_equal(e2e_count(USERS_COUNT, NULL, NULL), users);
}

/* GET path on inventory; returns the reply (new reference), which must have status. */
static json_t *inventory_get(const char *path, long want)
{
    long status;
    json_t *reply;
    e2e_get(E2E_INVENTORY, path, NULL, &status, &reply, NULL);
    if (status != want)
        fail_msg("GET %s: %ld, expected %ld: %s", path, status, want, e2e_dump(reply));
    return reply;
}

/* Adds n made-up reserve movements to offering, after its last one (seq continues). */
static void add_movements(const char *offering, int n)
{
    char count[16], out[32];
    snprintf(count, sizeof(count), "%d", n);
    e2e_value("WITH last AS (SELECT coalesce(max(seq), 0) AS seq FROM inventory.movements"
              "               WHERE offering_id = $1::uuid),"
              " ins AS (INSERT INTO inventory.movements (id, offering_id, seq, kind, quantity,"
              "   booking_id, event_id, available_before, reserved_before, sold_before,"
              "   available_after, reserved_after, sold_after)"
              "  SELECT gen_random_uuid(), $1::uuid, last.seq + g, 'reserve', 1, gen_random_uuid(),"
              "   gen_random_uuid(), 10, 0, 0, 9, 1, 0 FROM last, generate_series(1, $2::int) g"
              "  RETURNING 1)"
              " SELECT count(*) FROM ins",
              offering, count, out, sizeof(out));
    assert_int_equal(atoi(out), n);
}

/* Follows next_cursor from path (with "?limit=…" or not) to the end; counts pages and ids. */
static size_t walk_pages(const char *offering, const char *limit, json_t *ids, int *pages)
{
    char path[256], cursor[32] = "";
    *pages = 0;
    for (;;) {
        snprintf(path, sizeof(path), "/stock/%s/movements?%s%s%s", offering, limit,
                 cursor[0] ? "&cursor=" : "", cursor);
        json_t *reply = inventory_get(path, 200);
        json_t *page = json_object_get(reply, "movements");
        size_t i;
        json_t *m;
        json_array_foreach(page, i, m)
        {
            json_object_set_new(ids, e2e_str(m, "id"), json_true());
        }
        (*pages)++;
        json_t *next = json_object_get(reply, "next_cursor");
        if (!json_object_get(reply, "offering_id") || !next)
            fail_msg("GET %s: no offering_id or next_cursor: %s", path, e2e_dump(reply));
        if (json_is_null(next)) {
            json_decref(reply);
            return json_object_size(ids);
        }
        snprintf(cursor, sizeof(cursor), "%s", json_string_value(next));
        json_decref(reply);
        if (*pages > 20)
            fail_msg("more than 20 pages");
    }
}

static void test_stock_movements_come_in_pages(void **state)
{
    (void)state;
    char email[128], owner[E2E_ID_LEN], provider[E2E_ID_LEN], offering[E2E_ID_LEN];
    e2e_unique_email(email, sizeof(email), "pages");
    e2e_create_user(email, "Paging Owner", NULL, owner);
    json_decref(e2e_create_provider(owner, NULL, provider));
    e2e_create_offering(provider, "Paged Room", 1000, 10, NULL, offering);
    e2e_wait_offering_known(offering);
    add_movements(offering, 250);

    /* The default page is 100, oldest first, and says where the next one starts. */
    char path[256];
    snprintf(path, sizeof(path), "/stock/%s/movements", offering);
    json_t *first = inventory_get(path, 200);
    assert_int_equal(json_array_size(json_object_get(first, "movements")), 100);
    assert_true(json_is_string(json_object_get(first, "next_cursor")));

    /* Following the cursors gives each movement once: 100 + 100 + 50. */
    json_t *ids = json_object();
    int pages;
    assert_int_equal(walk_pages(offering, "", ids, &pages), 250);
    assert_int_equal(pages, 3);
    json_object_clear(ids);
    assert_int_equal(walk_pages(offering, "limit=1000", ids, &pages), 250);
    assert_int_equal(pages, 1);
    json_object_clear(ids);
    assert_int_equal(walk_pages(offering, "limit=250", ids, &pages), 250); /* exactly one page */
    assert_int_equal(pages, 1);

    /* A movement appended between two pages is on the next one, not lost. */
    snprintf(path, sizeof(path), "/stock/%s/movements?limit=200", offering);
    json_t *page1 = inventory_get(path, 200);
    add_movements(offering, 1);
    snprintf(path, sizeof(path), "/stock/%s/movements?limit=200&cursor=%s", offering,
             json_string_value(json_object_get(page1, "next_cursor")));
    json_t *page2 = inventory_get(path, 200);
    assert_int_equal(json_array_size(json_object_get(page2, "movements")), 51);
    assert_true(json_is_null(json_object_get(page2, "next_cursor")));
    assert_string_not_equal(e2e_str(json_array_get(json_object_get(page1, "movements"), 0), "id"),
                            e2e_str(json_array_get(json_object_get(page2, "movements"), 0), "id"));

    /* Bad values are 400. */
    static const char *const bad[] = {"limit=0", "limit=1001", "limit=-1",  "limit=ten",
                                      "limit=",  "cursor=abc", "cursor=-5", "cursor="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/stock/%s/movements?%s", offering, bad[i]);
        json_t *reply = inventory_get(path, 400);
        e2e_assert_error_body(reply, "invalid", path);
        json_decref(reply);
    }
    json_decref(first);
    json_decref(page1);
    json_decref(page2);
    json_decref(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_provider_registration_walks_to_an_active_provider_with_a_welcome, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_with_unknown_owner_is_unprocessable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_email_in_another_case_is_a_conflict, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_user_input_is_refused_and_nothing_is_half_written,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_correlation_id_is_generated_when_absent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_every_service_refuses_non_json_bodies_and_foreign_hosts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stock_movements_come_in_pages, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
