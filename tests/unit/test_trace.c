/*
 * test_trace.c - W3C traceparent parsing and formatting, new spans, and the
 * thread's current trace context (common/src/trace.c).
 */
#include "common/trace.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#define SAMPLE "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static void test_a_valid_traceparent_parses_and_formats_back(void **state)
{
    (void)state;
    struct trace_context t;
    assert_true(trace_parse(SAMPLE, &t));
    assert_string_equal(t.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(t.span_id, "00f067aa0ba902b7");
    assert_string_equal(t.parent_id, "");
    assert_int_equal(t.flags, 1);
    char out[TRACE_PARENT_LEN];
    trace_format(&t, out);
    assert_string_equal(out, SAMPLE);
}

static void test_malformed_traceparents_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",      /* no flags */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   /* upper case */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   /* zero trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   /* zero span id */
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   /* version ff is invalid */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", /* version 00 has no more */
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
    };
    struct trace_context t;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (trace_parse(bad[i], &t))
            fail_msg("accepted '%s'", bad[i]);
    assert_false(trace_parse(NULL, &t));
    /* A later version is read for its first four fields (W3C: "parse what you can"). */
    assert_true(trace_parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later", &t));
}

static void test_a_child_keeps_the_trace_and_names_its_parent(void **state)
{
    (void)state;
    struct trace_context parent, child;
    assert_true(trace_parse(SAMPLE, &parent));
    trace_child(&parent, &child);
    assert_string_equal(child.trace_id, parent.trace_id);
    assert_string_equal(child.parent_id, parent.span_id);
    assert_string_not_equal(child.span_id, parent.span_id);
    assert_int_equal(strlen(child.span_id), TRACE_SPAN_HEX);
    assert_int_equal(child.flags, parent.flags);
}

static void test_begin_continues_a_valid_caller_and_starts_a_trace_otherwise(void **state)
{
    (void)state;
    assert_null(trace_current());
    struct trace_context span, other;
    trace_begin(SAMPLE, &span);
    assert_string_equal(span.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(span.parent_id, "00f067aa0ba902b7");
    assert_non_null(trace_current());
    assert_string_equal(trace_current()->span_id, span.span_id);
    trace_begin("garbage", &other);
    assert_string_not_equal(other.trace_id, span.trace_id);
    assert_string_equal(other.parent_id, "");
    assert_int_equal(strlen(other.trace_id), TRACE_ID_HEX);
    char out[TRACE_PARENT_LEN];
    trace_format(&other, out);
    struct trace_context back;
    assert_true(trace_parse(out, &back)); /* what we start is valid */
    trace_set_current(NULL);
    assert_null(trace_current());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_valid_traceparent_parses_and_formats_back),
        cmocka_unit_test(test_malformed_traceparents_are_refused),
        cmocka_unit_test(test_a_child_keeps_the_trace_and_names_its_parent),
        cmocka_unit_test(test_begin_continues_a_valid_caller_and_starts_a_trace_otherwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
