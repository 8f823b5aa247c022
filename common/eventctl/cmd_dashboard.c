/*
 * cmd_dashboard.c - "eventctl dashboard": the web dashboard of SPEC §7, one
 * page (dashboard.html, embedded as dashboard_page.c) and the JSON API it
 * reads, served by common/http.h until SIGINT or SIGTERM.
 *
 * It is not a second implementation of the commands: every read and the one
 * write are the commands' own functions (ctl.h), so /api/messages lists what
 * "eventctl messages --json" prints, /api/trace/{id}/timeline is the text of
 * "eventctl trace", and POST /api/requeue/{id} is "eventctl requeue". Only the
 * per-context status counts of /api/contexts and the rows of one message
 * (/api/message/{id}) are the dashboard's own queries.
 *
 * Each HTTP thread owns its database sessions (ctl_dbs, one per login),
 * opened on its first request; a database that goes away makes requests
 * answer 503 until it is back. It listens on 127.0.0.1 unless --address
 * says otherwise; beyond loopback it needs a token (DASHBOARD_TOKEN), and it
 * refuses what a web page in the user's browser could send it: the http
 * library refuses foreign Host headers, non-JSON writes and framing, admit()
 * below the rest (docs/security.md, "web surface").
 */
#include "ctl.h"

#include "common/bus.h"
#include "common/db.h"
#include "common/envelope.h"
#include "common/heartbeat.h"
#include "common/http.h"
#include "common/log.h"
#include "common/uuid7.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DASHBOARD_PORT_DEFAULT      8080
#define DASHBOARD_LIMIT_DEFAULT     100 /* rows /api/messages returns without ?limit */
#define DASHBOARD_LIMIT_MAX         500
#define DASHBOARD_CONTENT_TYPE_HTML "text/html; charset=utf-8"
#define DASHBOARD_WRITE_HEADER      "X-Requested-With" /* the page sends it with every POST */
#define DASHBOARD_TOKEN_COOKIE      "eventctl_dashboard_token"
#define DASHBOARD_TOKEN_MIN         16
#define DASHBOARD_TOKEN_MAX         256

static const char usage_text[] =
    "usage: eventctl dashboard [--port N] [--address A] [--database-url URL]\n"
    "                          [--amqp-url URL] [--token T] [--allowed-hosts H,...]\n"
    "\n"
    "Serves the web dashboard until SIGINT or SIGTERM: messages by context and\n"
    "status, failed and dead messages with their errors and a Retry button, and\n"
    "the flow of a correlation id as a sequence diagram. Open http://A:N/.\n"
    "\n"
    "  --port N           TCP port, 0..65535 (default 8080; 0 picks a free one)\n"
    "  --address A        numeric IPv4 or IPv6 address to listen on (default 127.0.0.1)\n"
    "  --database-url URL PostgreSQL URL (default: $DATABASE_URL)\n"
    "  --token T          access token (default: $DASHBOARD_TOKEN), 16..256 visible\n"
    "                     characters; required when A is not a loopback address.\n"
    "                     Send it as 'Authorization: Bearer T', or open /?token=T\n"
    "                     once in a browser, which keeps it in a cookie\n"
    "  --amqp-url URL     RabbitMQ URL for the queues' depths and consumers\n"
    "                     (default: $AMQP_URL; none: the Endpoints view shows no queues)\n"
    "  --allowed-hosts H  more host names a Host header may give, comma-separated\n"
    "                     (default: $HTTP_ALLOWED_HOSTS); loopback names and A are\n"
    "                     always allowed\n"
    "\n"
    "JSON API: GET /api/contexts, /api/messages?context=&status=&type=&limit=,\n"
    "/api/trace/<correlation-id> (also /timeline and /mermaid as text),\n"
    "/api/message/<message-id> (every row of one message, body and error),\n"
    "/api/endpoints (instances, their heartbeats, 15 minutes of throughput);\n"
    "GET /api/failures?context= (the groups of 'eventctl failures --json');\n"
    "POST /api/requeue/<message-id>, /api/failures/<group>/retry,\n"
    "/api/failures/retry-all, /api/failures/<group>/purge. LOG_LEVEL=debug logs\n"
    "every request.\n"
    "Exit status 0 after a signal, 1 when the database or the port is unavailable,\n"
    "2 for bad options (or no token beyond loopback).\n";

/* The application handed to every handler and thread hook. */
struct dashboard {
    const char *database_url; /* borrowed from argv or the environment */
    const char *token;        /* required from every client when not NULL; borrowed likewise */
    struct bus *bus;          /* the queues' depths (NULL: no AMQP URL); shared, under bus_lock */
    pthread_mutex_t bus_lock;
};

/* ---- the routes: declarations, the table, then the bodies ---------------------- */

static int route_get_page(const struct http_request *req, struct http_response *resp, void *app);
static int route_get_contexts(const struct http_request *req, struct http_response *resp,
                              void *app);
static int route_get_messages(const struct http_request *req, struct http_response *resp,
                              void *app);
static int route_get_trace(const struct http_request *req, struct http_response *resp, void *app);
static int route_get_trace_timeline(const struct http_request *req, struct http_response *resp,
                                    void *app);
static int route_get_trace_mermaid(const struct http_request *req, struct http_response *resp,
                                   void *app);
static int route_get_message(const struct http_request *req, struct http_response *resp, void *app);
static int route_get_endpoints(const struct http_request *req, struct http_response *resp,
                               void *app);
static int route_post_requeue(const struct http_request *req, struct http_response *resp,
                              void *app);
static int route_get_failures(const struct http_request *req, struct http_response *resp,
                              void *app);
static int route_post_failures_retry(const struct http_request *req, struct http_response *resp,
                                     void *app);
static int route_post_failures_retry_all(const struct http_request *req, struct http_response *resp,
                                         void *app);
static int route_post_failures_purge(const struct http_request *req, struct http_response *resp,
                                     void *app);

static const struct http_route dashboard_routes[] = {
    {"GET", "/", route_get_page},
    {"GET", "/api/contexts", route_get_contexts},
    {"GET", "/api/messages", route_get_messages},
    {"GET", "/api/trace/{correlation_id}", route_get_trace},
    {"GET", "/api/trace/{correlation_id}/timeline", route_get_trace_timeline},
    {"GET", "/api/trace/{correlation_id}/mermaid", route_get_trace_mermaid},
    {"GET", "/api/message/{id}", route_get_message},
    {"GET", "/api/endpoints", route_get_endpoints},
    {"POST", "/api/requeue/{id}", route_post_requeue},
    {"GET", "/api/failures", route_get_failures},
    {"POST", "/api/failures/retry-all", route_post_failures_retry_all},
    {"POST", "/api/failures/{group}/retry", route_post_failures_retry},
    {"POST", "/api/failures/{group}/purge", route_post_failures_purge},
};

/* ---- helpers ----------------------------------------------------------------------- */

/* Each thread's sessions, one per login (ctl_dbs: a context only through its owner's login). */
static void *thread_db_new(void *app)
{
    const struct dashboard *d = app;
    return ctl_dbs_new(d->database_url, "eventctl dashboard");
}

static void thread_db_free(void *ctx, void *app)
{
    (void)app;
    ctl_dbs_free(ctx);
}

/* A query parameter, NULL when absent or empty (the page sends "" for "any"). */
static const char *query(const struct http_request *req, const char *key)
{
    const char *v = http_query(req, key);
    return v && *v ? v : NULL;
}

/*
 * Whether given equals the token, in a time that depends on the token's
 * length only: no early exit at the first differing byte, so response times
 * do not tell an attacker how much of a guess was right.
 */
static bool token_equal(const char *given, const char *token)
{
    size_t n = strlen(token), m = strlen(given);
    volatile unsigned char diff = (unsigned char)(n != m);
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(token[i] ^ (i < m ? given[i] : 0));
    return diff == 0;
}

/*
 * Checks the token of a request, when the dashboard has one. Returns 1 when
 * the request may go on; 0 when resp holds the reply: 303 to the same path
 * with the token in a cookie for a valid "?token=" (so it leaves the address
 * bar and the history), 401 otherwise.
 */
static int admit_token(const struct http_request *req, struct http_response *resp,
                       const char *token)
{
    const char *auth = http_header(req, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0 && token_equal(auth + 7, token))
        return 1;
    const char *cookie = http_cookie(req, DASHBOARD_TOKEN_COOKIE);
    if (cookie && token_equal(cookie, token))
        return 1;
    const char *query_token = http_query(req, "token");
    if (query_token && strcmp(req->method, "GET") == 0 && token_equal(query_token, token)) {
        char cookie_line[DASHBOARD_TOKEN_MAX + 128];
        snprintf(cookie_line, sizeof(cookie_line),
                 DASHBOARD_TOKEN_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", token);
        int rc = http_reply_json(resp, 303, json_pack("{s:s}", "location", req->path));
        if (rc == 0)
            rc = http_reply_header(resp, "Location", req->path);
        if (rc == 0)
            rc = http_reply_header(resp, "Set-Cookie", cookie_line);
        return rc < 0 ? rc : 0;
    }
    int rc = http_reply_json(
        resp, 401,
        json_pack("{s:s, s:s}", "error", "unauthorized", "detail",
                  "this dashboard needs its token: 'Authorization: Bearer <token>', or open "
                  "/?token=<token> once"));
    if (rc == 0)
        rc = http_reply_header(resp, "WWW-Authenticate", "Bearer");
    return rc < 0 ? rc : 0;
}

/*
 * http_config.admit. The http library has already refused a Host header
 * naming another host (a DNS-rebinding page reaches us under its own name)
 * and a write that is not JSON (a cross-site form). Here:
 * - the token, when there is one (listening beyond loopback there must be);
 * - a write (POST) without X-Requested-With: a cross-origin fetch that sets
 *   it needs a CORS preflight this server never grants.
 */
static int admit(const struct http_request *req, struct http_response *resp, void *app)
{
    const struct dashboard *d = app;
    if (d->token) {
        int rc = admit_token(req, resp, d->token);
        if (rc <= 0)
            return rc;
    }
    if (strcmp(req->method, "POST") == 0 && !http_header(req, DASHBOARD_WRITE_HEADER))
        return http_reply_json(resp, 403,
                               json_pack("{s:s, s:s}", "error", "forbidden", "detail",
                                         "a write needs the header " DASHBOARD_WRITE_HEADER
                                         " (the dashboard page sends it)"));
    return 0;
}

/* Whether address (numeric, checked by http_start later) is a loopback one. */
static bool address_is_loopback(const char *address)
{
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, address, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, address, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

/* Whether token can be sent in a header and a cookie: visible ASCII without ; , " \ */
static bool token_valid(const char *token)
{
    size_t n = strlen(token);
    if (n < DASHBOARD_TOKEN_MIN || n > DASHBOARD_TOKEN_MAX)
        return false;
    for (const char *c = token; *c; c++)
        if (*c <= 0x20 || *c >= 0x7f || strchr(";,\"\\", *c))
            return false;
    return true;
}

/* Replies 400 or 404 with a formatted detail. Returns 0, or ERR_NOMEM. */
static int reply_problem(struct http_response *resp, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int reply_problem(struct http_response *resp, enum err_code code, const char *fmt, ...)
{
    struct err err = {.code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
    va_end(ap);
    return http_reply_error(resp, &err);
}

/* The migrated contexts (all, or only), as the commands find them. */
static int schemas_of(struct ctl_dbs *db, const struct service_def *only,
                      const struct service_def *out[CTL_CONTEXTS_MAX], size_t *n, struct err *err)
{
    if (ctl_schemas(db, only, out, n, err) < 0)
        return err_wrap(err, "cannot list the context schemas");
    return 0;
}

/* ---- GET / ---------------------------------------------------------------------------- */

static int route_get_page(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)req;
    (void)app;
    return http_reply_text(resp, 200, DASHBOARD_CONTENT_TYPE_HTML, strdup(dashboard_page));
}

/* ---- GET /api/contexts ------------------------------------------------------------------ */

/*
 * {"statuses": {"outbox": [...], "inbox": [...]},
 *  "contexts": [{"name": "booking", "migrated": true,
 *                "outbox": {"pending": 0, "published": 2, "failed": 1},
 *                "inbox": {"processing": 0, "processed": 3, "failed": 0, "dead": 1}}, ...]}
 * Every context of ctl_services in order, every status present (0 when none).
 */
static const char counts_sql[] =
    "SELECT '{c}', 'outbox', status, count(*) FROM {c}.outbox GROUP BY status"
    " UNION ALL "
    "SELECT '{c}', 'inbox', status, count(*) FROM {c}.inbox GROUP BY status";

static json_t *status_list(const char *const *statuses, bool counts)
{
    json_t *o = counts ? json_object() : json_array();
    for (size_t i = 0; o && statuses[i]; i++) {
        int rc = counts ? json_object_set_new(o, statuses[i], json_integer(0))
                        : json_array_append_new(o, json_string(statuses[i]));
        if (rc != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static int counts_row(void *vctx, const struct db_row *row, struct err *err)
{
    json_t *contexts = vctx;
    const char *name = ctl_text(row, 0), *table = ctl_text(row, 1), *status = ctl_text(row, 2);
    int64_t count = 0;
    if (db_row_int64(row, 3, &count))
        return err_set(err, ERR_INTERNAL, "unreadable count of '%s.%s'", name, table);
    size_t i;
    json_t *c;
    json_array_foreach(contexts, i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "name")), name) != 0)
            continue;
        if (json_object_set_new(json_object_get(c, table), status, json_integer(count)) != 0)
            return err_set(err, ERR_NOMEM, "out of memory");
        return 0;
    }
    return 0;
}

static int route_get_contexts(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    struct ctl_dbs *db = req->thread_ctx;
    struct err err = {0};
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas;
    if (schemas_of(db, NULL, schemas, &nschemas, &err) < 0)
        return http_reply_error(resp, &err);

    json_t *contexts = json_array();
    if (!contexts)
        return ERR_NOMEM;
    for (size_t i = 0; ctl_services[i]; i++) {
        bool migrated = false;
        for (size_t k = 0; k < nschemas; k++)
            migrated = migrated || schemas[k] == ctl_services[i];
        json_t *c = json_pack("{s:s, s:b, s:o, s:o}", "name", ctl_services[i]->name, "migrated",
                              migrated, "outbox", status_list(cmd_messages_outbox_statuses, true),
                              "inbox", status_list(cmd_messages_inbox_statuses, true));
        if (!c || json_array_append_new(contexts, c) != 0) {
            json_decref(contexts);
            return ERR_NOMEM;
        }
    }

    /* Each context in its own session (its owner's). */
    char sql[sizeof(counts_sql) + 128];
    int rc = 0;
    for (size_t i = 0; rc >= 0 && i < nschemas; i++) {
        struct db *cdb;
        rc = ctl_dbs_get(db, schemas[i], &cdb, &err);
        if (rc == 0)
            rc = ctl_sql_each(sql, sizeof(sql), &schemas[i], 1, counts_sql, "", &err);
        if (rc == 0)
            rc = db_exec(cdb, sql, 0, NULL, counts_row, contexts, &err);
    }
    if (rc < 0) {
        json_decref(contexts);
        err_wrap(&err, "cannot count the messages");
        return http_reply_error(resp, &err);
    }
    return http_reply_json(resp, 200,
                           json_pack("{s:{s:o, s:o}, s:o}", "statuses", "outbox",
                                     status_list(cmd_messages_outbox_statuses, false), "inbox",
                                     status_list(cmd_messages_inbox_statuses, false), "contexts",
                                     contexts));
}

/* ---- GET /api/messages ------------------------------------------------------------------- */

static int message_append(void *ctx, const struct cmd_messages_row *m, struct err *err)
{
    if (json_array_append_new(ctx, cmd_messages_json(m)) != 0)
        return err_set(err, ERR_NOMEM, "out of memory");
    return 0;
}

/* {"messages": [...]}: the objects of "eventctl messages --json", newest first. */
static int route_get_messages(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    const char *context = query(req, "context"), *status = query(req, "status");
    const char *type = query(req, "type"), *limit_arg = query(req, "limit");
    const struct service_def *only = ctl_service_find(context);
    if (context && !only)
        return reply_problem(resp, ERR_INVALID, "unknown context '%.64s'", context);
    if (status && !cmd_messages_status_valid(status))
        return reply_problem(resp, ERR_INVALID,
                             "unknown status '%.64s': want pending|published|failed (outbox) or "
                             "processing|processed|failed|dead (inbox)",
                             status);
    if (type && !cmd_messages_type_valid(type))
        return reply_problem(resp, ERR_INVALID, "invalid type '%.64s'", type);
    long limit = DASHBOARD_LIMIT_DEFAULT;
    if (limit_arg) {
        char *end;
        limit = strtol(limit_arg, &end, 10);
        if (end == limit_arg || *end || limit < 1 || limit > DASHBOARD_LIMIT_MAX)
            return reply_problem(resp, ERR_INVALID,
                                 "invalid limit '%.64s': want an integer in [1, %d]", limit_arg,
                                 DASHBOARD_LIMIT_MAX);
    }

    struct ctl_dbs *db = req->thread_ctx;
    struct err err = {0};
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas;
    if (schemas_of(db, only, schemas, &nschemas, &err) < 0)
        return http_reply_error(resp, &err);
    json_t *messages = json_array();
    if (!messages)
        return ERR_NOMEM;
    /* No migrated schema (yet): no rows, rather than an error the page would show every 2 s. */
    if (nschemas && cmd_messages_read(db, schemas, nschemas, status, type, limit, message_append,
                                      messages, &err) < 0) {
        json_decref(messages);
        err_wrap(&err, "cannot read the messages");
        return http_reply_error(resp, &err);
    }
    return http_reply_json(resp, 200, json_pack("{s:o}", "messages", messages));
}

/* ---- GET /api/message/{id} ---------------------------------------------------------------- */

/*
 * Every row one message left, in every migrated context: the producer's outbox
 * row, each consumer's inbox row, each dead letter recorded under its message
 * id. A row's "payload" is the CloudEvent as stored (the body; its attributes
 * are the envelope's headers) and "headers" the AMQP properties and headers a
 * dead letter was received with. "error" is the row's last error or the dead
 * letter's reason; "errors" (inbox rows) every failed attempt's error,
 * {attempt, at, error}, the last INBOX_ERRORS_KEPT. A dead letter's raw body is shown as PostgreSQL's escape
 * encoding: it may not be text at all.
 */
static const char message_sql[] =
    "SELECT '{c}', 'outbox', NULL, status, attempts, last_error, payload::text, NULL,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " correlation_id, type, NULL FROM {c}.outbox WHERE id = $1::text::uuid"
    " UNION ALL "
    "SELECT '{c}', 'inbox', consumer, status, attempts, last_error, payload::text, NULL,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " correlation_id, type, errors::text FROM {c}.inbox WHERE id = $1::text::uuid"
    " UNION ALL "
    "SELECT '{c}', 'dead_letter', NULL, 'poison', attempts, reason, encode(body, 'escape'),"
    " headers::text,"
    " to_char(first_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " correlation_id, type, NULL FROM {c}.dead_letter WHERE message_id = $1::text";

/* A stored JSON text as JSON (new), or as a string when it does not parse (a raw body). */
static json_t *json_or_text(const char *text)
{
    if (!text)
        return json_null();
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    return j ? j : json_string(text);
}

static int message_row(void *vctx, const struct db_row *row, struct err *err)
{
    json_t *rows = vctx;
    int64_t attempts = 0;
    if (db_row_int64(row, 4, &attempts))
        return err_set(err, ERR_INTERNAL, "unreadable attempts of a '%s' row", ctl_text(row, 1));
    json_t *r = json_pack(
        "{s:s, s:s, s:s?, s:s, s:I, s:s?, s:o, s:o, s:s, s:s?, s:s?, s:o}", "context",
        ctl_text(row, 0), "table", ctl_text(row, 1), "consumer", db_row_text(row, 2), "status",
        ctl_text(row, 3), "attempts", (json_int_t)attempts, "error", db_row_text(row, 5), "payload",
        json_or_text(db_row_text(row, 6)), "headers", json_or_text(db_row_text(row, 7)), "time",
        ctl_text(row, 8), "correlation_id", db_row_text(row, 9), "type", db_row_text(row, 10),
        "errors", json_or_text(db_row_text(row, 11)));
    if (!r || json_array_append_new(rows, r) != 0)
        return err_set(err, ERR_NOMEM, "out of memory");
    return 0;
}

/*
 * Checks the message id of a /api/messages/{id} or /api/requeue/{id} request
 * and finds the schemas. Returns 1 to go on; 0 when resp holds the reply
 * (400, or an error), or ERR_NOMEM.
 */
static int id_request_start(const struct http_request *req, struct http_response *resp,
                            const struct service_def *schemas[CTL_CONTEXTS_MAX], size_t *n)
{
    const char *id = req->params[0];
    if (!uuid7_is_valid(id))
        return reply_problem(resp, ERR_INVALID, "invalid message id '%.64s': want a UUID", id);
    struct err err = {0};
    if (schemas_of(req->thread_ctx, NULL, schemas, n, &err) < 0)
        return http_reply_error(resp, &err);
    return 1;
}

/* {"id", "correlation_id", "rows": [...]}; 404 when no context has a row of that id. */
static int route_get_message(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas = 0;
    int start = id_request_start(req, resp, schemas, &nschemas);
    if (start <= 0)
        return start;
    const char *id = req->params[0];
    struct ctl_dbs *db = req->thread_ctx;
    struct err err = {0};
    json_t *rows = json_array();
    if (!rows)
        return ERR_NOMEM;
    char sql[sizeof(message_sql) + 128];
    const char *params[] = {id};
    int rc = 0;
    for (size_t i = 0; rc >= 0 && i < nschemas; i++) {
        struct db *cdb;
        rc = ctl_dbs_get(db, schemas[i], &cdb, &err);
        if (rc == 0)
            rc = ctl_sql_each(sql, sizeof(sql), &schemas[i], 1, message_sql, "", &err);
        if (rc == 0)
            rc = db_exec(cdb, sql, 1, params, message_row, rows, &err);
    }
    if (rc < 0) {
        json_decref(rows);
        err_wrap(&err, "cannot read message '%s'", id);
        return http_reply_error(resp, &err);
    }
    if (json_array_size(rows) == 0) {
        json_decref(rows);
        return reply_problem(resp, ERR_NOT_FOUND, "no message '%s' in any context", id);
    }
    const char *cid = json_string_value(json_object_get(json_array_get(rows, 0), "correlation_id"));
    return http_reply_json(
        resp, 200, json_pack("{s:s, s:s?, s:o}", "id", id, "correlation_id", cid, "rows", rows));
}

/* ---- GET /api/endpoints ---------------------------------------------------------------------- */

#define DASHBOARD_MINUTES 15 /* the charts' window, one bucket a minute */

/* Every instance's heartbeat row (common/heartbeat.h), with its age by the database's clock. */
static const char instances_sql[] =
    "SELECT context, instance_id, pid,"
    " to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " to_char(last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " (extract(epoch FROM clock_timestamp() - last_seen) * 1000)::bigint, paused"
    " FROM {c}.heartbeat ORDER BY instance_id";

/*
 * The last DASHBOARD_MINUTES of one context, by minute ("ago": 0 is the
 * minute in progress): messages its consumers processed, with the critical
 * time (from the event's time to processed: average and maximum, ms);
 * messages its relay published; failures (dead letters recorded, inbox
 * messages that went dead); and its unpublished outbox rows with the age of
 * the oldest.
 */
static const char activity_sql[] =
    "SELECT 'processed', floor(extract(epoch FROM clock_timestamp() - processed_at) / 60)::int,"
    " count(*), avg(ms)::bigint, max(ms)::bigint FROM"
    " (SELECT processed_at, CASE WHEN payload->>'time' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T'"
    "  THEN extract(epoch FROM processed_at - (payload->>'time')::timestamptz) * 1000 END AS ms"
    "  FROM {c}.inbox WHERE status = 'processed'"
    "  AND processed_at > clock_timestamp() - interval '15 minutes') p GROUP BY 2"
    " UNION ALL "
    "SELECT 'published', floor(extract(epoch FROM clock_timestamp() - published_at) / 60)::int,"
    " count(*), NULL, NULL FROM {c}.outbox WHERE status = 'published'"
    " AND published_at > clock_timestamp() - interval '15 minutes' GROUP BY 2"
    " UNION ALL "
    "SELECT 'failed', floor(extract(epoch FROM clock_timestamp() - t) / 60)::int, count(*),"
    " NULL, NULL FROM (SELECT first_seen_at AS t FROM {c}.dead_letter"
    "  UNION ALL SELECT coalesce(dead_lettered_at, created_at) FROM {c}.inbox"
    "  WHERE status = 'dead') f WHERE t > clock_timestamp() - interval '15 minutes' GROUP BY 2"
    " UNION ALL "
    "SELECT 'unpublished', NULL, count(*),"
    " (extract(epoch FROM clock_timestamp() - min(created_at)) * 1000)::bigint, NULL"
    " FROM {c}.outbox WHERE status <> 'published'";

static json_t *zeros(void)
{
    json_t *a = json_array();
    for (int i = 0; a && i < DASHBOARD_MINUTES; i++)
        if (json_array_append_new(a, json_integer(0)) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static int instance_row(void *vctx, const struct db_row *row, struct err *err)
{
    int64_t pid = 0, age = 0;
    if (db_row_int64(row, 2, &pid) || db_row_int64(row, 5, &age))
        return err_set(err, ERR_INTERNAL, "unreadable heartbeat of '%s'", ctl_text(row, 1));
    json_t *i =
        json_pack("{s:s, s:s, s:I, s:s, s:s, s:I, s:b, s:b}", "context", ctl_text(row, 0),
                  "instance_id", ctl_text(row, 1), "pid", (json_int_t)pid, "started_at",
                  ctl_text(row, 3), "last_seen", ctl_text(row, 4), "age_ms", (json_int_t)age,
                  "alive", age < HEARTBEAT_STALE_MS, "paused", strcmp(ctl_text(row, 6), "t") == 0);
    if (!i || json_array_append_new(vctx, i) != 0)
        return err_set(err, ERR_NOMEM, "out of memory");
    return 0;
}

/* Puts one row of activity_sql into the context's object (its arrays index minutes, oldest first).
 */
static int activity_row(void *vctx, const struct db_row *row, struct err *err)
{
    json_t *c = vctx;
    const char *what = ctl_text(row, 0);
    int64_t ago = 0, count = 0, avg = 0, max = 0;
    if (db_row_int64(row, 2, &count))
        return err_set(err, ERR_INTERNAL, "unreadable count of '%s'", what);
    bool has_avg = db_row_int64(row, 3, &avg) == 0, has_max = db_row_int64(row, 4, &max) == 0;
    int rc = 0;
    if (strcmp(what, "unpublished") == 0) {
        rc = json_object_set_new(c, "unpublished", json_integer(count));
        if (rc == 0)
            rc = json_object_set_new(c, "oldest_unpublished_ms",
                                     has_avg ? json_integer(avg) : json_null());
        return rc ? err_set(err, ERR_NOMEM, "out of memory") : 0;
    }
    if (db_row_int64(row, 1, &ago) || ago < 0 || ago >= DASHBOARD_MINUTES)
        return 0; /* a row that crossed the window's edge between the two clocks */
    size_t at = (size_t)(DASHBOARD_MINUTES - 1 - ago);
    rc = json_array_set_new(json_object_get(c, what), at, json_integer(count));
    if (rc == 0 && has_avg)
        rc = json_array_set_new(json_object_get(c, "critical_avg_ms"), at, json_integer(avg));
    if (rc == 0 && has_max)
        rc = json_array_set_new(json_object_get(c, "critical_max_ms"), at, json_integer(max));
    return rc ? err_set(err, ERR_NOMEM, "out of memory") : 0;
}

/* One migrated context's heartbeats (into instances) and activity (a new object in *out). */
static int endpoints_of(struct ctl_dbs *dbs, const struct service_def *def, json_t *instances,
                        json_t **out, struct err *err)
{
    json_t *c =
        json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:i, s:n}", "name", def->name, "processed",
                  zeros(), "published", zeros(), "failed", zeros(), "critical_avg_ms", zeros(),
                  "critical_max_ms", zeros(), "unpublished", 0, "oldest_unpublished_ms");
    if (!c)
        return err_set(err, ERR_NOMEM, "out of memory");
    struct db *db;
    char sql[sizeof(activity_sql) + 256];
    int rc = ctl_dbs_get(dbs, def, &db, err);
    if (rc == 0)
        rc = ctl_sql_each(sql, sizeof(sql), &def, 1, instances_sql, "", err);
    if (rc == 0)
        rc = db_exec(db, sql, 0, NULL, instance_row, instances, err);
    if (rc < 0 && strcmp(err->sqlstate, "42P01") == 0) {
        err_clear(err); /* not migrated to 0007_heartbeat yet: no instance to show */
        rc = 0;
    }
    if (rc >= 0)
        rc = ctl_sql_each(sql, sizeof(sql), &def, 1, activity_sql, "", err);
    if (rc >= 0)
        rc = db_exec(db, sql, 0, NULL, activity_row, c, err);
    if (rc < 0) {
        json_decref(c);
        return rc;
    }
    *out = c;
    return 0;
}

/*
 * Each context's two queues, <c>.events and <c>.dead-letter, as
 * {"name", "messages", "consumers"} (both null when the queue is missing), by
 * passive declares on the dashboard's one broker connection. Returns 0, or an
 * error (no AMQP URL, the broker unreachable) the reply carries as text.
 */
static int queues_of(struct dashboard *d, const struct service_def *const *schemas, size_t n,
                     json_t *queues, struct err *err)
{
    if (!d->bus)
        return err_set(err, ERR_INVALID,
                       "no AMQP URL: start the dashboard with --amqp-url or "
                       "AMQP_URL to see the queues");
    pthread_mutex_lock(&d->bus_lock);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < 2 * n; i++) {
        char name[128];
        snprintf(name, sizeof(name), "%s.%s", schemas[i / 2]->name,
                 i % 2 ? "dead-letter" : "events");
        long long messages = 0, consumers = 0;
        if (!bus_connected(d->bus))
            rc = bus_connect(d->bus, err);
        if (rc == 0)
            rc = bus_queue_inspect(d->bus, name, &messages, &consumers, err);
        json_t *q = rc == ERR_NOT_FOUND
                        ? json_pack("{s:s, s:n, s:n}", "name", name, "messages", "consumers")
                    : rc == 0 ? json_pack("{s:s, s:I, s:I}", "name", name, "messages",
                                          (json_int_t)messages, "consumers", (json_int_t)consumers)
                              : NULL;
        if (rc == ERR_NOT_FOUND) {
            rc = 0; /* missing: said as nulls; the bus reconnects for the next one */
            err_clear(err);
        }
        if (rc == 0 && (!q || json_array_append_new(queues, q) != 0))
            rc = err_set(err, ERR_NOMEM, "out of memory");
    }
    pthread_mutex_unlock(&d->bus_lock);
    return rc;
}

/*
 * {"stale_ms", "minutes", "instances": [{"context", "instance_id", "pid",
 *  "started_at", "last_seen", "age_ms", "alive"}],
 *  "contexts": [{"name", "processed", "published", "failed", "critical_avg_ms",
 *  "critical_max_ms" (arrays of "minutes" numbers, oldest first), "unpublished",
 *  "oldest_unpublished_ms"}], "queues": [{"name", "messages", "consumers"}],
 *  "queues_error": null or why there are no queues}: every migrated context,
 *  in ctl_services order.
 */
static int route_get_endpoints(const struct http_request *req, struct http_response *resp,
                               void *app)
{
    struct ctl_dbs *db = req->thread_ctx;
    struct err err = {0};
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas;
    if (schemas_of(db, NULL, schemas, &nschemas, &err) < 0)
        return http_reply_error(resp, &err);
    json_t *instances = json_array(), *contexts = json_array();
    int rc = instances && contexts ? 0 : err_set(&err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < nschemas; i++) {
        json_t *c = NULL;
        rc = endpoints_of(db, schemas[i], instances, &c, &err);
        if (rc == 0 && json_array_append_new(contexts, c) != 0)
            rc = err_set(&err, ERR_NOMEM, "out of memory");
    }
    if (rc < 0) {
        json_decref(instances);
        json_decref(contexts);
        err_wrap(&err, "cannot read the endpoints");
        return http_reply_error(resp, &err);
    }
    /* The broker is optional here: without it the rest still shows, with the reason. */
    struct err qerr = {0};
    json_t *queues = json_array();
    if (queues && queues_of(app, schemas, nschemas, queues, &qerr) < 0) {
        json_decref(queues);
        queues = json_null();
    }
    return http_reply_json(resp, 200,
                           json_pack("{s:i, s:i, s:o, s:o, s:o, s:s?}", "stale_ms",
                                     HEARTBEAT_STALE_MS, "minutes", DASHBOARD_MINUTES, "instances",
                                     instances, "contexts", contexts, "queues", queues,
                                     "queues_error", qerr.code ? qerr.msg : NULL));
}

/* ---- GET /api/trace/{correlation_id}[/timeline|/mermaid] ------------------------------ */

/*
 * Checks the correlation id and finds the schemas. Returns 1 to go on; 0 when
 * resp holds the reply (400, or an error), or ERR_NOMEM.
 */
static int trace_request_start(const struct http_request *req, struct http_response *resp,
                               const struct service_def *schemas[CTL_CONTEXTS_MAX], size_t *n)
{
    const char *cid = req->params[0];
    if (!envelope_ref_is_valid(cid))
        return reply_problem(resp, ERR_INVALID,
                             "invalid correlation id '%.64s': want 1 to 128 printable characters",
                             cid);
    struct err err = {0};
    if (schemas_of(req->thread_ctx, NULL, schemas, n, &err) < 0)
        return http_reply_error(resp, &err);
    return 1;
}

static int reply_no_trace(struct http_response *resp, const char *cid)
{
    return reply_problem(resp, ERR_NOT_FOUND, "no events with correlation id '%.128s'", cid);
}

static int route_get_trace(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas = 0;
    int rc = trace_request_start(req, resp, schemas, &nschemas);
    if (rc <= 0)
        return rc;
    const char *cid = req->params[0];
    struct err err = {0};
    json_t *trace = NULL;
    rc = nschemas ? cmd_trace_json(req->thread_ctx, schemas, nschemas, cid, &trace, &err) : 0;
    if (rc < 0) {
        err_wrap(&err, "cannot read correlation id '%.64s'", cid);
        return http_reply_error(resp, &err);
    }
    if (rc == 0)
        return reply_no_trace(resp, cid);
    return http_reply_json(resp, 200, trace);
}

/* The text of "eventctl trace [--mermaid]". */
static int reply_trace_text(const struct http_request *req, struct http_response *resp,
                            bool mermaid)
{
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas = 0;
    int rc = trace_request_start(req, resp, schemas, &nschemas);
    if (rc <= 0)
        return rc;
    const char *cid = req->params[0];
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out)
        return ERR_NOMEM;
    struct err err = {0};
    rc =
        nschemas ? cmd_trace_write(req->thread_ctx, schemas, nschemas, cid, mermaid, out, &err) : 0;
    if (fclose(out) != 0 && rc > 0)
        rc = err_set(&err, ERR_NOMEM, "out of memory writing the trace");
    if (rc <= 0) {
        free(text);
        if (rc == 0)
            return reply_no_trace(resp, cid);
        err_wrap(&err, "cannot read correlation id '%.64s'", cid);
        return http_reply_error(resp, &err);
    }
    return http_reply_text(resp, 200, HTTP_CONTENT_TYPE_TEXT, text);
}

static int route_get_trace_timeline(const struct http_request *req, struct http_response *resp,
                                    void *app)
{
    (void)app;
    return reply_trace_text(req, resp, false);
}

static int route_get_trace_mermaid(const struct http_request *req, struct http_response *resp,
                                   void *app)
{
    (void)app;
    return reply_trace_text(req, resp, true);
}

/* ---- POST /api/requeue/{id} ------------------------------------------------------------- */

/*
 * {"id": "...", "requeued": [{"context": "inventory", "table": "inbox", "rows": 1}]}:
 * what "eventctl requeue" does, in every migrated schema. 404 when no schema
 * held a dead inbox row or a failed outbox row with that id.
 */
static int route_post_requeue(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas = 0;
    int start = id_request_start(req, resp, schemas, &nschemas);
    if (start <= 0)
        return start;
    const char *id = req->params[0];
    struct ctl_dbs *db = req->thread_ctx;
    struct err err = {0};
    json_t *requeued = json_array();
    if (!requeued)
        return ERR_NOMEM;
    for (size_t i = 0; i < nschemas; i++) {
        const char *context = schemas[i]->name;
        int rows[2];
        if (cmd_requeue_in(db, context, id, &rows[0], &rows[1], &err) < 0) {
            json_decref(requeued);
            err_wrap(&err, "cannot requeue '%s' in '%s'", id, context);
            return http_reply_error(resp, &err);
        }
        static const char *const tables[] = {"inbox", "outbox"};
        for (int t = 0; t < 2; t++) {
            if (rows[t] == 0)
                continue;
            log_write(LOG_LEVEL_INFO, &(struct log_fields){.correlation_id = req->correlation_id},
                      "requeued %s message '%s' in '%s' (%d row%s)", tables[t], id, context,
                      rows[t], rows[t] == 1 ? "" : "s");
            if (json_array_append_new(requeued, json_pack("{s:s, s:s, s:i}", "context", context,
                                                          "table", tables[t], "rows", rows[t])) !=
                0) {
                json_decref(requeued);
                return ERR_NOMEM;
            }
        }
    }
    if (json_array_size(requeued) == 0) {
        json_decref(requeued);
        return reply_problem(resp, ERR_NOT_FOUND, "no dead or failed message '%s'", id);
    }
    return http_reply_json(resp, 200, json_pack("{s:s, s:o}", "id", id, "requeued", requeued));
}

/* ---- /api/failures ----------------------------------------------------------------------- */

/* The failures of every migrated schema (or ?context=). Returns 1 to go on; 0 when resp holds the
 * reply. */
static int failures_load(const struct http_request *req, struct http_response *resp,
                         struct cmd_failures *f)
{
    const char *context = query(req, "context");
    const struct service_def *only = ctl_service_find(context);
    if (context && !only)
        return reply_problem(resp, ERR_INVALID, "unknown context '%.64s'", context);
    struct err err = {0};
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas;
    if (schemas_of(req->thread_ctx, only, schemas, &nschemas, &err) < 0 ||
        cmd_failures_load(req->thread_ctx, schemas, nschemas, f, &err) < 0)
        return http_reply_error(resp, &err);
    return 1;
}

/* {"groups": [...]}: what "eventctl failures --json" prints. */
static int route_get_failures(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)app;
    struct cmd_failures f;
    int rc = failures_load(req, resp, &f);
    if (rc <= 0)
        return rc;
    json_t *groups = cmd_failures_json(&f);
    cmd_failures_release(&f);
    return groups ? http_reply_json(resp, 200, groups) : ERR_NOMEM;
}

/*
 * {"group": G|"all", "requeued"|"purged": n, "poison": p}: "requeue --group G
 * --yes", "requeue --all --yes" or "purge --group G --yes". 404 when nothing
 * matches; a retry of a group of poison only is 400, saying why.
 */
static int failures_act(const struct http_request *req, struct http_response *resp,
                        const char *group, bool requeue)
{
    struct cmd_failures f;
    int rc = failures_load(req, resp, &f);
    if (rc <= 0)
        return rc;
    struct err err = {0};
    size_t dead, poison;
    long long done = 0;
    cmd_failures_count(&f, NULL, group, &dead, &poison);
    if (dead + poison == 0)
        rc = err_set(&err, ERR_NOT_FOUND, "no failure in group '%.32s'", group ? group : "all");
    else if (requeue && dead == 0)
        rc = err_set(&err, ERR_INVALID,
                     "group '%.32s' is poison and cannot be requeued: it never entered the inbox; "
                     "export (eventctl export <id>) or purge it",
                     group ? group : "all");
    else
        rc = cmd_failures_act(req->thread_ctx, &f, NULL, group, requeue, &done, &err);
    cmd_failures_release(&f);
    if (rc < 0)
        return http_reply_error(resp, &err);
    log_write(LOG_LEVEL_INFO, &(struct log_fields){.correlation_id = req->correlation_id},
              "%s %lld failure%s of group '%s'", requeue ? "requeued" : "purged", done,
              done == 1 ? "" : "s", group ? group : "all");
    return http_reply_json(resp, 200,
                           json_pack("{s:s, s:I, s:I}", "group", group ? group : "all",
                                     requeue ? "requeued" : "purged", (json_int_t)done, "poison",
                                     (json_int_t)poison));
}

/* A group id as cmd_failures_group writes it: 10 lowercase hex digits. */
static bool group_valid(const char *g)
{
    size_t n = strlen(g);
    return n == CMD_FAILURES_GROUP_LEN - 1 && strspn(g, "0123456789abcdef") == n;
}

static int route_post_failures_retry(const struct http_request *req, struct http_response *resp,
                                     void *app)
{
    (void)app;
    if (!group_valid(req->params[0]))
        return reply_problem(resp, ERR_INVALID, "invalid group '%.64s': want 10 hex digits",
                             req->params[0]);
    return failures_act(req, resp, req->params[0], true);
}

static int route_post_failures_retry_all(const struct http_request *req, struct http_response *resp,
                                         void *app)
{
    (void)app;
    return failures_act(req, resp, NULL, true);
}

static int route_post_failures_purge(const struct http_request *req, struct http_response *resp,
                                     void *app)
{
    (void)app;
    if (!group_valid(req->params[0]))
        return reply_problem(resp, ERR_INVALID, "invalid group '%.64s': want 10 hex digits",
                             req->params[0]);
    return failures_act(req, resp, req->params[0], false);
}

/* ---- the command ---------------------------------------------------------------------- */

int cmd_dashboard_run(int argc, char **argv)
{
    const char *cmd = "dashboard";
    const char *port_arg = NULL, *address = "127.0.0.1", *url_arg = NULL;
    const char *amqp_url = getenv("AMQP_URL");
    const char *token = getenv("DASHBOARD_TOKEN"), *allowed_hosts = getenv("HTTP_ALLOWED_HOSTS");

    for (int i = 1; i < argc; i++) {
        int rc;
        if (ctl_is_help(argv[i])) {
            fputs(usage_text, stdout);
            return CTL_EXIT_OK;
        } else if ((rc = ctl_option(cmd, argc, argv, &i, "--port", &port_arg)) ||
                   (rc = ctl_option(cmd, argc, argv, &i, "--address", &address)) ||
                   (rc = ctl_option(cmd, argc, argv, &i, "--database-url", &url_arg)) ||
                   (rc = ctl_option(cmd, argc, argv, &i, "--amqp-url", &amqp_url)) ||
                   (rc = ctl_option(cmd, argc, argv, &i, "--token", &token)) ||
                   (rc = ctl_option(cmd, argc, argv, &i, "--allowed-hosts", &allowed_hosts))) {
            if (rc < 0)
                return CTL_EXIT_USAGE;
        } else if (argv[i][0] == '-') {
            return ctl_usage_error(cmd, "unknown option '%.64s'", argv[i]);
        } else {
            return ctl_usage_error(cmd, "unexpected argument '%.64s'", argv[i]);
        }
    }
    long port = DASHBOARD_PORT_DEFAULT;
    if (port_arg) {
        char *end;
        port = strtol(port_arg, &end, 10);
        if (end == port_arg || *end || port < 0 || port > 65535)
            return ctl_usage_error(cmd, "invalid port '%.64s': want an integer in [0, 65535]",
                                   port_arg);
    }

    if (token && !*token)
        token = NULL; /* DASHBOARD_TOKEN= means none */
    if (!token && !address_is_loopback(address))
        return ctl_usage_error(cmd,
                               "listening on '%.64s' beyond loopback needs a token: set "
                               "DASHBOARD_TOKEN or --token",
                               address);
    if (token && !token_valid(token))
        return ctl_usage_error(cmd,
                               "invalid token: want %d to %d visible ASCII characters "
                               "without ; , \" or \\",
                               DASHBOARD_TOKEN_MIN, DASHBOARD_TOKEN_MAX);

    /* The database must answer now: a wrong URL is better reported here than as 503s later. */
    struct dashboard app = {ctl_database_url(url_arg), token, NULL, PTHREAD_MUTEX_INITIALIZER};
    struct db *db;
    int exit_code = ctl_db_connect(cmd, app.database_url, NULL, &db);
    if (exit_code != CTL_EXIT_OK)
        return exit_code;
    db_free(db);

    enum log_level level = LOG_LEVEL_INFO;
    const char *level_env = getenv("LOG_LEVEL");
    if (level_env && log_level_parse(level_env, &level) != 0)
        level = LOG_LEVEL_INFO;
    log_setup("eventctl", "dashboard", level);
    /* The broker is optional and reached lazily: a wrong URL shows in the Endpoints view. */
    if (amqp_url && *amqp_url &&
        !(app.bus = bus_new(
              &(struct bus_config){.url = amqp_url, .connection_name = "eventctl dashboard"})))
        return ctl_fail(cmd, "out of memory");

    /*
     * Signals: blocked in every thread (the server's threads inherit the mask)
     * and taken by sigwait below. A client that hangs up must not kill us.
     */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct http_config hc = {
        .port = (int)port,
        .bind_address = address,
        .routes = dashboard_routes,
        .nroutes = sizeof(dashboard_routes) / sizeof(dashboard_routes[0]),
        .app = &app,
        .thread_ctx_new = thread_db_new,
        .thread_ctx_free = thread_db_free,
        .admit = admit,
        .allowed_hosts = allowed_hosts,
    };
    struct err err = {0};
    struct http_server *server = http_start(&hc, &err);
    if (!server) {
        bus_free(app.bus);
        if (err.code == ERR_INVALID)
            return ctl_usage_error(cmd, "%s", err.msg);
        return ctl_fail(cmd, "%s", err.msg);
    }
    /* An IPv6 address goes in brackets in a URL. */
    char url[128], masked[512];
    bool v6 = strchr(address, ':') != NULL;
    snprintf(url, sizeof(url), "http://%s%s%s:%d/", v6 ? "[" : "", address, v6 ? "]" : "",
             http_port(server));
    log_mask_url(app.database_url, masked, sizeof(masked));
    printf("eventctl dashboard: serving %s (Ctrl-C stops it)\n", url);
    fflush(stdout);
    log_info("ready: %s, database '%s'", url, masked);

    int sig = 0;
    sigwait(&stop_signals, &sig);
    log_info("stopping on %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    http_stop(server);
    bus_free(app.bus);
    log_info("stopped");
    return CTL_EXIT_OK;
}
