/*
 * http.h - the small JSON HTTP server every service runs (SPEC §5).
 *
 * A context declares a static const table of routes; the server matches
 * "METHOD /path", collects the body, calls the handler and sends its JSON
 * reply. It adds what every service shares: X-Correlation-ID on every request
 * and response, GET /health, GET /metrics, the SPEC error body, the metrics
 * http_requests_total{method,status} and http_request_duration_seconds, and
 * one log line per request. Handlers run concurrently on a thread pool.
 *
 * It also guards the surface a web browser exposes (docs/security.md, "web
 * surface"): a Host header naming another host is refused (403, against DNS
 * rebinding), a request with a body must say it is JSON (415, so a page on
 * another site cannot post a form to it), every reply forbids framing, 5xx
 * replies say no more than "see the logs", each client address may hold a
 * bounded number of connections, and no request may take longer than a
 * deadline, however slowly its bytes arrive.
 */
#ifndef COMMON_HTTP_H
#define COMMON_HTTP_H

#include "common/err.h"
#include "common/uuid7.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Refused before any handler runs, in this order: an invalid X-Correlation-ID
 * (400), a Host header that names none of the allowed hosts (403; see
 * http_config.allowed_hosts), a POST, PUT or PATCH (or any request announcing
 * a body) whose Content-Type is not application/json (415), a body
 * over HTTP_BODY_MAX (413: at once when Content-Length says so, else when the
 * upload ends, the excess read and dropped, never stored; past 16 MiB the
 * connection is closed), an unknown path (404), a known path with another
 * method (405 with Allow). HEAD is not mapped to GET.
 */
#define HTTP_MAX_PARAMS                  8             /* most {placeholders} in one pattern */
#define HTTP_PARAM_MAX                   128           /* longest path parameter, in bytes */
#define HTTP_BODY_MAX                    (1024 * 1024) /* longest request body, in bytes: above → 413 */
#define HTTP_CORRELATION_ID_MAX          128           /* longest accepted X-Correlation-ID */
#define HTTP_THREADS_DEFAULT             4
#define HTTP_THREADS_MAX                 64
#define HTTP_CLIENT_CONNECTIONS_DEFAULT  64    /* open connections one client address may hold */
#define HTTP_REQUEST_DEADLINE_MS_DEFAULT 30000 /* longest time one request may take, in ms */
#define HTTP_RESPONSE_HEADERS_MAX        4     /* extra headers one reply may carry */
#define HTTP_ALLOWED_HOSTS_MAX           1024  /* longest http_config.allowed_hosts, in bytes */

#define HTTP_CONTENT_TYPE_JSON "application/json"
#define HTTP_CONTENT_TYPE_TEXT "text/plain; charset=utf-8"

/*
 * One request, as a handler sees it. Every pointer is borrowed: valid until
 * the handler returns.
 */
struct http_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* percent-decoded, without the query string */
    const char *body;   /* NUL-terminated ("" when there is none); may hold NULs */
    size_t body_len;
    const char *correlation_id;          /* the valid X-Correlation-ID sent, else a new uuid7 */
    const char *params[HTTP_MAX_PARAMS]; /* path parameters, in the order of {…} in the pattern */
    size_t nparams;
    void *thread_ctx; /* this thread's context (http_config.thread_ctx_new), or NULL */
    void *impl;       /* private */
};

/*
 * The reply a handler fills, normally through http_reply_*(). The server
 * starts it zeroed and frees body and text after sending.
 */
struct http_response {
    int status;               /* 0 until a reply is set */
    json_t *body;             /* owned; sent as application/json */
    char *text;               /* owned; sent instead of body when set (e.g. metrics) */
    const char *content_type; /* a static string; set by the helpers */
    struct {
        const char *name;                 /* a static string */
        char *value;                      /* owned */
    } headers[HTTP_RESPONSE_HEADERS_MAX]; /* extra headers, through http_reply_header() */
    size_t nheaders;
};

/*
 * Threads: handlers run on the server's thread pool (http_config.threads), so
 * one handler may run concurrently in several threads. Whatever a handler
 * needs that is not thread-safe (a database connection) belongs in the
 * per-thread context (http_config.thread_ctx_new): req->thread_ctx.
 *
 * A handler fills resp and returns 0. It may instead return a negative
 * enum err_code and leave resp unfilled: the server then replies 500
 * {"error":"internal", ...} and logs the code, so a handler that knows the
 * right status says so with http_reply_error(). A filled resp is sent
 * whatever the return value. app is http_config.app.
 */
typedef int (*http_handler_fn)(const struct http_request *req, struct http_response *resp,
                               void *app);

/*
 * One row of a context's static const route table. A pattern is a path whose
 * segments are literal text or a {name} placeholder, e.g.
 * "/providers/{id}/activate". A placeholder matches exactly one non-empty
 * segment of at most HTTP_PARAM_MAX bytes. Trailing slashes are not ignored:
 * "/bookings/" does not match "/bookings" (404, no redirect). The first row
 * whose method and pattern match wins. When some pattern matches the path but
 * no row has the method, the reply is 405 with an Allow header; otherwise 404.
 */
struct http_route {
    const char *method;
    const char *pattern;
    http_handler_fn fn;
};

struct http_config {
    int port;                        /* 0..65535; 0 picks a free port (see http_port) */
    const char *bind_address;        /* numeric IPv4 or IPv6; NULL means 127.0.0.1 */
    const struct http_route *routes; /* borrowed: must outlive the server (a static table) */
    size_t nroutes;
    void *app;   /* passed to handlers, health and the thread hooks */
    int threads; /* thread pool size, 1..HTTP_THREADS_MAX; 0 means 4 */

    /*
     * GET /health: fills checks with members such as "database": "up" and
     * returns 1 when healthy (200) or 0 when not (503). NULL: always healthy.
     * Runs on a server thread, concurrently with handlers.
     */
    int (*health)(void *app, json_t *checks);

    /*
     * Optional per-thread context. thread_ctx_new runs in a server thread on
     * the first request to an application route in that thread, and its
     * result is that thread's req->thread_ctx from then on. When it returns
     * NULL the request gets 503 and the next request tries again.
     * thread_ctx_free(thread_ctx, app) runs in http_stop for each context
     * made, after the server threads have ended.
     */
    void *(*thread_ctx_new)(void *app);
    void (*thread_ctx_free)(void *thread_ctx, void *app);

    /*
     * Optional gate before every application route (not /health or
     * /metrics), e.g. a check of a token: when it fills resp, that reply
     * goes out and the route does not run; when it returns a negative code
     * without filling resp, the reply is 500 and the route does not run
     * either. Same threads as handlers. (The Host header is checked before,
     * by the server itself: allowed_hosts.)
     */
    int (*admit)(const struct http_request *req, struct http_response *resp, void *app);

    /*
     * The Host allow-list. A request whose Host header names another host is
     * refused with 403 before anything else runs (/health and /metrics too),
     * so a page whose DNS name was rebound to our address cannot read or
     * write through the victim's browser. Always allowed: localhost,
     * 127.0.0.1 and [::1], bind_address, and (when bind_address is a
     * wildcard) the address the connection arrived on; any port. allowed_hosts
     * adds names: comma-separated, e.g. "booking,booking.internal" (NULL or
     * "" adds none; spaces around names are ignored; at most
     * HTTP_ALLOWED_HOSTS_MAX bytes). A request without a Host header (HTTP/1.0)
     * is not a browser's and passes.
     */
    const char *allowed_hosts;

    /* Open connections one client address may hold; 0 means HTTP_CLIENT_CONNECTIONS_DEFAULT. */
    int client_connections;

    /*
     * The longest time one request may take, from the connection's accept (or
     * the end of the previous request on it) to the end of its reply, in ms;
     * 0 means HTTP_REQUEST_DEADLINE_MS_DEFAULT. A connection past it is shut
     * down whatever it is doing, so a client sending a byte a second cannot
     * hold it (libmicrohttpd's own timeout only counts idle time).
     */
    int request_deadline_ms;
};

struct http_server;

/*
 * Starts listening and serving on a thread pool. Checks the route table
 * (every method, pattern and handler well formed) and the config first.
 * Returns a new server (stop it with http_stop), or NULL with err set:
 * ERR_INVALID for a bad config or route, ERR_TRANSIENT when the address
 * cannot be bound, ERR_NOMEM. config is copied; routes and app are borrowed.
 */
struct http_server *http_start(const struct http_config *config, struct err *err);

/*
 * Stops accepting connections, lets the requests in flight finish and their
 * replies go out (waiting at most 5 s), then closes every connection, joins
 * the server threads and frees the per-thread contexts and the server.
 * NULL is a no-op.
 */
void http_stop(struct http_server *server);

/* The port the server listens on (the chosen one when config.port was 0). */
int http_port(const struct http_server *server);

/* --- in a handler ---------------------------------------------------------- */

/*
 * The decoded value of query parameter key ("?booking_id=…"), or NULL when
 * absent (or when req was made up by a test); borrowed like req.
 */
const char *http_query(const struct http_request *req, const char *key);

/*
 * The value of request header name (case-insensitive: "Host"), or NULL when
 * absent (or when req was made up by a test); borrowed like req.
 */
const char *http_header(const struct http_request *req, const char *name);

/*
 * The value of cookie name sent in the request's Cookie header, or NULL when
 * absent (or when req was made up by a test); borrowed like req.
 */
const char *http_cookie(const struct http_request *req, const char *name);

/*
 * Parses the body as a JSON object into *out (new reference: json_decref it).
 * Returns 0, or ERR_INVALID ("request body is not a JSON object: …") for an
 * empty body, invalid JSON, duplicate keys or a value that is not an object.
 */
int http_body_json(const struct http_request *req, json_t **out, struct err *err);

/*
 * Required members of a body from http_body_json. Each returns 0, or
 * ERR_INVALID (400) "field '<key>' is required" when the member is absent or
 * null and "field '<key>' must be a <type>" when it has another JSON type.
 *
 * http_body_string: *s borrowed from body, *len its byte length (it may hold
 *   a NUL; len may be NULL).
 * http_body_integer: a JSON integer; 1.0 or "1" is the wrong type, not a
 *   number to coerce.
 * http_body_uuid: a string holding a UUID, copied lowercased into out, so
 *   what is stored and published is always the canonical form.
 */
int http_body_string(const json_t *body, const char *key, const char **s, size_t *len,
                     struct err *err);
int http_body_integer(const json_t *body, const char *key, int64_t *out, struct err *err);
int http_body_uuid(const json_t *body, const char *key, char out[UUID7_STR_LEN], struct err *err);

/*
 * A path or query parameter that must be a UUID (s may be NULL: absent),
 * copied lowercased into out. Returns 0, or ERR_INVALID "<what> is required"
 * or "<what> '<s>' is not a UUID" (s quoted only up to 64 bytes, so junk
 * does not crowd out the message). what names it: "booking id".
 */
int http_param_uuid(const char *s, const char *what, char out[UUID7_STR_LEN], struct err *err);

/*
 * A route's look-up-or-404: turns a store look-up's result (1 found, 0 not
 * found, negative error; docs/architecture.md, the store return convention)
 * into 0, ERR_NOT_FOUND "<what> '<id>' not found", or the error as it is.
 * `rc = http_found(offering_store_get(db, id, &o, &err), "offering", id, &err);`
 */
int http_found(int found, const char *what, const char *id, struct err *err);

/*
 * Sets status and JSON body (takes ownership; any earlier reply is dropped).
 * A NULL body means a jansson constructor failed: returns ERR_NOMEM and
 * leaves resp unfilled. Returns 0 otherwise, so a handler can end with
 * `return http_reply_json(resp, 200, json_pack(...));`.
 */
int http_reply_json(struct http_response *resp, int status, json_t *body);

/*
 * Replies err_http_status(err->code) with {"error": err_name(code),
 * "detail": err->msg} (SPEC §5). A NULL err or one without a negative code
 * replies 500 "internal". Returns 0, or ERR_NOMEM.
 *
 * Any 5xx reply (this one or a handler's own) leaves with a generic detail,
 * "internal error; see the logs for correlation id X", since err->msg may
 * hold database or broker text: the server logs the real detail with the
 * correlation id instead.
 */
int http_reply_error(struct http_response *resp, const struct err *err);

/*
 * Sets status and a text body (takes ownership of text, a malloc'd string)
 * with content_type (a static string; NULL means HTTP_CONTENT_TYPE_TEXT).
 * A NULL text means the allocation failed: returns ERR_NOMEM, resp unfilled.
 */
int http_reply_text(struct http_response *resp, int status, const char *content_type, char *text);

/*
 * Adds header name (a static string, e.g. "Set-Cookie") with a copy of value
 * to a reply already set by http_reply_*() (which drop earlier headers).
 * Returns 0, ERR_NOMEM, or ERR_INVALID when HTTP_RESPONSE_HEADERS_MAX are set
 * or value holds a CR or LF.
 */
int http_reply_header(struct http_response *resp, const char *name, const char *value);

#endif
