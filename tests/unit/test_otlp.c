/*
 * test_otlp.c - the OTLP span exporter: the JSON encoding of a batch (the
 * OTLP/HTTP JSON mapping: hex ids, nanos as strings, kind and status as
 * numbers, no parentSpanId on a root), the bounded queue (oldest first, drop
 * and count when full), one export to a loopback listener standing in for a
 * collector (request line, headers, body), sent at otlp_stop, and one to a
 * port nobody listens on (dropped and counted).
 */
#include "common/otlp.h"

#include "common/metrics.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void make_span(struct otlp_span *s, const char *span_id, const char *parent_id)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->trace_id, sizeof(s->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    snprintf(s->span_id, sizeof(s->span_id), "%s", span_id);
    snprintf(s->parent_id, sizeof(s->parent_id), "%s", parent_id);
    snprintf(s->name, sizeof(s->name), "POST /bookings");
    s->kind = OTLP_KIND_SERVER;
    s->start_ns = 1700000000123456789LL;
    s->end_ns = 1700000000223456789LL;
    s->status = OTLP_STATUS_ERROR;
}

static void encode_follows_the_otlp_json_mapping(void **state)
{
    (void)state;
    struct otlp_span spans[2];
    make_span(&spans[0], "00f067aa0ba902b7", "");
    otlp_attr(&spans[0], "http.request.method", "POST");
    otlp_attr_int(&spans[0], "http.response.status_code", 201);
    make_span(&spans[1], "b7ad6b7169203331", "00f067aa0ba902b7");
    spans[1].kind = OTLP_KIND_CONSUMER;
    spans[1].status = OTLP_STATUS_UNSET;

    char *text = otlp_encode("booking", spans, 2);
    assert_non_null(text);
    json_error_t jerr;
    json_t *req = json_loads(text, 0, &jerr);
    assert_non_null(req);
    json_t *rs = json_array_get(json_object_get(req, "resourceSpans"), 0);
    json_t *rattr =
        json_array_get(json_object_get(json_object_get(rs, "resource"), "attributes"), 0);
    assert_string_equal(json_string_value(json_object_get(rattr, "key")), "service.name");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(rattr, "value"), "stringValue")),
        "booking");
    json_t *list = json_object_get(json_array_get(json_object_get(rs, "scopeSpans"), 0), "spans");
    assert_int_equal(json_array_size(list), 2);

    json_t *s0 = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(s0, "traceId")),
                        "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(json_string_value(json_object_get(s0, "spanId")), "00f067aa0ba902b7");
    assert_null(json_object_get(s0, "parentSpanId"));
    assert_string_equal(json_string_value(json_object_get(s0, "name")), "POST /bookings");
    assert_int_equal(json_integer_value(json_object_get(s0, "kind")), 2);
    assert_string_equal(json_string_value(json_object_get(s0, "startTimeUnixNano")),
                        "1700000000123456789");
    assert_string_equal(json_string_value(json_object_get(s0, "endTimeUnixNano")),
                        "1700000000223456789");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(s0, "status"), "code")), 2);
    json_t *attrs = json_object_get(s0, "attributes");
    assert_int_equal(json_array_size(attrs), 2);
    json_t *a0 = json_array_get(attrs, 0), *a1 = json_array_get(attrs, 1);
    assert_string_equal(json_string_value(json_object_get(a0, "key")), "http.request.method");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(a0, "value"), "stringValue")), "POST");
    assert_string_equal(json_string_value(json_object_get(a1, "key")), "http.response.status_code");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(a1, "value"), "intValue")), "201");

    json_t *s1 = json_array_get(list, 1);
    assert_string_equal(json_string_value(json_object_get(s1, "parentSpanId")), "00f067aa0ba902b7");
    assert_int_equal(json_integer_value(json_object_get(s1, "kind")), 5);
    assert_int_equal(json_array_size(json_object_get(s1, "attributes")), 0);
    json_decref(req);
    free(text);
}

/* A request's path is any bytes: one that is not UTF-8 must not cost the batch. */
static void text_that_is_not_utf8_is_encoded_anyway(void **state)
{
    (void)state;
    struct otlp_span s;
    make_span(&s, "00f067aa0ba902b7", "");
    otlp_attr(&s, "url.path", "/bookings/\xff\xfe");
    char *text = otlp_encode("booking", &s, 1);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"/bookings/\xef\xbf\xbd\xef\xbf\xbd\"")); /* U+FFFD twice */
    free(text);
}

static void attrs_beyond_the_limit_are_ignored(void **state)
{
    (void)state;
    struct otlp_span s;
    make_span(&s, "00f067aa0ba902b7", "");
    for (int i = 0; i < OTLP_ATTRS_MAX + 3; i++)
        otlp_attr(&s, "k", "v");
    assert_int_equal(s.nattrs, OTLP_ATTRS_MAX);
}

static void queue_keeps_order_and_drops_when_full(void **state)
{
    (void)state;
    metrics_reset_for_tests();
    struct otlp_queue *q = otlp_queue_new(3);
    assert_non_null(q);
    const char *ids[] = {"0000000000000001", "0000000000000002", "0000000000000003",
                         "0000000000000004", "0000000000000005"};
    struct otlp_span s, out[8];
    for (int i = 0; i < 5; i++) {
        make_span(&s, ids[i], "");
        assert_int_equal(otlp_queue_push(q, &s), i < 3);
    }
    char *text = metrics_render();
    assert_non_null(strstr(text, "\notlp_spans_dropped_total 2\n"));
    free(text);

    assert_int_equal(otlp_queue_take(q, out, 2), 2);
    assert_string_equal(out[0].span_id, ids[0]);
    assert_string_equal(out[1].span_id, ids[1]);
    /* Room again, and the ring wraps in order. */
    make_span(&s, ids[3], "");
    assert_true(otlp_queue_push(q, &s));
    assert_int_equal(otlp_queue_take(q, out, 8), 2);
    assert_string_equal(out[0].span_id, ids[2]);
    assert_string_equal(out[1].span_id, ids[3]);
    assert_int_equal(otlp_queue_take(q, out, 8), 0);
    otlp_queue_free(q);
    otlp_queue_free(NULL);
}

/* --- one export to a loopback "collector" ---------------------------------------- */

struct collector {
    int listener;
    char request[65536];
    size_t len;
};

static void *collector_main(void *arg)
{
    struct collector *c = arg;
    int fd = accept(c->listener, NULL, NULL);
    if (fd < 0)
        return NULL;
    ssize_t r;
    /* The client sends Connection: close and waits for the status line only: read to the body's end. */
    while (c->len < sizeof(c->request) - 1 &&
           (r = recv(fd, c->request + c->len, sizeof(c->request) - 1 - c->len, 0)) > 0) {
        c->len += (size_t)r;
        c->request[c->len] = '\0';
        const char *body = strstr(c->request, "\r\n\r\n");
        const char *cl = strstr(c->request, "Content-Length: ");
        if (body && cl && (size_t)(c->request + c->len - (body + 4)) >= strtoul(cl + 16, NULL, 10))
            break;
    }
    static const char ok[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    ssize_t w = send(fd, ok, sizeof(ok) - 1, MSG_NOSIGNAL);
    (void)w;
    close(fd);
    return NULL;
}

static void exporter_posts_spans_to_the_collector(void **state)
{
    (void)state;
    static struct collector c;
    c.listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(c.listener, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(c.listener, 4), 0);
    socklen_t alen = sizeof(addr);
    assert_int_equal(getsockname(c.listener, (struct sockaddr *)&addr, &alen), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, collector_main, &c), 0);

    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(addr.sin_port));
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url, 1);
    setenv("OTEL_SERVICE_NAME", "unit-test", 1);
    struct err err;
    err_clear(&err);
    assert_int_equal(otlp_start("booking", &err), 0);

    struct trace_context root, child;
    trace_start(&root);
    trace_child(&root, &child);
    otlp_server_span(&root, otlp_now_ns(), "POST", "/bookings", "/bookings", 201);
    otlp_consumer_span(&child, otlp_now_ns(), "inventory.events", "booking.booking.created",
                       "0190b2a0-0000-7000-8000-000000000001", true);
    otlp_stop(); /* sends what is queued */
    pthread_join(t, NULL);
    close(c.listener);

    assert_true(strncmp(c.request, "POST /v1/traces HTTP/1.1\r\n", 26) == 0);
    assert_non_null(strstr(c.request, "\r\nContent-Type: application/json\r\n"));
    const char *body = strstr(c.request, "\r\n\r\n");
    assert_non_null(body);
    json_error_t jerr;
    json_t *req = json_loads(body + 4, 0, &jerr);
    assert_non_null(req);
    json_t *rs = json_array_get(json_object_get(req, "resourceSpans"), 0);
    json_t *rattr =
        json_array_get(json_object_get(json_object_get(rs, "resource"), "attributes"), 0);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(rattr, "value"), "stringValue")),
        "unit-test");
    json_t *list = json_object_get(json_array_get(json_object_get(rs, "scopeSpans"), 0), "spans");
    assert_int_equal(json_array_size(list), 2);
    json_t *server = json_array_get(list, 0), *consumer = json_array_get(list, 1);
    assert_string_equal(json_string_value(json_object_get(server, "spanId")), root.span_id);
    assert_string_equal(json_string_value(json_object_get(consumer, "parentSpanId")), root.span_id);
    assert_string_equal(json_string_value(json_object_get(consumer, "traceId")), root.trace_id);
    assert_int_equal(json_integer_value(json_object_get(consumer, "kind")), OTLP_KIND_CONSUMER);
    json_decref(req);
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
}

/* A collector that is not there: the batch is dropped after one try and counted, nothing waits. */
static void a_failed_export_is_dropped_and_counted(void **state)
{
    (void)state;
    metrics_reset_for_tests();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    socklen_t alen = sizeof(addr);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &alen), 0);
    close(fd); /* nobody listens on that port now: connect is refused */
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(addr.sin_port));
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url, 1);
    struct err err;
    err_clear(&err);
    assert_int_equal(otlp_start("booking", &err), 0);
    struct trace_context t;
    for (int i = 0; i < 3; i++) {
        trace_start(&t);
        otlp_server_span(&t, otlp_now_ns(), "GET", "/x", "/x", 200);
    }
    otlp_stop();
    char *text = metrics_render();
    assert_non_null(strstr(text, "\notlp_spans_dropped_total 3\n"));
    free(text);
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
}

static void off_without_an_endpoint(void **state)
{
    (void)state;
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    struct err err;
    err_clear(&err);
    assert_int_equal(otlp_start("booking", &err), 0);
    struct trace_context t;
    trace_start(&t);
    assert_false(otlp_wanted(&t));
    otlp_server_span(&t, otlp_now_ns(), "GET", "/x", NULL, 200); /* no queue: must not crash */
    otlp_stop();
}

static void refuses_what_it_cannot_use(void **state)
{
    (void)state;
    struct err err;
    err_clear(&err);
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318", 1);
    assert_int_equal(otlp_start("booking", &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "https"));
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", 1);
    setenv("OTEL_TRACES_SAMPLER", "jaeger_remote", 1);
    assert_int_equal(otlp_start("booking", &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "jaeger_remote"));
    setenv("OTEL_TRACES_SAMPLER", "always_off", 1);
    assert_int_equal(otlp_start("booking", &err), 0);
    struct trace_context t;
    trace_start(&t);
    assert_false(otlp_wanted(&t));
    otlp_stop();
    unsetenv("OTEL_TRACES_SAMPLER");
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_follows_the_otlp_json_mapping),
        cmocka_unit_test(attrs_beyond_the_limit_are_ignored),
        cmocka_unit_test(text_that_is_not_utf8_is_encoded_anyway),
        cmocka_unit_test(queue_keeps_order_and_drops_when_full),
        cmocka_unit_test(exporter_posts_spans_to_the_collector),
        cmocka_unit_test(a_failed_export_is_dropped_and_counted),
        cmocka_unit_test(off_without_an_endpoint),
        cmocka_unit_test(refuses_what_it_cannot_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
