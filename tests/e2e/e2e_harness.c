/*
 * e2e_harness.c - see e2e_harness.h.
 *
 * The six executables are children of the test process. Whatever happens
 * (a failed assertion in setup, a crash of the test itself), an atexit hook
 * SIGKILLs every child still running, so no service outlives its test.
 */
#include "e2e_harness.h"

#include "common/bus.h"
#include "common/db.h"
#include "common/log.h"
#include "common/migrate.h"
#include "common/uuid7.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Paths of the six executables, given by CMake; "" when the context has no target yet. */
#ifndef E2E_BIN_SERVICECATALOG
#define E2E_BIN_SERVICECATALOG ""
#endif
#ifndef E2E_BIN_USERMANAGEMENT
#define E2E_BIN_USERMANAGEMENT ""
#endif
#ifndef E2E_BIN_BOOKING
#define E2E_BIN_BOOKING ""
#endif
#ifndef E2E_BIN_INVENTORY
#define E2E_BIN_INVENTORY ""
#endif
#ifndef E2E_BIN_PAYMENT
#define E2E_BIN_PAYMENT ""
#endif
#ifndef E2E_BIN_NOTIFICATION
#define E2E_BIN_NOTIFICATION ""
#endif
#ifndef E2E_MIGRATIONS_ROOT
#error "E2E_MIGRATIONS_ROOT must name the migrations directory"
#endif

#define E2E_HEALTH_MS 30000 /* start-up: every service healthy within this */
#define E2E_STOP_MS   20000 /* SIGTERM to exit, before SIGKILL */
#define E2E_POLL_MS   50
#define E2E_EXTRA_MAX 16
#define E2E_ENV_MAX   512

_Thread_local long e2e_last_retry_after_s;
static const char *const names[E2E_NCTX] = {
    "servicecatalog", "usermanagement", "booking", "inventory", "payment", "notification",
};

static const char *const bins[E2E_NCTX] = {
    E2E_BIN_SERVICECATALOG, E2E_BIN_USERMANAGEMENT, E2E_BIN_BOOKING,
    E2E_BIN_INVENTORY,      E2E_BIN_PAYMENT,        E2E_BIN_NOTIFICATION,
};

static pid_t pids[E2E_NCTX];
static int ports[E2E_NCTX];
static char extra[E2E_EXTRA_MAX][256];
static int nextra;
static struct db *db;
static bool hooks_installed;

const char *e2e_ctx_name(enum e2e_ctx c)
{
    return c >= 0 && c < E2E_NCTX ? names[c] : "?";
}

int e2e_port(enum e2e_ctx c)
{
    return c >= 0 && c < E2E_NCTX ? ports[c] : 0;
}

const char *e2e_amqp_url(void)
{
    return testlib_require_env("AMQP_URL");
}

/* ------------------------------------------------------------------ processes */

static void kill_all_now(void)
{
    for (int c = 0; c < E2E_NCTX; c++) {
        if (pids[c] > 0) {
            kill(pids[c], SIGKILL);
            waitpid(pids[c], NULL, 0);
            pids[c] = 0;
        }
    }
}

static void install_hooks(void)
{
    if (hooks_installed)
        return;
    hooks_installed = true;
    atexit(kill_all_now);
    /* The test's own library calls (migrations) log at info; only problems matter here. */
    log_setup("e2e", "e2e", LOG_LEVEL_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* A service that dies must not kill the test with SIGPIPE on a half-written request. */
    signal(SIGPIPE, SIG_IGN);
}

/* Kills every child, then fails the test: setup failures leave nothing running. */
static void __attribute__((format(printf, 1, 2), noreturn)) setup_fail(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kill_all_now();
    fail_msg("%s", msg);
    abort(); /* fail_msg does not return; this keeps noreturn honest */
}

/* True when "NAME=…" entry sets name (name has no '='). */
static bool env_names(const char *entry, const char *name)
{
    size_t n = strlen(name);
    return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* True when entry ("NAME=…") sets a name one of list's n entries sets too. */
static bool env_sets_any(const char *entry, char (*list)[256], int n)
{
    char key[64];
    snprintf(key, sizeof(key), "%.*s", (int)strcspn(entry, "="), entry);
    for (int i = 0; i < n; i++)
        if (env_names(list[i], key))
            return true;
    return false;
}

extern char **environ;

/*
 * Builds the child's environment before fork (no allocation after it): the
 * test's own environment minus every key set here, then the test settings,
 * then the per-test extras (which win).
 */
static void spawn(enum e2e_ctx c)
{
    if (!bins[c][0])
        setup_fail("context '%s' has no executable: its CMake target did not exist when the e2e "
                   "tests were configured (re-run cmake once contexts/%s exists)",
                   names[c], names[c]);
    if (access(bins[c], X_OK) != 0)
        setup_fail("cannot run '%s': %s", bins[c], strerror(errno));
    ports[c] = testlib_free_port();
    if (ports[c] <= 0)
        setup_fail("no free TCP port for '%s'", names[c]);

    const char *level = getenv("E2E_LOG_LEVEL") ? getenv("E2E_LOG_LEVEL") : "warn";
    static char own[12][256];
    int nown = 0;
    snprintf(own[nown++], sizeof(own[0]), "DATABASE_URL=%s", testlib_require_env("DATABASE_URL"));
    snprintf(own[nown++], sizeof(own[0]), "AMQP_URL=%s", testlib_require_env("AMQP_URL"));
    snprintf(own[nown++], sizeof(own[0]), "HTTP_PORT=%d", ports[c]);
    snprintf(own[nown++], sizeof(own[0]), "INSTANCE_ID=%s-e2e", names[c]);
    snprintf(own[nown++], sizeof(own[0]), "LOG_LEVEL=%s", level);
    snprintf(own[nown++], sizeof(own[0]), "RETRY_BASE_MS=100");
    snprintf(own[nown++], sizeof(own[0]), "RETRY_MAX_MS=1000");
    snprintf(own[nown++], sizeof(own[0]), "RETRY_MAX_ATTEMPTS=8");
    snprintf(own[nown++], sizeof(own[0]), "LEASE_MS=3000");

    /* Each key once (getenv takes the first): extras over the test settings over ours. */
    static const char *envp[E2E_ENV_MAX];
    int n = 0;
    for (char **e = environ; *e && n < E2E_ENV_MAX - 32; e++)
        if (!env_sets_any(*e, own, nown) && !env_sets_any(*e, extra, nextra))
            envp[n++] = *e;
    for (int i = 0; i < nown; i++)
        if (!env_sets_any(own[i], extra, nextra))
            envp[n++] = own[i];
    for (int i = 0; i < nextra; i++)
        envp[n++] = extra[i];
    envp[n] = NULL;

    pid_t pid = fork();
    if (pid < 0)
        setup_fail("fork for '%s': %s", names[c], strerror(errno));
    if (pid == 0) {
        /* A crashing service must not leave a core file behind; stdin is not its. */
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        execve(bins[c], (char *const[]){(char *)bins[c], NULL}, (char *const *)envp);
        _exit(127);
    }
    pids[c] = pid;
}

/* Fails (setup-style) when c's process has already died. */
static void check_alive(enum e2e_ctx c)
{
    int status;
    if (pids[c] > 0 && waitpid(pids[c], &status, WNOHANG) == pids[c]) {
        pids[c] = 0;
        char how[64];
        testlib_describe_status(status, how, sizeof(how));
        setup_fail("service '%s' died during start-up (%s); see its log lines above", names[c],
                   how);
    }
}

static void wait_healthy(const bool *which)
{
    int64_t deadline = testlib_now_ms() + E2E_HEALTH_MS;
    bool ok[E2E_NCTX] = {false};
    for (;;) {
        bool all = true;
        for (int c = 0; c < E2E_NCTX; c++) {
            if (!which[c] || ok[c])
                continue;
            check_alive(c);
            long status = 0;
            char errbuf[256];
            if (e2e_http("GET", c, "/health", NULL, 0, NULL, &status, NULL, NULL, errbuf) == 0 &&
                status == 200)
                ok[c] = true;
            else
                all = false;
        }
        if (all)
            return;
        if (testlib_now_ms() > deadline) {
            char missing[256] = "";
            for (int c = 0; c < E2E_NCTX; c++)
                if (which[c] && !ok[c])
                    snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), " %s",
                             names[c]);
            setup_fail("GET /health did not answer 200 within %d ms for:%s", E2E_HEALTH_MS,
                       missing);
        }
        testlib_sleep_ms(E2E_POLL_MS);
    }
}

/*
 * SIGTERMs the services in which (all at once), waits for each within
 * E2E_STOP_MS and describes every one that did not exit 0 in
 * problem (appended). Never leaves a child behind.
 */
static void stop_services(const bool *which, char *problem, size_t plen)
{
    for (int c = 0; c < E2E_NCTX; c++)
        if (which[c] && pids[c] > 0)
            kill(pids[c], SIGTERM);
    int64_t deadline = testlib_now_ms() + E2E_STOP_MS;
    for (int c = 0; c < E2E_NCTX; c++) {
        if (!which[c] || pids[c] <= 0)
            continue;
        int status = 0;
        pid_t got = 0;
        while ((got = waitpid(pids[c], &status, WNOHANG)) == 0 && testlib_now_ms() < deadline)
            testlib_sleep_ms(20);
        char how[64];
        if (got != pids[c]) {
            kill(pids[c], SIGKILL);
            waitpid(pids[c], NULL, 0);
            snprintf(problem + strlen(problem), plen - strlen(problem),
                     "'%s' did not exit within %d ms of SIGTERM (killed); ", names[c], E2E_STOP_MS);
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            testlib_describe_status(status, how, sizeof(how));
            snprintf(problem + strlen(problem), plen - strlen(problem),
                     "'%s' ended with %s on SIGTERM, expected exit 0; ", names[c], how);
        }
        pids[c] = 0;
    }
}

static void check_db(int rc, const struct err *err, const char *what)
{
    if (rc < 0)
        setup_fail("%s: %s", what, err->msg);
}

static void reset_infrastructure(void)
{
    struct err err;
    err_clear(&err);
    db_free(db);
    db = db_new(testlib_require_env("DATABASE_URL"));
    if (!db)
        setup_fail("db_new failed for DATABASE_URL");
    db_set_application_name(db, "e2e");
    for (int c = 0; c < E2E_NCTX; c++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", names[c]);
        check_db(db_exec(db, sql, 0, NULL, NULL, NULL, &err), &err, sql);
    }
    int applied = 0;
    check_db(migrate_all(db, E2E_MIGRATIONS_ROOT, &applied, &err), &err,
             "migrate_all " E2E_MIGRATIONS_ROOT);
    for (int c = 0; c < E2E_NCTX; c++) {
        char sql[160], out[8];
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM information_schema.tables WHERE table_schema = '%s'"
                 " AND table_name IN ('outbox', 'inbox')",
                 names[c]);
        check_db(db_exec_value(db, sql, 0, NULL, out, sizeof(out), &err), &err, sql);
        if (strcmp(out, "2") != 0)
            setup_fail("after migrate_all, schema '%s' lacks its outbox and inbox (migrations/%s "
                       "missing?)",
                       names[c], names[c]);
    }

    if (e2e_delete_context_queues(testlib_require_env("AMQP_URL"), &err) != 0)
        setup_fail("deleting the contexts' queues: %s", err.msg);
}

int e2e_delete_context_queues(const char *amqp_url, struct err *err)
{
    struct bus *bus = bus_new(&(struct bus_config){.url = amqp_url});
    if (!bus)
        return err_set(err, ERR_NOMEM, "bus_new failed");
    int rc = bus_connect(bus, err);
    for (int c = 0; c < E2E_NCTX && rc == 0; c++) {
        char q[64];
        snprintf(q, sizeof(q), "%s.events", names[c]);
        rc = bus_delete_queue(bus, q, err);
        snprintf(q, sizeof(q), "%s.dead-letter", names[c]);
        if (rc == 0)
            rc = bus_delete_queue(bus, q, err);
    }
    bus_free(bus);
    return rc;
}

void e2e_setup(const char *const *extra_env)
{
    install_hooks();
    kill_all_now(); /* a previous test whose teardown did not run */
    nextra = 0;
    for (; extra_env && *extra_env && nextra < E2E_EXTRA_MAX; extra_env++)
        snprintf(extra[nextra++], sizeof(extra[0]), "%s", *extra_env);
    reset_infrastructure();
    bool all[E2E_NCTX];
    for (int c = 0; c < E2E_NCTX; c++) {
        all[c] = true;
        spawn(c);
    }
    wait_healthy(all);
}

void e2e_teardown(void)
{
    static char problem[4096];
    problem[0] = '\0';
    const char *unsettled = NULL;
    if (db) {
        bool any = false;
        for (int c = 0; c < E2E_NCTX; c++)
            any = any || pids[c] > 0;
        if (any)
            unsettled = e2e_settled_problem(10000);
    }
    if (unsettled)
        snprintf(problem, sizeof(problem), "not settled: %s; ", unsettled);
    bool all[E2E_NCTX];
    for (int c = 0; c < E2E_NCTX; c++)
        all[c] = true;
    stop_services(all, problem + strlen(problem), sizeof(problem) - strlen(problem));
    db_free(db);
    db = NULL;
    if (problem[0])
        fail_msg("teardown: %s", problem);
}

void e2e_stop(enum e2e_ctx c)
{
    char problem[512] = "";
    bool which[E2E_NCTX] = {false};
    which[c] = true;
    if (pids[c] <= 0)
        fail_msg("e2e_stop: '%s' is not running", names[c]);
    stop_services(which, problem, sizeof(problem));
    if (problem[0])
        fail_msg("stopping: %s", problem);
}

void e2e_start(enum e2e_ctx c)
{
    if (pids[c] > 0)
        fail_msg("e2e_start: '%s' is already running", names[c]);
    spawn(c);
    bool which[E2E_NCTX] = {false};
    which[c] = true;
    wait_healthy(which);
}

/* -------------------------------------------------------------------- HTTP */

struct reply_buf {
    char *data;
    size_t len;
    size_t cap;
    char cid[E2E_CID_LEN];
};

static size_t on_body(char *ptr, size_t size, size_t n, void *userdata)
{
    struct reply_buf *r = userdata;
    size_t len = size * n;
    if (r->len + len + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + len + 1)
            cap *= 2;
        char *data = realloc(r->data, cap);
        if (!data)
            return 0;
        r->data = data;
        r->cap = cap;
    }
    memcpy(r->data + r->len, ptr, len);
    r->len += len;
    r->data[r->len] = '\0';
    return len;
}

static size_t on_header(char *line, size_t size, size_t n, void *userdata)
{
    struct reply_buf *r = userdata;
    size_t len = size * n;
    static const char name[] = "X-Correlation-ID:";
    if (len > sizeof(name) - 1 && strncasecmp(line, name, sizeof(name) - 1) == 0) {
        const char *v = line + sizeof(name) - 1;
        size_t vlen = len - (sizeof(name) - 1);
        while (vlen && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
            vlen--;
        snprintf(r->cid, sizeof(r->cid), "%.*s", (int)vlen, v);
    }
    return len;
}

enum e2e_http_result e2e_http_port(int port, const char *method, const char *path, const char *body,
                                   size_t body_len, const char *correlation_id, long timeout_ms,
                                   long *status, char **text_out, char *resp_cid, char *errbuf)
{
    *status = 0;
    if (text_out)
        *text_out = NULL;
    if (resp_cid)
        resp_cid[0] = '\0';
    CURL *curl = curl_easy_init();
    if (!curl) {
        if (errbuf)
            snprintf(errbuf, 256, "curl_easy_init failed");
        return E2E_HTTP_UNAVAILABLE;
    }
    char url[1024], header[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (correlation_id) {
        snprintf(header, sizeof(header), "X-Correlation-ID: %s", correlation_id);
        headers = curl_slist_append(headers, header);
    }
    struct reply_buf r = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (body || strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(curl);
    enum e2e_http_result result = E2E_HTTP_ANSWERED;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
        curl_off_t retry_after = 0;
        e2e_last_retry_after_s =
            curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK
                ? (long)retry_after
                : 0;
    } else {
        result = rc == CURLE_COULDNT_CONNECT ? E2E_HTTP_UNAVAILABLE : E2E_HTTP_NO_REPLY;
        if (errbuf)
            snprintf(errbuf, 256, "%s %s on port %d: %s", method, path, port,
                     curl_easy_strerror(rc));
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (result == E2E_HTTP_ANSWERED && resp_cid)
        snprintf(resp_cid, E2E_CID_LEN, "%s", r.cid);
    if (result == E2E_HTTP_ANSWERED && text_out)
        *text_out = r.data;
    else
        free(r.data);
    return result;
}

int e2e_http(const char *method, enum e2e_ctx c, const char *path, const char *body,
             size_t body_len, const char *correlation_id, long *status, json_t **json_out,
             char *resp_cid, char *errbuf)
{
    if (json_out)
        *json_out = NULL;
    char *text = NULL;
    if (e2e_http_port(ports[c], method, path, body, body_len, correlation_id, 30000, status, &text,
                      resp_cid, errbuf) != E2E_HTTP_ANSWERED) {
        char why[256];
        snprintf(why, sizeof(why), "%s", errbuf);
        snprintf(errbuf, 256, "'%s': %.200s", names[c], why);
        return -1;
    }
    if (json_out && text)
        *json_out = json_loads(text, JSON_DECODE_ANY, NULL);
    free(text);
    return 0;
}

void e2e_post(enum e2e_ctx c, const char *path, const char *json_text, const char *correlation_id,
              long *status, json_t **json_out, char *resp_cid)
{
    char errbuf[256];
    if (e2e_http("POST", c, path, json_text, json_text ? strlen(json_text) : 0, correlation_id,
                 status, json_out, resp_cid, errbuf) != 0)
        fail_msg("%s", errbuf);
}

void e2e_get(enum e2e_ctx c, const char *path, const char *correlation_id, long *status,
             json_t **json_out, char *resp_cid)
{
    char errbuf[256];
    if (e2e_http("GET", c, path, NULL, 0, correlation_id, status, json_out, resp_cid, errbuf) != 0)
        fail_msg("%s", errbuf);
}

json_t *e2e_poll(enum e2e_ctx c, const char *path, e2e_pred_fn pred, const void *arg,
                 int timeout_ms, const char *what)
{
    int64_t deadline = testlib_now_ms() + timeout_ms;
    long status = 0;
    json_t *json = NULL;
    char errbuf[256] = "";
    for (;;) {
        json_decref(json);
        json = NULL;
        int rc = e2e_http("GET", c, path, NULL, 0, NULL, &status, &json, NULL, errbuf);
        if (rc == 0 && pred(status, json, arg))
            return json;
        if (testlib_now_ms() > deadline)
            break;
        testlib_sleep_ms(E2E_POLL_MS);
    }
    const char *last = e2e_dump(json); /* a static copy: json can go */
    json_decref(json);
    fail_msg("waited %d ms for %s (GET %s on '%s'): last status %ld, body %s %s", timeout_ms, what,
             path, names[c], status, last, errbuf);
    return NULL;
}

struct field_arg {
    const char *field;
    const char *value;
};

static bool field_is(long status, const json_t *json, const void *arg)
{
    const struct field_arg *fa = arg;
    return status == 200 && strcmp(e2e_str(json, fa->field), fa->value) == 0;
}

json_t *e2e_poll_field(enum e2e_ctx c, const char *path, const char *field, const char *value,
                       int timeout_ms, const char *what)
{
    struct field_arg fa = {field, value};
    return e2e_poll(c, path, field_is, &fa, timeout_ms, what);
}

static bool status_is(long status, const json_t *json, const void *arg)
{
    (void)json;
    return status == *(const long *)arg;
}

json_t *e2e_poll_status(enum e2e_ctx c, const char *path, long want, int timeout_ms,
                        const char *what)
{
    return e2e_poll(c, path, status_is, &want, timeout_ms, what);
}

/* ----------------------------------------------------------------- JSON */

const char *e2e_str(const json_t *obj, const char *key)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : "<missing>";
}

int64_t e2e_int(const json_t *obj, const char *key)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : INT64_MIN;
}

void e2e_assert_error_body(const json_t *json, const char *error, const char *what)
{
    if (!json_is_object(json) || strcmp(e2e_str(json, "error"), error) != 0 ||
        !json_is_string(json_object_get(json, "detail")) ||
        !json_string_value(json_object_get(json, "detail"))[0])
        fail_msg("%s: expected the error body {\"error\": \"%s\", \"detail\": \"…\"}, got %s", what,
                 error, e2e_dump(json));
}

const json_t *e2e_find(const json_t *array, const char *key, const char *value, const char *key2,
                       const char *value2)
{
    size_t i;
    const json_t *el;
    if (!json_is_array(array))
        return NULL;
    json_array_foreach(array, i, el)
    {
        if (strcmp(e2e_str(el, key), value) == 0 &&
            (!key2 || strcmp(e2e_str(el, key2), value2) == 0))
            return el;
    }
    return NULL;
}

size_t e2e_count_matching(const json_t *array, const char *key, const char *value)
{
    size_t i, n = 0;
    const json_t *el;
    if (!json_is_array(array))
        return 0;
    json_array_foreach(array, i, el)
    {
        if (strcmp(e2e_str(el, key), value) == 0)
            n++;
    }
    return n;
}

const char *e2e_dump(const json_t *json)
{
    static char buf[2048];
    if (!json)
        return "(no JSON)";
    char *text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(buf, sizeof(buf), "%s", text ? text : "(unprintable)");
    free(text);
    return buf;
}

/* ---------------------------------------------------------------- database */

static struct db *test_db(void)
{
    if (!db) {
        db = db_new(testlib_require_env("DATABASE_URL"));
        if (!db)
            fail_msg("db_new failed for DATABASE_URL");
    }
    return db;
}

static int params_of(const char *p1, const char *p2, const char *params[2])
{
    params[0] = p1;
    params[1] = p2;
    return p2 ? 2 : p1 ? 1 : 0;
}

void e2e_value(const char *sql, const char *p1, const char *p2, char *out, size_t outlen)
{
    struct err err;
    err_clear(&err);
    const char *params[2];
    int n = params_of(p1, p2, params);
    int rc = db_exec_value(test_db(), sql, n, n ? params : NULL, out, outlen, &err);
    if (rc < 0)
        fail_msg("%s: %s", sql, err.msg);
}

int64_t e2e_count(const char *sql, const char *p1, const char *p2)
{
    char out[32];
    e2e_value(sql, p1, p2, out, sizeof(out));
    return strtoll(out, NULL, 10);
}

void e2e_wait_count(const char *sql, const char *p1, const char *p2, int64_t want, int timeout_ms,
                    const char *what)
{
    int64_t deadline = testlib_now_ms() + timeout_ms;
    int64_t n;
    while ((n = e2e_count(sql, p1, p2)) != want && testlib_now_ms() <= deadline)
        testlib_sleep_ms(E2E_POLL_MS);
    if (n != want)
        fail_msg("waited %d ms for %s: count %lld, expected %lld (%s)", timeout_ms, what,
                 (long long)n, (long long)want, sql);
}

static int add_row(void *ctx, const struct db_row *row, struct err *err)
{
    (void)err;
    json_t *rows = ctx;
    json_t *r = json_array();
    for (int i = 0; i < db_row_ncols(row); i++) {
        const char *t = db_row_text(row, i);
        json_array_append_new(r, t ? json_string(t) : json_null());
    }
    json_array_append_new(rows, r);
    return 0;
}

json_t *e2e_rows(const char *sql, const char *p1, const char *p2)
{
    struct err err;
    err_clear(&err);
    const char *params[2];
    int n = params_of(p1, p2, params);
    json_t *rows = json_array();
    if (db_exec(test_db(), sql, n, n ? params : NULL, add_row, rows, &err) < 0) {
        json_decref(rows);
        fail_msg("%s: %s", sql, err.msg);
    }
    return rows;
}

void e2e_wait_handled(enum e2e_ctx consumer, const char *type, const char *key, const char *value,
                      int timeout_ms)
{
    char sql[256], what[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM %s.inbox WHERE type = $1 AND status = 'processed'"
             " AND payload->'data'->>'%s' = $2",
             names[consumer], key);
    snprintf(what, sizeof(what), "'%s' to handle %s with %s '%s'", names[consumer], type, key,
             value);
    int64_t deadline = testlib_now_ms() + timeout_ms;
    while (e2e_count(sql, type, value) < 1) {
        if (testlib_now_ms() > deadline) {
            char state[512];
            snprintf(sql, sizeof(sql),
                     "SELECT left(coalesce(string_agg(status || ' attempts ' || attempts || ' ' ||"
                     " coalesce(last_error, ''), '; '), 'no inbox row'), 500) FROM %s.inbox"
                     " WHERE type = $1 AND payload->'data'->>'%s' = $2",
                     names[consumer], key);
            e2e_value(sql, type, value, state, sizeof(state));
            fail_msg("waited %d ms for %s: %s", timeout_ms, what, state);
        }
        testlib_sleep_ms(E2E_POLL_MS);
    }
}

const char *e2e_settled_problem(int timeout_ms)
{
    static char problem[2048];
    int64_t deadline = testlib_now_ms() + timeout_ms;
    char sql[512];
    for (;;) {
        int64_t busy = 0;
        for (int c = 0; c < E2E_NCTX; c++) {
            snprintf(sql, sizeof(sql),
                     "SELECT (SELECT count(*) FROM %s.outbox WHERE status <> 'published')"
                     " + (SELECT count(*) FROM %s.inbox WHERE status IN ('processing', 'failed'))",
                     names[c], names[c]);
            busy += e2e_count(sql, NULL, NULL);
        }
        if (busy == 0 || testlib_now_ms() > deadline)
            break;
        testlib_sleep_ms(E2E_POLL_MS * 2);
    }
    problem[0] = '\0';
    for (int c = 0; c < E2E_NCTX; c++) {
        char rows[512];
        snprintf(sql, sizeof(sql),
                 "SELECT left(coalesce(string_agg(format('%s.outbox %%s %%s (%%s)', type, status,"
                 " coalesce(last_error, '')), '; '), ''), 500) FROM (SELECT * FROM %s.outbox"
                 " WHERE status <> 'published' ORDER BY created_at LIMIT 5) o",
                 names[c], names[c]);
        e2e_value(sql, NULL, NULL, rows, sizeof(rows));
        if (rows[0])
            snprintf(problem + strlen(problem), sizeof(problem) - strlen(problem), "%s; ", rows);
        snprintf(
            sql, sizeof(sql),
            "SELECT left(coalesce(string_agg(format('%s.inbox %%s %%s attempts %%s (%%s)', type,"
            " status, attempts, coalesce(last_error, '')), '; '), ''), 500) FROM (SELECT * FROM"
            " %s.inbox WHERE status <> 'processed' ORDER BY created_at LIMIT 5) i",
            names[c], names[c]);
        e2e_value(sql, NULL, NULL, rows, sizeof(rows));
        if (rows[0])
            snprintf(problem + strlen(problem), sizeof(problem) - strlen(problem), "%s; ", rows);
    }
    return problem[0] ? problem : NULL;
}

/* ---------------------------------------------------------------- fixtures */

void e2e_unique_email(char *out, size_t outlen, const char *prefix)
{
    char name[96];
    testlib_unique_name(name, sizeof(name), prefix);
    snprintf(out, outlen, "%s@example.com", name);
}

void e2e_new_uuid(char out[E2E_ID_LEN])
{
    if (uuid7_generate(out) != 0)
        fail_msg("uuid7_generate failed");
}

/* Copies reply member "id" into id_out, failing unless it is a UUID. */
static void copy_id(const json_t *reply, char id_out[E2E_ID_LEN], const char *what)
{
    const char *id = e2e_str(reply, "id");
    if (!uuid7_is_valid(id))
        fail_msg("%s: reply has no UUID \"id\": %s", what, e2e_dump(reply));
    snprintf(id_out, E2E_ID_LEN, "%s", id);
}

void e2e_create_user(const char *email, const char *name, const char *correlation_id,
                     char id_out[E2E_ID_LEN])
{
    json_t *req = json_pack("{s:s, s:s}", "email", email, "name", name);
    char *text = json_dumps(req, JSON_COMPACT);
    long status;
    json_t *reply;
    e2e_post(E2E_USERMANAGEMENT, "/users", text, correlation_id, &status, &reply, NULL);
    free(text);
    json_decref(req);
    if (status != 201)
        fail_msg("POST /users %s: status %ld, expected 201: %s", email, status, e2e_dump(reply));
    copy_id(reply, id_out, "POST /users");
    json_decref(reply);
}

json_t *e2e_create_provider(const char *owner_id, const char *correlation_id,
                            char id_out[E2E_ID_LEN])
{
    json_t *req = json_pack("{s:s, s:s, s:s}", "owner_id", owner_id, "business_name", "E2E Rooms",
                            "provider_type", "hotel");
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    int64_t deadline = testlib_now_ms() + E2E_WAIT_MS;
    long status;
    json_t *reply = NULL;
    for (;;) {
        json_decref(reply);
        e2e_post(E2E_SERVICECATALOG, "/providers", text, correlation_id, &status, &reply, NULL);
        if (status != 422 || testlib_now_ms() > deadline)
            break;
        testlib_sleep_ms(E2E_POLL_MS);
    }
    free(text);
    if (status != 201)
        fail_msg("POST /providers (owner %s, retried while 422 for %d ms): status %ld, expected "
                 "201: %s",
                 owner_id, E2E_WAIT_MS, status, e2e_dump(reply));
    copy_id(reply, id_out, "POST /providers");
    return reply;
}

void e2e_create_offering(const char *provider_id, const char *name, long long price_cents,
                         long long capacity, const char *correlation_id, char id_out[E2E_ID_LEN])
{
    json_t *req = json_pack("{s:s, s:I, s:I}", "name", name, "price_cents", (json_int_t)price_cents,
                            "capacity", (json_int_t)capacity);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    char path[128];
    snprintf(path, sizeof(path), "/providers/%s/offerings", provider_id);
    long status;
    json_t *reply;
    e2e_post(E2E_SERVICECATALOG, path, text, correlation_id, &status, &reply, NULL);
    free(text);
    if (status != 201)
        fail_msg("POST %s: status %ld, expected 201: %s", path, status, e2e_dump(reply));
    copy_id(reply, id_out, path);
    json_decref(reply);
}

void e2e_wait_offering_known(const char *offering_id)
{
    e2e_wait_handled(E2E_INVENTORY, "servicecatalog.offering.published", "offering_id", offering_id,
                     E2E_WAIT_MS);
    e2e_wait_handled(E2E_BOOKING, "servicecatalog.offering.published", "offering_id", offering_id,
                     E2E_WAIT_MS);
    char path[128];
    snprintf(path, sizeof(path), "/stock/%s", offering_id);
    json_decref(e2e_poll_status(E2E_INVENTORY, path, 200, E2E_WAIT_MS, "the offering's stock"));
}
