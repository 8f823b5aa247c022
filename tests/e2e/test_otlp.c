/*
 * test_otlp.c - OpenTelemetry span export end to end (docs/observability.md
 * "Traces"): the six services, pointed at a stand-in collector with
 * OTEL_EXPORTER_OTLP_ENDPOINT, export one trace covering every hop of a
 * booking's saga. The collector is tests/standards/otlp_receiver.js, which
 * decodes each OTLP/HTTP JSON request with the official protobuf definitions
 * (@opentelemetry/otlp-transformer) and writes the decoded spans as JSON
 * lines; this test reads them:
 *
 *   server span  POST /bookings (booking)                     root of the trace
 *   per event    producer span (its publisher's relay)       span id = the outbox row's traceparent
 *                consumer span (each subscriber)              parent  = the producer span
 */
#include "e2e_harness.h"
#include "testlib.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define RECEIVER_WAIT_MS 15000
#define SPANS_WAIT_MS    20000

static struct {
    pid_t receiver;
    char port_file[256];
    char spans_file[256];
    char customer_id[E2E_ID_LEN];
    char offering_id[E2E_ID_LEN];
} fx;

static void start_receiver(char *endpoint, size_t len)
{
    snprintf(fx.port_file, sizeof(fx.port_file), "%s/otlp-port.%ld", OTLP_OUT_DIR, (long)getpid());
    snprintf(fx.spans_file, sizeof(fx.spans_file), "%s/otlp-spans.%ld.jsonl", OTLP_OUT_DIR,
             (long)getpid());
    unlink(fx.port_file);
    unlink(fx.spans_file);
    fx.receiver = fork();
    assert_true(fx.receiver >= 0);
    if (fx.receiver == 0) {
        execl("/bin/bash", "bash", STANDARDS_DIR "/run.sh", "otlp_receiver.js", fx.port_file,
              fx.spans_file, (char *)NULL);
        _exit(127);
    }
    for (int waited = 0; waited < RECEIVER_WAIT_MS; waited += 50) {
        FILE *f = fopen(fx.port_file, "r");
        int port = 0;
        if (f) {
            int got = fscanf(f, "%d", &port);
            fclose(f);
            if (got == 1 && port > 0) {
                snprintf(endpoint, len, "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d", port);
                return;
            }
        }
        int status;
        if (waitpid(fx.receiver, &status, WNOHANG) == fx.receiver) {
            fx.receiver = 0;
            fail_msg("the otlp receiver exited (status %d) before listening: see its error above",
                     status);
        }
        usleep(50 * 1000);
    }
    fail_msg("the otlp receiver did not listen within %d ms", RECEIVER_WAIT_MS);
}

static void stop_receiver(void)
{
    if (fx.receiver > 0) {
        kill(fx.receiver, SIGTERM);
        waitpid(fx.receiver, NULL, 0);
        fx.receiver = 0;
    }
}

static int setup(void **state)
{
    (void)state;
    static char endpoint[128];
    start_receiver(endpoint, sizeof(endpoint));
    const char *env[] = {endpoint, "OTEL_TRACES_SAMPLER=parentbased_always_on", NULL};
    e2e_setup(env);
    char email[128], owner[E2E_ID_LEN], provider[E2E_ID_LEN];
    e2e_unique_email(email, sizeof(email), "otlp-owner");
    e2e_create_user(email, "Otlp Owner", NULL, owner);
    e2e_unique_email(email, sizeof(email), "otlp-customer");
    e2e_create_user(email, "Otlp Customer", NULL, fx.customer_id);
    json_decref(e2e_create_provider(owner, NULL, provider));
    e2e_wait_handled(E2E_NOTIFICATION, "usermanagement.user.registered", "user_id", fx.customer_id,
                     E2E_WAIT_MS);
    e2e_create_offering(provider, "Exported Room", 1500, 5, NULL, fx.offering_id);
    e2e_wait_offering_known(fx.offering_id);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_teardown();
    stop_receiver();
    return 0;
}

/* Every span the receiver decoded so far in trace_id (a new array); fails on a request it refused. */
static json_t *spans_of(const char *trace_id)
{
    json_t *out = json_array();
    FILE *f = fopen(fx.spans_file, "r");
    if (!f)
        return out;
    char line[8192];
    while (fgets(line, sizeof(line), f)) {
        json_t *s = json_loads(line, 0, NULL);
        if (!s)
            continue; /* a line being written */
        if (json_object_get(s, "error")) {
            fclose(f);
            fail_msg("the otlp receiver refused a request: %s", e2e_str(s, "error"));
        }
        if (strcmp(e2e_str(s, "traceId"), trace_id) == 0)
            json_array_append(out, s);
        json_decref(s);
    }
    fclose(f);
    return out;
}

static const char *attr(const json_t *span, const char *key)
{
    json_t *v = json_object_get(json_object_get(span, "attributes"), key);
    static char buf[32];
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return json_is_string(v) ? json_string_value(v) : "<missing>";
}

/* The first span of spans with kind and field == value, or NULL. */
static json_t *find(json_t *spans, int kind, const char *field, const char *value)
{
    size_t i;
    json_t *s;
    json_array_foreach(spans, i, s) if (json_integer_value(json_object_get(s, "kind")) == kind &&
                                        strcmp(e2e_str(s, field), value) == 0) return s;
    return NULL;
}

/* What is still missing from spans for the saga's rows (outbox type, id, span id), or NULL. */
static const char *missing(json_t *spans, json_t *rows, char *buf, size_t len)
{
    if (!find(spans, 2, "name", "POST /bookings"))
        return "the server span of POST /bookings";
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *type = json_string_value(json_array_get(r, 0));
        const char *span = json_string_value(json_array_get(r, 2));
        if (!find(spans, 4, "spanId", span))
            snprintf(buf, len, "the producer span %s of %s", span, type);
        else if (!find(spans, 5, "parentSpanId", span))
            snprintf(buf, len, "a consumer span of %s (parent %s)", type, span);
        else
            continue;
        return buf;
    }
    return NULL;
}

static void test_a_booking_is_one_exported_trace_through_every_hop(void **state)
{
    (void)state;
    char cid[E2E_ID_LEN], body[256], path[128];
    e2e_new_uuid(cid);
    snprintf(body, sizeof(body), "{\"user_id\": \"%s\", \"offering_id\": \"%s\", \"quantity\": 1}",
             fx.customer_id, fx.offering_id);
    long status = 0;
    json_t *reply = NULL;
    e2e_post(E2E_BOOKING, "/bookings", body, cid, &status, &reply, NULL);
    if (status != 202)
        fail_msg("POST /bookings answered %ld: %s", status, e2e_dump(reply));
    snprintf(path, sizeof(path), "/bookings/%s", e2e_str(reply, "id"));
    json_decref(reply);
    json_decref(
        e2e_poll_field(E2E_BOOKING, path, "status", "confirmed", 30000, "the booking to confirm"));
    /* The last hop: notification's booking_confirmed notification. */
    e2e_wait_count("SELECT count(*) FROM notification.outbox WHERE correlation_id = $1", cid, NULL,
                   1, 20000, "the booking_confirmed notification of the booking");

    /* Each event of the saga: type, message id, producer span id (its traceparent's), trace id. */
    json_t *rows =
        e2e_rows("SELECT type, id::text, substr(traceparent, 37, 16), substr(traceparent, 4, 32)"
                 "  FROM (SELECT * FROM booking.outbox UNION ALL SELECT * FROM inventory.outbox"
                 "        UNION ALL SELECT * FROM payment.outbox"
                 "        UNION ALL SELECT * FROM notification.outbox) o"
                 " WHERE correlation_id = $1 ORDER BY created_at",
                 cid, NULL);
    static const char *const hops[] = {
        "booking.booking.created", "inventory.stock.reserved",  "payment.payment.succeeded",
        "inventory.stock.debited", "booking.booking.confirmed", "notification.notification.sent"};
    for (size_t h = 0; h < sizeof(hops) / sizeof(hops[0]); h++) {
        bool seen = false;
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) seen =
            seen || strcmp(json_string_value(json_array_get(r, 0)), hops[h]) == 0;
        if (!seen)
            fail_msg("no %s in the saga: %s", hops[h], e2e_dump(rows));
    }
    char trace_id[33];
    snprintf(trace_id, sizeof(trace_id), "%s",
             json_string_value(json_array_get(json_array_get(rows, 0), 3)));

    /* The exporters send every second: wait for all of it. */
    json_t *spans = NULL;
    const char *lack = "nothing yet";
    char buf[256];
    for (int waited = 0; lack && waited < SPANS_WAIT_MS; waited += 200) {
        json_decref(spans);
        spans = spans_of(trace_id);
        if ((lack = missing(spans, rows, buf, sizeof(buf))))
            usleep(200 * 1000);
    }
    if (lack)
        fail_msg("trace %s lacks %s after %d ms; spans: %s", trace_id, lack, SPANS_WAIT_MS,
                 e2e_dump(spans));

    json_t *server = find(spans, 2, "name", "POST /bookings");
    assert_string_equal(e2e_str(server, "service"), "booking");
    assert_string_equal(e2e_str(server, "parentSpanId"), ""); /* no traceparent came: the root */
    assert_string_equal(attr(server, "http.request.method"), "POST");
    assert_string_equal(attr(server, "url.path"), "/bookings");
    assert_string_equal(attr(server, "http.route"), "/bookings");
    assert_string_equal(attr(server, "http.response.status_code"), "202");

    size_t i, j;
    json_t *r, *s;
    json_array_foreach(rows, i, r)
    {
        const char *type = json_string_value(json_array_get(r, 0));
        const char *id = json_string_value(json_array_get(r, 1));
        const char *span = json_string_value(json_array_get(r, 2));
        json_t *p = find(spans, 4, "spanId", span);
        char publisher[64];
        snprintf(publisher, sizeof(publisher), "%.*s", (int)strcspn(type, "."), type);
        assert_string_equal(e2e_str(p, "service"), publisher);
        assert_string_equal(attr(p, "messaging.system"), "rabbitmq");
        assert_string_equal(attr(p, "messaging.operation"), "publish");
        assert_string_equal(attr(p, "messaging.destination.name"), "integration.events");
        assert_string_equal(attr(p, "messaging.rabbitmq.destination.routing_key"), type);
        assert_string_equal(attr(p, "messaging.message.id"), id);
        /* Every consumer span of the event: a child of its producer span, in its subscriber. */
        json_array_foreach(spans, j, s)
        {
            if (json_integer_value(json_object_get(s, "kind")) != 5 ||
                strcmp(e2e_str(s, "parentSpanId"), span) != 0)
                continue;
            char queue[80];
            snprintf(queue, sizeof(queue), "%s.events", e2e_str(s, "service"));
            assert_string_equal(attr(s, "messaging.operation"), "process");
            assert_string_equal(attr(s, "messaging.destination.name"), queue);
            assert_string_equal(attr(s, "messaging.message.id"), id);
            assert_string_equal(attr(s, "db.system"), "postgresql");
            assert_int_equal(json_integer_value(json_object_get(s, "status")), 0);
        }
    }
    /* Times: nanoseconds since the epoch, each span ending after it starts. */
    json_array_foreach(spans, j, s)
    {
        long long start = atoll(e2e_str(s, "start")), end = atoll(e2e_str(s, "end"));
        if (start < 1600000000000000000LL || end < start)
            fail_msg("span %s has start %lld, end %lld", e2e_str(s, "spanId"), start, end);
    }
    json_decref(spans);
    json_decref(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_booking_is_one_exported_trace_through_every_hop,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
