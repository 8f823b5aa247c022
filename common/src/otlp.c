/*
 * otlp.c - OpenTelemetry span export over OTLP/HTTP JSON (otlp.h).
 *
 *   otlp_*_span() ──push (mutex)──▶ queue (≤ OTLP_QUEUE_MAX) ──▶ exporter thread
 *                                    full: drop + count          every 1 s or OTLP_BATCH_MAX
 *                                                                 spans: POST /v1/traces
 *
 * The HTTP client is the smallest that does the job (HTTP/1.1, one request
 * per connection, Connection: close, socket timeouts): the endpoint is a
 * collector next to the service, and a library for this would be a new
 * dependency of every service. A batch that fails is dropped after one try:
 * traces are a diagnosis aid, never worth holding up or retrying the work.
 */
#include "common/otlp.h"

#include "common/log.h"
#include "common/metrics.h"

#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define OTLP_TIMEOUT_MS       2000 /* connect, send and receive, each */
#define OTLP_INTERVAL_MS      1000
#define OTLP_HOST_MAX         256
#define OTLP_PATH_MAX         512
#define OTLP_SERVICE_MAX      128
#define OTLP_EXCHANGE_DEFAULT "integration.events"

/* --- spans ------------------------------------------------------------------------ */

int64_t otlp_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct otlp_attr *attr_slot(struct otlp_span *s, const char *key)
{
    if (s->nattrs >= OTLP_ATTRS_MAX)
        return NULL;
    struct otlp_attr *a = &s->attrs[s->nattrs++];
    memset(a, 0, sizeof(*a));
    snprintf(a->key, sizeof(a->key), "%s", key);
    return a;
}

void otlp_attr(struct otlp_span *s, const char *key, const char *value)
{
    struct otlp_attr *a = attr_slot(s, key);
    if (a) /* a request's path may be any bytes: JSON needs UTF-8, or the batch is lost */
        log_sanitize_utf8(a->value, sizeof(a->value), value ? value : "");
}

void otlp_attr_int(struct otlp_span *s, const char *key, int64_t value)
{
    struct otlp_attr *a = attr_slot(s, key);
    if (a) {
        a->is_int = true;
        a->int_value = value;
    }
}

/* OTLP JSON: 64-bit integers (times, intValue) are decimal strings. */
static json_t *int64_string(int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    return json_string(buf);
}

static json_t *attr_value(const struct otlp_attr *a)
{
    return a->is_int ? json_pack("{s:o}", "intValue", int64_string(a->int_value))
                     : json_pack("{s:s}", "stringValue", a->value);
}

static json_t *encode_span(const struct otlp_span *s)
{
    json_t *attrs = json_array();
    for (size_t i = 0; attrs && i < s->nattrs; i++)
        json_array_append_new(attrs, json_pack("{s:s,s:o}", "key", s->attrs[i].key, "value",
                                               attr_value(&s->attrs[i])));
    json_t *span =
        json_pack("{s:s,s:s,s:s,s:i,s:o,s:o,s:o,s:{s:i}}", "traceId", s->trace_id, "spanId",
                  s->span_id, "name", s->name, "kind", (int)s->kind, "startTimeUnixNano",
                  int64_string(s->start_ns), "endTimeUnixNano", int64_string(s->end_ns),
                  "attributes", attrs ? attrs : json_array(), "status", "code", (int)s->status);
    /* A root has no parentSpanId at all: "" would be read as an invalid id by some decoders. */
    if (span && s->parent_id[0])
        json_object_set_new(span, "parentSpanId", json_string(s->parent_id));
    return span;
}

char *otlp_encode(const char *service, const struct otlp_span *spans, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++)
        if (json_array_append_new(list, encode_span(&spans[i])) != 0) {
            json_decref(list);
            return NULL;
        }
    if (!list)
        return NULL;
    json_t *req =
        json_pack("{s:[{s:{s:[{s:s,s:{s:s}}]},s:[{s:{s:s},s:o}]}]}", "resourceSpans", "resource",
                  "attributes", "key", "service.name", "value", "stringValue", service,
                  "scopeSpans", "scope", "name", "integration-events", "spans", list);
    if (!req)
        return NULL;
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    return text;
}

/* --- the queue --------------------------------------------------------------------- */

struct otlp_queue {
    pthread_mutex_t lock;
    pthread_cond_t ready; /* a batch is full, or stop was asked */
    struct otlp_span *ring;
    size_t capacity, head, n;
    struct metrics_counter *dropped;
};

static struct metrics_counter *dropped_counter(void)
{
    return metrics_counter("otlp_spans_dropped_total",
                           "spans not exported: queue full or the collector failed", NULL);
}

struct otlp_queue *otlp_queue_new(size_t capacity)
{
    struct otlp_queue *q = calloc(1, sizeof(*q));
    if (!q || !(q->ring = calloc(capacity ? capacity : 1, sizeof(*q->ring)))) {
        free(q);
        return NULL;
    }
    q->capacity = capacity ? capacity : 1;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->ready, NULL);
    q->dropped = dropped_counter();
    return q;
}

void otlp_queue_free(struct otlp_queue *q)
{
    if (!q)
        return;
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->ready);
    free(q->ring);
    free(q);
}

bool otlp_queue_push(struct otlp_queue *q, const struct otlp_span *s)
{
    pthread_mutex_lock(&q->lock);
    bool room = q->n < q->capacity;
    if (room) {
        q->ring[(q->head + q->n) % q->capacity] = *s;
        q->n++;
        if (q->n >= OTLP_BATCH_MAX)
            pthread_cond_signal(&q->ready);
    }
    pthread_mutex_unlock(&q->lock);
    if (!room)
        metrics_counter_inc(q->dropped);
    return room;
}

static size_t take_locked(struct otlp_queue *q, struct otlp_span *out, size_t max)
{
    size_t k = q->n < max ? q->n : max;
    for (size_t i = 0; i < k; i++)
        out[i] = q->ring[(q->head + i) % q->capacity];
    q->head = (q->head + k) % q->capacity;
    q->n -= k;
    return k;
}

size_t otlp_queue_take(struct otlp_queue *q, struct otlp_span *out, size_t max)
{
    pthread_mutex_lock(&q->lock);
    size_t k = take_locked(q, out, max);
    pthread_mutex_unlock(&q->lock);
    return k;
}

/* --- the HTTP client --------------------------------------------------------------- */

struct endpoint {
    char host[OTLP_HOST_MAX];
    char port[8];
    char path[OTLP_PATH_MAX];
};

/*
 * Splits "http://host[:port][/base]" into e; path is base + suffix ("" when
 * the variable names the full traces URL already).
 */
static int endpoint_parse(const char *url, const char *suffix, struct endpoint *e, struct err *err)
{
    static const char scheme[] = "http://";
    if (strncmp(url, scheme, sizeof(scheme) - 1) != 0)
        return err_set(err, ERR_INVALID,
                       "otlp endpoint '%s' is not http:// (https is not supported)", url);
    const char *host = url + sizeof(scheme) - 1;
    size_t hostlen = strcspn(host, ":/");
    const char *rest = host + hostlen;
    if (hostlen == 0 || hostlen >= sizeof(e->host))
        return err_set(err, ERR_INVALID, "otlp endpoint '%s' has no usable host", url);
    snprintf(e->host, sizeof(e->host), "%.*s", (int)hostlen, host);
    snprintf(e->port, sizeof(e->port), "80");
    if (*rest == ':') {
        size_t portlen = strcspn(rest + 1, "/");
        if (portlen == 0 || portlen >= sizeof(e->port) || strspn(rest + 1, "0123456789") != portlen)
            return err_set(err, ERR_INVALID, "otlp endpoint '%s' has no usable port", url);
        snprintf(e->port, sizeof(e->port), "%.*s", (int)portlen, rest + 1);
        rest += 1 + portlen;
    }
    size_t baselen = strlen(rest);
    while (baselen > 0 && rest[baselen - 1] == '/')
        baselen--; /* "http://c:4318/" + "/v1/traces" is not "//v1/traces" */
    int w = snprintf(e->path, sizeof(e->path), "%.*s%s", (int)baselen, rest, suffix);
    if (w < 0 || (size_t)w >= sizeof(e->path))
        return err_set(err, ERR_INVALID, "otlp endpoint '%s' is too long", url);
    if (!e->path[0])
        snprintf(e->path, sizeof(e->path), "/");
    return 0;
}

static int connect_to(const struct endpoint *e, struct err *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(e->host, e->port, &hints, &res);
    if (gai != 0)
        return err_set(err, ERR_TRANSIENT, "cannot resolve '%s': %s", e->host, gai_strerror(gai));
    int fd = -1;
    struct timeval tv = {.tv_sec = OTLP_TIMEOUT_MS / 1000,
                         .tv_usec = (OTLP_TIMEOUT_MS % 1000) * 1000};
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        /* On Linux SO_SNDTIMEO bounds connect() too. */
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return err_set(err, ERR_TRANSIENT, "cannot connect to '%s:%s': %s", e->host, e->port,
                       strerror(errno));
    return fd;
}

static int send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, data, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

/* POSTs body; 0 when the collector answered 2xx. */
static int http_post(const struct endpoint *e, const char *body, struct err *err)
{
    int fd = connect_to(e, err);
    if (fd < 0)
        return fd;
    char head[OTLP_HOST_MAX + OTLP_PATH_MAX + 256];
    size_t len = strlen(body);
    snprintf(head, sizeof(head),
             "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n",
             e->path, e->host, e->port, len);
    if (send_all(fd, head, strlen(head)) != 0 || send_all(fd, body, len) != 0) {
        int rc = err_set(err, ERR_TRANSIENT, "cannot send to '%s:%s': %s", e->host, e->port,
                         strerror(errno));
        close(fd);
        return rc;
    }
    /* The status line is all we need: "HTTP/1.1 200 OK". */
    char reply[64] = {0};
    size_t got = 0;
    while (got < sizeof(reply) - 1 && !memchr(reply, '\n', got)) {
        ssize_t r = recv(fd, reply + got, sizeof(reply) - 1 - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    const char *code = strncmp(reply, "HTTP/", 5) == 0 ? strchr(reply, ' ') : NULL;
    char *end = NULL;
    long status = code ? strtol(code + 1, &end, 10) : 0;
    if (!code || end == code + 1)
        return err_set(err, ERR_TRANSIENT, "no HTTP answer from '%s:%s'", e->host, e->port);
    if (status < 200 || status > 299)
        return err_set(err, ERR_TRANSIENT, "collector '%s:%s' answered %ld", e->host, e->port,
                       status);
    return 0;
}

/* --- the exporter ------------------------------------------------------------------ */

enum sampler { SAMPLER_ALWAYS_ON, SAMPLER_ALWAYS_OFF, SAMPLER_PARENT_ON };

static struct {
    bool on;
    bool stopping;
    enum sampler sampler;
    char service[OTLP_SERVICE_MAX];
    struct endpoint endpoint;
    struct otlp_queue *queue;
    pthread_t thread;
    struct otlp_span batch[OTLP_BATCH_MAX]; /* the exporter thread's */
    struct metrics_counter *dropped;
    bool warned;
} exporter;

static void export_batch(size_t n)
{
    struct err err;
    err_clear(&err);
    char *body = otlp_encode(exporter.service, exporter.batch, n);
    int rc = body ? http_post(&exporter.endpoint, body, &err)
                  : err_set(&err, ERR_NOMEM, "out of memory");
    free(body);
    if (rc == 0)
        return;
    metrics_counter_add(exporter.dropped, n);
    if (!exporter.warned) /* once: a collector that is down would fill the log */
        log_warn("otlp export of %zu spans failed (dropped; later failures only counted): %s", n,
                 err.msg);
    exporter.warned = true;
}

static void *exporter_main(void *arg)
{
    (void)arg;
    struct otlp_queue *q = exporter.queue;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        if (!exporter.stopping && q->n < OTLP_BATCH_MAX) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += OTLP_INTERVAL_MS / 1000;
            pthread_cond_timedwait(&q->ready, &q->lock, &until);
        }
        bool stopping = exporter.stopping;
        size_t n = take_locked(q, exporter.batch, OTLP_BATCH_MAX);
        pthread_mutex_unlock(&q->lock);
        if (n)
            export_batch(n);
        if (stopping && n < OTLP_BATCH_MAX) /* drained: nothing is pushed once stopping */
            return NULL;
    }
}

int otlp_start(const char *default_service, struct err *err)
{
    const char *traces = getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    const char *base = getenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    bool full = traces && traces[0]; /* the signal's own variable is the full URL */
    const char *url = full ? traces : base;
    if (!url || !url[0])
        return 0;
    if (exporter.on)
        return err_set(err, ERR_INVALID, "otlp exporter started twice");
    int rc = endpoint_parse(url, full ? "" : "/v1/traces", &exporter.endpoint, err);
    if (rc)
        return rc;
    const char *sampler = getenv("OTEL_TRACES_SAMPLER");
    if (!sampler || !sampler[0] || strcmp(sampler, "parentbased_always_on") == 0)
        exporter.sampler = SAMPLER_PARENT_ON;
    else if (strcmp(sampler, "always_on") == 0)
        exporter.sampler = SAMPLER_ALWAYS_ON;
    else if (strcmp(sampler, "always_off") == 0)
        exporter.sampler = SAMPLER_ALWAYS_OFF;
    else
        return err_set(err, ERR_INVALID,
                       "OTEL_TRACES_SAMPLER '%s' is not supported (always_on, always_off, "
                       "parentbased_always_on)",
                       sampler);
    const char *service = getenv("OTEL_SERVICE_NAME");
    log_sanitize_utf8(exporter.service, sizeof(exporter.service),
                      service && service[0] ? service : default_service);
    if (exporter.sampler == SAMPLER_ALWAYS_OFF)
        return 0; /* nothing would ever be sent */
    if (!(exporter.queue = otlp_queue_new(OTLP_QUEUE_MAX)))
        return err_set(err, ERR_NOMEM, "out of memory for the otlp queue");
    exporter.dropped = dropped_counter();
    exporter.stopping = false;
    exporter.warned = false;
    if (pthread_create(&exporter.thread, NULL, exporter_main, NULL) != 0) {
        otlp_queue_free(exporter.queue);
        exporter.queue = NULL;
        return err_set(err, ERR_INTERNAL, "cannot start the otlp exporter thread");
    }
    exporter.on = true;
    log_info("exporting spans to 'http://%s:%s%s' as '%s'", exporter.endpoint.host,
             exporter.endpoint.port, exporter.endpoint.path, exporter.service);
    return 0;
}

void otlp_stop(void)
{
    if (!exporter.on)
        return;
    pthread_mutex_lock(&exporter.queue->lock);
    exporter.stopping = true;
    pthread_cond_signal(&exporter.queue->ready);
    pthread_mutex_unlock(&exporter.queue->lock);
    exporter.on = false; /* from here spans are not queued */
    pthread_join(exporter.thread, NULL);
    otlp_queue_free(exporter.queue);
    exporter.queue = NULL;
}

bool otlp_wanted(const struct trace_context *t)
{
    if (!exporter.on || !t)
        return false;
    return exporter.sampler == SAMPLER_ALWAYS_ON || (t->flags & 1) != 0;
}

static void span_init(struct otlp_span *s, const struct trace_context *t, const char *name,
                      enum otlp_kind kind, int64_t start_ns)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->trace_id, sizeof(s->trace_id), "%s", t->trace_id);
    snprintf(s->span_id, sizeof(s->span_id), "%s", t->span_id);
    snprintf(s->parent_id, sizeof(s->parent_id), "%s", t->parent_id);
    log_sanitize_utf8(s->name, sizeof(s->name), name);
    s->kind = kind;
    s->start_ns = start_ns;
    s->end_ns = otlp_now_ns();
}

void otlp_server_span(const struct trace_context *span, int64_t start_ns, const char *method,
                      const char *path, const char *route, int status)
{
    if (!otlp_wanted(span))
        return;
    struct otlp_span s;
    char name[OTLP_NAME_MAX];
    snprintf(name, sizeof(name), "%s %s", method, route ? route : "");
    span_init(&s, span, route ? name : method, OTLP_KIND_SERVER, start_ns);
    s.status = status >= 500 ? OTLP_STATUS_ERROR : OTLP_STATUS_UNSET; /* 4xx is the client's */
    otlp_attr(&s, "http.request.method", method);
    otlp_attr(&s, "url.path", path);
    if (route)
        otlp_attr(&s, "http.route", route);
    otlp_attr_int(&s, "http.response.status_code", status);
    otlp_queue_push(exporter.queue, &s);
}

void otlp_producer_span(const char *traceparent, int64_t start_ns, const char *exchange,
                        const char *routing_key, const char *message_id, bool acked)
{
    struct trace_context t;
    if (!traceparent || !trace_parse(traceparent, &t) || !otlp_wanted(&t))
        return;
    const char *dest = exchange && exchange[0] ? exchange : OTLP_EXCHANGE_DEFAULT;
    struct otlp_span s;
    char name[OTLP_NAME_MAX];
    snprintf(name, sizeof(name), "publish %s", dest);
    span_init(&s, &t, name, OTLP_KIND_PRODUCER, start_ns);
    s.status = acked ? OTLP_STATUS_UNSET : OTLP_STATUS_ERROR;
    otlp_attr(&s, "messaging.system", "rabbitmq");
    otlp_attr(&s, "messaging.operation", "publish");
    otlp_attr(&s, "messaging.destination.name", dest);
    otlp_attr(&s, "messaging.rabbitmq.destination.routing_key", routing_key);
    otlp_attr(&s, "messaging.message.id", message_id);
    otlp_queue_push(exporter.queue, &s);
}

void otlp_consumer_span(const struct trace_context *span, int64_t start_ns, const char *queue,
                        const char *type, const char *message_id, bool ok)
{
    if (!otlp_wanted(span))
        return;
    struct otlp_span s;
    char name[OTLP_NAME_MAX];
    snprintf(name, sizeof(name), "process %s", queue);
    span_init(&s, span, name, OTLP_KIND_CONSUMER, start_ns);
    s.status = ok ? OTLP_STATUS_UNSET : OTLP_STATUS_ERROR;
    otlp_attr(&s, "messaging.system", "rabbitmq");
    otlp_attr(&s, "messaging.operation", "process");
    otlp_attr(&s, "messaging.destination.name", queue);
    otlp_attr(&s, "messaging.rabbitmq.destination.routing_key", type);
    otlp_attr(&s, "messaging.message.id", message_id);
    otlp_attr(&s, "db.system", "postgresql");
    otlp_queue_push(exporter.queue, &s);
}
