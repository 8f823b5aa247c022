/*
 * test_envelope.c - CloudEvents envelopes: a table of valid and invalid
 * envelopes (unit/data/envelopes.json) drives parse/validate; build and
 * serialise round-trip.
 */
#include "common/envelope.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *load_table(void)
{
    const char *dir = getenv("UNIT_DATA_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/envelopes.json", dir ? dir : "tests/unit/data");
    json_error_t je;
    json_t *t = json_load_file(path, 0, &je);
    if (!t)
        fail_msg("cannot read %s: %s", path, je.text);
    return t;
}

static void test_envelope_table(void **state)
{
    (void)state;
    json_t *table = load_table();
    json_t *base = json_object_get(table, "base");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(table, "cases"), i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        char *body;
        if (json_object_get(c, "raw")) {
            body = strdup(json_string_value(json_object_get(c, "raw")));
        } else {
            json_t *ev = json_deep_copy(base);
            json_object_update(ev, json_object_get(c, "set"));
            size_t j;
            json_t *key;
            json_array_foreach(json_object_get(c, "unset"), j, key)
                json_object_del(ev, json_string_value(key));
            body = json_dumps(ev, JSON_COMPACT);
            json_decref(ev);
        }
        struct envelope env;
        envelope_init(&env);
        struct err e;
        err_clear(&e);
        int rc = envelope_parse(&env, body, strlen(body), &e);
        int want_valid = json_is_true(json_object_get(c, "valid"));
        if (want_valid && rc != 0)
            fail_msg("case '%s': rejected: %s", name, e.msg);
        if (!want_valid) {
            if (rc != ERR_INVALID)
                fail_msg("case '%s': accepted, want ERR_INVALID", name);
            const char *reason = json_string_value(json_object_get(c, "reason"));
            if (reason && !strstr(e.msg, reason))
                fail_msg("case '%s': message '%s' lacks '%s'", name, e.msg, reason);
            assert_null(env.data); /* a rejected envelope holds nothing */
        }
        if (want_valid && json_object_get(c, "version"))
            assert_int_equal(env.version, json_integer_value(json_object_get(c, "version")));
        envelope_release(&env);
        free(body);
    }
    json_decref(table);
}

static void test_build_serialise_parse_round_trip(void **state)
{
    (void)state;
    struct envelope ev, back;
    envelope_init(&ev);
    envelope_init(&back);
    struct err e;
    json_t *data = json_pack("{s:s, s:i}", "booking_id", "01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f",
                             "quantity", 3);
    assert_int_equal(envelope_build(&ev, "booking", "booking.booking.created", 1, data, "corr-7",
                                    "01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e00", &e),
                     0);
    assert_int_equal(envelope_set_traceparent(
                         &ev, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &e),
                     0);
    assert_string_equal(ev.source, "/booking");
    assert_string_equal(envelope_context(&ev), "booking");
    assert_int_equal(ev.id[14], '7');
    char *text = envelope_serialize(&ev, &e);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"dataschema\":\"urn:event:booking.booking.created:1\""));
    assert_non_null(strstr(text, "\"specversion\":\"1.0\""));
    assert_non_null(strstr(text, "\"datacontenttype\":\"application/json\""));
    assert_int_equal(envelope_parse(&back, text, strlen(text), &e), 0);
    assert_string_equal(back.id, ev.id);
    assert_string_equal(back.type, ev.type);
    assert_string_equal(back.time, ev.time);
    assert_string_equal(back.correlation_id, "corr-7");
    assert_string_equal(back.causation_id, "01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e00");
    assert_string_equal(back.traceparent, ev.traceparent);
    assert_int_equal(back.version, 1);
    assert_true(json_equal(back.data, ev.data));
    free(text);
    envelope_release(&ev);
    envelope_release(&back);
}

static void test_build_without_correlation_starts_a_new_flow(void **state)
{
    (void)state;
    struct envelope ev;
    envelope_init(&ev);
    struct err e;
    assert_int_equal(envelope_build(&ev, "usermanagement", "usermanagement.user.registered", 1,
                                    json_object(), NULL, NULL, &e),
                     0);
    assert_string_equal(ev.correlation_id, ev.id);
    assert_string_equal(ev.causation_id, ev.id);
    envelope_release(&ev);
}

static void test_build_refuses_bad_arguments_and_keeps_no_leak(void **state)
{
    (void)state;
    struct envelope ev;
    envelope_init(&ev);
    struct err e;
    assert_int_equal(
        envelope_build(&ev, "Booking", "booking.booking.created", 1, json_object(), NULL, NULL, &e),
        ERR_INVALID);
    assert_int_equal(envelope_build(&ev, "booking", "created", 1, json_object(), NULL, NULL, &e),
                     ERR_INVALID);
    assert_int_equal(
        envelope_build(&ev, "booking", "booking.booking.created", 0, json_object(), NULL, NULL, &e),
        ERR_INVALID);
    assert_int_equal(
        envelope_build(&ev, "booking", "booking.booking.created", 1, json_array(), NULL, NULL, &e),
        ERR_INVALID);
    assert_int_equal(envelope_build(&ev, "booking", "booking.booking.created", 1, json_object(),
                                    "has space", NULL, &e),
                     ERR_INVALID);
    envelope_release(&ev);
}

static void test_oversized_body_is_refused_before_parsing(void **state)
{
    (void)state;
    size_t n = ENVELOPE_BODY_MAX + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    struct envelope ev;
    envelope_init(&ev);
    struct err e;
    assert_int_equal(envelope_parse(&ev, big, n, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "limit"));
    free(big);
}

/* Invalid UTF-8 never gets into an envelope field (and so into a log line or a header). */
static void test_body_that_is_not_utf8_is_not_json(void **state)
{
    (void)state;
    static const char body[] = "{\"specversion\":\"1.0\",\"id\":\"\xff\xfe\"}";
    struct envelope ev;
    envelope_init(&ev);
    struct err e;
    assert_int_equal(envelope_parse(&ev, body, sizeof(body) - 1, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "not JSON"));
}

static void test_time_parsing(void **state)
{
    (void)state;
    assert_int_equal(envelope_time_parse_us("1970-01-01T00:00:01.5Z"), 1500000);
    assert_int_equal(envelope_time_parse_us("1970-01-01T01:00:01+01:00"), 1000000);
    assert_int_equal(envelope_time_parse_us("1970-01-01T00:00:00.000001Z"), 1);
    assert_true(envelope_time_parse_us("1970-13-01T00:00:00Z") < 0);
    assert_true(envelope_time_parse_us("1970-01-01T00:00:00.Z") < 0);
    assert_true(envelope_time_parse_us("1970-01-01T00:00:00Zjunk") < 0);
    /* A real instant only; a leap second is the next day's first instant. */
    assert_int_equal(envelope_time_parse_us("2016-12-31T23:59:60Z"),
                     envelope_time_parse_us("2017-01-01T00:00:00Z"));
    assert_int_equal(envelope_time_parse_us("2017-01-01T00:59:60+01:00"),
                     envelope_time_parse_us("2017-01-01T00:00:00Z"));
    assert_int_equal(envelope_time_parse_us("2028-02-29T00:00:00Z"),
                     envelope_time_parse_us("2028-02-28T00:00:00Z") + 86400000000LL);
    assert_true(envelope_time_parse_us("2026-02-29T00:00:00Z") < 0);
    assert_true(envelope_time_parse_us("2026-06-31T00:00:00Z") < 0);
    assert_true(envelope_time_parse_us("2026-12-31T23:58:60Z") < 0);
    char now[ENVELOPE_TIME_MAX];
    envelope_time_now(now);
    assert_true(envelope_time_parse_us(now) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_table),
        cmocka_unit_test(test_build_serialise_parse_round_trip),
        cmocka_unit_test(test_build_without_correlation_starts_a_new_flow),
        cmocka_unit_test(test_build_refuses_bad_arguments_and_keeps_no_leak),
        cmocka_unit_test(test_oversized_body_is_refused_before_parsing),
        cmocka_unit_test(test_body_that_is_not_utf8_is_not_json),
        cmocka_unit_test(test_time_parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
