/*
 * http_mhd.c - the JSON HTTP server on libmicrohttpd, the only file that
 * includes <microhttpd.h>.
 *
 * One request's life: the first call of on_request() makes its struct
 * http_call (correlation id, early 413 by Content-Length), later calls
 * append upload data to the bounded body, the last call routes and runs the
 * handler, and respond() queues the reply, logs and counts it. Invariant:
 * every struct http_call is freed by on_completed(), which MHD calls for
 * every request whose first call succeeded, however it ends (reply sent,
 * client gone, timeout, shutdown).
 *
 * The request deadline: libmicrohttpd's connection timeout is an idle
 * timeout, reset by every byte, so a client sending one byte a second could
 * hold a connection (and its memory pool) forever. Each connection is
 * therefore listed from MHD_OPTION_NOTIFY_CONNECTION's STARTED to its CLOSED
 * with the time its current request began (the accept, or the end of the
 * previous request on it), and the sweeper thread shuts down the socket of
 * any connection past the deadline; libmicrohttpd then sees the connection
 * end and closes it as if the client had gone. Invariant: a listed fd is
 * still open, since libmicrohttpd notifies CLOSED before it closes the socket
 * and both the sweep and the unlisting hold conns_lock.
 */
#include "common/http.h"

#include "common/log.h"
#include "common/otlp.h"
#include "common/trace.h"
#include "common/metrics.h"
#include "common/uuid7.h"
#include "http_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HTTP_IDLE_TIMEOUT_S 30                   /* an idle connection is closed after this */
#define HTTP_DISCARD_MAX    (16 * HTTP_BODY_MAX) /* a refused body is read and dropped up to this */
#define HTTP_ALLOW_MAX      64
#define HTTP_DRAIN_MS       5000 /* http_stop waits this long for requests in flight */
#define HTTP_SWEEP_MS       250  /* how often the sweeper looks for connections past the deadline */
#define HTTP_HOSTS_LOOPBACK "localhost,127.0.0.1,::1"

/* A per-thread context, listed so that http_stop can free it. */
struct http_thread_ctx {
    void *ctx;
    struct http_thread_ctx *next;
};

struct http_server {
    struct MHD_Daemon *daemon;
    struct http_config config; /* a copy; routes and app are borrowed */
    int port;
    atomic_int inflight; /* requests begun and not completed */

    bool has_key;
    pthread_key_t thread_key; /* → this thread's struct http_thread_ctx */
    pthread_mutex_t lock;     /* guards ctxs, starting and start_error */
    struct http_thread_ctx *ctxs;

    bool starting; /* while true, MHD's messages go to start_error, not the log */
    char start_error[256];

    char *hosts;   /* the Host allow-list: loopback, bind address, config.allowed_hosts */
    bool wildcard; /* bound to 0.0.0.0 or ::, so the connection's own address is allowed too */

    pthread_mutex_t conns_lock; /* guards conns and sweeper_stop */
    pthread_cond_t sweeper_wake;
    struct http_conn *conns; /* open connections, for the deadline */
    bool sweeper_started;
    bool sweeper_stop;
    pthread_t sweeper;
};

/* One open connection, from NOTIFY_CONNECTION STARTED to CLOSED (its socket_context). */
struct http_conn {
    int fd;
    struct timespec since; /* when its current request began */
    bool cut;              /* shut down by the sweeper */
    struct http_conn *prev, *next;
};

/* One request, from the first call of on_request() to on_completed(). */
struct http_call {
    struct http_server *server;
    struct MHD_Connection *connection;
    struct timespec started;
    char correlation_id[HTTP_CORRELATION_ID_MAX + 1]; /* "" only if no id could be made */
    char *body;                                       /* NUL-terminated, NULL while empty */
    size_t body_len;
    size_t body_cap;
    size_t discarded; /* bytes read and dropped after the body went over the limit */
    int body_status;  /* 0, or 413 (too large) / 500 (out of memory) */
    bool answered;    /* a response is queued: ignore the rest of the request */
    int status;       /* of the response queued, for the request's span */
    struct http_params params;
};

/* --- pure helpers (http_internal.h) ---------------------------------------- */

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Whether the segment of length len at s is "{name}". */
static bool is_placeholder(const char *s, size_t len)
{
    return len >= 2 && s[0] == '{' && s[len - 1] == '}';
}

bool http_pattern_valid(const char *pattern)
{
    if (!pattern || pattern[0] != '/')
        return false;
    if (strcmp(pattern, "/") == 0)
        return true;
    size_t nparams = 0;
    const char *p = pattern;
    while (*p == '/') {
        p++;
        size_t len = strcspn(p, "/");
        if (len == 0)
            return false; /* an empty segment, or a trailing slash */
        if (is_placeholder(p, len)) {
            if (len == 2 || ++nparams > HTTP_MAX_PARAMS)
                return false;
            for (size_t i = 1; i + 1 < len; i++)
                if (!is_name_char(p[i]))
                    return false;
        } else {
            for (size_t i = 0; i < len; i++)
                if (p[i] == '{' || p[i] == '}' || p[i] == '?' || p[i] == '#')
                    return false;
        }
        p += len;
    }
    return *p == '\0';
}

bool http_pattern_match(const char *pattern, const char *path, struct http_params *params)
{
    params->n = 0;
    const char *p = pattern, *q = path;
    if (*p != '/' || *q != '/')
        return false;
    /* Compare segment by segment; both cursors stand on a '/' at the top of the loop. */
    while (*p == '/' && *q == '/') {
        p++;
        q++;
        size_t plen = strcspn(p, "/"), qlen = strcspn(q, "/");
        if (is_placeholder(p, plen)) {
            if (qlen == 0 || qlen > HTTP_PARAM_MAX || params->n == HTTP_MAX_PARAMS)
                return false;
            memcpy(params->value[params->n], q, qlen);
            params->value[params->n][qlen] = '\0';
            params->n++;
        } else if (plen != qlen || memcmp(p, q, plen) != 0) {
            return false;
        }
        p += plen;
        q += qlen;
    }
    return *p == '\0' && *q == '\0';
}

int http_route_find(const struct http_route *routes, size_t nroutes, const char *method,
                    const char *path, struct http_params *params, char *allow, size_t allowlen)
{
    bool path_known = false;
    if (allowlen)
        allow[0] = '\0';
    for (size_t i = 0; i < nroutes; i++) {
        if (!http_pattern_match(routes[i].pattern, path, params))
            continue;
        if (strcmp(routes[i].method, method) == 0)
            return (int)i;
        path_known = true;
        /* List each method once, in table order. */
        bool listed = false;
        for (size_t j = 0; j < i && !listed; j++)
            listed = strcmp(routes[j].method, routes[i].method) == 0 &&
                     http_pattern_match(routes[j].pattern, path, params);
        if (!listed && allowlen) {
            size_t len = strlen(allow);
            snprintf(allow + len, allowlen - len, "%s%s", len ? ", " : "", routes[i].method);
        }
    }
    return path_known ? HTTP_ROUTE_METHOD_NOT_ALLOWED : HTTP_ROUTE_NOT_FOUND;
}

bool http_correlation_id_valid(const char *id)
{
    if (!id)
        return false;
    size_t len = 0;
    for (; id[len]; len++) {
        if (len == HTTP_CORRELATION_ID_MAX || id[len] < 0x21 || id[len] > 0x7e)
            return false;
    }
    return len > 0;
}

bool http_content_type_is_json(const char *value)
{
    static const char json[] = HTTP_CONTENT_TYPE_JSON;
    if (!value)
        return false;
    while (*value == ' ' || *value == '\t')
        value++;
    if (strncasecmp(value, json, sizeof(json) - 1) != 0)
        return false;
    const char *rest = value + sizeof(json) - 1;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0' || *rest == ';';
}

/* Copies the host name of a Host header into name (lowercase); false when empty or too long. */
static bool host_name(const char *host, char *name, size_t namelen)
{
    const char *start = host;
    size_t n;
    if (host[0] == '[') {
        start = host + 1;
        n = strcspn(start, "]");
        if (start[n] != ']' || (start[n + 1] != '\0' && start[n + 1] != ':'))
            return false;
    } else {
        n = strcspn(host, ":");
    }
    if (n == 0 || n >= namelen)
        return false;
    for (size_t i = 0; i < n; i++)
        name[i] = (char)tolower((unsigned char)start[i]);
    name[n] = '\0';
    return true;
}

bool http_host_allowed(const char *host, const char *allowed, const char *local)
{
    char name[256];
    if (!host || !host_name(host, name, sizeof(name)))
        return false;
    if (local && strcasecmp(name, local) == 0)
        return true;
    size_t n = strlen(name);
    for (const char *p = allowed; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t len = strcspn(p, ", \t");
        if (len == n && strncasecmp(p, name, n) == 0)
            return true;
        p += len;
    }
    return false;
}

bool http_allowed_hosts_valid(const char *list)
{
    if (!list)
        return true;
    if (strlen(list) > HTTP_ALLOWED_HOSTS_MAX)
        return false;
    for (const char *c = list; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || strchr(".-_:, \t", *c);
        if (!ok)
            return false;
    }
    return true;
}

const char *http_method_label(const char *method)
{
    static const char *const known[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
    for (size_t i = 0; method && i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(method, known[i]) == 0)
            return known[i];
    }
    return "other";
}

/* --- replies ---------------------------------------------------------------- */

static void response_release(struct http_response *resp)
{
    json_decref(resp->body);
    free(resp->text);
    for (size_t i = 0; i < resp->nheaders && i < HTTP_RESPONSE_HEADERS_MAX; i++)
        free(resp->headers[i].value);
    memset(resp, 0, sizeof(*resp));
}

int http_reply_header(struct http_response *resp, const char *name, const char *value)
{
    if (resp->nheaders >= HTTP_RESPONSE_HEADERS_MAX || !name || !value || strpbrk(value, "\r\n"))
        return ERR_INVALID;
    char *copy = strdup(value);
    if (!copy)
        return ERR_NOMEM;
    resp->headers[resp->nheaders].name = name;
    resp->headers[resp->nheaders].value = copy;
    resp->nheaders++;
    return 0;
}

int http_reply_json(struct http_response *resp, int status, json_t *body)
{
    response_release(resp);
    if (!body)
        return ERR_NOMEM;
    resp->status = status;
    resp->body = body;
    resp->content_type = HTTP_CONTENT_TYPE_JSON;
    return 0;
}

int http_reply_text(struct http_response *resp, int status, const char *content_type, char *text)
{
    response_release(resp);
    if (!text)
        return ERR_NOMEM;
    resp->status = status;
    resp->text = text;
    resp->content_type = content_type ? content_type : HTTP_CONTENT_TYPE_TEXT;
    return 0;
}

/*
 * A JSON string for text that may not be valid UTF-8 (an error message cut
 * at 255 bytes, an echo of client input): bytes of invalid sequences become
 * '?', since jansson refuses invalid UTF-8. NULL when out of memory.
 */
static json_t *text_value(const char *text)
{
    json_t *v = json_string(text);
    if (v)
        return v;
    char *copy = strdup(text);
    if (!copy)
        return NULL;
    for (char *c = copy; *c; c++) {
        if ((unsigned char)*c >= 0x80)
            *c = '?';
    }
    v = json_string(copy);
    free(copy);
    return v;
}

/* Replies {"error": name, "detail": detail} with status. */
static int reply_problem(struct http_response *resp, int status, const char *name,
                         const char *detail)
{
    json_t *body = json_object();
    if (body && (json_object_set_new(body, "error", json_string(name)) != 0 ||
                 json_object_set_new(body, "detail", text_value(detail)) != 0)) {
        json_decref(body);
        body = NULL;
    }
    return http_reply_json(resp, status, body);
}

int http_reply_error(struct http_response *resp, const struct err *err)
{
    int code = err && err->code < 0 ? err->code : ERR_INTERNAL;
    const char *detail = err && err->code < 0 ? err->msg : "unspecified error";
    return reply_problem(resp, err_http_status(code), err_name(code), detail);
}

/* --- requests ----------------------------------------------------------------- */

const char *http_query(const struct http_request *req, const char *key)
{
    const struct http_call *call = req->impl;
    if (!call || !key)
        return NULL; /* a request made up by a test has no connection */
    return MHD_lookup_connection_value(call->connection, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(const struct http_request *req, const char *name)
{
    const struct http_call *call = req->impl;
    if (!call || !name)
        return NULL;
    return MHD_lookup_connection_value(call->connection, MHD_HEADER_KIND, name);
}

const char *http_cookie(const struct http_request *req, const char *name)
{
    const struct http_call *call = req->impl;
    if (!call || !name)
        return NULL;
    return MHD_lookup_connection_value(call->connection, MHD_COOKIE_KIND, name);
}

int http_body_json(const struct http_request *req, json_t **out, struct err *err)
{
    *out = NULL;
    if (req->body_len == 0)
        return err_set(err, ERR_INVALID, "request body is not a JSON object: the body is empty");
    json_error_t jerr;
    json_t *value = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!value)
        return err_set(err, ERR_INVALID,
                       "request body is not a JSON object: %s (line %d, column %d)", jerr.text,
                       jerr.line, jerr.column);
    if (!json_is_object(value)) {
        json_decref(value);
        return err_set(err, ERR_INVALID, "request body is not a JSON object: another JSON value");
    }
    *out = value;
    return 0;
}

/* A required member of body: NULL with err filled when absent or null. */
static const json_t *body_member(const json_t *body, const char *key, struct err *err)
{
    const json_t *v = json_object_get(body, key);
    if (!v || json_is_null(v))
        err_set(err, ERR_INVALID, "field '%s' is required", key);
    return v && !json_is_null(v) ? v : NULL;
}

int http_body_string(const json_t *body, const char *key, const char **s, size_t *len,
                     struct err *err)
{
    const json_t *v = body_member(body, key, err);
    if (!v)
        return ERR_INVALID;
    if (!json_is_string(v))
        return err_set(err, ERR_INVALID, "field '%s' must be a string", key);
    *s = json_string_value(v);
    if (len)
        *len = json_string_length(v);
    return 0;
}

int http_body_integer(const json_t *body, const char *key, int64_t *out, struct err *err)
{
    const json_t *v = body_member(body, key, err);
    if (!v)
        return ERR_INVALID;
    if (!json_is_integer(v))
        return err_set(err, ERR_INVALID, "field '%s' must be an integer", key);
    *out = (int64_t)json_integer_value(v);
    return 0;
}

/* Copies the valid UUID s into out, lowercased. */
static void uuid_copy_lower(const char *s, char out[UUID7_STR_LEN])
{
    for (int i = 0; i < UUID7_STR_LEN - 1; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] - 'A' + 'a') : s[i];
    out[UUID7_STR_LEN - 1] = '\0';
}

int http_body_uuid(const json_t *body, const char *key, char out[UUID7_STR_LEN], struct err *err)
{
    const char *s = NULL;
    int rc = http_body_string(body, key, &s, NULL, err);
    if (rc)
        return rc;
    if (!uuid7_is_valid(s))
        return err_set(err, ERR_INVALID, "field '%s' must be a UUID", key);
    uuid_copy_lower(s, out);
    return 0;
}

int http_param_uuid(const char *s, const char *what, char out[UUID7_STR_LEN], struct err *err)
{
    if (!s || !*s)
        return err_set(err, ERR_INVALID, "%s is required", what);
    if (!uuid7_is_valid(s))
        return err_set(err, ERR_INVALID, "%s '%.64s' is not a UUID", what, s);
    uuid_copy_lower(s, out);
    return 0;
}

int http_found(int found, const char *what, const char *id, struct err *err)
{
    if (found < 0)
        return found;
    if (found == 0)
        return err_set(err, ERR_NOT_FOUND, "%s '%s' not found", what, id);
    return 0;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/*
 * The log line and the metrics of one answered request. hidden is the real
 * detail of a 5xx reply whose body now says only "see the logs", or NULL.
 */
static void record(const struct http_call *call, const char *method, const char *path,
                   const struct http_response *resp, const char *hidden)
{
    double seconds = seconds_since(&call->started);
    char labels[64];
    snprintf(labels, sizeof(labels), "method=\"%s\",status=\"%d\"", http_method_label(method),
             resp->status);
    metrics_counter_inc(metrics_counter("http_requests_total",
                                        "HTTP requests answered, by method and status", labels));
    metrics_histogram_observe(
        metrics_histogram("http_request_duration_seconds",
                          "Time from a request's arrival to its response being queued", NULL,
                          METRICS_LATENCY_BUCKETS, METRICS_LATENCY_NBUCKETS),
        seconds);

    const char *error = NULL, *detail = NULL;
    if (resp->status >= 400 && json_is_object(resp->body)) {
        error = json_string_value(json_object_get(resp->body, "error"));
        detail = json_string_value(json_object_get(resp->body, "detail"));
    }
    /* Debug for the ordinary, warn for unavailable, error for our own failures (with why). */
    enum log_level level = LOG_LEVEL_DEBUG;
    if (resp->status >= 500)
        level = resp->status == 503 ? LOG_LEVEL_WARN : LOG_LEVEL_ERROR;
    if (resp->status < 500)
        detail = NULL;
    else if (hidden)
        detail = hidden;
    struct log_fields fields = {.correlation_id = call->correlation_id, .error = error};
    log_write(level, &fields, "request '%s %s' answered %d in %.3f ms%s%s", method, path,
              resp->status, seconds * 1e3, detail ? ": " : "", detail ? detail : "");
}

/* Reserved for the reply that cannot be encoded; static, so MHD_RESPMEM_PERSISTENT. */
static const char nomem_body[] =
    "{\"error\":\"out_of_memory\",\"detail\":\"cannot encode the response\"}";

/*
 * A 5xx detail may quote the database or the broker: it goes to the log
 * (into hidden), and the client gets one that only names the correlation id.
 * Returns hidden, or NULL when the body has no detail to hide.
 */
static const char *hide_detail(const struct http_call *call, struct http_response *resp,
                               char *hidden, size_t hiddenlen)
{
    const char *detail = json_string_value(json_object_get(resp->body, "detail"));
    if (resp->status < 500 || !detail)
        return NULL;
    snprintf(hidden, hiddenlen, "%s", detail);
    char generic[ERR_MSG_MAX];
    snprintf(generic, sizeof(generic), "%s; see the logs for correlation id %s",
             resp->status == 503 ? "service unavailable" : "internal error",
             call->correlation_id[0] ? call->correlation_id : "(none)");
    /* Out of memory: drop the detail rather than send the real one. */
    if (json_object_set_new(resp->body, "detail", json_string(generic)) != 0)
        json_object_del(resp->body, "detail");
    return hidden;
}

/* Headers every reply carries: no framing (clickjacking), no content sniffing. */
static bool add_common_headers(struct MHD_Response *response)
{
    return MHD_add_response_header(response, "Content-Security-Policy", "frame-ancestors 'none'") ==
               MHD_YES &&
           MHD_add_response_header(response, "X-Frame-Options", "DENY") == MHD_YES &&
           MHD_add_response_header(response, "X-Content-Type-Options", "nosniff") == MHD_YES;
}

/*
 * Queues resp (filled; released here on every path), with the correlation id,
 * the common headers, resp's own and, for a 405, the Allow header; a 5xx
 * detail is hidden first. Returns MHD_NO only when MHD cannot send anything,
 * which makes MHD close the connection.
 */
static enum MHD_Result respond(struct http_call *call, const char *method, const char *path,
                               struct http_response *resp, const char *allow)
{
    char hidden_buf[ERR_MSG_MAX];
    const char *hidden = hide_detail(call, resp, hidden_buf, sizeof(hidden_buf));
    char *text = NULL;
    /* text is malloc'd (json_dumps uses malloc: the allocator is never replaced): MHD frees it. */
    enum MHD_ResponseMemoryMode mode = MHD_RESPMEM_MUST_FREE;
    if (resp->text) {
        text = resp->text;
        resp->text = NULL;
    } else if (resp->body) {
        text = json_dumps(resp->body, JSON_COMPACT);
    }
    if (!text) { /* no memory to encode the reply, or to build it (see respond_problem) */
        json_decref(resp->body);
        resp->body = NULL;
        resp->status = 500;
        resp->content_type = HTTP_CONTENT_TYPE_JSON;
        text = (char *)nomem_body;
        mode = MHD_RESPMEM_PERSISTENT;
    }

    struct MHD_Response *response = MHD_create_response_from_buffer(strlen(text), text, mode);
    if (!response && mode == MHD_RESPMEM_MUST_FREE)
        free(text); /* not taken over on failure */
    const char *type = resp->content_type ? resp->content_type : HTTP_CONTENT_TYPE_JSON;
    const char *cid = call->correlation_id;
    bool headers_ok =
        response &&
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_YES &&
        (!cid[0] || MHD_add_response_header(response, "X-Correlation-ID", cid) == MHD_YES) &&
        (!allow || MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow) == MHD_YES) &&
        add_common_headers(response);
    for (size_t i = 0; headers_ok && i < resp->nheaders && i < HTTP_RESPONSE_HEADERS_MAX; i++)
        headers_ok = MHD_add_response_header(response, resp->headers[i].name,
                                             resp->headers[i].value) == MHD_YES;
    enum MHD_Result ok =
        headers_ok ? MHD_queue_response(call->connection, (unsigned int)resp->status, response)
                   : MHD_NO;
    if (response)
        MHD_destroy_response(response); /* MHD keeps its own reference while sending */

    if (ok == MHD_YES) {
        call->answered = true;
        call->status = resp->status;
        record(call, method, path, resp, hidden);
    } else {
        log_write(LOG_LEVEL_ERROR, &(struct log_fields){.correlation_id = cid},
                  "cannot queue the response to '%s %s'", method, path);
    }
    response_release(resp);
    return ok;
}

/* Replies a problem (status, name, detail) built here rather than by a handler. */
static enum MHD_Result respond_problem(struct http_call *call, const char *method, const char *path,
                                       int status, const char *name, const char *detail,
                                       const char *allow)
{
    struct http_response resp = {0};
    if (reply_problem(&resp, status, name, detail) != 0)
        resp = (struct http_response){.status = 500}; /* respond() sends the out-of-memory body */
    return respond(call, method, path, &resp, allow);
}

/* --- built-in routes ------------------------------------------------------------ */

static int route_get_health(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)req;
    const struct http_server *server = app;
    json_t *checks = json_object();
    if (!checks)
        return ERR_NOMEM;
    int healthy = server->config.health ? server->config.health(server->config.app, checks) : 1;
    json_t *body = json_object();
    if (json_object_set_new(body, "status", json_string(healthy ? "up" : "down")) != 0) {
        json_decref(body);
        json_decref(checks);
        return ERR_NOMEM;
    }
    /* json_object_set_new takes checks even when it fails. */
    if (json_object_set_new(body, "checks", checks) != 0) {
        json_decref(body);
        return ERR_NOMEM;
    }
    return http_reply_json(resp, healthy ? 200 : 503, body);
}

static int route_get_metrics(const struct http_request *req, struct http_response *resp, void *app)
{
    (void)req;
    (void)app;
    return http_reply_text(resp, 200, METRICS_CONTENT_TYPE, metrics_render());
}

/* Matched before the application's routes, which therefore cannot replace them. */
static const struct http_route builtin_routes[] = {
    {"GET", "/health", route_get_health},
    {"GET", "/metrics", route_get_metrics},
};

/* --- per-thread contexts ---------------------------------------------------------- */

/* This thread's context, made on first use; NULL when thread_ctx_new fails. */
static void *thread_ctx_get(struct http_server *server)
{
    struct http_thread_ctx *node = pthread_getspecific(server->thread_key);
    if (node)
        return node->ctx;
    node = calloc(1, sizeof(*node));
    if (!node)
        return NULL;
    node->ctx = server->config.thread_ctx_new(server->config.app);
    if (!node->ctx || pthread_setspecific(server->thread_key, node) != 0) {
        if (node->ctx && server->config.thread_ctx_free)
            server->config.thread_ctx_free(node->ctx, server->config.app);
        free(node);
        return NULL;
    }
    pthread_mutex_lock(&server->lock);
    node->next = server->ctxs;
    server->ctxs = node;
    pthread_mutex_unlock(&server->lock);
    return node->ctx;
}

/* --- the MHD callbacks ------------------------------------------------------------ */

/* Routes the complete request and runs its handler. */
static enum MHD_Result dispatch(struct http_call *call, const char *method, const char *path)
{
    struct http_server *server = call->server;
    char allow[HTTP_ALLOW_MAX];
    const struct http_route *route = NULL;
    void *app = server;
    size_t nbuiltin = sizeof(builtin_routes) / sizeof(builtin_routes[0]);

    int found = http_route_find(builtin_routes, nbuiltin, method, path, &call->params, allow,
                                sizeof(allow));
    if (found >= 0) {
        route = &builtin_routes[found];
    } else if (found == HTTP_ROUTE_NOT_FOUND) {
        found = http_route_find(server->config.routes, server->config.nroutes, method, path,
                                &call->params, allow, sizeof(allow));
        if (found >= 0) {
            route = &server->config.routes[found];
            app = server->config.app;
        }
    }
    char detail[ERR_MSG_MAX];
    if (found == HTTP_ROUTE_METHOD_NOT_ALLOWED) {
        snprintf(detail, sizeof(detail), "method '%s' not allowed for '%s' (allowed: %s)", method,
                 path, allow);
        return respond_problem(call, method, path, 405, "method_not_allowed", detail, allow);
    }
    if (!route) {
        snprintf(detail, sizeof(detail), "no route for '%s %s'", method, path);
        return respond_problem(call, method, path, 404, "not_found", detail, NULL);
    }

    struct http_request req = {
        .method = method,
        .path = path,
        .body = call->body ? call->body : "",
        .body_len = call->body_len,
        .correlation_id = call->correlation_id,
        .nparams = call->params.n,
        .impl = call,
    };
    for (size_t i = 0; i < call->params.n; i++)
        req.params[i] = call->params.value[i];
    struct http_response resp = {0};
    if (app != server && server->config.admit) {
        int admitted = server->config.admit(&req, &resp, app);
        if (resp.status >= 100 && resp.status <= 599)
            return respond(call, method, path, &resp, NULL);
        response_release(&resp);
        resp = (struct http_response){0};
        /* A gate that failed without a reply did not admit the request. */
        if (admitted < 0) {
            snprintf(detail, sizeof(detail), "the admission check of '%s %s' failed with '%s'",
                     method, path, err_name(admitted));
            return respond_problem(call, method, path, 500, err_name(ERR_INTERNAL), detail, NULL);
        }
    }
    if (app != server && server->config.thread_ctx_new) {
        req.thread_ctx = thread_ctx_get(server);
        if (!req.thread_ctx)
            return respond_problem(call, method, path, 503, err_name(ERR_TRANSIENT),
                                   "cannot make this thread's context", NULL);
    }

    /*
     * The request is a span of the caller's trace (its traceparent header),
     * or the root of a new one: every event the route writes continues it
     * (SPEC §2; trace.h).
     */
    struct trace_context span;
    int64_t start_ns = otlp_now_ns();
    trace_begin(MHD_lookup_connection_value(call->connection, MHD_HEADER_KIND, "traceparent"),
                &span);
    int rc = route->fn(&req, &resp, app);
    enum MHD_Result answered;
    if (resp.status < 100 || resp.status > 599) {
        response_release(&resp);
        snprintf(detail, sizeof(detail), "handler of '%s %s' failed with '%s' and no reply",
                 route->method, route->pattern, rc < 0 ? err_name(rc) : "no error");
        answered = respond_problem(call, method, path, 500, err_name(ERR_INTERNAL), detail, NULL);
    } else {
        answered = respond(call, method, path, &resp, NULL);
    }
    if (app != server) /* not /health nor /metrics: their polls would bury the traces */
        otlp_server_span(&span, start_ns, method, path, route->pattern, call->status);
    trace_set_current(NULL); /* after the request's own log line, which carries it too */
    return answered;
}

/* Appends upload data to the body; past HTTP_BODY_MAX drops it and remembers 413. */
static enum MHD_Result body_append(struct http_call *call, const char *data, size_t len)
{
    if (call->body_status == 0 && len > HTTP_BODY_MAX - call->body_len) {
        call->body_status = 413;
        free(call->body);
        call->body = NULL;
        call->body_len = call->body_cap = 0;
    }
    if (call->body_status != 0) {
        call->discarded += len;
        /* Refuse to read an endless body: MHD closes the connection. */
        return call->discarded > HTTP_DISCARD_MAX ? MHD_NO : MHD_YES;
    }
    if (call->body_len + len + 1 > call->body_cap) {
        size_t cap = call->body_cap ? call->body_cap : 4096;
        while (cap < call->body_len + len + 1)
            cap *= 2;
        if (cap > HTTP_BODY_MAX + 1)
            cap = HTTP_BODY_MAX + 1;
        char *body = realloc(call->body, cap);
        if (!body) {
            call->body_status = 500;
            call->discarded += len;
            return MHD_YES;
        }
        call->body = body;
        call->body_cap = cap;
    }
    memcpy(call->body + call->body_len, data, len);
    call->body_len += len;
    call->body[call->body_len] = '\0';
    return MHD_YES;
}

/*
 * Whether the Host header names an allowed host: the list made at start, or
 * (bound to a wildcard) the local address this connection arrived on.
 */
static bool host_admitted(const struct http_server *server, struct MHD_Connection *connection,
                          const char *host)
{
    if (http_host_allowed(host, server->hosts, NULL))
        return true;
    if (!server->wildcard)
        return false;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct sockaddr_storage local;
    socklen_t len = sizeof(local);
    char address[INET6_ADDRSTRLEN];
    if (!info || getsockname(info->connect_fd, (struct sockaddr *)&local, &len) != 0)
        return false;
    const void *raw = local.ss_family == AF_INET6
                          ? (const void *)&((const struct sockaddr_in6 *)&local)->sin6_addr
                          : (const void *)&((const struct sockaddr_in *)&local)->sin_addr;
    if (!inet_ntop(local.ss_family, raw, address, sizeof(address)))
        return false;
    /* An IPv4 client of an IPv6 wildcard arrives on "::ffff:a.b.c.d". */
    const char *plain =
        strncmp(address, "::ffff:", 7) == 0 && strchr(address, '.') ? address + 7 : address;
    return http_host_allowed(host, NULL, plain);
}

/*
 * Whether the request carries a body that must be JSON: POST, PUT and PATCH
 * always (a form can post an empty body too), other methods when they
 * announce one.
 */
static bool has_body(struct MHD_Connection *connection, const char *method, const char *length)
{
    if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0)
        return true;
    if (length && strcmp(length, "0") != 0)
        return true;
    return MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                       MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

/* The first call for a request: state, correlation id, early refusals. */
static enum MHD_Result request_begin(struct http_server *server, struct MHD_Connection *connection,
                                     const char *method, const char *path, void **con_cls)
{
    struct http_call *call = calloc(1, sizeof(*call));
    if (!call)
        return MHD_NO;
    *con_cls = call; /* from here on, on_completed frees it */
    atomic_fetch_add(&server->inflight, 1);
    call->server = server;
    call->connection = connection;
    clock_gettime(CLOCK_MONOTONIC, &call->started);

    const char *sent = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "X-Correlation-ID");
    bool refused = sent && !http_correlation_id_valid(sent);
    if (sent && !refused)
        strcpy(call->correlation_id, sent); /* length checked */
    else if (uuid7_generate(call->correlation_id) != 0)
        call->correlation_id[0] = '\0';

    /* A response queued now is sent without reading the body. */
    if (refused)
        return respond_problem(call, method, path, 400, err_name(ERR_INVALID),
                               "header 'X-Correlation-ID' must be 1..128 visible ASCII characters",
                               NULL);
    if (!call->correlation_id[0])
        return respond_problem(call, method, path, 500, err_name(ERR_INTERNAL),
                               "cannot generate a correlation id", NULL);
    const char *host =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (host && !host_admitted(server, connection, host)) {
        char detail[ERR_MSG_MAX];
        snprintf(detail, sizeof(detail),
                 "the Host header '%.64s' names another host: use this server's own address", host);
        return respond_problem(call, method, path, 403, "forbidden", detail, NULL);
    }
    const char *length =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (has_body(connection, method, length) &&
        !http_content_type_is_json(
            MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return respond_problem(call, method, path, 415, "unsupported_media_type",
                               "a request body must be sent as Content-Type: application/json",
                               NULL);
    if (length) {
        errno = 0;
        char *end;
        unsigned long long n = strtoull(length, &end, 10);
        if (errno == ERANGE || (end != length && n > HTTP_BODY_MAX)) {
            char detail[ERR_MSG_MAX];
            snprintf(detail, sizeof(detail), "request body above %d bytes", HTTP_BODY_MAX);
            return respond_problem(call, method, path, 413, "payload_too_large", detail, NULL);
        }
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct http_call *call = *con_cls;
    if (!call)
        return request_begin(cls, connection, method, url, con_cls);
    if (call->answered) { /* answered early: drop whatever MHD still hands over */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        enum MHD_Result ok = body_append(call, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return ok;
    }
    if (call->body_status == 413) {
        char detail[ERR_MSG_MAX];
        snprintf(detail, sizeof(detail), "request body above %d bytes", HTTP_BODY_MAX);
        return respond_problem(call, method, url, 413, "payload_too_large", detail, NULL);
    }
    if (call->body_status == 500)
        return respond_problem(call, method, url, 500, err_name(ERR_NOMEM),
                               "cannot store the request body", NULL);
    return dispatch(call, method, url);
}

/* --- the request deadline (see the file comment) ------------------------------------ */

static int64_t elapsed_ms(const struct timespec *since, const struct timespec *now)
{
    return (int64_t)(now->tv_sec - since->tv_sec) * 1000 +
           (now->tv_nsec - since->tv_nsec) / 1000000;
}

/* MHD_OPTION_NOTIFY_CONNECTION: lists a connection when it opens, unlists it when it closes. */
static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *server = cls;
    struct http_conn *conn = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn = info ? calloc(1, sizeof(*conn)) : NULL;
        if (!conn)
            return; /* not listed: only the idle timeout applies to it */
        conn->fd = info->connect_fd;
        clock_gettime(CLOCK_MONOTONIC, &conn->since);
        pthread_mutex_lock(&server->conns_lock);
        conn->next = server->conns;
        if (server->conns)
            server->conns->prev = conn;
        server->conns = conn;
        pthread_mutex_unlock(&server->conns_lock);
        *socket_context = conn;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && conn) {
        pthread_mutex_lock(&server->conns_lock);
        if (conn->prev)
            conn->prev->next = conn->next;
        else
            server->conns = conn->next;
        if (conn->next)
            conn->next->prev = conn->prev;
        pthread_mutex_unlock(&server->conns_lock);
        free(conn);
        *socket_context = NULL;
    }
}

/* A request on connection ended: the next one on it gets a whole deadline. */
static void conn_restart(struct http_server *server, struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct http_conn *conn = info ? info->socket_context : NULL;
    if (!conn)
        return;
    pthread_mutex_lock(&server->conns_lock);
    clock_gettime(CLOCK_MONOTONIC, &conn->since);
    pthread_mutex_unlock(&server->conns_lock);
}

/*
 * The sweeper thread: every HTTP_SWEEP_MS, shuts down the socket of each
 * connection whose request has taken longer than the deadline. Shutting
 * down (not closing) leaves the fd to libmicrohttpd, which sees the
 * connection end, completes the request as aborted and closes it.
 */
static void *sweeper_main(void *arg)
{
    struct http_server *server = arg;
    int64_t deadline = server->config.request_deadline_ms;
    pthread_mutex_lock(&server->conns_lock);
    while (!server->sweeper_stop) {
        struct timespec wake;
        clock_gettime(CLOCK_MONOTONIC, &wake);
        wake.tv_nsec += (long)HTTP_SWEEP_MS * 1000000L;
        if (wake.tv_nsec >= 1000000000L) {
            wake.tv_sec++;
            wake.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&server->sweeper_wake, &server->conns_lock, &wake);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        for (struct http_conn *c = server->conns; c && !server->sweeper_stop; c = c->next) {
            if (c->cut || elapsed_ms(&c->since, &now) <= deadline)
                continue;
            c->cut = true;
            shutdown(c->fd, SHUT_RDWR);
            log_info("closed a connection whose request took over %lld ms", (long long)deadline);
        }
    }
    pthread_mutex_unlock(&server->conns_lock);
    return NULL;
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    struct http_call *call = *con_cls;
    if (!call)
        return;
    conn_restart(call->server, connection);
    atomic_fetch_sub(&call->server->inflight, 1);
    free(call->body);
    free(call);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * MHD's own messages. While starting they are kept for the start error (or
 * logged as a warning if the start succeeds). Once running they are mostly
 * about clients (closed early, reset, too many connections), so they are
 * logged at info: worth seeing, not an alarm.
 */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct http_server *server = cls;
    char message[256];
    vsnprintf(message, sizeof(message), fmt, ap);
    message[strcspn(message, "\r\n")] = '\0';
    pthread_mutex_lock(&server->lock);
    bool starting = server->starting;
    if (starting)
        snprintf(server->start_error, sizeof(server->start_error), "%s", message);
    pthread_mutex_unlock(&server->lock);
    if (!starting)
        log_info("libmicrohttpd: %s", message);
}

/* --- life cycle ----------------------------------------------------------------------- */

static int config_check(const struct http_config *config, struct err *err)
{
    if (config->port < 0 || config->port > 65535)
        return err_set(err, ERR_INVALID, "http port %d out of range 0..65535", config->port);
    if (config->threads < 0 || config->threads > HTTP_THREADS_MAX)
        return err_set(err, ERR_INVALID, "http threads %d out of range 1..%d", config->threads,
                       HTTP_THREADS_MAX);
    if (config->nroutes > 0 && !config->routes)
        return err_set(err, ERR_INVALID, "http routes missing for %zu routes", config->nroutes);
    for (size_t i = 0; i < config->nroutes; i++) {
        const struct http_route *r = &config->routes[i];
        bool method_ok = r->method && r->method[0];
        for (const char *m = r->method; method_ok && *m; m++)
            method_ok = *m >= 'A' && *m <= 'Z';
        if (!method_ok || !http_pattern_valid(r->pattern) || !r->fn)
            return err_set(err, ERR_INVALID, "http route %zu '%s %s' is malformed", i,
                           r->method ? r->method : "(null)", r->pattern ? r->pattern : "(null)");
    }
    if (config->thread_ctx_free && !config->thread_ctx_new)
        return err_set(err, ERR_INVALID, "http thread_ctx_free set without thread_ctx_new");
    if (!http_allowed_hosts_valid(config->allowed_hosts))
        return err_set(err, ERR_INVALID,
                       "http allowed hosts '%.64s' is not a comma-separated list of host names",
                       config->allowed_hosts);
    if (config->client_connections < 0)
        return err_set(err, ERR_INVALID, "http client connections %d below 0",
                       config->client_connections);
    if (config->request_deadline_ms < 0)
        return err_set(err, ERR_INVALID, "http request deadline %d ms below 0",
                       config->request_deadline_ms);
    return 0;
}

struct http_server *http_start(const struct http_config *config, struct err *err)
{
    if (config_check(config, err) != 0)
        return NULL;

    const char *address = config->bind_address ? config->bind_address : "127.0.0.1";
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)config->port)};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)config->port)};
    const struct sockaddr *addr;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | /* MHD's threads do all the work */
                         MHD_USE_AUTO |                    /* epoll on Linux, else poll/select */
                         MHD_USE_ITC |                     /* lets http_stop quiesce the pool */
                         MHD_USE_ERROR_LOG;                /* through on_mhd_log into log.h */
    if (inet_pton(AF_INET, address, &v4.sin_addr) == 1) {
        addr = (const struct sockaddr *)&v4;
    } else if (inet_pton(AF_INET6, address, &v6.sin6_addr) == 1) {
        addr = (const struct sockaddr *)&v6;
        flags |= MHD_USE_IPv6;
    } else {
        err_set(err, ERR_INVALID, "http bind address '%s' is not a numeric IPv4 or IPv6 address",
                address);
        return NULL;
    }

    struct http_server *server = calloc(1, sizeof(*server));
    if (!server) {
        err_set(err, ERR_NOMEM, "cannot allocate the http server");
        return NULL;
    }
    server->config = *config;
    if (server->config.threads == 0)
        server->config.threads = HTTP_THREADS_DEFAULT;
    if (server->config.client_connections == 0)
        server->config.client_connections = HTTP_CLIENT_CONNECTIONS_DEFAULT;
    if (server->config.request_deadline_ms == 0)
        server->config.request_deadline_ms = HTTP_REQUEST_DEADLINE_MS_DEFAULT;
    server->config.allowed_hosts = NULL; /* borrowed no further: copied into hosts */
    pthread_mutex_init(&server->lock, NULL);
    pthread_mutex_init(&server->conns_lock, NULL);
    pthread_condattr_t cond_attr;
    pthread_condattr_init(&cond_attr);
    pthread_condattr_setclock(&cond_attr, CLOCK_MONOTONIC);
    pthread_cond_init(&server->sweeper_wake, &cond_attr);
    pthread_condattr_destroy(&cond_attr);
    server->wildcard = strcmp(address, "0.0.0.0") == 0 || strcmp(address, "::") == 0;
    size_t hosts_len = sizeof(HTTP_HOSTS_LOOPBACK) + strlen(address) + 2 +
                       (config->allowed_hosts ? strlen(config->allowed_hosts) : 0);
    server->hosts = malloc(hosts_len);
    if (!server->hosts) {
        err_set(err, ERR_NOMEM, "cannot allocate the http host list");
        http_stop(server);
        return NULL;
    }
    /* A wildcard is no host name: the connection's own address stands for it (host_admitted). */
    snprintf(server->hosts, hosts_len, "%s,%s,%s", HTTP_HOSTS_LOOPBACK,
             server->wildcard ? "" : address, config->allowed_hosts ? config->allowed_hosts : "");
    if (config->thread_ctx_new) {
        if (pthread_key_create(&server->thread_key, NULL) != 0) {
            err_set(err, ERR_INTERNAL, "cannot create the http thread key");
            http_stop(server);
            return NULL;
        }
        server->has_key = true;
    }

    /* With one thread the polling thread does it all: MHD wants no pool option then. */
    struct MHD_OptionItem pool[] = {
        {server->config.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
         server->config.threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    server->starting = true;
    /* One option and its arguments per line; the logger first, as it applies to what follows. */
    /* clang-format off */
    server->daemon = MHD_start_daemon(
        flags, (uint16_t)config->port, NULL, NULL, on_request, server,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, server,
        MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, server,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)server->config.client_connections,
        MHD_OPTION_ARRAY, pool,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_IDLE_TIMEOUT_S,
        MHD_OPTION_END);
    /* clang-format on */
    pthread_mutex_lock(&server->lock);
    server->starting = false;
    pthread_mutex_unlock(&server->lock);
    if (server->daemon && server->start_error[0])
        log_warn("libmicrohttpd: %s", server->start_error);
    if (!server->daemon) {
        err_set(err, ERR_TRANSIENT, "cannot serve http on '%s' port %d: %s", address, config->port,
                server->start_error[0] ? server->start_error : "libmicrohttpd refused to start");
        http_stop(server);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    server->port = info ? info->port : config->port;
    if (pthread_create(&server->sweeper, NULL, sweeper_main, server) != 0) {
        err_set(err, ERR_INTERNAL, "cannot start the http deadline thread");
        http_stop(server);
        return NULL;
    }
    server->sweeper_started = true;
    return server;
}

void http_stop(struct http_server *server)
{
    if (!server)
        return;
    if (server->sweeper_started) {
        pthread_mutex_lock(&server->conns_lock);
        server->sweeper_stop = true;
        pthread_cond_signal(&server->sweeper_wake);
        pthread_mutex_unlock(&server->conns_lock);
        pthread_join(server->sweeper, NULL);
    }
    if (server->daemon) {
        /* Stop accepting, let the requests in flight finish (bounded), then stop. */
        MHD_socket listener = MHD_quiesce_daemon(server->daemon);
        for (int waited = 0; atomic_load(&server->inflight) > 0 && waited < HTTP_DRAIN_MS;
             waited += 10)
            nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        /* Joins the server threads (a running handler ends first) and closes every connection. */
        MHD_stop_daemon(server->daemon);
        if (listener != MHD_INVALID_SOCKET)
            close(listener); /* ours since the quiesce; closed only after the threads end */
    }
    while (server->ctxs) {
        struct http_thread_ctx *node = server->ctxs;
        server->ctxs = node->next;
        if (server->config.thread_ctx_free)
            server->config.thread_ctx_free(node->ctx, server->config.app);
        free(node);
    }
    if (server->has_key)
        pthread_key_delete(server->thread_key);
    pthread_mutex_destroy(&server->lock);
    pthread_cond_destroy(&server->sweeper_wake);
    pthread_mutex_destroy(&server->conns_lock);
    free(server->hosts);
    free(server);
}

int http_port(const struct http_server *server)
{
    return server ? server->port : 0;
}
