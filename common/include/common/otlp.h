/*
 * otlp.h - OpenTelemetry span export over OTLP/HTTP with the JSON encoding.
 *
 * Finished spans (an HTTP request, a relay publish, a consumer's handling)
 * are pushed into a bounded in-memory queue under a mutex; one exporter
 * thread posts them in batches to {endpoint}/v1/traces. Nothing here blocks a
 * handler or a request: a full queue drops the span, a failed post drops its
 * batch after one try, both counted in /metrics (otlp_spans_dropped_total).
 *
 * Off entirely (otlp_*_span() return at once) unless the standard variable
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set;
 * OTEL_SERVICE_NAME and OTEL_TRACES_SAMPLER are read too (docs/observability.md).
 * Only plain http:// endpoints: the collector is expected next to the service.
 */
#ifndef COMMON_OTLP_H
#define COMMON_OTLP_H

#include "common/err.h"
#include "common/trace.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OTLP_QUEUE_MAX      2048 /* spans waiting for the exporter; more are dropped */
#define OTLP_BATCH_MAX      512  /* spans per request */
#define OTLP_NAME_MAX       160
#define OTLP_ATTRS_MAX      8
#define OTLP_ATTR_KEY_MAX   64
#define OTLP_ATTR_VALUE_MAX 160

/* SpanKind, numbered as in the OTLP protobuf. */
enum otlp_kind {
    OTLP_KIND_SERVER = 2,
    OTLP_KIND_PRODUCER = 4,
    OTLP_KIND_CONSUMER = 5,
};

/* Status code, numbered as in the OTLP protobuf. */
enum otlp_status {
    OTLP_STATUS_UNSET = 0,
    OTLP_STATUS_OK = 1,
    OTLP_STATUS_ERROR = 2,
};

struct otlp_attr {
    char key[OTLP_ATTR_KEY_MAX];
    char value[OTLP_ATTR_VALUE_MAX]; /* a string, unless is_int */
    bool is_int;
    int64_t int_value;
};

/* One finished span, self-contained (no pointers), so the queue copies it. */
struct otlp_span {
    char trace_id[TRACE_ID_HEX + 1];
    char span_id[TRACE_SPAN_HEX + 1];
    char parent_id[TRACE_SPAN_HEX + 1]; /* "" for a root */
    char name[OTLP_NAME_MAX];
    enum otlp_kind kind;
    int64_t start_ns, end_ns; /* unix time in nanoseconds */
    enum otlp_status status;
    struct otlp_attr attrs[OTLP_ATTRS_MAX];
    size_t nattrs;
};

/* --- the exporter of this process ---------------------------------------------- */

/*
 * Reads the OTEL_* variables and, when an endpoint is set, starts the
 * exporter thread. default_service names the service when OTEL_SERVICE_NAME
 * is unset. Returns 0 (also when off), or ERR_INVALID for an endpoint or a
 * sampler it cannot use.
 */
int otlp_start(const char *default_service, struct err *err);

/*
 * Sends what is queued (one try), stops the thread. A no-op when not started.
 * Call after every thread that records spans has stopped.
 */
void otlp_stop(void);

/* True when spans of trace t are exported (an endpoint is set and the sampler keeps it). */
bool otlp_wanted(const struct trace_context *t);

/* Unix time now in nanoseconds: a span's start and end. */
int64_t otlp_now_ns(void);

/* The server span of an HTTP request that started at start_ns and was answered with status. */
void otlp_server_span(const struct trace_context *span, int64_t start_ns, const char *method,
                      const char *path, const char *route, int status);

/*
 * The producer span of a relay publish: span is the outbox row's traceparent
 * (its span id is the producer span; the writer's span is not stored, so the
 * span has no parent). acked: the broker confirmed it.
 */
void otlp_producer_span(const char *traceparent, int64_t start_ns, const char *exchange,
                        const char *routing_key, const char *message_id, bool acked);

/* The consumer span of one handling of an event from queue (span: a child of the event's). */
void otlp_consumer_span(const struct trace_context *span, int64_t start_ns, const char *queue,
                        const char *type, const char *message_id, bool ok);

/* --- the pieces, public for the tests ------------------------------------------ */

/* Adds a string (or integer) attribute; one past OTLP_ATTRS_MAX is ignored. */
void otlp_attr(struct otlp_span *s, const char *key, const char *value);
void otlp_attr_int(struct otlp_span *s, const char *key, int64_t value);

/*
 * Encodes spans (n of them) of service as an OTLP/HTTP JSON
 * ExportTraceServiceRequest. Returns a new string (free it), or NULL when out
 * of memory.
 */
char *otlp_encode(const char *service, const struct otlp_span *spans, size_t n);

/* A bounded queue of spans; thread-safe. */
struct otlp_queue;

/* New queue holding at most capacity spans, or NULL when out of memory. */
struct otlp_queue *otlp_queue_new(size_t capacity);
void otlp_queue_free(struct otlp_queue *q);

/* Copies s in; when full, drops it, counts otlp_spans_dropped_total and returns false. */
bool otlp_queue_push(struct otlp_queue *q, const struct otlp_span *s);

/* Moves up to max of the oldest spans into out; returns how many. */
size_t otlp_queue_take(struct otlp_queue *q, struct otlp_span *out, size_t max);

#endif
