/*
 * test_http.c - the HTTP server's pure parts: route patterns (a table of
 * pattern, path and expected parameters), 404/405 routing, the correlation
 * id rule, the reply helpers and JSON body parsing, the Content-Type and
 * Host rules of the web surface. No network: http_start
 * is only called with configs it must refuse before binding.
 */
#include "common/http.h"

#include "http_internal.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 128 and 129 characters: the longest accepted path parameter and one more. */
#define X16  "xxxxxxxxxxxxxxxx"
#define X128 X16 X16 X16 X16 X16 X16 X16 X16

static const struct {
    const char *pattern;
    const char *path;
    bool match;
    size_t nparams;
    const char *p0;
    const char *p1;
} match_cases[] = {
    {"/health", "/health", true, 0, NULL, NULL},
    {"/health", "/health/", false, 0, NULL, NULL}, /* trailing slash: another path */
    {"/health", "/healthz", false, 0, NULL, NULL},
    {"/health", "/Health", false, 0, NULL, NULL}, /* case-sensitive */
    {"/health", "health", false, 0, NULL, NULL},
    {"/health", "", false, 0, NULL, NULL},
    {"/", "/", true, 0, NULL, NULL},
    {"/", "/x", false, 0, NULL, NULL},
    {"/", "//", false, 0, NULL, NULL},
    {"/providers", "/providers", true, 0, NULL, NULL},
    {"/providers", "/", false, 0, NULL, NULL},
    {"/providers/{id}", "/providers/42", true, 1, "42", NULL},
    {"/providers/{id}", "/providers/", false, 0, NULL, NULL}, /* empty parameter */
    {"/providers/{id}", "/providers", false, 0, NULL, NULL},
    {"/providers/{id}", "/providers/42/", false, 0, NULL, NULL},
    {"/providers/{id}", "/providers/42/activate", false, 0, NULL, NULL}, /* too many segments */
    {"/providers/{id}/activate", "/providers/42/activate", true, 1, "42", NULL},
    {"/providers/{id}/activate", "/providers/42", false, 0, NULL, NULL}, /* too few */
    {"/providers/{id}/activate", "/providers//activate", false, 0, NULL, NULL},
    {"/providers/{id}/activate", "/providers/42/deactivate", false, 0, NULL, NULL},
    {"/a/{x}/b/{y}", "/a/1/b/two", true, 2, "1", "two"},
    {"/a/{x}/{y}", "/a/1", false, 0, NULL, NULL},
    {"/stock/{offering_id}/movements", "/stock/01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f/movements",
     true, 1, "01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f", NULL},
    {"/p/{id}", "/p/" X128, true, 1, X128, NULL},
    {"/p/{id}", "/p/" X128 "x", false, 0, NULL, NULL}, /* overlong parameter */
    {"/p/{id}", "/p/a b%", true, 1, "a b%", NULL},     /* decoded text is taken as it is */
};

static void test_pattern_matching_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        struct http_params params;
        bool match = http_pattern_match(match_cases[i].pattern, match_cases[i].path, &params);
        if (match != match_cases[i].match)
            fail_msg("case %zu: '%s' against '%s' should %s", i, match_cases[i].path,
                     match_cases[i].pattern, match_cases[i].match ? "match" : "not match");
        if (!match)
            continue;
        assert_int_equal(params.n, match_cases[i].nparams);
        if (match_cases[i].p0)
            assert_string_equal(params.value[0], match_cases[i].p0);
        if (match_cases[i].p1)
            assert_string_equal(params.value[1], match_cases[i].p1);
    }
}

static void test_pattern_validity_table(void **state)
{
    (void)state;
    const char *valid[] = {"/",
                           "/health",
                           "/providers/{id}",
                           "/providers/{id}/activate",
                           "/a/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}",
                           "/x_y-z.json"};
    const char *invalid[] = {NULL,       "",
                             "health",   "/health/",
                             "//",       "/a//b",
                             "/a/{}",    "/a/{id",
                             "/a/id}",   "/a/x{id}",
                             "/a/{i-d}", "/a?b=1",
                             "/a#f",     "/a/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}"};
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
        if (!http_pattern_valid(valid[i]))
            fail_msg("'%s' should be a valid pattern", valid[i]);
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
        if (http_pattern_valid(invalid[i]))
            fail_msg("'%s' should be refused", invalid[i] ? invalid[i] : "(null)");
}

static int route_stub(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)req;
    (void)resp;
    (void)app;
    return 0;
}

static const struct http_route routes[] = {
    {"GET", "/providers/{id}", route_stub},   {"POST", "/providers", route_stub},
    {"GET", "/providers", route_stub},        {"POST", "/providers/{id}/activate", route_stub},
    {"GET", "/providers/search", route_stub}, /* shadowed by row 0: first match wins */
    {"POST", "/providers", route_stub},       /* a duplicate: listed once in Allow */
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static void test_route_find_returns_the_first_matching_row_with_its_params(void **state)
{
    (void)state;
    struct http_params params;
    char allow[64];
    assert_int_equal(
        http_route_find(routes, NROUTES, "GET", "/providers/7", &params, allow, sizeof(allow)), 0);
    assert_int_equal(params.n, 1);
    assert_string_equal(params.value[0], "7");
    assert_int_equal(http_route_find(routes, NROUTES, "POST", "/providers/7/activate", &params,
                                     allow, sizeof(allow)),
                     3);
    assert_string_equal(params.value[0], "7");
    assert_int_equal(
        http_route_find(routes, NROUTES, "GET", "/providers", &params, allow, sizeof(allow)), 2);
    assert_int_equal(params.n, 0);
    assert_int_equal(
        http_route_find(routes, NROUTES, "GET", "/providers/search", &params, allow, sizeof(allow)),
        0);
}

static void test_route_find_tells_unknown_path_from_wrong_method(void **state)
{
    (void)state;
    struct http_params params;
    char allow[64];
    assert_int_equal(
        http_route_find(routes, NROUTES, "DELETE", "/providers", &params, allow, sizeof(allow)),
        HTTP_ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "POST, GET");
    assert_int_equal(http_route_find(routes, NROUTES, "GET", "/providers/7/activate", &params,
                                     allow, sizeof(allow)),
                     HTTP_ROUTE_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "POST");
    assert_int_equal(http_route_find(routes, NROUTES, "get", "/providers/7/activate", &params,
                                     allow, sizeof(allow)),
                     HTTP_ROUTE_METHOD_NOT_ALLOWED);
    assert_int_equal(
        http_route_find(routes, NROUTES, "GET", "/providers/7/x", &params, allow, sizeof(allow)),
        HTTP_ROUTE_NOT_FOUND);
    assert_int_equal(http_route_find(routes, NROUTES, "GET", "/providers/" X128 "x", &params, allow,
                                     sizeof(allow)),
                     HTTP_ROUTE_NOT_FOUND);
    assert_int_equal(
        http_route_find(routes, NROUTES, "GET", "/providers/", &params, allow, sizeof(allow)),
        HTTP_ROUTE_NOT_FOUND);
    assert_int_equal(http_route_find(routes, 0, "GET", "/", &params, allow, sizeof(allow)),
                     HTTP_ROUTE_NOT_FOUND);
}

static void test_correlation_id_is_1_to_128_visible_ascii_characters(void **state)
{
    (void)state;
    assert_true(http_correlation_id_valid("a"));
    assert_true(http_correlation_id_valid("01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f"));
    assert_true(http_correlation_id_valid("req:42/retry_1.x~{\"!}"));
    assert_true(http_correlation_id_valid(X128));
    assert_false(http_correlation_id_valid(X128 "x"));
    assert_false(http_correlation_id_valid(""));
    assert_false(http_correlation_id_valid(NULL));
    assert_false(http_correlation_id_valid("a b"));
    assert_false(http_correlation_id_valid("a\tb"));
    assert_false(http_correlation_id_valid("a\x7f"));
    assert_false(http_correlation_id_valid("caf\xc3\xa9"));
}

static void test_method_label_is_one_of_a_fixed_set(void **state)
{
    (void)state;
    assert_string_equal(http_method_label("GET"), "GET");
    assert_string_equal(http_method_label("POST"), "POST");
    assert_string_equal(http_method_label("DELETE"), "DELETE");
    assert_string_equal(http_method_label("BREW"), "other");
    assert_string_equal(http_method_label("get"), "other");
    assert_string_equal(http_method_label(NULL), "other");
}

static void assert_problem(const struct http_response *resp, int status, const char *error,
                           const char *detail)
{
    assert_int_equal(resp->status, status);
    assert_string_equal(resp->content_type, HTTP_CONTENT_TYPE_JSON);
    assert_true(json_is_object(resp->body));
    assert_int_equal(json_object_size(resp->body), 2);
    assert_string_equal(json_string_value(json_object_get(resp->body, "error")), error);
    assert_string_equal(json_string_value(json_object_get(resp->body, "detail")), detail);
}

static void test_reply_error_maps_the_code_to_status_and_spec_body(void **state)
{
    (void)state;
    struct http_response resp = {0};
    struct err err;
    err_set(&err, ERR_NOT_FOUND, "booking '%s' not found", "b1");
    assert_int_equal(http_reply_error(&resp, &err), 0);
    assert_problem(&resp, 404, "not_found", "booking 'b1' not found");

    err_set(&err, ERR_UNPROCESSABLE, "owner unknown");
    assert_int_equal(http_reply_error(&resp, &err), 0); /* replaces the earlier reply */
    assert_problem(&resp, 422, "unprocessable", "owner unknown");

    err_set(&err, ERR_CONFLICT, "offering not known yet");
    http_reply_error(&resp, &err);
    assert_problem(&resp, 409, "conflict", "offering not known yet");

    err_set(&err, ERR_TRANSIENT, "database down");
    http_reply_error(&resp, &err);
    assert_problem(&resp, 503, "unavailable", "database down");

    http_reply_error(&resp, NULL);
    assert_problem(&resp, 500, "internal", "unspecified error");
    json_decref(resp.body);
}

static void test_reply_error_survives_invalid_utf8_in_the_message(void **state)
{
    (void)state;
    struct http_response resp = {0};
    struct err err;
    err_set(&err, ERR_INVALID, "name 'caf\xc3' cut");
    assert_int_equal(http_reply_error(&resp, &err), 0);
    assert_problem(&resp, 400, "invalid", "name 'caf?' cut");
    json_decref(resp.body);
}

static void test_reply_helpers_treat_null_as_a_failed_allocation(void **state)
{
    (void)state;
    struct http_response resp = {0};
    assert_int_equal(http_reply_json(&resp, 200, json_object()), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(http_reply_json(&resp, 201, NULL), ERR_NOMEM); /* drops the earlier reply */
    assert_int_equal(resp.status, 0);
    assert_null(resp.body);
    assert_int_equal(http_reply_text(&resp, 200, NULL, NULL), ERR_NOMEM);
    assert_int_equal(resp.status, 0);
    assert_int_equal(http_reply_text(&resp, 200, NULL, strdup("hi")), 0);
    assert_string_equal(resp.content_type, HTTP_CONTENT_TYPE_TEXT);
    assert_string_equal(resp.text, "hi");
    free(resp.text);
}

static void test_body_json_accepts_only_a_json_object(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int code;
        const char *msg_prefix;
    } cases[] = {
        {"{\"quantity\":2}", 0, NULL},
        {" {} ", 0, NULL},
        {"", ERR_INVALID, "request body is not a JSON object: the body is empty"},
        {"{", ERR_INVALID, "request body is not a JSON object: "},
        {"[1,2]", ERR_INVALID, "request body is not a JSON object: another JSON value"},
        {"\"text\"", ERR_INVALID, "request body is not a JSON object: "},
        {"{\"a\":1,\"a\":2}", ERR_INVALID, "request body is not a JSON object: duplicate"},
        {"{} {}", ERR_INVALID, "request body is not a JSON object: "},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct http_request req = {.method = "POST",
                                   .path = "/x",
                                   .body = cases[i].body,
                                   .body_len = strlen(cases[i].body)};
        struct err err = {0};
        json_t *obj = (json_t *)&err; /* must be reset */
        int rc = http_body_json(&req, &obj, &err);
        if (rc != cases[i].code)
            fail_msg("case %zu ('%s'): got %d (%s)", i, cases[i].body, rc, err.msg);
        if (rc == 0) {
            assert_true(json_is_object(obj));
            json_decref(obj);
            continue;
        }
        assert_null(obj);
        if (strncmp(err.msg, cases[i].msg_prefix, strlen(cases[i].msg_prefix)) != 0)
            fail_msg("case %zu: message '%s'", i, err.msg);
    }
}

/* The body member helpers: one table of member, helper and expected outcome. */
static void test_body_members_are_required_and_typed(void **state)
{
    (void)state;
    json_t *body = json_loads("{\"s\":\"a\\u0000b\", \"i\":42, \"f\":1.0, \"n\":null,"
                              " \"u\":\"01936F0E-1C2A-7D4B-8E3F-0A1B2C3D4E5F\", \"bad\":\"x\"}",
                              JSON_ALLOW_NUL, NULL);
    assert_non_null(body);
    enum { STRING, INTEGER, UUID };
    static const struct {
        int kind;
        const char *key;
        int code;
        const char *msg;
    } cases[] = {
        {STRING, "s", 0, NULL},
        {STRING, "absent", ERR_INVALID, "field 'absent' is required"},
        {STRING, "n", ERR_INVALID, "field 'n' is required"},
        {STRING, "i", ERR_INVALID, "field 'i' must be a string"},
        {INTEGER, "i", 0, NULL},
        {INTEGER, "f", ERR_INVALID, "field 'f' must be an integer"},
        {INTEGER, "s", ERR_INVALID, "field 's' must be an integer"},
        {INTEGER, "absent", ERR_INVALID, "field 'absent' is required"},
        {UUID, "u", 0, NULL},
        {UUID, "bad", ERR_INVALID, "field 'bad' must be a UUID"},
        {UUID, "i", ERR_INVALID, "field 'i' must be a string"},
        {UUID, "absent", ERR_INVALID, "field 'absent' is required"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err err = {0};
        const char *s = NULL;
        size_t len = 0;
        int64_t n = 0;
        char uuid[UUID7_STR_LEN] = "";
        int rc = cases[i].kind == STRING    ? http_body_string(body, cases[i].key, &s, &len, &err)
                 : cases[i].kind == INTEGER ? http_body_integer(body, cases[i].key, &n, &err)
                                            : http_body_uuid(body, cases[i].key, uuid, &err);
        if (rc != cases[i].code)
            fail_msg("case %zu ('%s'): got %d (%s)", i, cases[i].key, rc, err.msg);
        if (rc)
            assert_string_equal(err.msg, cases[i].msg);
    }
    const char *s = NULL;
    size_t len = 0;
    struct err err = {0};
    assert_int_equal(http_body_string(body, "s", &s, &len, &err), 0);
    assert_int_equal(len, 3); /* the NUL inside counts */
    int64_t n = 0;
    assert_int_equal(http_body_integer(body, "i", &n, &err), 0);
    assert_int_equal(n, 42);
    char uuid[UUID7_STR_LEN];
    assert_int_equal(http_body_uuid(body, "u", uuid, &err), 0);
    assert_string_equal(uuid, "01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f"); /* lowercased */
    json_decref(body);
}

static void test_param_uuid_is_required_valid_and_lowercased(void **state)
{
    (void)state;
    struct err err = {0};
    char out[UUID7_STR_LEN];
    assert_int_equal(http_param_uuid(NULL, "booking id", out, &err), ERR_INVALID);
    assert_string_equal(err.msg, "booking id is required");
    assert_int_equal(http_param_uuid("", "booking id", out, &err), ERR_INVALID);
    assert_int_equal(http_param_uuid("42", "booking id", out, &err), ERR_INVALID);
    assert_string_equal(err.msg, "booking id '42' is not a UUID");
    assert_int_equal(
        http_param_uuid("01936F0E-1C2A-7D4B-8E3F-0A1B2C3D4E5F", "booking id", out, &err), 0);
    assert_string_equal(out, "01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f");
}

static void test_found_maps_a_look_up_to_404(void **state)
{
    (void)state;
    struct err err = {0};
    assert_int_equal(http_found(1, "offering", "x", &err), 0);
    assert_int_equal(http_found(0, "offering", "x", &err), ERR_NOT_FOUND);
    assert_string_equal(err.msg, "offering 'x' not found");
    assert_int_equal(http_found(ERR_TRANSIENT, "offering", "x", &err), ERR_TRANSIENT);
}

static void test_query_of_a_made_up_request_is_absent(void **state)
{
    (void)state;
    struct http_request req = {.method = "GET", .path = "/payments"};
    assert_null(http_query(&req, "booking_id"));
}

static void test_start_refuses_malformed_routes_and_config_before_binding(void **state)
{
    (void)state;
    static const struct http_route bad_pattern[] = {{"GET", "/a/{id", route_stub}};
    static const struct http_route bad_method[] = {{"get", "/a", route_stub}};
    static const struct http_route no_handler[] = {{"GET", "/a", NULL}};
    const struct http_config configs[] = {
        {.routes = bad_pattern, .nroutes = 1},
        {.routes = bad_method, .nroutes = 1},
        {.routes = no_handler, .nroutes = 1},
        {.routes = NULL, .nroutes = 1},
        {.port = 70000},
        {.port = -1},
        {.threads = HTTP_THREADS_MAX + 1},
        {.bind_address = "localhost"},
        {.bind_address = "256.0.0.1"},
        {.allowed_hosts = "evil.example/x"},
        {.allowed_hosts = "a;b"},
        {.client_connections = -1},
        {.request_deadline_ms = -1},
    };
    for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
        struct err err = {0};
        struct http_server *server = http_start(&configs[i], &err);
        if (server) {
            http_stop(server);
            fail_msg("config %zu was accepted", i);
        }
        assert_int_equal(err.code, ERR_INVALID);
    }
    http_stop(NULL);
    assert_int_equal(http_port(NULL), 0);
}

static void test_content_type_json_ignores_case_and_parameters(void **state)
{
    (void)state;
    static const char *const json[] = {
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        " application/json ",
        "application/json ;q=1",
    };
    static const char *const other[] = {
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonp",
        "application/json-patch+json",
        "application/",
        "",
        "json",
    };
    for (size_t i = 0; i < sizeof(json) / sizeof(json[0]); i++)
        if (!http_content_type_is_json(json[i]))
            fail_msg("'%s' should be JSON", json[i]);
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        if (http_content_type_is_json(other[i]))
            fail_msg("'%s' should not be JSON", other[i]);
    assert_false(http_content_type_is_json(NULL));
}

static void test_host_allow_list_matches_names_without_port_or_case(void **state)
{
    (void)state;
    const char *list = "localhost,127.0.0.1,::1,10.0.0.5, booking , Inventory.internal";
    static const char *const allowed[] = {
        "localhost", "localhost:8083", "LOCALHOST:1",  "127.0.0.1:8080",     "[::1]:8080",
        "[::1]",     "10.0.0.5:80",    "booking:8083", "inventory.INTERNAL",
    };
    static const char *const refused[] = {
        "evil.example",
        "evil.example:8083",
        "localhost.evil.example",
        "127.0.0.2",
        "[::2]:80",
        "",
        ":8083",
        "[]:80",
        "[::1",
        "[::1]x",
        "book",
        "bookingx",
        "10.0.0.50",
    };
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (!http_host_allowed(allowed[i], list, NULL))
            fail_msg("Host '%s' should be allowed", allowed[i]);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (http_host_allowed(refused[i], list, NULL))
            fail_msg("Host '%s' should be refused", refused[i]);
    /* The connection's own address, for a server bound to a wildcard. */
    assert_true(http_host_allowed("192.0.2.7:8083", NULL, "192.0.2.7"));
    assert_true(http_host_allowed("[2001:db8::1]:8083", "", "2001:db8::1"));
    assert_false(http_host_allowed("192.0.2.8:8083", NULL, "192.0.2.7"));
    assert_false(http_host_allowed(NULL, list, NULL));
}

static void test_allowed_hosts_list_is_checked(void **state)
{
    (void)state;
    assert_true(http_allowed_hosts_valid(NULL));
    assert_true(http_allowed_hosts_valid(""));
    assert_true(http_allowed_hosts_valid("booking, inventory.internal,fe80::1,my_host-2"));
    assert_false(http_allowed_hosts_valid("evil.example/x"));
    assert_false(http_allowed_hosts_valid("a;b"));
    assert_false(http_allowed_hosts_valid("[::1]"));
    char *long_list = malloc(HTTP_ALLOWED_HOSTS_MAX + 2);
    assert_non_null(long_list);
    memset(long_list, 'a', HTTP_ALLOWED_HOSTS_MAX + 1);
    long_list[HTTP_ALLOWED_HOSTS_MAX + 1] = '\0';
    assert_false(http_allowed_hosts_valid(long_list));
    long_list[HTTP_ALLOWED_HOSTS_MAX] = '\0';
    assert_true(http_allowed_hosts_valid(long_list));
    free(long_list);
}

static void test_reply_header_is_bounded_and_refuses_line_breaks(void **state)
{
    (void)state;
    struct http_response resp = {0};
    assert_int_equal(http_reply_json(&resp, 303, json_object()), 0);
    assert_int_equal(http_reply_header(&resp, "Location", "/"), 0);
    assert_int_equal(http_reply_header(&resp, "Set-Cookie", "a=b\r\nX-Evil: 1"), ERR_INVALID);
    for (size_t i = 1; i < HTTP_RESPONSE_HEADERS_MAX; i++)
        assert_int_equal(http_reply_header(&resp, "X-More", "v"), 0);
    assert_int_equal(http_reply_header(&resp, "X-More", "v"), ERR_INVALID);
    assert_int_equal(resp.nheaders, HTTP_RESPONSE_HEADERS_MAX);
    assert_string_equal(resp.headers[0].name, "Location");
    assert_string_equal(resp.headers[0].value, "/");
    /* A new reply drops the headers (LeakSanitizer checks they are freed). */
    assert_int_equal(http_reply_json(&resp, 200, json_object()), 0);
    assert_int_equal(resp.nheaders, 0);
    json_decref(resp.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_matching_table),
        cmocka_unit_test(test_pattern_validity_table),
        cmocka_unit_test(test_route_find_returns_the_first_matching_row_with_its_params),
        cmocka_unit_test(test_route_find_tells_unknown_path_from_wrong_method),
        cmocka_unit_test(test_correlation_id_is_1_to_128_visible_ascii_characters),
        cmocka_unit_test(test_method_label_is_one_of_a_fixed_set),
        cmocka_unit_test(test_reply_error_maps_the_code_to_status_and_spec_body),
        cmocka_unit_test(test_reply_error_survives_invalid_utf8_in_the_message),
        cmocka_unit_test(test_reply_helpers_treat_null_as_a_failed_allocation),
        cmocka_unit_test(test_body_json_accepts_only_a_json_object),
        cmocka_unit_test(test_body_members_are_required_and_typed),
        cmocka_unit_test(test_param_uuid_is_required_valid_and_lowercased),
        cmocka_unit_test(test_found_maps_a_look_up_to_404),
        cmocka_unit_test(test_query_of_a_made_up_request_is_absent),
        cmocka_unit_test(test_start_refuses_malformed_routes_and_config_before_binding),
        cmocka_unit_test(test_content_type_json_ignores_case_and_parameters),
        cmocka_unit_test(test_host_allow_list_matches_names_without_port_or_case),
        cmocka_unit_test(test_allowed_hosts_list_is_checked),
        cmocka_unit_test(test_reply_header_is_bounded_and_refuses_line_breaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
