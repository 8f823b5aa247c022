/*
 * test_metrics.c - the metrics registry: exact Prometheus text for each
 * type, get-or-create identity, escaping, refusals that hand out dummies
 * (logged once), and exact sums under concurrent updates.
 */
#include "common/metrics.h"

#include "common/err.h"
#include "common/log.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reset(void **state)
{
    (void)state;
    metrics_reset_for_tests();
    return 0;
}

static void assert_rendered(const char *expected)
{
    char *text = metrics_render();
    assert_non_null(text);
    assert_string_equal(text, expected);
    free(text);
}

/* Counts the lines a block of code logs. */
static FILE *log_capture(void)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    log_set_stream(f);
    return f;
}

static int log_lines(FILE *f)
{
    log_set_stream(NULL);
    rewind(f);
    int lines = 0;
    for (int c; (c = fgetc(f)) != EOF;)
        lines += c == '\n';
    fclose(f);
    return lines;
}

static void test_empty_registry_renders_empty_text(void **state)
{
    (void)state;
    assert_rendered("");
}

static void test_counter_renders_help_type_and_value(void **state)
{
    (void)state;
    struct metrics_counter *c = metrics_counter("events_published_total", "Events published", NULL);
    metrics_counter_add(c, 41);
    metrics_counter_inc(c);
    assert_rendered("# HELP events_published_total Events published\n"
                    "# TYPE events_published_total counter\n"
                    "events_published_total 42\n");
}

static void test_same_name_and_labels_return_the_same_series(void **state)
{
    (void)state;
    const char *help = "Events consumed, by type";
    struct metrics_counter *a = metrics_counter("events_consumed_total", help, "type=\"a.b.c\"");
    struct metrics_counter *b = metrics_counter("events_consumed_total", help, "type=\"x.y.z\"");
    struct metrics_counter *a2 =
        metrics_counter("events_consumed_total", "other help", "type=\"a.b.c\"");
    assert_ptr_equal(a, a2);
    assert_ptr_not_equal(a, b);
    assert_ptr_equal(metrics_counter("outbox_x_total", NULL, NULL),
                     metrics_counter("outbox_x_total", NULL, ""));
    metrics_counter_inc(a);
    metrics_counter_inc(a2);
    metrics_counter_add(b, 5);
    /* One family header, the first help, series in registration order. */
    assert_rendered("# HELP events_consumed_total Events consumed, by type\n"
                    "# TYPE events_consumed_total counter\n"
                    "events_consumed_total{type=\"a.b.c\"} 2\n"
                    "events_consumed_total{type=\"x.y.z\"} 5\n"
                    "# TYPE outbox_x_total counter\n"
                    "outbox_x_total 0\n");
}

static void test_families_stay_grouped_when_registered_interleaved(void **state)
{
    (void)state;
    metrics_counter("a_total", "A", "k=\"1\"");
    metrics_gauge("b", "B", NULL);
    metrics_counter("a_total", "A", "k=\"2\"");
    assert_rendered("# HELP a_total A\n# TYPE a_total counter\n"
                    "a_total{k=\"1\"} 0\na_total{k=\"2\"} 0\n"
                    "# HELP b B\n# TYPE b gauge\nb 0\n");
}

static void test_gauge_renders_the_shortest_exact_number(void **state)
{
    (void)state;
    struct metrics_gauge *pending = metrics_gauge("outbox_pending", "Rows not yet published", NULL);
    struct metrics_gauge *age = metrics_gauge("outbox_oldest_pending_seconds", "Age", NULL);
    struct metrics_gauge *tiny = metrics_gauge("tiny", "", NULL);
    metrics_gauge_set(pending, 12);
    metrics_gauge_set(age, 0.1);
    metrics_gauge_set(tiny, -2.5e-7);
    assert_rendered("# HELP outbox_pending Rows not yet published\n"
                    "# TYPE outbox_pending gauge\n"
                    "outbox_pending 12\n"
                    "# HELP outbox_oldest_pending_seconds Age\n"
                    "# TYPE outbox_oldest_pending_seconds gauge\n"
                    "outbox_oldest_pending_seconds 0.1\n"
                    "# TYPE tiny gauge\n"
                    "tiny -2.5e-07\n");
    metrics_gauge_set(pending, 3);
    char *text = metrics_render();
    assert_non_null(strstr(text, "\noutbox_pending 3\n"));
    free(text);
}

static void test_numbers_are_written_like_the_go_client(void **state)
{
    (void)state;
    static const struct {
        double value;
        const char *text;
    } cases[] = {
        {0, "0"},           {30, "30"},
        {250000, "250000"}, {123456.789, "123456.789"},
        {1e6, "1e+06"},     {1234567, "1.234567e+06"},
        {0.0005, "0.0005"}, {0.00005, "5e-05"},
        {-1.5, "-1.5"},     {0.1 + 0.2, "0.30000000000000004"},
        {INFINITY, "+Inf"}, {-INFINITY, "-Inf"},
        {NAN, "NaN"},
    };
    struct metrics_gauge *g = metrics_gauge("g", NULL, NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        metrics_gauge_set(g, cases[i].value);
        char expected[64];
        snprintf(expected, sizeof(expected), "# TYPE g gauge\ng %s\n", cases[i].text);
        assert_rendered(expected);
    }
}

static void test_histogram_renders_cumulative_buckets_sum_and_count(void **state)
{
    (void)state;
    static const double bounds[] = {0.5, 1, 4};
    struct metrics_histogram *h =
        metrics_histogram("handler_duration_seconds", "Handler time", "type=\"a.b.c\"", bounds, 3);
    metrics_histogram_observe(h, 0.25);
    metrics_histogram_observe(h, 0.5); /* le is inclusive */
    metrics_histogram_observe(h, 0.5);
    metrics_histogram_observe(h, 2);
    metrics_histogram_observe(h, 16);
    metrics_histogram_observe(h, NAN); /* ignored */
    assert_rendered("# HELP handler_duration_seconds Handler time\n"
                    "# TYPE handler_duration_seconds histogram\n"
                    "handler_duration_seconds_bucket{type=\"a.b.c\",le=\"0.5\"} 3\n"
                    "handler_duration_seconds_bucket{type=\"a.b.c\",le=\"1\"} 3\n"
                    "handler_duration_seconds_bucket{type=\"a.b.c\",le=\"4\"} 4\n"
                    "handler_duration_seconds_bucket{type=\"a.b.c\",le=\"+Inf\"} 5\n"
                    "handler_duration_seconds_sum{type=\"a.b.c\"} 19.25\n"
                    "handler_duration_seconds_count{type=\"a.b.c\"} 5\n");
}

static void test_histogram_copies_bounds_and_renders_default_latency_buckets(void **state)
{
    (void)state;
    double bounds[METRICS_LATENCY_NBUCKETS];
    memcpy(bounds, METRICS_LATENCY_BUCKETS, sizeof(bounds));
    struct metrics_histogram *h = metrics_histogram("event_critical_time_seconds", NULL, NULL,
                                                    bounds, METRICS_LATENCY_NBUCKETS);
    memset(bounds, 0, sizeof(bounds)); /* the registry kept its own copy */
    metrics_histogram_observe(h, 0.0007);
    char *text = metrics_render();
    assert_non_null(text);
    assert_non_null(strstr(text, "# TYPE event_critical_time_seconds histogram\n"
                                 "event_critical_time_seconds_bucket{le=\"0.0005\"} 0\n"
                                 "event_critical_time_seconds_bucket{le=\"0.001\"} 1\n"
                                 "event_critical_time_seconds_bucket{le=\"0.0025\"} 1\n"));
    assert_non_null(strstr(text, "event_critical_time_seconds_bucket{le=\"30\"} 1\n"
                                 "event_critical_time_seconds_bucket{le=\"+Inf\"} 1\n"
                                 "event_critical_time_seconds_sum 0.0007\n"
                                 "event_critical_time_seconds_count 1\n"));
    free(text);
}

static void test_help_text_and_label_values_are_escaped(void **state)
{
    (void)state;
    char labels[METRICS_LABELS_MAX]; /* need not be initialised */
    assert_int_equal(metrics_label(labels, sizeof(labels), "type", "say \"hi\"\\\nbye"), 0);
    assert_string_equal(labels, "type=\"say \\\"hi\\\"\\\\\\nbye\"");
    metrics_counter_inc(metrics_counter("odd_total", "a back\\slash\nand a new line", labels));
    assert_rendered("# HELP odd_total a back\\\\slash\\nand a new line\n"
                    "# TYPE odd_total counter\n"
                    "odd_total{type=\"say \\\"hi\\\"\\\\\\nbye\"} 1\n");
}

static void test_metrics_label_writes_one_label_or_refuses(void **state)
{
    (void)state;
    char labels[16];
    assert_int_equal(metrics_label(labels, sizeof(labels), "k", "01234567890"), 0); /* 15 + NUL */
    assert_string_equal(labels, "k=\"01234567890\"");
    assert_int_equal(metrics_label(labels, sizeof(labels), "reason", "x"), 0); /* replaces */
    assert_string_equal(labels, "reason=\"x\"");
    assert_int_equal(metrics_label(labels, sizeof(labels), "k", "012345678901"), ERR_INVALID);
    assert_string_equal(labels, "");
    assert_int_equal(metrics_label(labels, sizeof(labels), "k", NULL), 0);
    assert_string_equal(labels, "k=\"\"");
    const char *bad[] = {"1k", "__k", "a-b", "", NULL};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(metrics_label(labels, sizeof(labels), bad[i], "v"), ERR_INVALID);
        assert_string_equal(labels, "");
    }
}

static void test_invalid_names_and_labels_get_a_dummy_that_is_never_rendered(void **state)
{
    (void)state;
    static const double bounds[] = {1, 2};
    static const double unsorted[] = {2, 1};
    FILE *log = log_capture();
    const char *bad_names[] = {"", "1abc", "a-b", "a b", "é"};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
        metrics_counter_inc(metrics_counter(bad_names[i], "x", NULL));
    metrics_counter_inc(metrics_counter(NULL, "x", NULL));
    const char *bad_labels[] = {"type",        "type=x",         "type=\"x",
                                "type=\"x\",", "1a=\"x\"",       "__name__=\"x\"",
                                "a=\"\\q\"",   "a=\"x\"b=\"y\"", "a=\"x\ny\""};
    for (size_t i = 0; i < sizeof(bad_labels) / sizeof(bad_labels[0]); i++)
        metrics_counter_inc(metrics_counter("ok_total", "x", bad_labels[i]));
    metrics_histogram_observe(metrics_histogram("h", NULL, "le=\"1\"", bounds, 2), 1);
    metrics_histogram_observe(metrics_histogram("h", NULL, NULL, unsorted, 2), 1);
    metrics_histogram_observe(metrics_histogram("h", NULL, NULL, bounds, 0), 1);
    metrics_histogram_observe(metrics_histogram("h", NULL, NULL, NULL, 2), 1);
    assert_int_equal(log_lines(log), 1); /* the first problem of this kind, only */
    assert_rendered("");
    /* Valid neighbours of the refused ones are fine. */
    metrics_counter(":a_b:c9", NULL, "a_1=\"\",b=\"\\\\\\\"\\n\"");
    char *text = metrics_render();
    assert_non_null(strstr(text, ":a_b:c9{a_1=\"\",b=\"\\\\\\\"\\n\"} 0\n"));
    free(text);
}

static void test_a_name_reused_with_another_type_gets_a_dummy(void **state)
{
    (void)state;
    FILE *log = log_capture();
    struct metrics_counter *c = metrics_counter("events_retried_total", "Retries", "type=\"a\"");
    struct metrics_gauge *g = metrics_gauge("events_retried_total", "Retries", "type=\"a\"");
    struct metrics_gauge *g2 = metrics_gauge("events_retried_total", "Retries", "type=\"b\"");
    metrics_gauge_set(g, 7);
    metrics_gauge_set(g2, 7);
    metrics_counter_inc(c);
    assert_int_equal(log_lines(log), 1);
    assert_rendered("# HELP events_retried_total Retries\n"
                    "# TYPE events_retried_total counter\n"
                    "events_retried_total{type=\"a\"} 1\n");
}

static void test_a_full_registry_hands_out_dummies_and_logs_once(void **state)
{
    (void)state;
    FILE *log = log_capture();
    char labels[32];
    for (int i = 0; i < METRICS_MAX_SERIES; i++) {
        snprintf(labels, sizeof(labels), "i=\"%d\"", i);
        metrics_counter_inc(metrics_counter("many_total", NULL, labels));
    }
    assert_int_equal(log_lines(log), 0);
    log = log_capture();
    struct metrics_counter *extra = metrics_counter("one_more_total", NULL, NULL);
    metrics_counter_add(extra, 5);
    metrics_gauge_set(metrics_gauge("another", NULL, NULL), 1);
    assert_ptr_equal(extra, metrics_counter("and_more_total", NULL, NULL));
    assert_int_equal(log_lines(log), 1);
    /* Existing series still resolve. */
    snprintf(labels, sizeof(labels), "i=\"%d\"", METRICS_MAX_SERIES - 1);
    metrics_counter_inc(metrics_counter("many_total", NULL, labels));
    char *text = metrics_render();
    assert_null(strstr(text, "one_more_total"));
    assert_non_null(strstr(text, "many_total{i=\"0\"} 1\n"));
    snprintf(labels, sizeof(labels), "many_total{i=\"%d\"} 2\n", METRICS_MAX_SERIES - 1);
    assert_non_null(strstr(text, labels));
    free(text);
}

#define WORKERS    4
#define INCREMENTS 100000

static void *increment(void *arg)
{
    (void)arg;
    static const double bounds[] = {0.5};
    struct metrics_counter *shared = metrics_counter("hits_total", "Hits", NULL);
    for (int i = 0; i < INCREMENTS; i++) {
        metrics_counter_inc(shared);
        /* Looked up on every call, as a caller resolving per event type would. */
        metrics_counter_inc(
            metrics_counter("typed_total", "Typed", i % 2 ? "t=\"odd\"" : "t=\"even\""));
        metrics_histogram_observe(metrics_histogram("lat_seconds", "Lat", NULL, bounds, 1),
                                  i % 2 ? 1.0 : 0.25);
    }
    return NULL;
}

static void test_concurrent_updates_sum_exactly(void **state)
{
    (void)state;
    pthread_t threads[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, increment, NULL), 0);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(threads[i], NULL);
    char *text = metrics_render();
    assert_non_null(text);
    assert_non_null(strstr(text, "\nhits_total 400000\n"));
    assert_non_null(strstr(text, "typed_total{t=\"even\"} 200000\n"));
    assert_non_null(strstr(text, "typed_total{t=\"odd\"} 200000\n"));
    assert_non_null(strstr(text, "lat_seconds_bucket{le=\"0.5\"} 200000\n"
                                 "lat_seconds_bucket{le=\"+Inf\"} 400000\n"
                                 "lat_seconds_sum 250000\n"
                                 "lat_seconds_count 400000\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_empty_registry_renders_empty_text, reset),
        cmocka_unit_test_setup(test_counter_renders_help_type_and_value, reset),
        cmocka_unit_test_setup(test_same_name_and_labels_return_the_same_series, reset),
        cmocka_unit_test_setup(test_families_stay_grouped_when_registered_interleaved, reset),
        cmocka_unit_test_setup(test_gauge_renders_the_shortest_exact_number, reset),
        cmocka_unit_test_setup(test_numbers_are_written_like_the_go_client, reset),
        cmocka_unit_test_setup(test_histogram_renders_cumulative_buckets_sum_and_count, reset),
        cmocka_unit_test_setup(test_histogram_copies_bounds_and_renders_default_latency_buckets,
                               reset),
        cmocka_unit_test_setup(test_help_text_and_label_values_are_escaped, reset),
        cmocka_unit_test_setup(test_metrics_label_writes_one_label_or_refuses, reset),
        cmocka_unit_test_setup(test_invalid_names_and_labels_get_a_dummy_that_is_never_rendered,
                               reset),
        cmocka_unit_test_setup(test_a_name_reused_with_another_type_gets_a_dummy, reset),
        cmocka_unit_test_setup(test_a_full_registry_hands_out_dummies_and_logs_once, reset),
        cmocka_unit_test_setup(test_concurrent_updates_sum_exactly, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
