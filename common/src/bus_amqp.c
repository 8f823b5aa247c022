/*
 * bus_amqp.c - struct bus on rabbitmq-c 0.11: connection, topology,
 * publishing with publisher confirms, consuming with manual acks (bus.h).
 *
 * The only file that includes <amqp.h>. It turns rabbitmq-c's three error
 * channels (int status, amqp_rpc_reply_t, a server's channel.close or
 * connection.close) into struct err in one place: bus_fail_status() and
 * bus_fail_method(), reached through bus_check_reply().
 *
 *   DISCONNECTED --bus_connect--> READY --bus_consume--> CONSUMING
 *        ^                          |                        |
 *        +--------------------------+------------------------+
 *          bus_disconnect, or any connection or channel failure
 *
 * Transitions: → READY bus_connect; → CONSUMING bus_consume;
 * → DISCONNECTED bus_teardown (called by bus_disconnect and by every
 * failure path), which also drops the confirm window: its messages' fate is
 * unknown, so callers treat them as not published. A failure (not a polite
 * disconnect, not a channel error) also moves to the next node of a
 * cluster's AMQP_URL (bus_next_node): the caller's reconnect lands there.
 */
#include "common/bus.h"

#include "bus_internal.h"
#include "steady.h"
#include "common/retry.h"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BUS_CHANNEL          1
#define BUS_CONTENT_TYPE     "application/cloudevents+json"
#define BUS_DEFAULT_CA_FILE  "/etc/ssl/certs/ca-certificates.crt"
#define BUS_CLOSE_TIMEOUT_MS 2000 /* a polite goodbye must not hold up a shutdown */
#define BUS_CLOSE_TEXT_LEN   200

struct bus {
    /* The configuration, defaults applied; strings owned. */
    struct {
        char *url, *exchange, *dead_letter_exchange, *queue_type, *connection_name;
        char *tls_ca_file, *tls_cert_file, *tls_key_file; /* cert and key: NULL = none */
        int prefetch, heartbeat_s, delivery_limit, confirms;
    } cfg;
    char url_masked[BUS_URL_MAX]; /* the node in use, e.g. "amqp://u:***@h:5672/v (node 2 of 3)" */
    size_t node, nnodes;          /* AMQP_URL's node in use (from 0), and how many it lists */
    int nacked;                   /* a publish on this connection was nacked */

    amqp_connection_state_t conn; /* NULL when disconnected */
    int channel_open;
    int ready; /* connected, channel open (and in confirm mode if asked) */
    int consuming;
    char queue[BUS_ROUTING_KEY_LEN]; /* what bus_consume consumes, for messages */
    struct bus_window window;        /* cap 0 without confirms */

    /* The last channel.close or connection.close from the broker, and the last basic.return. */
    unsigned close_code;
    char close_text[BUS_CLOSE_TEXT_LEN];
    unsigned return_code;
    char return_text[BUS_CLOSE_TEXT_LEN];

    int backoff_attempt;
    uint32_t rng;
    int queues_passive; /* our queue.declare was refused: the admin step declares our queues */
};

/* ================================================================ small helpers */

static struct timeval bus_timeval(int64_t ms)
{
    if (ms < 0)
        ms = 0;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

/* xorshift32: jitter only, nothing secret depends on it. */
static uint32_t bus_random(struct bus *b)
{
    uint32_t x = b->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b->rng = x;
    return x;
}

/* Copies AMQP bytes into a C string, truncating; never reads a NULL pointer. */
static void bus_bytes_copy(char *out, size_t outlen, amqp_bytes_t bytes)
{
    size_t n = bytes.len < outlen - 1 ? bytes.len : outlen - 1;
    if (n > 0)
        memcpy(out, bytes.bytes, n);
    out[n] = '\0';
}

static int bus_bytes_equal(amqp_bytes_t bytes, const char *s)
{
    size_t n = strlen(s);
    return bytes.len == n && (n == 0 || memcmp(bytes.bytes, s, n) == 0);
}

static char *bus_strdup_or(const char *s, const char *def)
{
    const char *v = s ? s : def;
    return v ? strdup(v) : NULL;
}

/* A name the broker accepts: 1..255 printable characters (AMQP short string). */
static int bus_name_ok(const char *name, int allow_empty)
{
    if (!name)
        return 0;
    size_t n = strnlen(name, BUS_ROUTING_KEY_LEN);
    if (n >= BUS_ROUTING_KEY_LEN || (n == 0 && !allow_empty))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return 0;
    return 1;
}

/* ================================================================ URL */

static int bus_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decodes s[0..n) into out. part names the piece for the message;
 * show = 0 keeps the text itself out of it (user info).
 */
static int bus_url_decode(const char *s, size_t n, char *out, size_t outlen, const char *part,
                          int show, struct err *err)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f)
            return err_set(err, ERR_INVALID, "AMQP URL: %s contains a space or control character",
                           part);
        if (c == '%') {
            int hi = i + 2 < n ? bus_hex((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? bus_hex((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                if (show)
                    return err_set(err, ERR_INVALID, "AMQP URL: bad percent-encoding in %s '%.*s'",
                                   part, (int)(n > 64 ? 64 : n), s);
                return err_set(err, ERR_INVALID, "AMQP URL: bad percent-encoding in %s", part);
            }
            c = hi * 16 + lo;
            i += 2;
        }
        if (o + 1 >= outlen)
            return err_set(err, ERR_INVALID, "AMQP URL: %s longer than %zu characters", part,
                           outlen - 1);
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

int bus_url_parse(const char *url, struct bus_url *out, struct err *err)
{
    memset(out, 0, sizeof(*out));
    if (!url || !*url)
        return err_set(err, ERR_INVALID, "AMQP URL is empty");
    size_t len = strnlen(url, BUS_URL_MAX + 1);
    if (len > BUS_URL_MAX)
        return err_set(err, ERR_INVALID, "AMQP URL longer than %d characters", BUS_URL_MAX);

    const char *p;
    if (strncasecmp(url, "amqp://", 7) == 0) {
        p = url + 7;
        out->port = 5672;
    } else if (strncasecmp(url, "amqps://", 8) == 0) {
        p = url + 8;
        out->tls = 1;
        out->port = 5671;
    } else {
        /* Never echo the text: without a scheme, it may start with user:password. */
        return err_set(err, ERR_INVALID, "AMQP URL must start with amqp:// or amqps://");
    }

    const char *end = p + strcspn(p, "/?#");
    if (strpbrk(p, "?#"))
        return err_set(err, ERR_INVALID, "AMQP URL: query parameters are not supported");
    /* An '@' in the path means a '/' in the user info: the password would be read as the host. */
    if (*end && strchr(end, '@'))
        return err_set(err, ERR_INVALID,
                       "AMQP URL: '@' after the host (write '/' in a password and '@' in a vhost "
                       "as %%2f and %%40)");

    /* User info: user[:password]@, each percent-encoded. It ends at the LAST '@' before
     * the host, as in the WHATWG URL standard, so "user:p@ss@host" is the password "p@ss"
     * on "host", and log_mask_url, which cuts at the same '@', hides all of it. */
    const char *host = p;
    const char *at = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '@')
            at = q;
    snprintf(out->user, sizeof(out->user), "guest");
    snprintf(out->password, sizeof(out->password), "guest");
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *user_end = colon ? colon : at;
        int rc = bus_url_decode(p, (size_t)(user_end - p), out->user, sizeof(out->user),
                                "the user name", 0, err);
        if (rc)
            return rc;
        if (colon) {
            rc = bus_url_decode(colon + 1, (size_t)(at - colon - 1), out->password,
                                sizeof(out->password), "the password", 0, err);
            if (rc)
                return rc;
        }
        host = at + 1;
    }

    /* Host: a name, an IPv4 address or a bracketed IPv6 literal; then an optional :port. */
    const char *host_end, *port = NULL;
    if (*host == '[') {
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (!close)
            return err_set(err, ERR_INVALID, "AMQP URL: unterminated '[' in the host");
        int rc = bus_url_decode(host + 1, (size_t)(close - host - 1), out->host, sizeof(out->host),
                                "the host", 1, err);
        if (rc)
            return rc;
        host_end = close + 1;
        if (host_end < end && *host_end != ':')
            return err_set(err, ERR_INVALID, "AMQP URL: unexpected text after the IPv6 host");
        if (host_end < end)
            port = host_end + 1;
    } else {
        const char *colon = memchr(host, ':', (size_t)(end - host));
        host_end = colon ? colon : end;
        int rc = bus_url_decode(host, (size_t)(host_end - host), out->host, sizeof(out->host),
                                "the host", 1, err);
        if (rc)
            return rc;
        if (colon)
            port = colon + 1;
    }
    /* "amqp://h1,h2/v": hosts listed in one URL is not how nodes are given (bus_url_list_parse). */
    if (memchr(host, ',', (size_t)(end - host)))
        return err_set(err, ERR_INVALID,
                       "AMQP URL: ',' in the host (list the nodes of a cluster as whole URLs: "
                       "amqp://...,amqp://...)");
    if (!out->host[0])
        snprintf(out->host, sizeof(out->host), "localhost");

    if (port) {
        size_t n = (size_t)(end - port);
        long v = 0;
        int ok = n >= 1 && n <= 5;
        for (size_t i = 0; ok && i < n; i++) {
            ok = port[i] >= '0' && port[i] <= '9';
            v = v * 10 + (port[i] - '0');
        }
        /* Never echo it: in "user:password" without "@host" the password is read as the port. */
        if (!ok || v < 1 || v > 65535)
            return err_set(err, ERR_INVALID, "AMQP URL: the port is not a number in [1, 65535]");
        out->port = (int)v;
    }

    /* Vhost: no path is "/"; otherwise exactly one percent-decoded segment. */
    if (*end == '\0') {
        snprintf(out->vhost, sizeof(out->vhost), "/");
        return 0;
    }
    const char *path = end + 1;
    if (!*path)
        return err_set(err, ERR_INVALID,
                       "AMQP URL: the path '/' names the empty vhost; write '/%%2f' for the "
                       "vhost '/'");
    if (strchr(path, '/'))
        return err_set(err, ERR_INVALID,
                       "AMQP URL: the vhost must be one path segment (write '/' as %%2f)");
    return bus_url_decode(path, strlen(path), out->vhost, sizeof(out->vhost), "the vhost", 1, err);
}

/* Whether a node of a list starts at s: amqp:// or amqps://, after spaces. */
static const char *bus_url_node_start(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return strncasecmp(s, "amqp://", 7) == 0 || strncasecmp(s, "amqps://", 8) == 0 ? s : NULL;
}

/* Length of the node at s: up to the first ',' that starts another node, else all of it. */
static size_t bus_url_node_len(const char *s)
{
    for (const char *c = strchr(s, ','); c; c = strchr(c + 1, ','))
        if (bus_url_node_start(c + 1))
            return (size_t)(c - s);
    return strlen(s);
}

int bus_url_list_parse(const char *urls, struct bus_url *out, size_t cap, size_t *n,
                       struct err *err)
{
    *n = 0;
    if (!urls || !*urls)
        return err_set(err, ERR_INVALID, "AMQP URL is empty");
    size_t count = 0;
    int rc = 0;
    char node[BUS_URL_MAX + 1];
    for (const char *p = urls;;) {
        size_t len = bus_url_node_len(p);
        int several = count > 0 || p[len] != '\0';
        if (count == cap) {
            rc = err_set(err, ERR_INVALID, "AMQP URL lists more than %zu nodes", cap);
            break;
        }
        if (len > BUS_URL_MAX) {
            rc = several
                     ? err_set(err, ERR_INVALID, "AMQP URL node %zu longer than %d characters",
                               count + 1, BUS_URL_MAX)
                     : err_set(err, ERR_INVALID, "AMQP URL longer than %d characters", BUS_URL_MAX);
            break;
        }
        memcpy(node, p, len);
        node[len] = '\0';
        rc = bus_url_parse(node, &out[count], err);
        explicit_bzero(node, len);
        if (rc) {
            /* "AMQP URL: the port…" becomes "AMQP URL node 2: the port…": which one, no secret. */
            if (several && err && strncmp(err->msg, "AMQP URL", 8) == 0) {
                char msg[ERR_MSG_MAX];
                snprintf(msg, sizeof(msg), "%s", err->msg + 8);
                err_set(err, ERR_INVALID, "AMQP URL node %zu%s", count + 1, msg);
            }
            break;
        }
        count++;
        if (!p[len]) {
            *n = count;
            return 0;
        }
        p = bus_url_node_start(p + len + 1);
    }
    explicit_bzero(out, count * sizeof(*out));
    return rc;
}

/*
 * Percent-encodes a decoded part for bus_url_describe: every byte but
 * RFC 3986's unreserved characters, so the text parses back to the same part
 * and holds no delimiter ('@', ':', '/'), control byte or invalid UTF-8.
 */
static void bus_url_encode(const char *s, char *out, size_t outlen)
{
    size_t o = 0;
    for (; *s && o + 4 < outlen; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, outlen - o, "%%%02x", c);
    }
    out[o] = '\0';
}

void bus_url_describe(const struct bus_url *url, char *out, size_t outlen)
{
    if (!outlen)
        return;
    char user[3 * sizeof(url->user)], vhost[3 * sizeof(url->vhost)];
    bus_url_encode(url->user, user, sizeof(user));
    bus_url_encode(url->vhost, vhost, sizeof(vhost));
    int v6 = strchr(url->host, ':') != NULL;
    int n = snprintf(out, outlen, "%s://%s:***@%s%s%s:%d/%s", url->tls ? "amqps" : "amqp", user,
                     v6 ? "[" : "", url->host, v6 ? "]" : "", url->port, vhost);
    if (n >= 0 && (size_t)n >= outlen && outlen > 4)
        memcpy(out + outlen - 4, "...", 4); /* a description cut short says so */
}

/* ================================================================ queue arguments */

static void bus_args_add(struct bus_queue_args *a, const char *key, const char *str, long long num)
{
    struct bus_queue_arg *arg = &a->items[a->n++];
    arg->key = key;
    arg->kind = str ? BUS_ARG_STRING : BUS_ARG_INT;
    arg->str = str;
    arg->num = num;
}

int bus_queue_args_build(const char *queue_type, const struct bus_queue_options *opt,
                         struct bus_queue_args *out, struct err *err)
{
    out->n = 0;
    int quorum;
    if (queue_type && strcmp(queue_type, "classic") == 0)
        quorum = 0;
    else if (queue_type && strcmp(queue_type, "quorum") == 0)
        quorum = 1;
    else
        return err_set(err, ERR_INVALID, "queue type '%s' is not 'classic' or 'quorum'",
                       queue_type ? queue_type : "(null)");
    bus_args_add(out, "x-queue-type", quorum ? "quorum" : "classic", 0);
    if (!opt)
        return 0;
    if (opt->dead_letter_routing_key && !opt->dead_letter_exchange)
        return err_set(err, ERR_INVALID, "a dead-letter routing key needs a dead-letter exchange");
    if (opt->message_ttl_ms < 0 || opt->delivery_limit < 0)
        return err_set(err, ERR_INVALID, "negative message TTL or delivery limit");
    if (opt->dead_letter_exchange)
        bus_args_add(out, "x-dead-letter-exchange", opt->dead_letter_exchange, 0);
    if (opt->dead_letter_routing_key)
        bus_args_add(out, "x-dead-letter-routing-key", opt->dead_letter_routing_key, 0);
    if (opt->message_ttl_ms > 0)
        bus_args_add(out, "x-message-ttl", NULL, opt->message_ttl_ms);
    if (quorum && opt->delivery_limit > 0)
        bus_args_add(out, "x-delivery-limit", NULL, opt->delivery_limit);
    return 0;
}

/* ================================================================ confirm window */

int bus_window_init(struct bus_window *w, size_t cap, struct err *err)
{
    memset(w, 0, sizeof(*w));
    w->slots = calloc(cap, sizeof(*w->slots));
    if (!w->slots)
        return err_set(err, ERR_NOMEM, "out of memory for a confirm window of %zu", cap);
    w->cap = cap;
    w->first_seq = 1;
    return 0;
}

void bus_window_release(struct bus_window *w)
{
    free(w->slots);
    memset(w, 0, sizeof(*w));
}

void bus_window_reset(struct bus_window *w, uint64_t next_seq)
{
    w->head = 0;
    w->count = 0;
    w->first_seq = next_seq;
}

uint64_t bus_window_next_seq(const struct bus_window *w)
{
    return w->first_seq + w->count;
}

static struct bus_window_entry *bus_window_at(const struct bus_window *w, size_t i)
{
    return &w->slots[(w->head + i) % w->cap];
}

uint64_t bus_window_add(struct bus_window *w, const char *message_id)
{
    if (w->count >= w->cap)
        return 0;
    struct bus_window_entry *e = bus_window_at(w, w->count);
    snprintf(e->message_id, sizeof(e->message_id), "%s", message_id ? message_id : "");
    e->returned = 0;
    e->settled = 0;
    w->count++;
    return w->first_seq + w->count - 1;
}

int bus_window_mark_returned(struct bus_window *w, const char *message_id)
{
    if (!message_id || !*message_id)
        return 0;
    for (size_t i = 0; i < w->count; i++) {
        struct bus_window_entry *e = bus_window_at(w, i);
        if (!e->settled && !e->returned && strcmp(e->message_id, message_id) == 0) {
            e->returned = 1;
            return 1;
        }
    }
    return 0;
}

size_t bus_window_settle(struct bus_window *w, uint64_t tag, int multiple, int acked,
                         bus_confirm_fn fn, void *ctx)
{
    if (w->count == 0 || tag < w->first_seq)
        return 0;
    uint64_t last = w->first_seq + w->count - 1;
    if (tag > last) {
        if (!multiple)
            return 0;
        tag = last;
    }
    size_t settled = 0;
    for (uint64_t seq = multiple ? w->first_seq : tag; seq <= tag; seq++) {
        struct bus_window_entry *e = bus_window_at(w, (size_t)(seq - w->first_seq));
        if (e->settled)
            continue;
        e->settled = 1;
        settled++;
        if (fn)
            fn(ctx, seq, e->returned ? BUS_RETURNED : acked ? BUS_ACKED : BUS_NACKED);
    }
    while (w->count > 0 && bus_window_at(w, 0)->settled) {
        w->head = (w->head + 1) % w->cap;
        w->count--;
        w->first_seq++;
    }
    return settled;
}

/* ================================================================ errors: the one place */

static int bus_fail_status(struct bus *b, int status, struct err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bus_use_node(struct bus *b, size_t node);

/*
 * Fail-over: the connection to the node in use failed (or could not be
 * made), so the next connect tries the next node of AMQP_URL, round the list.
 * A polite disconnect and a channel error (our mistake, not the node's) stay.
 */
static void bus_next_node(struct bus *b)
{
    if (b->nnodes > 1)
        bus_use_node(b, b->node + 1);
}
static int bus_check_reply(struct bus *b, amqp_rpc_reply_t r, struct err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Closes the connection; polite = say goodbye first (bounded), else just drop the socket. */
static void bus_teardown(struct bus *b, int polite)
{
    if (b->conn) {
        if (polite) {
            struct timeval tv = bus_timeval(BUS_CLOSE_TIMEOUT_MS);
            amqp_set_rpc_timeout(b->conn, &tv);
            if (b->channel_open)
                amqp_channel_close(b->conn, BUS_CHANNEL, AMQP_REPLY_SUCCESS);
            amqp_connection_close(b->conn, AMQP_REPLY_SUCCESS);
        }
        amqp_destroy_connection(b->conn);
        b->conn = NULL;
    }
    b->channel_open = 0;
    b->ready = 0;
    b->consuming = 0;
    b->nacked = 0;
    if (b->window.cap)
        bus_window_reset(&b->window, 1);
}

/* A rabbitmq-c status that broke the connection: drop it; ERR_TRANSIENT (or ERR_NOMEM). */
static int bus_fail_status(struct bus *b, int status, struct err *err, const char *fmt, ...)
{
    char what[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    bus_teardown(b, 0);
    bus_next_node(b);
    return err_set(err, status == AMQP_STATUS_NO_MEMORY ? ERR_NOMEM : ERR_TRANSIENT, "%s: %s", what,
                   amqp_error_string2(status));
}

/*
 * The broker closed the channel or the connection (method m). Answers with
 * close-ok as the protocol asks, records code and text, tears down.
 * Channel errors: 404 → ERR_NOT_FOUND, 405 (locked) → ERR_TRANSIENT, else
 * ERR_INTERNAL (406 PRECONDITION_FAILED, 403 ACCESS_REFUSED: a configuration
 * or programming error). Connection errors → ERR_TRANSIENT.
 */
static int bus_fail_method(struct bus *b, const amqp_method_t *m, struct err *err, const char *what)
{
    if (m->id == AMQP_CONNECTION_CLOSE_METHOD) {
        const amqp_connection_close_t *c = m->decoded;
        b->close_code = c->reply_code;
        bus_bytes_copy(b->close_text, sizeof(b->close_text), c->reply_text);
        amqp_connection_close_ok_t ok = {0};
        amqp_send_method(b->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        bus_teardown(b, 0);
        bus_next_node(b);
        return err_set(err, ERR_TRANSIENT, "%s: broker closed the connection: %s", what,
                       b->close_text);
    }
    if (m->id == AMQP_CHANNEL_CLOSE_METHOD) {
        const amqp_channel_close_t *c = m->decoded;
        b->close_code = c->reply_code;
        bus_bytes_copy(b->close_text, sizeof(b->close_text), c->reply_text);
        amqp_channel_close_ok_t ok = {0};
        amqp_send_method(b->conn, BUS_CHANNEL, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
        b->channel_open = 0;
        bus_teardown(b, 1);
        int code = b->close_code == AMQP_NOT_FOUND         ? ERR_NOT_FOUND
                   : b->close_code == AMQP_RESOURCE_LOCKED ? ERR_TRANSIENT
                                                           : ERR_INTERNAL;
        return err_set(err, code, "%s: broker closed the channel: %s", what, b->close_text);
    }
    bus_teardown(b, 0);
    return err_set(err, ERR_INTERNAL, "%s: unexpected AMQP method 0x%08x", what, (unsigned)m->id);
}

/* Turns an amqp_rpc_reply_t into 0 or a struct err (tearing down on failure). */
static int bus_check_reply(struct bus *b, amqp_rpc_reply_t r, struct err *err, const char *fmt, ...)
{
    b->close_code = 0;
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return 0;
    char what[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    switch (r.reply_type) {
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        return bus_fail_status(b, r.library_error, err, "%s", what);
    case AMQP_RESPONSE_SERVER_EXCEPTION: return bus_fail_method(b, &r.reply, err, what);
    default:
        bus_teardown(b, 0);
        bus_next_node(b);
        return err_set(err, ERR_TRANSIENT, "%s: the broker closed the socket", what);
    }
}

static int bus_not_connected(const struct bus *b, struct err *err, const char *what)
{
    return err_set(err, ERR_TRANSIENT, "%s: not connected to '%s'", what, b->url_masked);
}

/* ================================================================ setup */

/*
 * Makes node (of AMQP_URL's list) the one the next bus_connect tries, and
 * url_masked its description. Returns 0, or ERR_INVALID for a bad AMQP_URL.
 */
static int bus_use_node(struct bus *b, size_t node)
{
    struct bus_url nodes[BUS_NODES_MAX];
    size_t n;
    int rc = bus_url_list_parse(b->cfg.url, nodes, BUS_NODES_MAX, &n, NULL);
    if (rc) {
        snprintf(b->url_masked, sizeof(b->url_masked), "(invalid AMQP URL)");
        return rc;
    }
    b->nnodes = n;
    b->node = node % n;
    bus_url_describe(&nodes[b->node], b->url_masked, sizeof(b->url_masked));
    if (n > 1) {
        size_t len = strlen(b->url_masked);
        snprintf(b->url_masked + len, sizeof(b->url_masked) - len, " (node %zu of %zu)",
                 b->node + 1, n);
    }
    explicit_bzero(nodes, sizeof(nodes));
    return 0;
}

/* A copy of s, or NULL when s is NULL or empty (an unset optional file). */
static char *bus_strdup_nonempty(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

struct bus *bus_new(const struct bus_config *cfg)
{
    struct bus *b = calloc(1, sizeof(*b));
    if (!b || !cfg)
        goto fail;
    b->cfg.url = bus_strdup_or(cfg->url, "");
    b->cfg.exchange = bus_strdup_or(cfg->exchange, "integration.events");
    b->cfg.dead_letter_exchange =
        bus_strdup_or(cfg->dead_letter_exchange, "integration.dead-letter");
    b->cfg.queue_type = bus_strdup_or(cfg->queue_type, "classic");
    b->cfg.tls_ca_file = bus_strdup_or(cfg->tls_ca_file, BUS_DEFAULT_CA_FILE);
    b->cfg.connection_name = bus_strdup_or(cfg->connection_name, NULL);
    b->cfg.tls_cert_file = bus_strdup_nonempty(cfg->tls_cert_file);
    b->cfg.tls_key_file = bus_strdup_nonempty(cfg->tls_key_file);
    if (!b->cfg.url || !b->cfg.exchange || !b->cfg.dead_letter_exchange || !b->cfg.queue_type ||
        !b->cfg.tls_ca_file || (cfg->connection_name && !b->cfg.connection_name) ||
        (cfg->tls_cert_file && cfg->tls_cert_file[0] && !b->cfg.tls_cert_file) ||
        (cfg->tls_key_file && cfg->tls_key_file[0] && !b->cfg.tls_key_file))
        goto fail;
    b->cfg.prefetch = cfg->prefetch ? cfg->prefetch : 64;
    b->cfg.heartbeat_s = cfg->heartbeat_s ? cfg->heartbeat_s : 10;
    b->cfg.delivery_limit = cfg->delivery_limit ? cfg->delivery_limit : BUS_QUORUM_DELIVERY_LIMIT;
    b->cfg.confirms = cfg->confirms != 0;
    if (b->cfg.confirms && bus_window_init(&b->window, BUS_WINDOW_MAX, NULL) != 0)
        goto fail;

    bus_use_node(b, 0);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    b->rng = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() ^ (uint32_t)(uintptr_t)b;
    if (!b->rng)
        b->rng = 0x9e3779b9u;
    return b;
fail:
    bus_free(b);
    return NULL;
}

void bus_free(struct bus *bus)
{
    if (!bus)
        return;
    bus_disconnect(bus);
    bus_window_release(&bus->window);
    if (bus->cfg.url)
        explicit_bzero(bus->cfg.url, strlen(bus->cfg.url));
    free(bus->cfg.url);
    free(bus->cfg.exchange);
    free(bus->cfg.dead_letter_exchange);
    free(bus->cfg.queue_type);
    free(bus->cfg.tls_ca_file);
    free(bus->cfg.tls_cert_file);
    free(bus->cfg.tls_key_file);
    free(bus->cfg.connection_name);
    free(bus);
}

/* The configuration's bounds, checked before each connect (bus_new cannot report them). */
static int bus_check_config(const struct bus *b, struct err *err)
{
    if (!b->cfg.url[0])
        return err_set(err, ERR_INVALID, "AMQP URL is empty");
    if (!bus_name_ok(b->cfg.exchange, 0) || !bus_name_ok(b->cfg.dead_letter_exchange, 0))
        return err_set(err, ERR_INVALID, "exchange names must be 1..255 printable characters");
    if (strcmp(b->cfg.queue_type, "classic") != 0 && strcmp(b->cfg.queue_type, "quorum") != 0)
        return err_set(err, ERR_INVALID, "queue type '%.64s' is not 'classic' or 'quorum'",
                       b->cfg.queue_type);
    if (b->cfg.prefetch < 1 || b->cfg.prefetch > 65535)
        return err_set(err, ERR_INVALID, "prefetch %d is not in [1, 65535]", b->cfg.prefetch);
    if (b->cfg.heartbeat_s < 1 || b->cfg.heartbeat_s > 600)
        return err_set(err, ERR_INVALID, "heartbeat %d s is not in [1, 600]", b->cfg.heartbeat_s);
    if (b->cfg.delivery_limit < 1)
        return err_set(err, ERR_INVALID, "delivery limit %d is below 1", b->cfg.delivery_limit);
    if (!b->cfg.tls_cert_file != !b->cfg.tls_key_file)
        return err_set(err, ERR_INVALID,
                       "a TLS client certificate needs its key and a key its "
                       "certificate: set both or neither");
    return 0;
}

/*
 * Logs in with the heartbeat. The client properties add, to rabbitmq-c's
 * own, the capability consumer_cancel_notify (without it the broker silently
 * stops delivering when our queue is deleted, instead of sending
 * basic.cancel) and the connection name, when configured. *status gets
 * rabbitmq-c's status when the library (not the broker) failed, else 0.
 */
static int bus_login(struct bus *b, const struct bus_url *url, int *status, struct err *err)
{
    amqp_table_entry_t capability = {
        .key = amqp_cstring_bytes("consumer_cancel_notify"),
        .value = {.kind = AMQP_FIELD_KIND_BOOLEAN, .value.boolean = 1},
    };
    amqp_table_entry_t props[2] = {
        {.key = amqp_cstring_bytes("capabilities"),
         .value = {.kind = AMQP_FIELD_KIND_TABLE,
                   .value.table = {.num_entries = 1, .entries = &capability}}},
        {.key = amqp_cstring_bytes("connection_name"),
         .value = {.kind = AMQP_FIELD_KIND_UTF8,
                   .value.bytes =
                       amqp_cstring_bytes(b->cfg.connection_name ? b->cfg.connection_name : "")}},
    };
    amqp_table_t table = {.num_entries = b->cfg.connection_name ? 2 : 1, .entries = props};
    amqp_rpc_reply_t r = amqp_login_with_properties(
        b->conn, url->vhost, /* channel_max = */ 0, /* frame_max = */ AMQP_DEFAULT_FRAME_SIZE,
        /* heartbeat = */ b->cfg.heartbeat_s, &table, AMQP_SASL_METHOD_PLAIN, url->user,
        url->password);
    *status = r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION ? r.library_error : AMQP_STATUS_OK;
    return bus_check_reply(b, r, err, "logging in to '%s'", b->url_masked);
}

/*
 * A TLS socket on b->conn that verifies the broker's certificate chain
 * against tls_ca_file and its name against the URL's host, and presents the
 * client certificate when one is configured. Files that cannot be loaded are
 * ERR_INVALID: the next attempt would fail the same way.
 */
static int bus_tls_socket(struct bus *b, amqp_socket_t **out, struct err *err)
{
    amqp_socket_t *sock = *out = amqp_ssl_socket_new(b->conn);
    if (!sock)
        return err_set(err, ERR_INTERNAL, "cannot set up TLS for '%s'", b->url_masked);
    /* Both are rabbitmq-c's defaults; say so, as they are the point of amqps://. */
    amqp_ssl_socket_set_verify_peer(sock, 1);
    amqp_ssl_socket_set_verify_hostname(sock, 1);
    if (amqp_ssl_socket_set_cacert(sock, b->cfg.tls_ca_file) != AMQP_STATUS_OK)
        return err_set(err, ERR_INVALID, "cannot load the TLS CA file '%s' (AMQP_CA_FILE) for '%s'",
                       b->cfg.tls_ca_file, b->url_masked);
    if (b->cfg.tls_cert_file &&
        amqp_ssl_socket_set_key(sock, b->cfg.tls_cert_file, b->cfg.tls_key_file) != AMQP_STATUS_OK)
        return err_set(err, ERR_INVALID,
                       "cannot load the TLS client certificate '%s' with key '%s' (AMQP_CERT_FILE, "
                       "AMQP_KEY_FILE) for '%s'",
                       b->cfg.tls_cert_file, b->cfg.tls_key_file, b->url_masked);
    return 0;
}

/*
 * Appends to err what to check after TLS failed with status: rabbitmq-c's
 * own words ("SSL peer cert verification failed") name neither the file nor
 * the host to look at. A broker that refuses our client certificate (or its
 * absence) lets the handshake finish and drops the connection as we log in,
 * hence logging_in. Other statuses, and plain amqp://, are left alone.
 */
static void bus_tls_explain(const struct bus *b, int status, const struct bus_url *url,
                            int logging_in, struct err *err)
{
    if (!err || !url->tls)
        return;
    size_t len = strlen(err->msg), room = sizeof(err->msg) - len;
    if (status == AMQP_STATUS_SSL_PEER_VERIFY_FAILED)
        snprintf(err->msg + len, room, " (the broker's certificate is not signed by a CA in '%s')",
                 b->cfg.tls_ca_file);
    else if (status == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED)
        snprintf(err->msg + len, room, " (the broker's certificate does not name '%s')", url->host);
    else if (status != AMQP_STATUS_SSL_ERROR && status != AMQP_STATUS_SSL_CONNECTION_FAILED)
        return;
    else if (!logging_in)
        snprintf(err->msg + len, room, " (is port %d a TLS listener?)", url->port);
    else if (b->cfg.tls_cert_file)
        snprintf(err->msg + len, room, " (did the broker refuse client certificate '%s'?)",
                 b->cfg.tls_cert_file);
    else
        snprintf(err->msg + len, room,
                 " (does the broker want a client certificate? "
                 "AMQP_CERT_FILE)");
}

int bus_connect(struct bus *b, struct err *err)
{
    if (b->ready)
        return 0;
    bus_teardown(b, 0); /* whatever a failed attempt left */
    int rc = bus_check_config(b, err);
    if (rc)
        return rc;
    struct bus_url nodes[BUS_NODES_MAX];
    size_t nnodes;
    rc = bus_url_list_parse(b->cfg.url, nodes, BUS_NODES_MAX, &nnodes, err);
    if (rc)
        return rc;
    struct bus_url url = nodes[b->node < nnodes ? b->node : 0];
    explicit_bzero(nodes, sizeof(nodes));

    b->conn = amqp_new_connection();
    if (!b->conn) {
        rc = err_set(err, ERR_NOMEM, "out of memory for a connection to '%s'", b->url_masked);
        goto done;
    }
    amqp_socket_t *sock;
    if (url.tls) {
        rc = bus_tls_socket(b, &sock, err);
        if (rc)
            goto done;
    } else {
        sock = amqp_tcp_socket_new(b->conn);
        if (!sock) {
            rc = err_set(err, ERR_NOMEM, "out of memory for a socket to '%s'", b->url_masked);
            goto done;
        }
    }

    struct timeval connect_tv = bus_timeval(BUS_CONNECT_TIMEOUT_MS);
    int st = amqp_socket_open_noblock(sock, url.host, url.port, &connect_tv);
    if (st != AMQP_STATUS_OK) {
        rc = bus_fail_status(b, st, err, "connecting to '%s'", b->url_masked);
        bus_tls_explain(b, st, &url, /* logging_in = */ 0, err);
        goto done;
    }
    amqp_set_handshake_timeout(b->conn, &connect_tv);
    struct timeval rpc_tv = bus_timeval(BUS_RPC_TIMEOUT_MS);
    amqp_set_rpc_timeout(b->conn, &rpc_tv);

    rc = bus_login(b, &url, &st, err);
    if (rc) {
        bus_tls_explain(b, st, &url, /* logging_in = */ 1, err);
        goto done;
    }
    amqp_channel_open(b->conn, BUS_CHANNEL);
    rc = bus_check_reply(b, amqp_get_rpc_reply(b->conn), err, "opening a channel on '%s'",
                         b->url_masked);
    if (rc)
        goto done;
    b->channel_open = 1;
    if (b->cfg.confirms) {
        amqp_confirm_select(b->conn, BUS_CHANNEL);
        rc = bus_check_reply(b, amqp_get_rpc_reply(b->conn), err, "selecting confirm mode on '%s'",
                             b->url_masked);
        if (rc)
            goto done;
        bus_window_reset(&b->window, 1); /* the broker numbers this channel's publishes from 1 */
    }
    b->ready = 1;
    b->backoff_attempt = 0;
done:
    explicit_bzero(&url, sizeof(url));
    if (rc)
        bus_teardown(b, 0);
    return rc;
}

bool bus_connected(const struct bus *bus)
{
    return bus->ready != 0;
}

void bus_disconnect(struct bus *bus)
{
    bus_teardown(bus, bus->ready);
}

int bus_backoff_ms(struct bus *bus)
{
    static const struct retry_policy policy = {.max_attempts = 0, .base_ms = 100, .max_ms = 5000};
    if (bus->backoff_attempt < 64)
        bus->backoff_attempt++;
    return (int)retry_delay_ms(&policy, bus->backoff_attempt, bus_random(bus));
}

const char *bus_url_masked(const struct bus *bus)
{
    return bus->url_masked;
}

/* ================================================================ topology */

/* Declares exchange name of type; passive = only check that it exists (no permission needed). */
static int bus_declare_exchange(struct bus *b, const char *name, const char *type, int passive,
                                struct err *err)
{
    amqp_exchange_declare(b->conn, BUS_CHANNEL, amqp_cstring_bytes(name), amqp_cstring_bytes(type),
                          /* passive = */ passive ? 1 : 0, /* durable = */ 1,
                          /* auto_delete = */ 0, /* internal = */ 0, amqp_empty_table);
    int rc = bus_check_reply(b, amqp_get_rpc_reply(b->conn), err, "declaring exchange '%s'", name);
    if (rc == ERR_INTERNAL && b->close_code == AMQP_PRECONDITION_FAILED)
        return err_set(err, ERR_INTERNAL, "exchange '%s' exists with different arguments: %s", name,
                       b->close_text);
    return rc;
}

/*
 * A shared exchange (ADR 0007): declared by the admin step, so we only check
 * that it is there (a passive declare, which needs no permission: a context's
 * login may not configure shared exchanges). Missing, we declare it ourselves,
 * which only a login that may configure it can (the admin, without isolation).
 */
static int bus_ensure_exchange(struct bus *b, const char *name, const char *type, struct err *err)
{
    int rc = bus_declare_exchange(b, name, type, 1, err);
    if (rc != ERR_NOT_FOUND)
        return rc;
    rc = bus_connect(b, err); /* the broker closed the channel on the 404 */
    if (!rc)
        rc = bus_declare_exchange(b, name, type, 0, err);
    if (rc == ERR_INTERNAL && b->close_code == AMQP_ACCESS_REFUSED)
        return err_set(err, ERR_INTERNAL,
                       "exchange '%s' is missing and this login may not declare it: the admin "
                       "step declares the shared topology (deploy/local/isolation.sh)",
                       name);
    return rc;
}

int bus_queue_inspect(struct bus *b, const char *queue, long long *messages, long long *consumers,
                      struct err *err)
{
    if (!bus_name_ok(queue, 0))
        return err_set(err, ERR_INVALID, "queue name must be 1..255 printable characters");
    if (!b->ready)
        return bus_not_connected(b, err, "looking up a queue");
    amqp_queue_declare_ok_t *ok = amqp_queue_declare(
        b->conn, BUS_CHANNEL, amqp_cstring_bytes(queue), /* passive = */ 1,
        /* durable = */ 1, /* exclusive = */ 0, /* auto_delete = */ 0, amqp_empty_table);
    int rc = bus_check_reply(b, amqp_get_rpc_reply(b->conn), err, "looking up queue '%s'", queue);
    if (rc == 0 && ok && messages)
        *messages = ok->message_count;
    if (rc == 0 && ok && consumers)
        *consumers = ok->consumer_count;
    if (b->conn)
        amqp_maybe_release_buffers(b->conn);
    return rc;
}

/*
 * One of the context's queues: declared with its arguments, which also checks
 * them against an existing queue. A context's own login may not configure
 * queues (ADR 0007: it could otherwise redeclare its queue with another
 * dead-letter routing key), so when the broker refuses, the admin step has
 * declared it with the same arguments and we only check that it is there;
 * the bus remembers, so a reconnect goes straight to the check.
 */
static int bus_ensure_queue(struct bus *b, const char *queue, const struct bus_queue_options *opt,
                            struct err *err)
{
    int rc = 0;
    if (!b->queues_passive) {
        rc = bus_declare_queue(b, queue, opt, err);
        if (!(rc == ERR_INTERNAL && b->close_code == AMQP_ACCESS_REFUSED))
            return rc;
        b->queues_passive = 1;
        rc = bus_connect(b, err);
    }
    if (!rc)
        rc = bus_queue_inspect(b, queue, NULL, NULL, err); /* ERR_NOT_FOUND: missing */
    if (rc == ERR_NOT_FOUND)
        return err_set(err, ERR_INTERNAL,
                       "queue '%s' is missing and this login may not declare it: the admin step "
                       "declares the contexts' queues (deploy/local/isolation.sh)",
                       queue);
    return rc;
}

int bus_declare_queue(struct bus *b, const char *queue, const struct bus_queue_options *opt,
                      struct err *err)
{
    if (!bus_name_ok(queue, 0))
        return err_set(err, ERR_INVALID, "queue name must be 1..255 printable characters");
    struct bus_queue_args args;
    int rc = bus_queue_args_build(b->cfg.queue_type, opt, &args, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < args.n; i++)
        if (args.items[i].kind == BUS_ARG_STRING && !bus_name_ok(args.items[i].str, 1))
            return err_set(err, ERR_INVALID,
                           "queue '%s': %s must be up to 255 printable characters", queue,
                           args.items[i].key);
    if (!b->ready)
        return bus_not_connected(b, err, "declaring a queue");

    amqp_table_entry_t entries[BUS_QUEUE_ARGS_MAX];
    for (size_t i = 0; i < args.n; i++) {
        entries[i].key = amqp_cstring_bytes(args.items[i].key);
        if (args.items[i].kind == BUS_ARG_STRING) {
            entries[i].value.kind = AMQP_FIELD_KIND_UTF8;
            entries[i].value.value.bytes = amqp_cstring_bytes(args.items[i].str);
        } else {
            entries[i].value.kind = AMQP_FIELD_KIND_I64;
            entries[i].value.value.i64 = args.items[i].num;
        }
    }
    amqp_table_t table = {.num_entries = (int)args.n, .entries = entries};
    amqp_queue_declare(b->conn, BUS_CHANNEL, amqp_cstring_bytes(queue), /* passive = */ 0,
                       /* durable = */ 1, /* exclusive = */ 0, /* auto_delete = */ 0, table);
    rc = bus_check_reply(b, amqp_get_rpc_reply(b->conn), err, "declaring queue '%s'", queue);
    if (rc == ERR_INTERNAL && b->close_code == AMQP_PRECONDITION_FAILED)
        return err_set(err, ERR_INTERNAL, "queue '%s' exists with different arguments: %s", queue,
                       b->close_text);
    return rc;
}

int bus_bind_queue(struct bus *b, const char *queue, const char *exchange, const char *binding_key,
                   struct err *err)
{
    if (!bus_name_ok(queue, 0) || !bus_name_ok(exchange, 0) || !bus_name_ok(binding_key, 1))
        return err_set(err, ERR_INVALID,
                       "queue, exchange and binding key must be up to 255 printable characters");
    if (!b->ready)
        return bus_not_connected(b, err, "binding a queue");
    amqp_queue_bind(b->conn, BUS_CHANNEL, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange),
                    amqp_cstring_bytes(binding_key), amqp_empty_table);
    return bus_check_reply(b, amqp_get_rpc_reply(b->conn), err,
                           "binding queue '%s' to exchange '%s' with key '%s'", queue, exchange,
                           binding_key);
}

int bus_delete_queue(struct bus *b, const char *queue, struct err *err)
{
    if (!bus_name_ok(queue, 0))
        return err_set(err, ERR_INVALID, "queue name must be 1..255 printable characters");
    if (!b->ready)
        return bus_not_connected(b, err, "deleting a queue");
    amqp_queue_delete(b->conn, BUS_CHANNEL, amqp_cstring_bytes(queue), /* if_unused = */ 0,
                      /* if_empty = */ 0);
    return bus_check_reply(b, amqp_get_rpc_reply(b->conn), err, "deleting queue '%s'", queue);
}

int bus_declare_topology(struct bus *b, const char *context, const char *const *binding_keys,
                         size_t nkeys, struct err *err)
{
    size_t suffix = strlen(".dead-letter");
    if (!bus_name_ok(context, 0) || strlen(context) + suffix >= BUS_ROUTING_KEY_LEN)
        return err_set(err, ERR_INVALID, "context name must be 1..%zu printable characters",
                       BUS_ROUTING_KEY_LEN - 1 - suffix);
    if (nkeys && !binding_keys)
        return err_set(err, ERR_INVALID, "%zu binding keys but no array", nkeys);
    if (!b->ready)
        return bus_not_connected(b, err, "declaring the topology");
    const char *events = b->cfg.exchange, *dead = b->cfg.dead_letter_exchange;
    char events_queue[BUS_ROUTING_KEY_LEN], dead_queue[BUS_ROUTING_KEY_LEN];
    snprintf(events_queue, sizeof(events_queue), "%s.events", context);
    snprintf(dead_queue, sizeof(dead_queue), "%s.dead-letter", context);

    /* A message the broker dead-letters from <context>.events (rejected without requeue, or
     * past the quorum delivery limit) lands in <context>.dead-letter. The dead-letter queue
     * itself has no dead-letter exchange: it is the end of the line, and pointing it at
     * itself would be a cycle the broker drops messages on. The dead-letter exchange is a
     * topic exchange (ADR 0007): its binding key, the context's name, routes as a direct one
     * would, and RabbitMQ's topic permissions confine each login to its own key. */
    struct bus_queue_options events_opt = {
        .dead_letter_exchange = dead,
        .dead_letter_routing_key = context,
        .delivery_limit = b->cfg.delivery_limit,
    };
    int rc = bus_ensure_exchange(b, events, "topic", err);
    if (!rc)
        rc = bus_ensure_exchange(b, dead, "topic", err);
    if (!rc)
        rc = bus_ensure_queue(b, events_queue, &events_opt, err);
    if (!rc)
        rc = bus_ensure_queue(b, dead_queue, NULL, err);
    if (!rc)
        rc = bus_bind_queue(b, dead_queue, dead, context, err);
    for (size_t i = 0; !rc && i < nkeys; i++)
        rc = bus_bind_queue(b, events_queue, events, binding_keys[i], err);
    if (b->conn)
        amqp_maybe_release_buffers(b->conn);
    return rc;
}

/* ================================================================ frames */

/* basic.return: read the returned message, and mark its window entry by message id. */
static int bus_read_return(struct bus *b, const amqp_frame_t *frame, struct err *err)
{
    const amqp_basic_return_t *ret = frame->payload.method.decoded;
    b->return_code = ret->reply_code;
    bus_bytes_copy(b->return_text, sizeof(b->return_text), ret->reply_text);
    amqp_message_t msg;
    int rc = bus_check_reply(b, amqp_read_message(b->conn, frame->channel, &msg, 0), err,
                             "reading a message the broker returned");
    if (rc)
        return rc;
    char id[BUS_ID_LEN] = "";
    if (msg.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
        bus_bytes_copy(id, sizeof(id), msg.properties.message_id);
    bus_window_mark_returned(&b->window, id);
    amqp_destroy_message(&msg);
    return 0;
}

/*
 * Handles a frame that is not a delivery: confirms, returns, the broker
 * closing things, a server-side consumer cancel. Returns 0, or a negative
 * code after tearing down. The frame is invalid after a teardown.
 */
static int bus_handle_frame(struct bus *b, const amqp_frame_t *frame, bus_confirm_fn fn, void *ctx,
                            struct err *err)
{
    if (frame->frame_type != AMQP_FRAME_METHOD)
        return 0; /* content frames of a message nobody asked for */
    const amqp_method_t *m = &frame->payload.method;
    switch (m->id) {
    case AMQP_BASIC_ACK_METHOD: {
        const amqp_basic_ack_t *ack = m->decoded;
        bus_window_settle(&b->window, ack->delivery_tag, ack->multiple, 1, fn, ctx);
        return 0;
    }
    case AMQP_BASIC_NACK_METHOD: {
        const amqp_basic_nack_t *nack = m->decoded;
        bus_window_settle(&b->window, nack->delivery_tag, nack->multiple, 0, fn, ctx);
        b->nacked = 1;
        return 0;
    }
    case AMQP_BASIC_RETURN_METHOD: return bus_read_return(b, frame, err);
    case AMQP_BASIC_CANCEL_METHOD:
        bus_teardown(b, 1);
        return err_set(err, ERR_TRANSIENT,
                       "the broker cancelled the consumer of queue '%s' (deleted?)", b->queue);
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD:
        return bus_fail_method(b, m, err, b->consuming ? "consuming" : "publishing");
    default: return 0; /* connection.blocked/unblocked and the like: nothing to do */
    }
}

/* ================================================================ publishing */

static int bus_id_ok(const char *s)
{
    return !s || strnlen(s, BUS_ID_LEN) < BUS_ID_LEN;
}

static int bus_check_message(const struct bus *b, const struct bus_message *m, struct err *err)
{
    if (!m || !bus_name_ok(m->routing_key, 0))
        return err_set(err, ERR_INVALID, "routing key must be 1..255 printable characters");
    if (m->exchange && !bus_name_ok(m->exchange, 1))
        return err_set(err, ERR_INVALID, "exchange name must be up to 255 printable characters");
    if ((!m->body && m->len) || m->len > BUS_BODY_MAX)
        return err_set(err, ERR_INVALID, "message '%s': body of %zu bytes (at most %d)",
                       m->routing_key, m->len, BUS_BODY_MAX);
    if (!bus_id_ok(m->message_id) || !bus_id_ok(m->type) || !bus_id_ok(m->correlation_id) ||
        !bus_id_ok(m->app_id) || !bus_id_ok(m->content_type))
        return err_set(err, ERR_INVALID,
                       "message '%s': message_id, type, correlation_id, app_id and content_type "
                       "must be up to %d characters",
                       m->routing_key, BUS_ID_LEN - 1);
    if (m->nheaders > BUS_HEADERS_MAX || (m->nheaders && !m->headers))
        return err_set(err, ERR_INVALID, "message '%s': %zu headers (at most %d)", m->routing_key,
                       m->nheaders, BUS_HEADERS_MAX);
    for (size_t i = 0; i < m->nheaders; i++) {
        const struct bus_header *h = &m->headers[i];
        size_t klen = h->key ? strnlen(h->key, BUS_HEADER_KEY_LEN) : 0;
        if (klen == 0 || klen >= BUS_HEADER_KEY_LEN || (!h->is_int && !h->value) ||
            (!h->is_int && strnlen(h->value, BUS_HEADER_VALUE_LEN) >= BUS_HEADER_VALUE_LEN))
            return err_set(err, ERR_INVALID,
                           "message '%s': header %zu needs a key of 1..%d and a value of up to "
                           "%d characters",
                           m->routing_key, i, BUS_HEADER_KEY_LEN - 1, BUS_HEADER_VALUE_LEN - 1);
    }
    if (m->mandatory && !b->cfg.confirms)
        return err_set(err, ERR_INVALID,
                       "message '%s': mandatory needs a bus with confirms to see returns",
                       m->routing_key);
    if (m->mandatory && (!m->message_id || !*m->message_id))
        return err_set(err, ERR_INVALID,
                       "message '%s': mandatory needs a message_id to match a return to it",
                       m->routing_key);
    return 0;
}

int bus_publish(struct bus *b, const struct bus_message *m, uint64_t *seq_out, struct err *err)
{
    if (seq_out)
        *seq_out = 0;
    int rc = bus_check_message(b, m, err);
    if (rc)
        return rc;
    if (!b->ready)
        return bus_not_connected(b, err, "publishing");
    if (b->cfg.confirms && b->window.count >= b->window.cap)
        return err_set(err, ERR_INTERNAL,
                       "publishing '%s': %zu messages await their confirm: call "
                       "bus_wait_confirms first",
                       m->routing_key, b->window.count);

    amqp_basic_properties_t props;
    memset(&props, 0, sizeof(props));
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.content_type = amqp_cstring_bytes(m->content_type ? m->content_type : BUS_CONTENT_TYPE);
    props.delivery_mode = 2; /* persistent */
    if (m->message_id && *m->message_id) {
        props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
        props.message_id = amqp_cstring_bytes(m->message_id);
    }
    if (m->type && *m->type) {
        props._flags |= AMQP_BASIC_TYPE_FLAG;
        props.type = amqp_cstring_bytes(m->type);
    }
    if (m->correlation_id && *m->correlation_id) {
        props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
        props.correlation_id = amqp_cstring_bytes(m->correlation_id);
    }
    if (m->app_id && *m->app_id) {
        props._flags |= AMQP_BASIC_APP_ID_FLAG;
        props.app_id = amqp_cstring_bytes(m->app_id);
    }
    if (m->timestamp > 0) {
        props._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
        props.timestamp = (uint64_t)m->timestamp;
    }
    amqp_table_entry_t entries[BUS_HEADERS_MAX];
    if (m->nheaders) {
        for (size_t i = 0; i < m->nheaders; i++) {
            const struct bus_header *h = &m->headers[i];
            entries[i].key = amqp_cstring_bytes(h->key);
            if (h->is_int) {
                entries[i].value.kind = AMQP_FIELD_KIND_I64;
                entries[i].value.value.i64 = h->int_value;
            } else {
                entries[i].value.kind = AMQP_FIELD_KIND_UTF8;
                entries[i].value.value.bytes = amqp_cstring_bytes(h->value);
            }
        }
        props._flags |= AMQP_BASIC_HEADERS_FLAG;
        props.headers.num_entries = (int)m->nheaders;
        props.headers.entries = entries;
    }

    const char *exchange = m->exchange ? m->exchange : b->cfg.exchange;
    amqp_bytes_t body = {.len = m->len, .bytes = (void *)(uintptr_t)m->body};
    int st = amqp_basic_publish(
        b->conn, BUS_CHANNEL, amqp_cstring_bytes(exchange), amqp_cstring_bytes(m->routing_key),
        /* mandatory = */ m->mandatory ? 1 : 0, /* immediate = */ 0, &props, body);
    if (st != AMQP_STATUS_OK)
        return bus_fail_status(b, st, err, "publishing '%s' to exchange '%s'", m->routing_key,
                               exchange);
    if (b->cfg.confirms) {
        uint64_t seq = bus_window_add(&b->window, m->message_id);
        if (seq_out)
            *seq_out = seq;
    }
    return 0;
}

/*
 * A node of a cluster that nacked a publish could not take the message, e.g.
 * a quorum queue without a leader as that node sees it, which we have seen
 * last for minutes after another node stopped while other nodes took
 * publishes at once. Once the window is settled, leave it: the caller's next
 * publish reconnects, to the next node. With one node there is nowhere to go.
 */
static void bus_leave_nacking_node(struct bus *b)
{
    if (!b->nacked || b->nnodes < 2)
        return;
    bus_teardown(b, 1);
    bus_next_node(b);
}

int bus_wait_confirms(struct bus *b, int timeout_ms, bus_confirm_fn fn, void *ctx, struct err *err)
{
    if (!b->ready)
        return bus_not_connected(b, err, "waiting for confirms");
    int64_t deadline = steady_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        /* With nothing in flight, one zero-time read still services the heartbeat. */
        int64_t left = b->window.count ? deadline - steady_now_ms() : 0;
        struct timeval tv = bus_timeval(left);
        amqp_frame_t frame;
        int st = amqp_simple_wait_frame_noblock(b->conn, &frame, &tv);
        if (st == AMQP_STATUS_TIMEOUT) {
            if (b->window.count == 0)
                return 0;
            return err_set(err, ERR_TRANSIENT,
                           "no confirm from the broker for %zu messages within %d ms",
                           b->window.count, timeout_ms);
        }
        if (st != AMQP_STATUS_OK)
            return bus_fail_status(b, st, err, "waiting for confirms from '%s'", b->url_masked);
        int rc = bus_handle_frame(b, &frame, fn, ctx, err);
        if (rc)
            return rc;
        amqp_maybe_release_buffers(b->conn);
        if (b->window.count == 0) {
            bus_leave_nacking_node(b);
            return 0;
        }
    }
}

size_t bus_inflight(const struct bus *bus)
{
    return bus->window.count;
}

struct bus_sync {
    uint64_t seq;
    int outcome; /* an enum bus_outcome, -1 until settled */
};

static void bus_sync_confirmed(void *ctx, uint64_t seq, enum bus_outcome outcome)
{
    struct bus_sync *s = ctx;
    if (seq == s->seq)
        s->outcome = (int)outcome;
}

int bus_publish_sync(struct bus *b, const struct bus_message *m, int timeout_ms, struct err *err)
{
    if (!b->cfg.confirms)
        return err_set(err, ERR_INTERNAL, "bus_publish_sync needs a bus with confirms");
    if (b->window.count)
        return err_set(err, ERR_INTERNAL,
                       "bus_publish_sync with %zu messages in flight: wait for them first",
                       b->window.count);
    struct bus_sync sync = {0, -1};
    int rc = bus_publish(b, m, &sync.seq, err);
    if (rc)
        return rc;
    rc = bus_wait_confirms(b, timeout_ms, bus_sync_confirmed, &sync, err);
    if (rc) {
        /* A timeout leaves the message in the window, where a late confirm would find
         * nobody to tell and block the next call: start over on a new connection. */
        if (b->ready)
            bus_teardown(b, 1);
        return rc;
    }
    switch (sync.outcome) {
    case BUS_ACKED: return 0;
    case BUS_RETURNED:
        return err_set(err, ERR_UNPROCESSABLE,
                       "message '%s' to '%s' returned by the broker: %u %s (no queue is bound "
                       "to the routing key)",
                       m->message_id, m->routing_key, b->return_code, b->return_text);
    default:
        return err_set(err, ERR_TRANSIENT, "message '%s' to '%s' nacked by the broker",
                       m->message_id ? m->message_id : "", m->routing_key);
    }
}

/* ================================================================ consuming */

int bus_consume(struct bus *b, const char *queue, struct err *err)
{
    if (!bus_name_ok(queue, 0))
        return err_set(err, ERR_INVALID, "queue name must be 1..255 printable characters");
    if (!b->ready)
        return bus_not_connected(b, err, "consuming");
    amqp_basic_qos(b->conn, BUS_CHANNEL, /* prefetch_size = */ 0,
                   /* prefetch_count = */ (uint16_t)b->cfg.prefetch, /* global = */ 0);
    int rc = bus_check_reply(b, amqp_get_rpc_reply(b->conn), err, "setting prefetch %d",
                             b->cfg.prefetch);
    if (rc)
        return rc;
    amqp_basic_consume(b->conn, BUS_CHANNEL, amqp_cstring_bytes(queue),
                       /* consumer_tag = */ amqp_empty_bytes, /* no_local = */ 0,
                       /* no_ack = */ 0, /* exclusive = */ 0, amqp_empty_table);
    rc = bus_check_reply(b, amqp_get_rpc_reply(b->conn), err, "consuming from queue '%s'", queue);
    if (rc)
        return rc;
    snprintf(b->queue, sizeof(b->queue), "%s", queue);
    b->consuming = 1;
    return 0;
}

/* An integer field of any width; 1 when v is one. */
static int bus_field_int(const amqp_field_value_t *v, long long *out)
{
    switch (v->kind) {
    case AMQP_FIELD_KIND_BOOLEAN: *out = v->value.boolean != 0; return 1;
    /* A signed 8-bit field: its sign is meant (a BEGIN/END pair survives clang-format). */
    // NOLINTBEGIN(bugprone-signed-char-misuse)
    case AMQP_FIELD_KIND_I8: *out = v->value.i8; return 1;
    // NOLINTEND(bugprone-signed-char-misuse)
    case AMQP_FIELD_KIND_U8: *out = v->value.u8; return 1;
    case AMQP_FIELD_KIND_I16: *out = v->value.i16; return 1;
    case AMQP_FIELD_KIND_U16: *out = v->value.u16; return 1;
    case AMQP_FIELD_KIND_I32: *out = v->value.i32; return 1;
    case AMQP_FIELD_KIND_U32: *out = v->value.u32; return 1;
    case AMQP_FIELD_KIND_I64: *out = v->value.i64; return 1;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP: *out = (long long)v->value.u64; return 1;
    default: return 0;
    }
}

/* The largest "count" of the x-death entries (one per queue and reason the message died in). */
static long long bus_death_count(const amqp_field_value_t *v)
{
    long long max = 0;
    if (v->kind != AMQP_FIELD_KIND_ARRAY)
        return 0;
    for (int i = 0; i < v->value.array.num_entries; i++) {
        const amqp_field_value_t *death = &v->value.array.entries[i];
        if (death->kind != AMQP_FIELD_KIND_TABLE)
            continue;
        for (int j = 0; j < death->value.table.num_entries; j++) {
            const amqp_table_entry_t *e = &death->value.table.entries[j];
            long long n;
            if (bus_bytes_equal(e->key, "count") && bus_field_int(&e->value, &n) && n > max)
                max = n;
        }
    }
    return max;
}

static void bus_copy_headers(struct bus_delivery *d, const amqp_table_t *headers)
{
    for (int i = 0; i < headers->num_entries; i++) {
        const amqp_table_entry_t *e = &headers->entries[i];
        if (bus_bytes_equal(e->key, "x-death")) {
            d->death_count = bus_death_count(&e->value);
            continue;
        }
        if (d->nheaders >= BUS_HEADERS_MAX)
            continue;
        struct bus_delivery_header *h = &d->headers[d->nheaders];
        if (e->value.kind == AMQP_FIELD_KIND_UTF8 || e->value.kind == AMQP_FIELD_KIND_BYTES) {
            bus_bytes_copy(h->value, sizeof(h->value), e->value.value.bytes);
        } else if (bus_field_int(&e->value, &h->int_value)) {
            h->is_int = 1;
        } else {
            continue; /* tables, arrays, floats: not ours */
        }
        bus_bytes_copy(h->key, sizeof(h->key), e->key);
        d->nheaders++;
    }
}

/* Copies everything out of env into d; ERR_NOMEM for the body. */
static int bus_delivery_fill(struct bus_delivery *d, const amqp_envelope_t *env, struct err *err)
{
    const amqp_basic_properties_t *p = &env->message.properties;
    size_t len = env->message.body.len;
    d->body = malloc(len + 1);
    if (!d->body)
        return err_set(err, ERR_NOMEM, "out of memory for a message of %zu bytes", len);
    if (len)
        memcpy(d->body, env->message.body.bytes, len);
    d->body[len] = '\0';
    d->len = len;
    d->tag = env->delivery_tag;
    d->redelivered = env->redelivered != 0;
    bus_bytes_copy(d->exchange, sizeof(d->exchange), env->exchange);
    bus_bytes_copy(d->routing_key, sizeof(d->routing_key), env->routing_key);
    if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
        bus_bytes_copy(d->message_id, sizeof(d->message_id), p->message_id);
    if (p->_flags & AMQP_BASIC_TYPE_FLAG)
        bus_bytes_copy(d->type, sizeof(d->type), p->type);
    if (p->_flags & AMQP_BASIC_CORRELATION_ID_FLAG)
        bus_bytes_copy(d->correlation_id, sizeof(d->correlation_id), p->correlation_id);
    if (p->_flags & AMQP_BASIC_APP_ID_FLAG)
        bus_bytes_copy(d->app_id, sizeof(d->app_id), p->app_id);
    if (p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
        bus_bytes_copy(d->content_type, sizeof(d->content_type), p->content_type);
    if (p->_flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
        d->delivery_mode = p->delivery_mode;
    if (p->_flags & AMQP_BASIC_TIMESTAMP_FLAG)
        d->timestamp = (int64_t)p->timestamp;
    if (p->_flags & AMQP_BASIC_HEADERS_FLAG)
        bus_copy_headers(d, &p->headers);
    return 0;
}

int bus_next(struct bus *b, struct bus_delivery *d, int timeout_ms, struct err *err)
{
    memset(d, 0, sizeof(*d));
    if (!b->ready)
        return bus_not_connected(b, err, "receiving");
    if (!b->consuming)
        return err_set(err, ERR_INTERNAL, "bus_next before bus_consume");
    int64_t deadline = steady_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        amqp_maybe_release_buffers(b->conn);
        struct timeval tv = bus_timeval(deadline - steady_now_ms());
        amqp_envelope_t env;
        amqp_rpc_reply_t r = amqp_consume_message(b->conn, &env, &tv, 0);
        if (r.reply_type == AMQP_RESPONSE_NORMAL) {
            int rc = bus_delivery_fill(d, &env, err);
            amqp_destroy_envelope(&env);
            if (rc) {
                /* Give it back rather than hold it unacked until the connection ends. */
                uint64_t tag = d->tag;
                bus_delivery_release(d);
                amqp_basic_reject(b->conn, BUS_CHANNEL, tag, /* requeue = */ 1);
                return rc;
            }
            return 1;
        }
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
            r.library_error == AMQP_STATUS_TIMEOUT)
            return 0;
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
            r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
            /* Not a delivery: the frame waits in rabbitmq-c's queue and must be read, or
             * amqp_consume_message returns it again forever. */
            amqp_frame_t frame;
            int st = amqp_simple_wait_frame(b->conn, &frame);
            if (st != AMQP_STATUS_OK)
                return bus_fail_status(b, st, err, "receiving from queue '%s'", b->queue);
            int rc = bus_handle_frame(b, &frame, NULL, NULL, err);
            if (rc)
                return rc;
            if (steady_now_ms() >= deadline)
                return 0;
            continue;
        }
        return bus_check_reply(b, r, err, "receiving from queue '%s'", b->queue);
    }
}

void bus_delivery_release(struct bus_delivery *d)
{
    if (!d)
        return;
    free(d->body);
    memset(d, 0, sizeof(*d));
}

const struct bus_delivery_header *bus_delivery_header(const struct bus_delivery *d, const char *key)
{
    for (size_t i = 0; i < d->nheaders; i++)
        if (strcmp(d->headers[i].key, key) == 0)
            return &d->headers[i];
    return NULL;
}

int bus_ack(struct bus *b, uint64_t tag, int multiple, struct err *err)
{
    if (!b->ready)
        return bus_not_connected(b, err, "acking");
    int st = amqp_basic_ack(b->conn, BUS_CHANNEL, tag, /* multiple = */ multiple ? 1 : 0);
    if (st != AMQP_STATUS_OK)
        return bus_fail_status(b, st, err, "acking delivery %llu", (unsigned long long)tag);
    return 0;
}

int bus_reject(struct bus *b, uint64_t tag, int requeue, struct err *err)
{
    if (!b->ready)
        return bus_not_connected(b, err, "rejecting");
    int st = amqp_basic_reject(b->conn, BUS_CHANNEL, tag, /* requeue = */ requeue ? 1 : 0);
    if (st != AMQP_STATUS_OK)
        return bus_fail_status(b, st, err, "rejecting delivery %llu", (unsigned long long)tag);
    return 0;
}
