/*
 * test_http.c - the HTTP server over real sockets: it runs in this process
 * on a free loopback port and libcurl talks to it. Covers routing (params,
 * 404, 405), JSON bodies (echo, invalid → 400, the 1 MiB limit by
 * Content-Length and while streaming → 413), X-Correlation-ID, /health,
 * /metrics, per-thread contexts, concurrent clients and draining on stop;
 * the web surface: 415 without a JSON Content-Type, 403 for a foreign Host,
 * no framing, 5xx replies without the real detail, the per-client connection
 * limit and the request deadline against a byte-a-second client. Needs no
 * database or broker.
 */
#include "common/http.h"

#include "common/log.h"
#include "common/uuid7.h"
#include "testlib.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- the application under test ------------------------------------------------ */

struct test_app {
    atomic_int healthy;
    atomic_int ctx_made;
    atomic_int ctx_freed;
    bool ctx_fails;
};

static int route_get_echo(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    return http_reply_json(
        resp, 200,
        json_pack("{s:s, s:s}", "id", req->params[0], "correlation_id", req->correlation_id));
}

static int route_post_echo(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    struct err err;
    json_t *body;
    if (http_body_json(req, &body, &err) != 0)
        return http_reply_error(resp, &err);
    return http_reply_json(resp, 201, json_pack("{s:o}", "received", body));
}

static int route_get_pair(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    return http_reply_json(resp, 200,
                           json_pack("{s:s, s:s, s:i}", "a", req->params[0], "b", req->params[1],
                                     "n", (int)req->nparams));
}

static int route_get_query(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    const char *q = http_query(req, "q");
    return http_reply_json(resp, 200, json_pack("{s:s?}", "q", q));
}

static int route_get_broken(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)req;
    (void)resp;
    (void)app;
    return ERR_TRANSIENT; /* and no reply */
}

/* A 503 whose message quotes the database, as db.c's would. */
static int route_get_leaky(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)req;
    (void)app;
    struct err err;
    err_set(&err, ERR_TRANSIENT,
            "connection to server at \"10.1.2.3\", port 5432 failed: FATAL: password "
            "authentication failed for user \"booking\"");
    return http_reply_error(resp, &err);
}

static int route_get_slow(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)req;
    (void)app;
    testlib_sleep_ms(300);
    return http_reply_json(resp, 200, json_pack("{s:b}", "slow", 1));
}

static int route_get_thread(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    return http_reply_json(resp, 200, json_pack("{s:i}", "ctx", *(int *)req->thread_ctx));
}

static int route_get_header(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    return http_reply_json(resp, 200, json_pack("{s:s?}", "x_echo", http_header(req, "x-echo")));
}

/* http_config.admit: "X-Gate: closed" is refused before any route runs. */
static int app_admit(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    const char *gate = http_header(req, "X-Gate");
    if (gate && strcmp(gate, "closed") == 0)
        return http_reply_json(
            resp, 403,
            json_pack("{s:s, s:s}", "error", "forbidden", "detail", "the gate is closed"));
    return 0;
}

static const struct http_route test_routes[] = {
    {"GET", "/echo/{id}", route_get_echo},
    {"POST", "/echo", route_post_echo},
    {"GET", "/pairs/{a}/and/{b}", route_get_pair},
    {"GET", "/query", route_get_query},
    {"GET", "/broken", route_get_broken},
    {"GET", "/slow", route_get_slow},
    {"GET", "/thread", route_get_thread},
    {"GET", "/header", route_get_header},
    {"GET", "/leaky", route_get_leaky},
    {"PUT", "/echo", route_post_echo},
};

static int app_health(void *app, json_t *checks)
{
    struct test_app *a = app;
    int healthy = atomic_load(&a->healthy);
    json_object_set_new(checks, "database", json_string(healthy ? "up" : "down"));
    return healthy;
}

static void *app_thread_ctx_new(void *app)
{
    struct test_app *a = app;
    if (a->ctx_fails)
        return NULL;
    int *ctx = malloc(sizeof(*ctx));
    if (ctx)
        *ctx = atomic_fetch_add(&a->ctx_made, 1) + 1;
    return ctx;
}

static void app_thread_ctx_free(void *ctx, void *app)
{
    struct test_app *a = app;
    atomic_fetch_add(&a->ctx_freed, 1);
    free(ctx);
}

/* Starts a server on a free port with the test routes; extra sets the web-surface fields. */
static struct http_server *start_with(struct test_app *app, int threads,
                                      const struct http_config *extra)
{
    struct http_config config = {
        .port = 0,
        .routes = test_routes,
        .nroutes = sizeof(test_routes) / sizeof(test_routes[0]),
        .app = app,
        .threads = threads,
        .health = app_health,
        .thread_ctx_new = app_thread_ctx_new,
        .thread_ctx_free = app_thread_ctx_free,
        .admit = app_admit,
    };
    if (extra) {
        config.allowed_hosts = extra->allowed_hosts;
        config.client_connections = extra->client_connections;
        config.request_deadline_ms = extra->request_deadline_ms;
        config.bind_address = extra->bind_address;
    }
    struct err err = {0};
    struct http_server *server = http_start(&config, &err);
    if (!server)
        fail_msg("http_start: %s", err.msg);
    assert_true(http_port(server) > 0);
    return server;
}

static struct http_server *start(struct test_app *app, int threads)
{
    return start_with(app, threads, NULL);
}

/* --- a small curl client ---------------------------------------------------------- */

struct reply {
    long status;
    char *body;
    size_t len;
    char correlation_id[256];
    char content_type[128];
    char allow[64];
    char csp[128];
    char frame_options[64];
};

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
    struct reply *r = userdata;
    char *body = realloc(r->body, r->len + size * n + 1);
    if (!body)
        return 0;
    memcpy(body + r->len, data, size * n);
    r->body = body;
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static void header_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    if (len <= nlen + 1 || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
        return;
    const char *v = line + nlen + 1;
    while (*v == ' ')
        v++;
    size_t vlen = (size_t)(line + len - v);
    while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
        vlen--;
    snprintf(out, outlen, "%.*s", (int)vlen, v);
}

static size_t on_header(char *line, size_t size, size_t n, void *userdata)
{
    struct reply *r = userdata;
    header_value(line, size * n, "X-Correlation-ID", r->correlation_id, sizeof(r->correlation_id));
    header_value(line, size * n, "Content-Type", r->content_type, sizeof(r->content_type));
    header_value(line, size * n, "Allow", r->allow, sizeof(r->allow));
    header_value(line, size * n, "Content-Security-Policy", r->csp, sizeof(r->csp));
    header_value(line, size * n, "X-Frame-Options", r->frame_options, sizeof(r->frame_options));
    return size * n;
}

/* A streamed upload of a given length without Content-Length (chunked). */
struct upload {
    size_t left;
};

static size_t on_read(char *out, size_t size, size_t n, void *userdata)
{
    struct upload *u = userdata;
    size_t len = size * n < u->left ? size * n : u->left;
    memset(out, ' ', len);
    u->left -= len;
    return len;
}

struct request {
    const char *method;
    const char *path;    /* with the query string */
    const char *content; /* sent with Content-Length */
    size_t content_len;
    size_t chunked_len;         /* or this many bytes, chunked */
    const char *correlation_id; /* sent when not NULL */
    const char *header;         /* one more header line ("Name: value") when not NULL */
    bool no_expect;             /* suppress "Expect: 100-continue" */
    const char *content_type;   /* instead of application/json; "" sends none */
};

/* Sends one request; returns the curl code (no cmocka asserts: runs in worker threads too). */
static CURLcode send_request(int port, const struct request *req, struct reply *out)
{
    memset(out, 0, sizeof(*out));
    CURL *curl = curl_easy_init();
    if (!curl)
        return CURLE_FAILED_INIT;
    char url[512], header[512];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, req->path);
    /* "Content-Type:" with no value makes curl send none at all. */
    const char *content_type = req->content_type ? req->content_type : HTTP_CONTENT_TYPE_JSON;
    char type[256];
    snprintf(type, sizeof(type), "Content-Type:%s%s", content_type[0] ? " " : "", content_type);
    struct curl_slist *headers = curl_slist_append(NULL, type);
    if (req->correlation_id) {
        snprintf(header, sizeof(header), "X-Correlation-ID: %s", req->correlation_id);
        headers = curl_slist_append(headers, header);
    }
    if (req->no_expect)
        headers = curl_slist_append(headers, "Expect:");
    if (req->header)
        headers = curl_slist_append(headers, req->header);
    struct upload upload = {req->chunked_len};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->content) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->content);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->content_len);
    } else if (req->chunked_len) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
        headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return rc;
}

static void reply_release(struct reply *r)
{
    free(r->body);
    r->body = NULL;
}

/* Sends req, expects status and a JSON body; returns the body (json_decref it). */
static json_t *fetch_json(int port, const struct request *req, long status, struct reply *out)
{
    CURLcode rc = send_request(port, req, out);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", req->method, req->path, curl_easy_strerror(rc));
    if (out->status != status)
        fail_msg("%s %s: status %ld, expected %ld: %s", req->method, req->path, out->status, status,
                 out->body ? out->body : "");
    assert_string_equal(out->content_type, HTTP_CONTENT_TYPE_JSON);
    json_error_t je;
    json_t *body = json_loadb(out->body ? out->body : "", out->len, 0, &je);
    if (!body)
        fail_msg("%s %s: reply is not JSON: %s", req->method, req->path, je.text);
    return body;
}

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* Expects the SPEC error body {"error": error, "detail": "…"}. */
static void assert_problem(const json_t *body, const char *error)
{
    assert_int_equal(json_object_size(body), 2);
    assert_string_equal(str(body, "error"), error);
    assert_non_null(str(body, "detail"));
}

/* --- the tests --------------------------------------------------------------------- */

static struct test_app shared_app;
static struct http_server *shared;
static int port;

static int setup(void **state)
{
    (void)state;
    atomic_store(&shared_app.healthy, 1);
    shared = start(&shared_app, 4);
    port = http_port(shared);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    http_stop(shared);
    /* Every per-thread context made was freed, and there were at most one per thread. */
    assert_int_equal(atomic_load(&shared_app.ctx_freed), atomic_load(&shared_app.ctx_made));
    assert_true(atomic_load(&shared_app.ctx_made) <= 4);
    return 0;
}

/* GET path on the shared server, expecting status and JSON. */
static json_t *get_json(const char *path, long status, struct reply *out)
{
    return fetch_json(port, &(struct request){.method = "GET", .path = path}, status, out);
}

/* POST content to path on the shared server, expecting status and JSON. */
static json_t *post_json(const char *path, const char *content, size_t len, long status,
                         struct reply *out)
{
    struct request req = {.method = "POST", .path = path, .content = content, .content_len = len};
    return fetch_json(port, &req, status, out);
}

static void test_path_parameters_reach_the_handler(void **state)
{
    (void)state;
    struct reply r;
    json_t *body = get_json("/echo/abc-42", 200, &r);
    assert_string_equal(str(body, "id"), "abc-42");
    json_decref(body);
    reply_release(&r);

    body = get_json("/pairs/one/and/two", 200, &r);
    assert_string_equal(str(body, "a"), "one");
    assert_string_equal(str(body, "b"), "two");
    assert_int_equal(json_integer_value(json_object_get(body, "n")), 2);
    json_decref(body);
    reply_release(&r);
}

static void test_query_parameters_are_decoded(void **state)
{
    (void)state;
    struct reply r;
    json_t *body = get_json("/query?x=1&q=a%20b", 200, &r);
    assert_string_equal(str(body, "q"), "a b");
    json_decref(body);
    reply_release(&r);
    body = get_json("/query", 200, &r);
    assert_true(json_is_null(json_object_get(body, "q")));
    json_decref(body);
    reply_release(&r);
}

static void test_post_json_is_echoed(void **state)
{
    (void)state;
    const char *sent = "{\"quantity\":2,\"note\":\"caf\xc3\xa9\"}";
    struct reply r;
    json_t *body = post_json("/echo", sent, strlen(sent), 201, &r);
    json_t *received = json_object_get(body, "received");
    assert_int_equal(json_integer_value(json_object_get(received, "quantity")), 2);
    assert_string_equal(str(received, "note"), "caf\xc3\xa9");
    json_decref(body);
    reply_release(&r);
}

static void test_invalid_json_is_a_400_with_the_spec_error_body(void **state)
{
    (void)state;
    const char *bodies[] = {"{\"quantity\":", "[1]", ""};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct reply r;
        json_t *body = post_json("/echo", bodies[i], strlen(bodies[i]), 400, &r);
        assert_problem(body, "invalid");
        assert_non_null(strstr(str(body, "detail"), "request body is not a JSON object: "));
        json_decref(body);
        reply_release(&r);
    }
}

/* A JSON object of exactly len bytes. */
static char *object_of_length(size_t len)
{
    char *text = malloc(len + 1);
    assert_non_null(text);
    memset(text, 'x', len);
    memcpy(text, "{\"s\":\"", 6);
    memcpy(text + len - 2, "\"}", 2);
    text[len] = '\0';
    return text;
}

static void test_body_of_exactly_1_mib_is_accepted(void **state)
{
    (void)state;
    char *text = object_of_length(HTTP_BODY_MAX);
    struct reply r;
    json_t *body = post_json("/echo", text, HTTP_BODY_MAX, 201, &r);
    assert_int_equal(strlen(str(json_object_get(body, "received"), "s")), HTTP_BODY_MAX - 8);
    json_decref(body);
    reply_release(&r);
    free(text);
}

static void test_body_over_1_mib_is_a_413_by_content_length(void **state)
{
    (void)state;
    char *text = object_of_length(HTTP_BODY_MAX + 1);
    /* With "Expect: 100-continue" (curl's default for big bodies) and without. */
    for (int no_expect = 0; no_expect <= 1; no_expect++) {
        struct reply r;
        struct request req = {.method = "POST",
                              .path = "/echo",
                              .content = text,
                              .content_len = HTTP_BODY_MAX + 1,
                              .no_expect = no_expect};
        json_t *body = fetch_json(port, &req, 413, &r);
        assert_problem(body, "payload_too_large");
        assert_true(uuid7_is_valid(r.correlation_id));
        json_decref(body);
        reply_release(&r);
    }
    free(text);
}

static void test_body_over_1_mib_is_a_413_while_streaming(void **state)
{
    (void)state;
    struct reply r;
    json_t *body = fetch_json(
        port,
        &(struct request){.method = "POST", .path = "/echo", .chunked_len = 3 * HTTP_BODY_MAX}, 413,
        &r);
    assert_problem(body, "payload_too_large");
    json_decref(body);
    reply_release(&r);
    /* The server is fine afterwards. */
    body = get_json("/echo/after", 200, &r);
    json_decref(body);
    reply_release(&r);
}

static void test_unknown_path_is_a_404_naming_the_request(void **state)
{
    (void)state;
    struct reply r;
    json_t *body = get_json("/nope", 404, &r);
    assert_problem(body, "not_found");
    assert_string_equal(str(body, "detail"), "no route for 'GET /nope'");
    assert_true(uuid7_is_valid(r.correlation_id));
    json_decref(body);
    reply_release(&r);
    body = get_json("/echo/", 404, &r); /* empty parameter */
    json_decref(body);
    reply_release(&r);
}

static void test_wrong_method_is_a_405_with_allow(void **state)
{
    (void)state;
    struct reply r;
    json_t *body =
        fetch_json(port, &(struct request){.method = "DELETE", .path = "/echo/1"}, 405, &r);
    assert_problem(body, "method_not_allowed");
    assert_string_equal(r.allow, "GET");
    json_decref(body);
    reply_release(&r);
    body = post_json("/health", "{}", 2, 405, &r);
    assert_string_equal(r.allow, "GET");
    json_decref(body);
    reply_release(&r);
}

static void test_handler_failing_without_reply_is_a_500(void **state)
{
    (void)state;
    struct reply r;
    json_t *body = get_json("/broken", 500, &r);
    assert_problem(body, "internal");
    char expected[512];
    snprintf(expected, sizeof(expected), "internal error; see the logs for correlation id %s",
             r.correlation_id);
    assert_string_equal(str(body, "detail"), expected);
    json_decref(body);
    reply_release(&r);
}

static void test_request_headers_reach_the_handler_by_any_case(void **state)
{
    (void)state;
    struct reply r;
    struct request req = {.method = "GET", .path = "/header", .header = "X-Echo: hello"};
    json_t *body = fetch_json(port, &req, 200, &r);
    assert_string_equal(str(body, "x_echo"), "hello");
    json_decref(body);
    reply_release(&r);
    body = get_json("/header", 200, &r);
    assert_true(json_is_null(json_object_get(body, "x_echo")));
    json_decref(body);
    reply_release(&r);
}

static void test_admit_gate_answers_before_any_route_but_not_for_health(void **state)
{
    (void)state;
    struct reply r;
    int made = atomic_load(&shared_app.ctx_made);
    struct request req = {.method = "GET", .path = "/thread", .header = "X-Gate: closed"};
    json_t *body = fetch_json(port, &req, 403, &r);
    assert_problem(body, "forbidden");
    assert_int_equal(atomic_load(&shared_app.ctx_made),
                     made); /* the route's context was not even made */
    json_decref(body);
    reply_release(&r);
    req = (struct request){.method = "POST",
                           .path = "/echo",
                           .content = "{}",
                           .content_len = 2,
                           .header = "X-Gate: closed"};
    body = fetch_json(port, &req, 403, &r);
    json_decref(body);
    reply_release(&r);
    req = (struct request){.method = "GET", .path = "/health", .header = "X-Gate: closed"};
    body = fetch_json(port, &req, 200, &r);
    json_decref(body);
    reply_release(&r);
    req.path = "/echo/open";
    req.header = "X-Gate: open";
    body = fetch_json(port, &req, 200, &r);
    assert_string_equal(str(body, "id"), "open");
    json_decref(body);
    reply_release(&r);
}

static void test_correlation_id_is_echoed_when_sent(void **state)
{
    (void)state;
    struct reply r;
    struct request req = {.method = "GET", .path = "/echo/1", .correlation_id = "order-7:retry_2"};
    json_t *body = fetch_json(port, &req, 200, &r);
    assert_string_equal(r.correlation_id, "order-7:retry_2");
    assert_string_equal(str(body, "correlation_id"), "order-7:retry_2");
    json_decref(body);
    reply_release(&r);
}

static void test_correlation_id_is_a_new_uuid7_when_absent(void **state)
{
    (void)state;
    struct reply r1, r2;
    json_t *b1 = get_json("/echo/1", 200, &r1);
    json_t *b2 = get_json("/echo/1", 200, &r2);
    assert_true(uuid7_is_valid(r1.correlation_id));
    assert_true(uuid7_unix_ms(r1.correlation_id) > 0);
    assert_string_equal(str(b1, "correlation_id"), r1.correlation_id);
    assert_string_not_equal(r1.correlation_id, r2.correlation_id);
    json_decref(b1);
    json_decref(b2);
    reply_release(&r1);
    reply_release(&r2);
}

static void test_invalid_correlation_id_is_a_400(void **state)
{
    (void)state;
    char long_id[201];
    memset(long_id, 'a', 200);
    long_id[200] = '\0';
    const char *ids[] = {long_id, "two words"};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        struct reply r;
        json_t *body = fetch_json(
            port, &(struct request){.method = "GET", .path = "/echo/1", .correlation_id = ids[i]},
            400, &r);
        assert_problem(body, "invalid");
        assert_non_null(strstr(str(body, "detail"), "X-Correlation-ID"));
        assert_true(uuid7_is_valid(r.correlation_id)); /* a fresh one, not the refused one */
        json_decref(body);
        reply_release(&r);
    }
}

static void test_health_is_200_up_or_503_down(void **state)
{
    (void)state;
    struct reply r;
    json_t *body = fetch_json(
        port, &(struct request){.method = "GET", .path = "/health", .correlation_id = "h1"}, 200,
        &r);
    assert_string_equal(str(body, "status"), "up");
    assert_string_equal(str(json_object_get(body, "checks"), "database"), "up");
    assert_string_equal(r.correlation_id, "h1");
    json_decref(body);
    reply_release(&r);

    atomic_store(&shared_app.healthy, 0);
    body = get_json("/health", 503, &r);
    atomic_store(&shared_app.healthy, 1);
    assert_string_equal(str(body, "status"), "down");
    assert_string_equal(str(json_object_get(body, "checks"), "database"), "down");
    json_decref(body);
    reply_release(&r);
}

/* The value of the series line starting with prefix (e.g. 'x{a="b"} '), or 0 when absent. */
static long long series_value(const char *text, const char *prefix)
{
    const char *line = strstr(text, prefix);
    return line ? atoll(line + strlen(prefix)) : 0;
}

static char *fetch_metrics(struct reply *r)
{
    struct request req = {.method = "GET", .path = "/metrics", .correlation_id = "m1"};
    assert_int_equal(send_request(port, &req, r), CURLE_OK);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(r->correlation_id, "m1");
    assert_non_null(r->body);
    return r->body;
}

static void test_metrics_exposes_types_and_counts_requests(void **state)
{
    (void)state;
    const char *ok = "http_requests_total{method=\"GET\",status=\"200\"} ";
    const char *missing = "http_requests_total{method=\"GET\",status=\"404\"} ";
    struct reply r;
    char *text = fetch_metrics(&r);
    long long ok_before = series_value(text, ok), missing_before = series_value(text, missing);
    reply_release(&r);

    for (int i = 0; i < 3; i++) {
        json_t *body = get_json("/echo/m", 200, &r);
        json_decref(body);
        reply_release(&r);
    }
    json_t *body = get_json("/missing", 404, &r);
    json_decref(body);
    reply_release(&r);

    text = fetch_metrics(&r);
    assert_non_null(strstr(text, "# TYPE http_requests_total counter\n"));
    assert_non_null(strstr(text, "# TYPE http_request_duration_seconds histogram\n"));
    assert_non_null(strstr(text, "http_request_duration_seconds_bucket{le=\"+Inf\"} "));
    /* Three echoes and the first /metrics itself (counted once answered). */
    assert_int_equal(series_value(text, ok), ok_before + 4);
    assert_int_equal(series_value(text, missing), missing_before + 1);
    reply_release(&r);
}

#define CLIENTS             8
#define REQUESTS_PER_CLIENT 25

struct client {
    int index;
    int answered;
};

static void *run_client(void *arg)
{
    struct client *c = arg;
    for (int i = 0; i < REQUESTS_PER_CLIENT; i++) {
        char path[64], cid[64], expected[64];
        snprintf(path, sizeof(path), "/echo/c%d-%d", c->index, i);
        snprintf(cid, sizeof(cid), "client-%d-%d", c->index, i);
        snprintf(expected, sizeof(expected), "\"id\":\"c%d-%d\"", c->index, i);
        struct reply r;
        struct request req = {.method = "GET", .path = path, .correlation_id = cid};
        if (send_request(port, &req, &r) == CURLE_OK && r.status == 200 && r.body &&
            strstr(r.body, expected) && strcmp(r.correlation_id, cid) == 0)
            c->answered++;
        reply_release(&r);
    }
    return NULL;
}

static void test_concurrent_clients_are_all_answered(void **state)
{
    (void)state;
    pthread_t threads[CLIENTS];
    struct client clients[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        clients[i] = (struct client){.index = i};
        assert_int_equal(pthread_create(&threads[i], NULL, run_client, &clients[i]), 0);
    }
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(clients[i].answered, REQUESTS_PER_CLIENT);
    }
}

static void test_each_server_thread_gets_its_own_context(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++) {
        struct reply r;
        json_t *body = get_json("/thread", 200, &r);
        json_int_t ctx = json_integer_value(json_object_get(body, "ctx"));
        assert_true(ctx >= 1 && ctx <= 4);
        json_decref(body);
        reply_release(&r);
    }
    assert_true(atomic_load(&shared_app.ctx_made) <= 4);
}

static void test_failing_thread_context_is_a_503_but_health_works(void **state)
{
    (void)state;
    struct test_app app = {.ctx_fails = true};
    atomic_store(&app.healthy, 1);
    struct http_server *server = start(&app, 1);
    struct reply r;
    json_t *body = fetch_json(http_port(server),
                              &(struct request){.method = "GET", .path = "/thread"}, 503, &r);
    assert_problem(body, "unavailable");
    json_decref(body);
    reply_release(&r);
    body = fetch_json(http_port(server), &(struct request){.method = "GET", .path = "/health"}, 200,
                      &r);
    json_decref(body);
    reply_release(&r);
    http_stop(server);
    assert_int_equal(atomic_load(&app.ctx_freed), 0);
}

static void test_client_gone_mid_body_leaves_the_server_well(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    const char *partial = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"a\":";
    assert_int_equal(write(fd, partial, strlen(partial)), (ssize_t)strlen(partial));
    testlib_sleep_ms(50);
    close(fd); /* the request's state is freed by the completion callback (LeakSanitizer) */
    testlib_sleep_ms(50);
    struct reply r;
    json_t *body = get_json("/echo/still-here", 200, &r);
    json_decref(body);
    reply_release(&r);
}

static void test_port_in_use_is_a_transient_start_error(void **state)
{
    (void)state;
    struct http_config config = {.port = port, .routes = test_routes, .nroutes = 1};
    struct err err = {0};
    assert_null(http_start(&config, &err));
    assert_int_equal(err.code, ERR_TRANSIENT);
    assert_non_null(strstr(err.msg, "cannot serve http on '127.0.0.1' port"));
}

struct slow_client {
    int port;
    struct reply reply;
    CURLcode rc;
};

static void *run_slow_client(void *arg)
{
    struct slow_client *c = arg;
    c->rc = send_request(c->port, &(struct request){.method = "GET", .path = "/slow"}, &c->reply);
    return NULL;
}

static void test_stop_lets_the_request_in_flight_finish(void **state)
{
    (void)state;
    struct test_app app = {0};
    struct http_server *server = start(&app, 2);
    struct slow_client client = {.port = http_port(server)};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, run_slow_client, &client), 0);
    testlib_sleep_ms(100); /* the handler is sleeping now */
    int64_t t0 = testlib_now_ms();
    http_stop(server);
    pthread_join(thread, NULL);
    assert_int_equal(client.rc, CURLE_OK);
    assert_int_equal(client.reply.status, 200);
    assert_non_null(strstr(client.reply.body, "\"slow\":true"));
    assert_true(testlib_now_ms() - t0 < 3000);
    reply_release(&client.reply);
    /* Nothing listens any more. */
    struct reply r;
    assert_int_not_equal(
        send_request(client.port, &(struct request){.method = "GET", .path = "/health"}, &r),
        CURLE_OK);
    reply_release(&r);
}

/* --- the web surface --------------------------------------------------------------- */

static void test_body_without_json_content_type_is_a_415(void **state)
{
    (void)state;
    /* What a form on another site can send without a CORS preflight, and no type at all. */
    static const char *const refused[] = {
        "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "",           "application/json-patch+json",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        for (int put = 0; put <= 1; put++) {
            struct reply r;
            struct request req = {.method = put ? "PUT" : "POST",
                                  .path = "/echo",
                                  .content = "{\"a\":1}",
                                  .content_len = 7,
                                  .content_type = refused[i]};
            json_t *body = fetch_json(port, &req, 415, &r);
            assert_problem(body, "unsupported_media_type");
            assert_non_null(strstr(str(body, "detail"), "application/json"));
            json_decref(body);
            reply_release(&r);
        }
    }
    /* An empty POST too: a form can post nothing. */
    struct reply r;
    struct request req = {.method = "POST",
                          .path = "/echo",
                          .content = "",
                          .content_len = 0,
                          .content_type = "text/plain"};
    json_t *body = fetch_json(port, &req, 415, &r);
    json_decref(body);
    reply_release(&r);
    /* The media type without case, with parameters. */
    static const char *const accepted[] = {"application/json; charset=utf-8", "Application/JSON"};
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        req = (struct request){.method = "POST",
                               .path = "/echo",
                               .content = "{\"a\":1}",
                               .content_len = 7,
                               .content_type = accepted[i]};
        body = fetch_json(port, &req, 201, &r);
        json_decref(body);
        reply_release(&r);
    }
    /* A GET needs none. */
    req = (struct request){.method = "GET", .path = "/echo/1", .content_type = ""};
    body = fetch_json(port, &req, 200, &r);
    json_decref(body);
    reply_release(&r);
}

static void test_foreign_host_is_a_403_for_every_route(void **state)
{
    (void)state;
    static const char *const paths[] = {"/echo/1", "/health", "/metrics", "/nope"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct reply r;
        struct request req = {.method = "GET", .path = paths[i], .header = "Host: evil.example"};
        json_t *body = fetch_json(port, &req, 403, &r);
        assert_problem(body, "forbidden");
        assert_non_null(strstr(str(body, "detail"), "evil.example"));
        json_decref(body);
        reply_release(&r);
    }
    /* The loopback names, any port. */
    static const char *const ours[] = {"Host: localhost", "Host: LOCALHOST:1234",
                                       "Host: 127.0.0.1:8080", "Host: [::1]:8080"};
    for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
        struct reply r;
        struct request req = {.method = "GET", .path = "/echo/1", .header = ours[i]};
        json_t *body = fetch_json(port, &req, 200, &r);
        json_decref(body);
        reply_release(&r);
    }
}

static void test_allowed_hosts_adds_names_to_the_loopback_ones(void **state)
{
    (void)state;
    struct test_app app = {0};
    struct http_server *server =
        start_with(&app, 1, &(struct http_config){.allowed_hosts = "booking, inventory.internal"});
    static const struct {
        const char *host;
        long status;
    } cases[] = {
        {"Host: booking:8083", 200},  {"Host: Inventory.Internal", 200}, {"Host: 127.0.0.1", 200},
        {"Host: bookings:8083", 403}, {"Host: evil.example:8083", 403},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct reply r;
        struct request req = {.method = "GET", .path = "/echo/1", .header = cases[i].host};
        json_t *body = fetch_json(http_port(server), &req, cases[i].status, &r);
        json_decref(body);
        reply_release(&r);
    }
    http_stop(server);
}

static void test_every_reply_forbids_framing(void **state)
{
    (void)state;
    static const char *const paths[] = {"/echo/1", "/nope", "/health"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct reply r;
        json_t *body = get_json(paths[i], strcmp(paths[i], "/nope") == 0 ? 404 : 200, &r);
        assert_string_equal(r.csp, "frame-ancestors 'none'");
        assert_string_equal(r.frame_options, "DENY");
        json_decref(body);
        reply_release(&r);
    }
}

static void test_5xx_reply_hides_the_database_text_and_logs_it(void **state)
{
    (void)state;
    char *logged = NULL;
    size_t logged_len = 0;
    FILE *log = open_memstream(&logged, &logged_len);
    assert_non_null(log);
    log_set_stream(log);
    struct reply r;
    struct request req = {.method = "GET", .path = "/leaky", .correlation_id = "leak-1"};
    json_t *body = fetch_json(port, &req, 503, &r);
    log_set_stream(NULL);
    fclose(log);
    assert_problem(body, "unavailable");
    assert_string_equal(str(body, "detail"),
                        "service unavailable; see the logs for correlation id leak-1");
    assert_null(strstr(r.body, "password"));
    assert_null(strstr(r.body, "10.1.2.3"));
    /* The log has the real text, under the correlation id. */
    assert_non_null(strstr(logged, "password authentication failed"));
    assert_non_null(strstr(logged, "leak-1"));
    free(logged);
    json_decref(body);
    reply_release(&r);
}

/* A TCP connection to 127.0.0.<last>:port (all of 127/8 is loopback on Linux), or -1. */
static int raw_connect_to(int last, int to_port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)to_port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK - 1 + (uint32_t)last);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A TCP connection to 127.0.0.1:port, or -1. */
static int raw_connect(int to_port)
{
    return raw_connect_to(1, to_port);
}

/* Whether the server closed fd within timeout_ms (EOF or reset); false when still open. */
static bool closed_by_server(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0)
        return false;
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static void test_one_client_may_hold_only_so_many_connections(void **state)
{
    (void)state;
    struct test_app app = {0};
    struct http_server *server =
        start_with(&app, 2, &(struct http_config){.client_connections = 3});
    int fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = raw_connect(http_port(server));
        assert_true(fds[i] >= 0);
    }
    testlib_sleep_ms(100); /* accepted and counted */
    for (int i = 0; i < 3; i++)
        assert_false(closed_by_server(fds[i], 0));
    int extra = raw_connect(http_port(server)); /* the kernel accepts, the server drops it */
    assert_true(extra >= 0);
    assert_true(closed_by_server(extra, 2000));
    close(extra);
    close(fds[0]);
    testlib_sleep_ms(100);
    struct reply r;
    json_t *body = fetch_json(http_port(server),
                              &(struct request){.method = "GET", .path = "/echo/1"}, 200, &r);
    json_decref(body);
    reply_release(&r);
    close(fds[1]);
    close(fds[2]);
    http_stop(server);
}

static void test_byte_a_second_client_is_cut_off_at_the_deadline(void **state)
{
    (void)state;
    struct test_app app = {0};
    struct http_server *server =
        start_with(&app, 1, &(struct http_config){.request_deadline_ms = 2000});
    int fd = raw_connect(http_port(server));
    assert_true(fd >= 0);
    const char *head = "GET /echo/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    assert_int_equal(send(fd, head, strlen(head), MSG_NOSIGNAL), (ssize_t)strlen(head));
    int64_t t0 = testlib_now_ms(), cut_at = -1;
    /* One byte a second, each well inside the 30 s idle timeout, for at most 10 s. */
    for (int i = 0; i < 10 && cut_at < 0; i++) {
        if (send(fd, "a", 1, MSG_NOSIGNAL) != 1 || closed_by_server(fd, 1000))
            cut_at = testlib_now_ms() - t0;
    }
    close(fd);
    if (cut_at < 0)
        fail_msg("a byte-a-second client still held its connection after 10 s");
    if (cut_at < 1500 || cut_at > 4000)
        fail_msg("cut off after %lld ms, expected about 2000", (long long)cut_at);
    /* A quick request on a fresh connection is served as usual. */
    struct reply r;
    json_t *body = fetch_json(http_port(server),
                              &(struct request){.method = "GET", .path = "/echo/1"}, 200, &r);
    json_decref(body);
    reply_release(&r);
    http_stop(server);
}

/* The status of "GET /echo/1" sent to 127.0.0.<last>:to_port with host as Host, or -1. */
static int status_via(int last, int to_port, const char *host)
{
    int fd = raw_connect_to(last, to_port);
    if (fd < 0)
        return -1;
    char req[256], reply[64] = "";
    snprintf(req, sizeof(req), "GET /echo/1 HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
             host);
    size_t got = 0;
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req)) {
        ssize_t n;
        while (got < sizeof(reply) - 1 &&
               (n = recv(fd, reply + got, sizeof(reply) - 1 - got, 0)) > 0)
            got += (size_t)n;
    }
    close(fd);
    reply[got] = '\0';
    int status = -1;
    return sscanf(reply, "HTTP/1.%*d %d", &status) == 1 ? status : -1;
}

static void test_bound_to_a_wildcard_the_connections_own_address_is_a_host(void **state)
{
    (void)state;
    struct test_app app = {0};
    struct http_server *server =
        start_with(&app, 1, &(struct http_config){.bind_address = "0.0.0.0"});
    int p = http_port(server);
    char host[64];
    /* Reached on 127.0.0.2, the Host may name 127.0.0.2 (a literal address, not a rebound name). */
    snprintf(host, sizeof(host), "127.0.0.2:%d", p);
    assert_int_equal(status_via(2, p, host), 200);
    snprintf(host, sizeof(host), "127.0.0.3:%d", p);
    assert_int_equal(status_via(2, p, host), 403);
    assert_int_equal(status_via(2, p, "0.0.0.0"), 403); /* the wildcard itself names nothing */
    assert_int_equal(status_via(2, p, "rebound.example"), 403);
    assert_int_equal(status_via(1, p, "localhost"), 200);
    http_stop(server);
}

static void test_the_deadline_counts_per_request_on_a_kept_alive_connection(void **state)
{
    (void)state;
    struct test_app app = {0};
    struct http_server *server =
        start_with(&app, 1, &(struct http_config){.request_deadline_ms = 1500});
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo/1", http_port(server));
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    struct reply r = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    /* Three quick requests 1 s apart on one connection: 2 s in all, each well inside 1.5 s. */
    for (int i = 0; i < 3; i++) {
        if (i > 0)
            testlib_sleep_ms(1000);
        assert_int_equal(curl_easy_perform(curl), CURLE_OK);
        long status = 0, new_connections = -1;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &new_connections);
        assert_int_equal(status, 200);
        if (i > 0 && new_connections != 0)
            fail_msg("request %d needed a new connection: the kept-alive one was cut", i + 1);
        reply_release(&r);
        r.len = 0;
    }
    curl_easy_cleanup(curl);
    http_stop(server);
}

int main(void)
{
    log_setup("test", "http", LOG_LEVEL_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_parameters_reach_the_handler),
        cmocka_unit_test(test_query_parameters_are_decoded),
        cmocka_unit_test(test_post_json_is_echoed),
        cmocka_unit_test(test_invalid_json_is_a_400_with_the_spec_error_body),
        cmocka_unit_test(test_body_of_exactly_1_mib_is_accepted),
        cmocka_unit_test(test_body_over_1_mib_is_a_413_by_content_length),
        cmocka_unit_test(test_body_over_1_mib_is_a_413_while_streaming),
        cmocka_unit_test(test_unknown_path_is_a_404_naming_the_request),
        cmocka_unit_test(test_wrong_method_is_a_405_with_allow),
        cmocka_unit_test(test_handler_failing_without_reply_is_a_500),
        cmocka_unit_test(test_request_headers_reach_the_handler_by_any_case),
        cmocka_unit_test(test_admit_gate_answers_before_any_route_but_not_for_health),
        cmocka_unit_test(test_correlation_id_is_echoed_when_sent),
        cmocka_unit_test(test_correlation_id_is_a_new_uuid7_when_absent),
        cmocka_unit_test(test_invalid_correlation_id_is_a_400),
        cmocka_unit_test(test_health_is_200_up_or_503_down),
        cmocka_unit_test(test_metrics_exposes_types_and_counts_requests),
        cmocka_unit_test(test_concurrent_clients_are_all_answered),
        cmocka_unit_test(test_each_server_thread_gets_its_own_context),
        cmocka_unit_test(test_failing_thread_context_is_a_503_but_health_works),
        cmocka_unit_test(test_client_gone_mid_body_leaves_the_server_well),
        cmocka_unit_test(test_port_in_use_is_a_transient_start_error),
        cmocka_unit_test(test_stop_lets_the_request_in_flight_finish),
        cmocka_unit_test(test_body_without_json_content_type_is_a_415),
        cmocka_unit_test(test_foreign_host_is_a_403_for_every_route),
        cmocka_unit_test(test_allowed_hosts_adds_names_to_the_loopback_ones),
        cmocka_unit_test(test_every_reply_forbids_framing),
        cmocka_unit_test(test_5xx_reply_hides_the_database_text_and_logs_it),
        cmocka_unit_test(test_one_client_may_hold_only_so_many_connections),
        cmocka_unit_test(test_byte_a_second_client_is_cut_off_at_the_deadline),
        cmocka_unit_test(test_bound_to_a_wildcard_the_connections_own_address_is_a_host),
        cmocka_unit_test(test_the_deadline_counts_per_request_on_a_kept_alive_connection),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return failed;
}
