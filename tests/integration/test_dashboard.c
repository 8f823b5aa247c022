/*
 * test_dashboard.c - "eventctl dashboard" against a real PostgreSQL: the
 * binary (EVENTCTL_BIN) runs as a child process on a port it picks itself
 * (--port 0, read back from the line it prints), and the page and the JSON
 * API are checked over HTTP with libcurl. A second dashboard with a token
 * checks the token rules, and the refusals of the web surface (foreign Host,
 * non-JSON writes, framing) are checked on the first.
 *
 * Like test_eventctl.c, the booking, inventory and payment schemas are dropped
 * and migrated afresh from migrations/ (EVENTCTL_MIGRATIONS), the other three
 * contexts' schemas are dropped, and each test writes the same small booking
 * saga (tests/lib/ops_fixtures.h). What the API returns is compared with the
 * database and with what the eventctl commands print for the same rows. The
 * schemas are dropped at the end.
 */
#include "ops_fixtures.h"
#include "testlib.h"

#include "common/bus.h"
#include "common/db.h"
#include "common/heartbeat.h"
#include "common/migrate.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const scratch[] = {"booking", "inventory", "payment"};
static const char *const absent[] = {"servicecatalog", "usermanagement", "notification"};
#define NSCRATCH (sizeof(scratch) / sizeof(scratch[0]))
#define NABSENT  (sizeof(absent) / sizeof(absent[0]))

/* The saga's events (ops_fixtures_saga): created → reserved → succeeded, and E4 unpublished. */
#define E1         OPS_FIXTURES_E1
#define E2         OPS_FIXTURES_E2
#define E3         OPS_FIXTURES_E3
#define E4         OPS_FIXTURES_E4
#define UNKNOWN_ID "01900000-0000-7000-8000-00000000dead"
#define DEAD_ERROR OPS_FIXTURES_INBOX_ERROR /* "handler failed: stock row locked" */

static struct db *db;
static char corr[64], corr2[64]; /* this test's correlation ids */
static pid_t dashboard = -1;     /* the eventctl dashboard child */
static int port;                 /* where it listens */
static char out_path[64], err_path[64];

/* ---- processes ---------------------------------------------------------------------- */

static void read_file(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Starts eventctl with args (NULL-terminated), stdout and stderr into files; returns its pid. */
static pid_t spawn(const char *const *args, const char *stdout_path, const char *stderr_path)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)EVENTCTL_BIN;
    for (; *args && argc < 15; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int out = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (out < 0 || err < 0)
            _exit(126);
        dup2(out, 1);
        dup2(err, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* Waits up to timeout_ms for pid; returns its exit status, or -1 (killed, or still running). */
static int wait_exit(pid_t pid, int timeout_ms)
{
    int64_t deadline = testlib_now_ms() + timeout_ms;
    int st;
    while (testlib_now_ms() < deadline) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        testlib_sleep_ms(20);
    }
    return -1;
}

/* Runs eventctl to the end with args and returns its exit status; stdout into out. */
static int run_eventctl(const char *const *args, char *out, size_t outlen)
{
    char o[96], e[96];
    snprintf(o, sizeof(o), "%s.run", out_path);
    snprintf(e, sizeof(e), "%s.run", err_path);
    pid_t pid = spawn(args, o, e);
    assert_true(pid > 0);
    int status = wait_exit(pid, 30000);
    read_file(o, out, outlen);
    unlink(o);
    unlink(e);
    return status;
}

#define EVENTCTL(out, ...)                                                                         \
    run_eventctl((const char *const[]){__VA_ARGS__, NULL}, (out), sizeof(out))

/* ---- HTTP ------------------------------------------------------------------------------ */

struct reply {
    long status;
    char content_type[128];
    char *body; /* NUL-terminated, malloc'd */
    size_t len;
    char csp[128];
    char frame_options[32];
    char location[256];
    char set_cookie[512];
};

/* Copies the value of header line (of length len) into out when it is header name. */
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

static size_t on_header(char *line, size_t size, size_t n, void *vreply)
{
    struct reply *r = vreply;
    header_value(line, size * n, "Content-Security-Policy", r->csp, sizeof(r->csp));
    header_value(line, size * n, "X-Frame-Options", r->frame_options, sizeof(r->frame_options));
    header_value(line, size * n, "Location", r->location, sizeof(r->location));
    header_value(line, size * n, "Set-Cookie", r->set_cookie, sizeof(r->set_cookie));
    return size * n;
}

static size_t on_body(char *data, size_t size, size_t n, void *vreply)
{
    struct reply *r = vreply;
    char *p = realloc(r->body, r->len + size * n + 1);
    if (!p)
        return 0;
    memcpy(p + r->len, data, size * n);
    r->len += size * n;
    p[r->len] = '\0';
    r->body = p;
    return size * n;
}

/*
 * Sends method path to the dashboard (no body) with the header lines of
 * headers (NULL-terminated; NULL for none), and fills r; the test fails when
 * it cannot.
 */
static void request_headers(const char *method, const char *path, const char *const *headers_in,
                            struct reply *r)
{
    memset(r, 0, sizeof(*r));
    char url[512];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }
    struct curl_slist *headers = NULL;
    for (const char *const *h = headers_in; h && *h; h++)
        headers = curl_slist_append(headers, *h);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    char *type = NULL;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    snprintf(r->content_type, sizeof(r->content_type), "%s", type ? type : "");
    curl_easy_cleanup(curl);
    if (!r->body)
        r->body = calloc(1, 1);
}

/* method path with one more header line when header is not NULL. */
static void request_with(const char *method, const char *path, const char *header, struct reply *r)
{
    request_headers(method, path, (const char *const[]){header, NULL}, r);
}

/* As the page sends it: a POST carries X-Requested-With and says it is JSON. */
static void request(const char *method, const char *path, struct reply *r)
{
    static const char *const page_post[] = {"X-Requested-With: eventctl-dashboard",
                                            "Content-Type: application/json", NULL};
    request_headers(method, path, strcmp(method, "POST") == 0 ? page_post : NULL, r);
}

/* The JSON reply of method path, which must answer status (the test fails otherwise). */
static json_t *fetch_json(const char *method, const char *path, long status)
{
    struct reply r;
    request(method, path, &r);
    if (r.status != status)
        fail_msg("%s %s answered %ld, expected %ld: %s", method, path, r.status, status, r.body);
    assert_string_equal(r.content_type, "application/json");
    json_error_t jerr;
    json_t *j = json_loads(r.body, 0, &jerr);
    if (!j)
        fail_msg("%s %s: not JSON (%s): %s", method, path, jerr.text, r.body);
    free(r.body);
    return j;
}

/* An error reply: the status, and {"error": name, "detail": "...needle..."}. */
static void expect_error(const char *method, const char *path, long status, const char *name,
                         const char *needle)
{
    json_t *j = fetch_json(method, path, status);
    assert_string_equal(json_string_value(json_object_get(j, "error")), name);
    const char *detail = json_string_value(json_object_get(j, "detail"));
    assert_non_null(detail);
    if (!strstr(detail, needle))
        fail_msg("%s %s: detail '%s' does not say '%s'", method, path, detail, needle);
    json_decref(j);
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s)
        fail_msg("no string '%s' in the reply", key);
    return s;
}

static long long num(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

/* ---- fixtures ------------------------------------------------------------------------- */

/*
 * Starts a dashboard with args, output into o and e; sets *pid and *at_port
 * once it says where it listens. Returns 0, or -1 (said on stderr).
 */
static int spawn_dashboard(const char *const *args, const char *o, const char *e, pid_t *pid,
                           int *at_port)
{
    *pid = spawn(args, o, e);
    if (*pid < 0)
        return -1;
    /* It prints "eventctl dashboard: serving http://<address>:<port>/ ..." once it listens. */
    for (int i = 0; i < 500; i++) {
        char out[512];
        read_file(o, out, sizeof(out));
        const char *at = strstr(out, "serving http://");
        const char *slash = at ? strchr(at + strlen("serving http://"), '/') : NULL;
        if (slash && strchr(at, '\n')) {
            const char *colon = slash;
            while (colon > at && *colon != ':')
                colon--;
            *at_port = atoi(colon + 1);
            return *at_port > 0 ? 0 : -1;
        }
        if (waitpid(*pid, NULL, WNOHANG) == *pid) {
            char err[2048];
            read_file(e, err, sizeof(err));
            fprintf(stderr, "eventctl dashboard exited at start:\n%s", err);
            *pid = -1;
            return -1;
        }
        testlib_sleep_ms(20);
    }
    fprintf(stderr, "eventctl dashboard did not say where it listens within 10 s\n");
    return -1;
}

static int start_dashboard(void)
{
    snprintf(out_path, sizeof(out_path), "/tmp/dashboard_out_%d", (int)getpid());
    snprintf(err_path, sizeof(err_path), "/tmp/dashboard_err_%d", (int)getpid());
    const char *args[] = {
        "dashboard", "--port", "0", "--database-url", testlib_require_env("DATABASE_URL"), NULL};
    return spawn_dashboard(args, out_path, err_path, &dashboard, &port);
}

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    db = db_new(testlib_require_env("DATABASE_URL"));
    struct err err = {0};
    if (!db || db_connect(db, &err) < 0) {
        fprintf(stderr, "cannot connect: %s\n", err.msg);
        return -1;
    }
    for (size_t i = 0; i < NABSENT; i++) {
        char drop[128];
        snprintf(drop, sizeof(drop), "DROP SCHEMA IF EXISTS %s CASCADE", absent[i]);
        if (db_exec(db, drop, 0, NULL, NULL, NULL, &err) < 0) {
            fprintf(stderr, "cannot drop schema '%s': %s\n", absent[i], err.msg);
            return -1;
        }
    }
    for (size_t i = 0; i < NSCRATCH; i++) {
        char drop[128];
        snprintf(drop, sizeof(drop), "DROP SCHEMA IF EXISTS %s CASCADE", scratch[i]);
        if (db_exec(db, drop, 0, NULL, NULL, NULL, &err) < 0 ||
            migrate_context(db, EVENTCTL_MIGRATIONS, scratch[i], NULL, &err) < 0) {
            fprintf(stderr, "cannot set up schema '%s': %s\n", scratch[i], err.msg);
            return -1;
        }
    }
    return start_dashboard();
}

static int group_teardown(void **state)
{
    (void)state;
    if (dashboard > 0) {
        kill(dashboard, SIGKILL);
        waitpid(dashboard, NULL, 0);
    }
    unlink(out_path);
    unlink(err_path);
    struct err err = {0};
    for (size_t i = 0; i < NSCRATCH; i++) {
        char drop[128];
        snprintf(drop, sizeof(drop), "DROP SCHEMA IF EXISTS %s CASCADE", scratch[i]);
        (void)db_exec(db, drop, 0, NULL, NULL, NULL, &err);
    }
    db_free(db);
    curl_global_cleanup();
    return 0;
}

/* Each test starts from empty tables, the saga in a fresh correlation id. */
static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSCRATCH; i++)
        ops_fixtures_truncate(db, scratch[i]);
    testlib_unique_name(corr, sizeof(corr), "corr");
    testlib_unique_name(corr2, sizeof(corr2), "corr");
    ops_fixtures_saga(db, corr, corr2);
    return 0;
}

/* ---- the page ------------------------------------------------------------------------------ */

static void test_root_serves_the_self_contained_page(void **state)
{
    (void)state;
    struct reply r;
    request("GET", "/", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/html; charset=utf-8");
    assert_non_null(strstr(r.body, "<title>eventctl dashboard</title>"));
    assert_non_null(strstr(r.body, "Retry"));
    /* Nothing loaded from elsewhere: no script, style or image by URL, no innerHTML. */
    assert_null(strstr(r.body, "src=\""));
    assert_null(strstr(r.body, "<link"));
    assert_null(strstr(r.body, "@import"));
    assert_null(strstr(r.body, ".innerHTML"));
    free(r.body);
}

/* ---- /api/contexts --------------------------------------------------------------------- */

static json_t *context_of(json_t *contexts, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(contexts, i, c)
    {
        if (strcmp(str(c, "name"), name) == 0)
            return c;
    }
    fail_msg("no context '%s'", name);
    return NULL;
}

static void test_contexts_count_the_rows_by_table_and_status(void **state)
{
    (void)state;
    json_t *j = fetch_json("GET", "/api/contexts", 200);
    json_t *contexts = json_object_get(j, "contexts");
    assert_int_equal(json_array_size(contexts), 6);
    assert_string_equal(str(json_array_get(contexts, 0), "name"), "servicecatalog");
    for (size_t i = 0; i < NABSENT; i++)
        assert_true(json_is_false(json_object_get(context_of(contexts, absent[i]), "migrated")));

    /* Every count the API gives equals the table's, zeros included. */
    static const char *const tables[] = {"outbox", "inbox"};
    for (size_t i = 0; i < NSCRATCH; i++) {
        json_t *c = context_of(contexts, scratch[i]);
        assert_true(json_is_true(json_object_get(c, "migrated")));
        for (size_t t = 0; t < 2; t++) {
            const char *status;
            json_t *count;
            json_t *counts = json_object_get(c, tables[t]);
            assert_true(json_object_size(counts) == (t == 0 ? 3 : 4));
            json_object_foreach(counts, status, count)
            {
                char q[256], v[32];
                snprintf(q, sizeof(q), "SELECT count(*) FROM %s.%s WHERE status = $1", scratch[i],
                         tables[t]);
                ops_fixtures_value(db, q, 1, (const char *[]){status}, v, sizeof(v));
                if (json_integer_value(count) != atoll(v))
                    fail_msg("%s %s %s: API says %lld, table has %s", scratch[i], tables[t], status,
                             (long long)json_integer_value(count), v);
            }
        }
    }
    json_t *inventory = context_of(contexts, "inventory");
    assert_int_equal(num(json_object_get(inventory, "inbox"), "dead"), 1);
    assert_int_equal(num(json_object_get(inventory, "inbox"), "processed"), 1);
    json_t *booking = context_of(contexts, "booking");
    assert_int_equal(num(json_object_get(booking, "outbox"), "failed"), 1);
    assert_int_equal(num(json_object_get(booking, "outbox"), "published"), 1);
    json_decref(j);
}

/* ---- /api/message/{id} -------------------------------------------------------------------- */

/* The row of message j in table (and consumer context when an inbox row), or NULL. */
static json_t *message_row_of(json_t *j, const char *context, const char *table)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(j, "rows"), i, r)
    {
        if (strcmp(str(r, "context"), context) == 0 && strcmp(str(r, "table"), table) == 0)
            return r;
    }
    return NULL;
}

static void test_message_shows_its_rows_body_errors_and_flow(void **state)
{
    (void)state;
    /* E3: published by payment, dead in inventory's inbox after 5 attempts (two recorded here). */
    const char *const e3[] = {E3};
    ops_fixtures_exec(db,
                      "UPDATE inventory.inbox SET errors = '[{\"attempt\": 1, \"at\": \"t1\","
                      " \"error\": \"database unavailable\"}, {\"attempt\": 5, \"at\": \"t5\","
                      " \"error\": \"gave up\"}]' WHERE id = $1::uuid",
                      1, e3);
    json_t *j = fetch_json("GET", "/api/message/" E3, 200);
    assert_string_equal(str(j, "id"), E3);
    assert_string_equal(str(j, "correlation_id"), corr);
    assert_int_equal(json_array_size(json_object_get(j, "rows")), 2);
    json_t *out = message_row_of(j, "payment", "outbox");
    assert_non_null(out);
    assert_string_equal(str(out, "status"), "published");
    assert_string_equal(str(out, "type"), "payment.payment.succeeded");
    assert_string_equal(str(json_object_get(out, "payload"), "source"), "/payment");
    json_t *in = message_row_of(j, "inventory", "inbox");
    assert_non_null(in);
    assert_string_equal(str(in, "consumer"), "inventory");
    assert_string_equal(str(in, "status"), "dead");
    assert_int_equal(num(in, "attempts"), 5);
    assert_string_equal(str(in, "error"), DEAD_ERROR);
    json_t *attempts = json_object_get(in, "errors");
    assert_int_equal(json_array_size(attempts), 2);
    assert_string_equal(str(json_array_get(attempts, 0), "error"), "database unavailable");
    assert_int_equal(num(json_array_get(attempts, 1), "attempt"), 5);
    assert_true(json_is_null(json_object_get(out, "errors"))); /* an outbox row has none */
    json_decref(j);

    /* Poison recorded under a message id: its raw body, headers and reason. */
    ops_fixtures_poison(db, "booking", UNKNOWN_ID, "inventory.stock.reserved", "{oops", 5,
                        "body is not JSON");
    j = fetch_json("GET", "/api/message/" UNKNOWN_ID, 200);
    json_t *dl = message_row_of(j, "booking", "dead_letter");
    assert_non_null(dl);
    assert_string_equal(str(dl, "status"), "poison");
    assert_string_equal(json_string_value(json_object_get(dl, "payload")), "{oops");
    assert_true(json_is_object(json_object_get(dl, "headers")));
    assert_string_equal(str(dl, "error"), "body is not JSON");
    json_decref(j);
    const char *const poison_id[] = {UNKNOWN_ID};
    ops_fixtures_exec(db, "DELETE FROM booking.dead_letter WHERE message_id = $1", 1, poison_id);

    /* The page opens it from any id cell and links it to its flow. */
    struct reply r;
    request("GET", "/", &r);
    assert_non_null(strstr(r.body, "\"/api/message/\" + encodeURIComponent(id)"));
    assert_non_null(strstr(r.body, "show its flow"));
    assert_non_null(strstr(r.body, "message-attempts"));
    free(r.body);
    expect_error("GET", "/api/message/" E4 "0", 400, "invalid", "want a UUID");
    expect_error("GET", "/api/message/01900000-0000-7000-8000-00000000beef", 404, "not_found",
                 "no message");
}

/* ---- /api/endpoints ------------------------------------------------------------------------ */

static json_t *endpoints_context(json_t *j, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(j, "contexts"), i, c)
    {
        if (strcmp(str(c, "name"), name) == 0)
            return c;
    }
    fail_msg("no context '%s' in /api/endpoints", name);
    return NULL;
}

static json_t *endpoints_instance(json_t *j, const char *id)
{
    size_t i;
    json_t *in;
    json_array_foreach(json_object_get(j, "instances"), i, in)
    {
        if (strcmp(str(in, "instance_id"), id) == 0)
            return in;
    }
    return NULL;
}

/* The value of the minute in progress (the last element) of context c's series. */
static long long this_minute(json_t *c, const char *series)
{
    json_t *a = json_object_get(c, series);
    assert_int_equal(json_array_size(a), 15);
    return json_integer_value(json_array_get(a, 14));
}

static bool always_paused(void)
{
    return true;
}

static void
test_endpoints_show_heartbeats_throughput_failures_and_the_oldest_unpublished(void **state)
{
    (void)state;
    /* A heartbeat thread, as every service runs one: its row appears, alive, and the row
     * of an instance silent for two days goes. */
    ops_fixtures_exec(db,
                      "INSERT INTO booking.heartbeat (instance_id, context, pid, started_at,"
                      " last_seen) VALUES ('booking-gone', 'booking', 1, clock_timestamp() -"
                      " interval '3 days', clock_timestamp() - interval '2 days')",
                      0, NULL);
    struct err err;
    err_clear(&err);
    struct heartbeat *hb = heartbeat_start(testlib_require_env("DATABASE_URL"), "booking",
                                           "booking-hb-test", NULL, &err);
    assert_non_null(hb);
    char seen[8] = "";
    for (int i = 0; i < 100 && !seen[0]; i++) {
        /* The first beat done: its upsert and its deletion of the silent rows. */
        ops_fixtures_value(db,
                           "SELECT 1 WHERE EXISTS (SELECT FROM booking.heartbeat WHERE instance_id"
                           " = 'booking-hb-test') AND NOT EXISTS (SELECT FROM booking.heartbeat"
                           " WHERE instance_id = 'booking-gone')",
                           0, NULL, seen, sizeof(seen));
        testlib_sleep_ms(50);
    }
    assert_string_equal(seen, "1");
    json_t *j = fetch_json("GET", "/api/endpoints", 200);
    json_t *in = endpoints_instance(j, "booking-hb-test");
    assert_non_null(in);
    assert_string_equal(str(in, "context"), "booking");
    assert_int_equal(num(in, "pid"), (long long)getpid());
    assert_true(json_is_true(json_object_get(in, "alive")));
    assert_true(num(in, "age_ms") < HEARTBEAT_STALE_MS);
    assert_int_equal(num(j, "stale_ms"), HEARTBEAT_STALE_MS);
    assert_null(endpoints_instance(j, "booking-gone"));
    assert_true(json_is_false(json_object_get(in, "paused")));
    json_decref(j);
    heartbeat_stop(hb);

    /* An instance whose consumer paused itself (breaker open) says so at its next beat. */
    hb = heartbeat_start(testlib_require_env("DATABASE_URL"), "booking", "booking-hb-paused",
                         always_paused, &err);
    assert_non_null(hb);
    seen[0] = '\0';
    for (int i = 0; i < 100 && !seen[0]; i++) {
        ops_fixtures_value(db,
                           "SELECT 1 FROM booking.heartbeat WHERE instance_id = 'booking-hb-paused'"
                           " AND paused",
                           0, NULL, seen, sizeof(seen));
        testlib_sleep_ms(50);
    }
    assert_string_equal(seen, "1");
    heartbeat_stop(hb);
    j = fetch_json("GET", "/api/endpoints", 200);
    assert_true(
        json_is_true(json_object_get(endpoints_instance(j, "booking-hb-paused"), "paused")));
    json_decref(j);
    struct reply page;
    request("GET", "/", &page);
    assert_non_null(strstr(page.body, "paused (breaker open)"));
    free(page.body);

    /* Silent past the limit: shown as such. */
    ops_fixtures_exec(db,
                      "UPDATE booking.heartbeat SET last_seen = clock_timestamp() - interval '1 "
                      "minute' WHERE instance_id = 'booking-hb-test'",
                      0, NULL);
    /* A message processed now, 300 ms after its event's time; poison recorded now. */
    ops_fixtures_exec(
        db,
        "INSERT INTO booking.inbox (id, consumer, type, correlation_id, causation_id, payload,"
        " status, attempts, processed_at) VALUES ('01900000-0000-7000-8000-0000000000f1',"
        " 'booking', 'payment.payment.succeeded', 'c', 'c', jsonb_build_object('time',"
        " to_char((clock_timestamp() - interval '300 milliseconds') AT TIME ZONE 'UTC',"
        " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')), 'processed', 1, clock_timestamp())",
        0, NULL);
    ops_fixtures_poison(db, "booking", "m-endpoints", "inventory.stock.reserved", "{oops", 5,
                        "body is not JSON");

    j = fetch_json("GET", "/api/endpoints", 200);
    in = endpoints_instance(j, "booking-hb-test");
    assert_non_null(in);
    assert_true(json_is_false(json_object_get(in, "alive")));
    assert_true(num(in, "age_ms") >= 60000);
    json_t *c = endpoints_context(j, "booking");
    assert_int_equal(this_minute(c, "processed"), 1);
    long long critical = this_minute(c, "critical_avg_ms");
    if (critical < 300 || critical > 5000)
        fail_msg("critical time %lld ms, want 300 ms and a little", critical);
    assert_int_equal(this_minute(c, "critical_max_ms"), critical);
    assert_int_equal(this_minute(c, "failed"), 1);
    /* The saga's E4 (booking.booking.created, 2026-01-01) never got published. */
    assert_int_equal(num(c, "unpublished"), 1);
    assert_true(num(c, "oldest_unpublished_ms") > 86400000LL);
    /* Inventory: its saga rows are all older than the window. */
    c = endpoints_context(j, "inventory");
    assert_int_equal(this_minute(c, "processed"), 0);
    assert_int_equal(num(c, "unpublished"), 0);
    assert_true(json_is_null(json_object_get(c, "oldest_unpublished_ms")));
    json_decref(j);
    ops_fixtures_exec(db, "DELETE FROM booking.dead_letter", 0, NULL);
    ops_fixtures_exec(db, "DELETE FROM booking.heartbeat", 0, NULL);

    /* The page draws them as inline SVG, no external resource. */
    struct reply r;
    request("GET", "/", &r);
    assert_non_null(strstr(r.body, "api(\"/api/endpoints\")"));
    assert_non_null(strstr(r.body, "svg(\"svg\", { class: \"chart\""));
    free(r.body);
}

/* The queue name's object in /api/endpoints' "queues", or NULL. */
static json_t *endpoints_queue(json_t *j, const char *name)
{
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(j, "queues"), i, q)
    {
        if (strcmp(str(q, "name"), name) == 0)
            return q;
    }
    return NULL;
}

static void test_endpoints_show_each_queue_depth_and_consumers(void **state)
{
    (void)state;
    /* booking.events with two messages and no consumer; booking.dead-letter missing. */
    struct err err;
    err_clear(&err);
    struct bus *bus = bus_new(&(struct bus_config){.url = testlib_require_env("AMQP_URL"),
                                                   .confirms = 1,
                                                   .connection_name = "test_dashboard"});
    assert_non_null(bus);
    assert_int_equal(bus_connect(bus, &err), 0);
    assert_int_equal(bus_delete_queue(bus, "booking.events", &err), 0);
    assert_int_equal(bus_delete_queue(bus, "booking.dead-letter", &err), 0);
    assert_int_equal(bus_declare_queue(bus, "booking.events", NULL, &err), 0);
    for (int i = 0; i < 2; i++) {
        char id[64];
        testlib_unique_name(id, sizeof(id), "depth");
        struct bus_message m = {.exchange = "",
                                .routing_key = "booking.events",
                                .body = "{}",
                                .len = 2,
                                .message_id = id};
        assert_int_equal(bus_publish_sync(bus, &m, 5000, &err), 0);
    }

    json_t *j = fetch_json("GET", "/api/endpoints", 200);
    if (!json_is_null(json_object_get(j, "queues_error")))
        fail_msg("no queues: %s", str(j, "queues_error"));
    json_t *q = endpoints_queue(j, "booking.events");
    assert_non_null(q);
    assert_int_equal(num(q, "messages"), 2);
    assert_int_equal(num(q, "consumers"), 0);
    q = endpoints_queue(j, "booking.dead-letter");
    assert_non_null(q);
    assert_true(json_is_null(json_object_get(q, "messages")));
    /* The queue after the missing one is still read (the connection came back). */
    assert_non_null(endpoints_queue(j, "inventory.events"));
    json_decref(j);

    assert_int_equal(bus_connect(bus, &err), 0);
    assert_int_equal(bus_delete_queue(bus, "booking.events", &err), 0);
    bus_free(bus);
}

/* ---- /api/messages ---------------------------------------------------------------------- */

static void test_messages_list_the_dead_row_with_its_error(void **state)
{
    (void)state;
    json_t *j = fetch_json("GET", "/api/messages?status=dead", 200);
    json_t *list = json_object_get(j, "messages");
    assert_int_equal(json_array_size(list), 1);
    json_t *m = json_array_get(list, 0);
    assert_string_equal(str(m, "id"), E3);
    assert_string_equal(str(m, "context"), "inventory");
    assert_string_equal(str(m, "table"), "inbox");
    assert_string_equal(str(m, "status"), "dead");
    assert_string_equal(str(m, "last_error"), DEAD_ERROR);
    assert_int_equal(num(m, "attempts"), 5);

    /* The very object "eventctl messages --json" prints for it. */
    char out[4096];
    assert_int_equal(EVENTCTL(out, "messages", "--json", "--status", "dead", "--database-url",
                              testlib_require_env("DATABASE_URL")),
                     0);
    json_t *cli = json_loads(out, 0, NULL);
    assert_non_null(cli);
    assert_true(json_equal(cli, m));
    json_decref(cli);
    json_decref(j);
}

static void test_messages_filter_and_order_like_the_command(void **state)
{
    (void)state;
    json_t *j = fetch_json("GET", "/api/messages", 200);
    json_t *list = json_object_get(j, "messages");
    assert_int_equal(json_array_size(list), 8);
    assert_string_equal(str(json_array_get(list, 0), "id"), E4); /* newest first */
    assert_string_equal(str(json_array_get(list, 7), "id"), E1);
    json_decref(j);

    j = fetch_json("GET", "/api/messages?context=payment&status=processed&type=&limit=", 200);
    assert_int_equal(json_array_size(json_object_get(j, "messages")), 2);
    json_decref(j);
    j = fetch_json("GET", "/api/messages?type=inventory.stock.reserved&limit=1", 200);
    list = json_object_get(j, "messages");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(str(json_array_get(list, 0), "table"), "inbox"); /* payment's, the newer */
    json_decref(j);

    expect_error("GET", "/api/messages?limit=501", 400, "invalid", "invalid limit '501'");
    expect_error("GET", "/api/messages?limit=ten", 400, "invalid", "invalid limit");
    expect_error("GET", "/api/messages?status=lost", 400, "invalid", "unknown status 'lost'");
    expect_error("GET", "/api/messages?context=billing", 400, "invalid",
                 "unknown context 'billing'");
}

/* ---- POST /api/requeue/{id} -------------------------------------------------------------- */

static void test_requeue_sends_the_dead_row_back_as_failed(void **state)
{
    (void)state;
    json_t *j = fetch_json("POST", "/api/requeue/" E3, 200);
    assert_string_equal(str(j, "id"), E3);
    json_t *done = json_object_get(j, "requeued");
    assert_int_equal(json_array_size(done), 1);
    assert_string_equal(str(json_array_get(done, 0), "context"), "inventory");
    assert_string_equal(str(json_array_get(done, 0), "table"), "inbox");
    assert_int_equal(num(json_array_get(done, 0), "rows"), 1);
    json_decref(j);
    char v[64];
    ops_fixtures_value(db,
                       "SELECT status || ' ' || attempts || ' ' || requeued FROM inventory.inbox"
                       " WHERE id = $1",
                       1, (const char *[]){E3}, v, sizeof(v));
    assert_string_equal(v, "failed 0 1");

    /* Not dead any more: nothing to requeue. A failed outbox row goes back to pending. */
    expect_error("POST", "/api/requeue/" E3, 404, "not_found", "no dead or failed message");
    j = fetch_json("POST", "/api/requeue/" E4, 200);
    assert_string_equal(str(json_array_get(json_object_get(j, "requeued"), 0), "table"), "outbox");
    json_decref(j);
    ops_fixtures_value(db, "SELECT status FROM booking.outbox WHERE id = $1", 1,
                       (const char *[]){E4}, v, sizeof(v));
    assert_string_equal(v, "pending");
}

static void test_requeue_refuses_unknown_and_malformed_ids(void **state)
{
    (void)state;
    expect_error("POST", "/api/requeue/" UNKNOWN_ID, 404, "not_found",
                 "no dead or failed message '" UNKNOWN_ID "'");
    expect_error("POST", "/api/requeue/" E1, 404, "not_found", "no dead or failed message");
    expect_error("POST", "/api/requeue/not-a-uuid", 400, "invalid",
                 "invalid message id 'not-a-uuid'");
    struct reply r;
    request("GET", "/api/requeue/" E3, &r);
    assert_int_equal(r.status, 405);
    free(r.body);
    char v[16];
    ops_fixtures_value(db, "SELECT status FROM inventory.inbox WHERE id = $1", 1,
                       (const char *[]){E3}, v, sizeof(v));
    assert_string_equal(v, "dead");
}

/* ---- what a web page in the browser could send --------------------------------------------- */

/* A 403 {"error": "forbidden"} whose detail says needle. */
static void expect_forbidden(const struct reply *r, const char *needle)
{
    if (r->status != 403 || !strstr(r->body, "\"forbidden\"") || !strstr(r->body, needle))
        fail_msg("expected 403 forbidden saying '%s', got %ld: %s", needle, r->status, r->body);
}

static void test_a_write_without_the_page_header_is_forbidden(void **state)
{
    (void)state;
    struct reply r;
    /* What a cross-site form sends: no JSON, no header. */
    request_with("POST", "/api/requeue/" E3, "Content-Type: text/plain", &r);
    if (r.status != 415 || !strstr(r.body, "\"unsupported_media_type\""))
        fail_msg("expected 415 unsupported_media_type, got %ld: %s", r.status, r.body);
    free(r.body);
    request_with("POST", "/api/requeue/" E3, "Content-Type: application/json", &r);
    expect_forbidden(&r, "X-Requested-With");
    free(r.body);
    char v[16];
    ops_fixtures_value(db, "SELECT status FROM inventory.inbox WHERE id = $1", 1,
                       (const char *[]){E3}, v, sizeof(v));
    assert_string_equal(v, "dead");
}

/* ---- /api/failures and its POSTs ------------------------------------------------------------ */

#define D1 "01900000-0000-7000-8000-0000000000d1"
#define D2 "01900000-0000-7000-8000-0000000000d2"
#define NOT_ARRIVED(b)                                                                             \
    "gave up after 5 attempts: transient: payment intent for booking '" b "' has not arrived yet"

/* The group of context and kind in GET /api/failures, its id copied into out; NULL when none. */
static json_t *failures_group(const char *context, const char *kind, char *out, size_t len)
{
    json_t *j = fetch_json("GET", "/api/failures", 200);
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(j, "groups"), i, g)
    {
        if (strcmp(str(g, "context"), context) == 0 && strcmp(str(g, "kind"), kind) == 0) {
            snprintf(out, len, "%s", str(g, "group"));
            json_t *copy = json_deep_copy(g);
            json_decref(j);
            return copy;
        }
    }
    json_decref(j);
    return NULL;
}

static void test_failures_list_the_groups_and_poison_at_once(void **state)
{
    (void)state;
    char g[16], pg[16];
    json_t *group = failures_group("inventory", "dead", g, sizeof(g));
    assert_non_null(group);
    assert_int_equal(num(group, "count"), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(group, "ids"), 0)), E3);
    json_decref(group);
    assert_null(failures_group("booking", "poison", pg, sizeof(pg)));

    /* Poison recorded now is in the very next read (the page reads every second). */
    ops_fixtures_poison(db, "booking", "m-1", "inventory.stock.reserved", "{oops", 5,
                        "body is not JSON");
    group = failures_group("booking", "poison", pg, sizeof(pg));
    assert_non_null(group);
    assert_string_equal(str(group, "cause"), "poison: body is not JSON");
    assert_true(json_is_false(json_object_get(group, "retryable")));
    json_decref(group);
    struct reply r;
    request("GET", "/", &r);
    assert_non_null(strstr(r.body, "setTimeout(refreshFailures, 1000)"));
    assert_non_null(strstr(r.body, "Retry group"));
    assert_non_null(strstr(r.body, "Retry all"));
    free(r.body);
    expect_error("GET", "/api/failures?context=billing", 400, "invalid", "unknown context");
}

static void test_failures_retry_a_group_retry_all_and_purge(void **state)
{
    (void)state;
    ops_fixtures_dead(db, "payment", D1, corr, "booking.booking.created", NOT_ARRIVED("b-1"));
    ops_fixtures_dead(db, "payment", D2, corr, "booking.booking.created", NOT_ARRIVED("b-2"));
    ops_fixtures_poison(db, "booking", "m-1", "inventory.stock.reserved", "{oops", 5,
                        "body is not JSON");
    char g[16], pg[16], path[128], v[64];
    json_decref(failures_group("payment", "dead", g, sizeof(g)));
    json_decref(failures_group("booking", "poison", pg, sizeof(pg)));

    /* The page's guards hold for these writes too. */
    struct reply r;
    snprintf(path, sizeof(path), "/api/failures/%s/purge", g);
    request_with("POST", path, "Content-Type: application/json", &r);
    expect_forbidden(&r, "X-Requested-With");
    free(r.body);

    snprintf(path, sizeof(path), "/api/failures/%s/retry", g);
    json_t *j = fetch_json("POST", path, 200);
    assert_int_equal(num(j, "requeued"), 2);
    json_decref(j);
    ops_fixtures_value(db,
                       "SELECT string_agg(status || ' ' || requeued, ',') FROM payment.inbox"
                       " WHERE id IN ($1, $2)",
                       2, (const char *[]){D1, D2}, v, sizeof(v));
    assert_string_equal(v, "failed 1,failed 1");
    expect_error("POST", path, 404, "not_found", "no failure in group");

    snprintf(path, sizeof(path), "/api/failures/%s/retry", pg);
    expect_error("POST", path, 400, "invalid", "is poison and cannot be requeued");
    expect_error("POST", "/api/failures/not-a-group/retry", 400, "invalid", "invalid group");

    j = fetch_json("POST", "/api/failures/retry-all", 200);
    assert_int_equal(num(j, "requeued"), 1); /* the saga's E3; the poison stays */
    assert_int_equal(num(j, "poison"), 1);
    json_decref(j);

    snprintf(path, sizeof(path), "/api/failures/%s/purge", pg);
    j = fetch_json("POST", path, 200);
    assert_int_equal(num(j, "purged"), 1);
    json_decref(j);
    ops_fixtures_value(db, "SELECT count(*) FROM booking.dead_letter", 0, NULL, v, sizeof(v));
    assert_string_equal(v, "0");
    j = fetch_json("GET", "/api/failures", 200);
    assert_int_equal(json_array_size(json_object_get(j, "groups")), 0);
    json_decref(j);
}

static void test_a_host_header_naming_another_host_is_forbidden(void **state)
{
    (void)state;
    struct reply r;
    char host[64];
    /* A DNS-rebinding page reaches 127.0.0.1 under its own name. */
    request_with("GET", "/api/contexts", "Host: attacker.example", &r);
    expect_forbidden(&r, "Host");
    free(r.body);
    snprintf(host, sizeof(host), "Host: attacker.example:%d", port);
    request_with("GET", "/", host, &r);
    expect_forbidden(&r, "Host");
    free(r.body);
    /* Its own names, any case, with or without the port. */
    const char *ours[] = {"localhost", "LOCALHOST", "127.0.0.1", "[::1]"};
    for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
        if (i == 0)
            snprintf(host, sizeof(host), "Host: %s", ours[i]);
        else
            snprintf(host, sizeof(host), "Host: %s:%d", ours[i], port);
        request_with("GET", "/api/contexts", host, &r);
        if (r.status != 200)
            fail_msg("'%s' answered %ld: %s", host, r.status, r.body);
        free(r.body);
    }
}

static void test_replies_forbid_framing(void **state)
{
    (void)state;
    static const char *const paths[] = {"/", "/api/contexts", "/api/nope"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct reply r;
        request("GET", paths[i], &r);
        if (strcmp(r.csp, "frame-ancestors 'none'") != 0 || strcmp(r.frame_options, "DENY") != 0)
            fail_msg("GET %s: Content-Security-Policy '%s', X-Frame-Options '%s'", paths[i], r.csp,
                     r.frame_options);
        free(r.body);
    }
}

#define TOKEN "t0ken-for-the-dashboard-test-42"

static void test_beyond_loopback_it_refuses_to_start_without_a_token(void **state)
{
    (void)state;
    char o[96], e[96], err[1024];
    snprintf(o, sizeof(o), "%s.tok", out_path);
    snprintf(e, sizeof(e), "%s.tok", err_path);
    const char *url = testlib_require_env("DATABASE_URL");
    const char *no_token[] = {"dashboard", "--address",      "0.0.0.0", "--port",
                              "0",         "--database-url", url,       NULL};
    assert_int_equal(wait_exit(spawn(no_token, o, e), 30000), 2);
    read_file(e, err, sizeof(err));
    assert_non_null(strstr(err, "DASHBOARD_TOKEN"));
    size_t len = strlen(err);
    assert_true(len > 0 && strchr(err, '\n') == err + len - 1); /* one line */
    const char *short_token[] = {"dashboard", "--address",      "::", "--port", "0", "--token",
                                 "short",     "--database-url", url,  NULL};
    assert_int_equal(wait_exit(spawn(short_token, o, e), 30000), 2);
    read_file(e, err, sizeof(err));
    assert_non_null(strstr(err, "invalid token"));
    /* With one it starts; loopback without one still does (the group's dashboard). */
    const char *with_token[] = {"dashboard", "--address", "0.0.0.0",        "--port", "0",
                                "--token",   TOKEN,       "--database-url", url,      NULL};
    pid_t pid;
    int its_port;
    assert_int_equal(spawn_dashboard(with_token, o, e, &pid, &its_port), 0);
    kill(pid, SIGTERM);
    assert_int_equal(wait_exit(pid, 10000), 0);
    unlink(o);
    unlink(e);
}

static void test_with_a_token_every_request_needs_it(void **state)
{
    (void)state;
    char o[96], e[96];
    snprintf(o, sizeof(o), "%s.tok2", out_path);
    snprintf(e, sizeof(e), "%s.tok2", err_path);
    const char *args[] = {"dashboard",
                          "--port",
                          "0",
                          "--token",
                          TOKEN,
                          "--database-url",
                          testlib_require_env("DATABASE_URL"),
                          NULL};
    pid_t pid;
    int its_port, group_port = port;
    assert_int_equal(spawn_dashboard(args, o, e, &pid, &its_port), 0);
    port = its_port; /* request() talks to this one until the end of the test */
    struct reply r;

    /* None, or a wrong one: 401, before anything runs. */
    static const char *const wrong[] = {
        NULL, "Authorization: Bearer t0ken-for-the-dashboard-test-43",
        "Authorization: Bearer " TOKEN "x", "Cookie: eventctl_dashboard_token=nope",
        "Authorization: Basic " TOKEN};
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        request_with("GET", "/api/contexts", wrong[i], &r);
        if (r.status != 401 || !strstr(r.body, "\"unauthorized\""))
            fail_msg("'%s': expected 401, got %ld: %s", wrong[i] ? wrong[i] : "(none)", r.status,
                     r.body);
        free(r.body);
    }
    request_with("GET", "/?token=wrong-token-of-enough-length", NULL, &r);
    assert_int_equal(r.status, 401);
    free(r.body);
    /* A write without it changes nothing, even with the page's headers. */
    request_headers("POST", "/api/requeue/" E3,
                    (const char *const[]){"X-Requested-With: eventctl-dashboard",
                                          "Content-Type: application/json", NULL},
                    &r);
    assert_int_equal(r.status, 401);
    free(r.body);
    char v[16];
    ops_fixtures_value(db, "SELECT status FROM inventory.inbox WHERE id = $1", 1,
                       (const char *[]){E3}, v, sizeof(v));
    assert_string_equal(v, "dead");

    /* As a bearer token. */
    request_with("GET", "/api/contexts", "Authorization: Bearer " TOKEN, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
    /* Once in the address, then in a cookie the browser sends back. */
    request_with("GET", "/?token=" TOKEN, NULL, &r);
    assert_int_equal(r.status, 303);
    assert_string_equal(r.location, "/");
    assert_non_null(strstr(r.set_cookie, "eventctl_dashboard_token=" TOKEN));
    assert_non_null(strstr(r.set_cookie, "HttpOnly"));
    assert_non_null(strstr(r.set_cookie, "SameSite=Strict"));
    free(r.body);
    request_with("GET", "/", "Cookie: eventctl_dashboard_token=" TOKEN, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<!doctype html>"));
    free(r.body);
    request_headers("POST", "/api/requeue/" E3,
                    (const char *const[]){"X-Requested-With: eventctl-dashboard",
                                          "Content-Type: application/json",
                                          "Cookie: eventctl_dashboard_token=" TOKEN, NULL},
                    &r);
    assert_int_equal(r.status, 200);
    free(r.body);
    /* /health answers probes without it. */
    request("GET", "/health", &r);
    assert_int_equal(r.status, 200);
    free(r.body);

    port = group_port;
    kill(pid, SIGTERM);
    assert_int_equal(wait_exit(pid, 10000), 0);
    unlink(o);
    unlink(e);
}

/* ---- /api/trace/{correlation_id} ---------------------------------------------------------- */

static json_t *only_delivery_to(json_t *event, const char *consumer)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(event, "deliveries"), i, d)
    {
        if (strcmp(str(d, "consumer"), consumer) == 0)
            return d;
    }
    fail_msg("no delivery to '%s' under event %s", consumer, str(event, "id"));
    return NULL;
}

static void expect_latency(const json_t *delivery, double ms)
{
    json_t *l = json_object_get(delivery, "latency_ms");
    assert_true(json_is_real(l));
    double got = json_real_value(l);
    if (got < ms - 0.001 || got > ms + 0.001)
        fail_msg("latency %.3f ms, expected %.3f", got, ms);
}

static void test_trace_returns_the_causal_tree(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "/api/trace/%s", corr);
    json_t *j = fetch_json("GET", path, 200);
    assert_string_equal(str(j, "correlation_id"), corr);
    json_t *counts = json_object_get(j, "counts");
    assert_int_equal(num(counts, "events"), 3);
    assert_int_equal(num(counts, "deliveries"), 4);
    assert_int_equal(num(counts, "not_processed"), 1);

    /* E1 → (payment, inventory); inventory's delivery → E2 → payment → E3 → inventory dead. */
    json_t *tree = json_object_get(j, "tree");
    assert_int_equal(json_array_size(tree), 1);
    json_t *e1 = json_array_get(tree, 0);
    assert_string_equal(str(e1, "id"), E1);
    assert_string_equal(str(e1, "publisher"), "booking");
    assert_string_equal(str(e1, "type"), "booking.booking.created");
    assert_string_equal(str(e1, "causation_id"), "request-1");
    assert_string_equal(str(e1, "time"), "2026-01-01T10:00:00.000Z");
    assert_string_equal(str(e1, "outbox_status"), "published");
    assert_int_equal(json_array_size(json_object_get(e1, "deliveries")), 2);
    json_t *pay1 = only_delivery_to(e1, "payment");
    expect_latency(pay1, 12.0);
    assert_string_equal(str(pay1, "processed_at"), "2026-01-01T10:00:00.012Z");
    assert_int_equal(json_array_size(json_object_get(pay1, "events")), 0);
    json_t *inv1 = only_delivery_to(e1, "inventory");
    expect_latency(inv1, 15.0);
    json_t *e2 = json_array_get(json_object_get(inv1, "events"), 0);
    assert_string_equal(str(e2, "id"), E2);
    assert_string_equal(str(e2, "causation_id"), E1);
    json_t *pay2 = only_delivery_to(e2, "payment");
    assert_int_equal(num(pay2, "attempts"), 2);
    expect_latency(pay2, 17.0);
    assert_true(json_is_null(json_object_get(pay2, "last_error")));
    json_t *e3 = json_array_get(json_object_get(pay2, "events"), 0);
    assert_string_equal(str(e3, "id"), E3);
    json_t *dead = only_delivery_to(e3, "inventory");
    assert_string_equal(str(dead, "status"), "dead");
    assert_int_equal(num(dead, "attempts"), 5);
    assert_string_equal(str(dead, "last_error"), DEAD_ERROR);
    assert_true(json_is_null(json_object_get(dead, "processed_at")));
    assert_true(json_is_null(json_object_get(dead, "latency_ms")));

    /* The diagram's data: Mermaid's participants and arrows, in its order. */
    json_t *participants = json_object_get(j, "participants");
    assert_int_equal(json_array_size(participants), 3);
    assert_string_equal(json_string_value(json_array_get(participants, 0)), "booking");
    assert_string_equal(json_string_value(json_array_get(participants, 1)), "payment");
    assert_string_equal(json_string_value(json_array_get(participants, 2)), "inventory");
    json_t *sequence = json_object_get(j, "sequence");
    assert_int_equal(json_array_size(sequence), 4);
    json_t *last = json_array_get(sequence, 3);
    assert_string_equal(str(last, "from"), "payment");
    assert_string_equal(str(last, "to"), "inventory");
    assert_string_equal(str(last, "status"), "dead");
    assert_int_equal(json_array_size(json_object_get(j, "notes")), 0);
    json_decref(j);

    /* E4 was never delivered: a root with no delivery, and a note in the diagram. */
    snprintf(path, sizeof(path), "/api/trace/%s", corr2);
    j = fetch_json("GET", path, 200);
    json_t *e4 = json_array_get(json_object_get(j, "tree"), 0);
    assert_string_equal(str(e4, "outbox_status"), "failed");
    assert_int_equal(json_array_size(json_object_get(e4, "deliveries")), 0);
    assert_string_equal(str(json_array_get(json_object_get(j, "notes"), 0), "over"), "booking");
    json_decref(j);

    expect_error("GET", "/api/trace/no-such-correlation", 404, "not_found",
                 "no events with correlation id 'no-such-correlation'");
    expect_error("GET", "/api/trace/bad%01id", 400, "invalid", "invalid correlation id");
}

static void test_trace_text_is_what_the_command_prints(void **state)
{
    (void)state;
    const char *url = testlib_require_env("DATABASE_URL");
    static const char *const suffixes[] = {"/timeline", "/mermaid"};
    for (size_t i = 0; i < 2; i++) {
        char path[128], cli[16384];
        snprintf(path, sizeof(path), "/api/trace/%s%s", corr, suffixes[i]);
        struct reply r;
        request("GET", path, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.content_type, "text/plain; charset=utf-8");
        int status = i == 0 ? EVENTCTL(cli, "trace", corr, "--database-url", url)
                            : EVENTCTL(cli, "trace", corr, "--mermaid", "--database-url", url);
        assert_int_equal(status, 0);
        assert_string_equal(r.body, cli);
        free(r.body);
    }
    expect_error("GET", "/api/trace/no-such-correlation/mermaid", 404, "not_found",
                 "no events with correlation id");
}

/* ---- starting and stopping -------------------------------------------------------------- */

/* A TCP port nobody listens on (bound, then closed). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_bad_start_is_one_line_and_an_exit_code(void **state)
{
    (void)state;
    char url[128], out[1024], err[1024], portbuf[16];
    snprintf(url, sizeof(url), "postgresql://events:s3cret-pw@127.0.0.1:%d/events", closed_port());
    char o[96], e[96];
    snprintf(o, sizeof(o), "%s.bad", out_path);
    snprintf(e, sizeof(e), "%s.bad", err_path);

    /* The database is checked before serving: 1, one line, the password masked. */
    const char *unreachable[] = {"dashboard", "--port", "0", "--database-url", url, NULL};
    assert_int_equal(wait_exit(spawn(unreachable, o, e), 30000), 1);
    read_file(e, err, sizeof(err));
    assert_non_null(strstr(err, "eventctl dashboard: cannot connect to database"));
    assert_null(strstr(err, "s3cret-pw"));
    size_t len = strlen(err);
    assert_true(len > 0 && strchr(err, '\n') == err + len - 1);

    /* The port in use: 1. Bad flags: 2. */
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    const char *busy[] = {
        "dashboard", "--port", portbuf, "--database-url", testlib_require_env("DATABASE_URL"),
        NULL};
    assert_int_equal(wait_exit(spawn(busy, o, e), 30000), 1);
    const char *bad_port[] = {"dashboard", "--port", "70000", NULL};
    assert_int_equal(wait_exit(spawn(bad_port, o, e), 30000), 2);
    const char *bad_flag[] = {"dashboard", "--bogus", NULL};
    assert_int_equal(wait_exit(spawn(bad_flag, o, e), 30000), 2);
    read_file(o, out, sizeof(out));
    assert_string_equal(out, "");
    unlink(o);
    unlink(e);
}

static void test_sigterm_stops_it_with_exit_0(void **state)
{
    (void)state;
    assert_true(dashboard > 0);
    assert_int_equal(kill(dashboard, SIGTERM), 0);
    int status = wait_exit(dashboard, 10000);
    if (status != 0) {
        char err[4096];
        read_file(err_path, err, sizeof(err));
        fail_msg("exit status %d after SIGTERM; stderr:\n%s", status, err);
    }
    dashboard = -1;
    char err[8192];
    read_file(err_path, err, sizeof(err));
    assert_non_null(strstr(err, "stopping on SIGTERM"));
}

int main(void)
{
    testlib_require_env("DATABASE_URL");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_root_serves_the_self_contained_page, setup),
        cmocka_unit_test_setup(test_contexts_count_the_rows_by_table_and_status, setup),
        cmocka_unit_test_setup(test_messages_list_the_dead_row_with_its_error, setup),
        cmocka_unit_test_setup(test_messages_filter_and_order_like_the_command, setup),
        cmocka_unit_test_setup(test_message_shows_its_rows_body_errors_and_flow, setup),
        cmocka_unit_test_setup(
            test_endpoints_show_heartbeats_throughput_failures_and_the_oldest_unpublished, setup),
        cmocka_unit_test_setup(test_endpoints_show_each_queue_depth_and_consumers, setup),
        cmocka_unit_test_setup(test_requeue_sends_the_dead_row_back_as_failed, setup),
        cmocka_unit_test_setup(test_requeue_refuses_unknown_and_malformed_ids, setup),
        cmocka_unit_test_setup(test_a_write_without_the_page_header_is_forbidden, setup),
        cmocka_unit_test_setup(test_a_host_header_naming_another_host_is_forbidden, setup),
        cmocka_unit_test_setup(test_failures_list_the_groups_and_poison_at_once, setup),
        cmocka_unit_test_setup(test_failures_retry_a_group_retry_all_and_purge, setup),
        cmocka_unit_test_setup(test_replies_forbid_framing, setup),
        cmocka_unit_test_setup(test_beyond_loopback_it_refuses_to_start_without_a_token, setup),
        cmocka_unit_test_setup(test_with_a_token_every_request_needs_it, setup),
        cmocka_unit_test_setup(test_trace_returns_the_causal_tree, setup),
        cmocka_unit_test_setup(test_trace_text_is_what_the_command_prints, setup),
        cmocka_unit_test_setup(test_bad_start_is_one_line_and_an_exit_code, setup),
        /* Last: it stops the dashboard the others use. */
        cmocka_unit_test_setup(test_sigterm_stops_it_with_exit_0, setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
