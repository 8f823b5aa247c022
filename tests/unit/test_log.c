/* test_log.c - one JSON object per line, levels, event fields, masking. */
#include "common/log.h"

#include "common/envelope.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static char *buf;
static size_t buf_len;
static FILE *mem;

static int open_stream(void **state)
{
    (void)state;
    mem = open_memstream(&buf, &buf_len);
    log_set_stream(mem);
    log_setup("booking", "booking-1", LOG_LEVEL_INFO);
    return 0;
}

static int close_stream(void **state)
{
    (void)state;
    log_set_stream(NULL);
    fclose(mem);
    free(buf);
    buf = NULL;
    return 0;
}

/* Parses the only line written so far. */
static json_t *only_line(void)
{
    fflush(mem);
    assert_non_null(buf);
    char *nl = strchr(buf, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], '\0');
    json_error_t e;
    json_t *o = json_loadb(buf, (size_t)(nl - buf), 0, &e);
    assert_non_null(o);
    return o;
}

static void test_line_is_json_with_required_fields(void **state)
{
    (void)state;
    log_info("relay started with %d rows", 3);
    json_t *o = only_line();
    assert_string_equal(json_string_value(json_object_get(o, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(o, "context")), "booking");
    assert_string_equal(json_string_value(json_object_get(o, "instance")), "booking-1");
    assert_string_equal(json_string_value(json_object_get(o, "message")), "relay started with 3 rows");
    assert_non_null(json_string_value(json_object_get(o, "time")));
    json_decref(o);
}

static void test_message_with_quotes_and_newlines_stays_one_line(void **state)
{
    (void)state;
    log_warn("bad \"value\"\nsecond\tline \x01 end \\");
    json_t *o = only_line();
    assert_string_equal(json_string_value(json_object_get(o, "message")),
                        "bad \"value\"\nsecond\tline \x01 end \\");
    json_decref(o);
}

static void test_levels_below_minimum_are_dropped(void **state)
{
    (void)state;
    log_debug("not shown");
    fflush(mem);
    assert_true(buf == NULL || buf[0] == '\0');
    log_error("shown");
    json_t *o = only_line();
    assert_string_equal(json_string_value(json_object_get(o, "level")), "error");
    json_decref(o);
}

static void test_event_fields_are_added_when_an_event_is_in_play(void **state)
{
    (void)state;
    struct envelope ev;
    envelope_init(&ev);
    struct err e;
    assert_int_equal(envelope_build(&ev, "booking", "booking.booking.created", 1, json_object(),
                                    "corr-1", NULL, &e), 0);
    log_info_ev(&ev, "handled");
    json_t *o = only_line();
    assert_string_equal(json_string_value(json_object_get(o, "event_id")), ev.id);
    assert_string_equal(json_string_value(json_object_get(o, "type")), "booking.booking.created");
    assert_string_equal(json_string_value(json_object_get(o, "correlation_id")), "corr-1");
    json_decref(o);
    envelope_release(&ev);
}

static void test_level_names_parse(void **state)
{
    (void)state;
    enum log_level l;
    assert_int_equal(log_level_parse("warn", &l), 0);
    assert_int_equal(l, LOG_LEVEL_WARN);
    assert_int_equal(log_level_parse("verbose", &l), -1);
    assert_int_equal(log_level_parse(NULL, &l), -1);
}

static void test_passwords_are_masked_in_urls(void **state)
{
    (void)state;
    char out[128];
    log_mask_url("amqp://events:s3cret@127.0.0.1:55672/events", out, sizeof(out));
    assert_string_equal(out, "amqp://events:***@127.0.0.1:55672/events");
    log_mask_url("postgresql://u:p%40ss@h/db?sslmode=require", out, sizeof(out));
    assert_string_equal(out, "postgresql://u:***@h/db?sslmode=require");
    log_mask_url("postgresql://u@h/db", out, sizeof(out));
    assert_string_equal(out, "postgresql://u@h/db");
    log_mask_url("host=h user=u password=secret dbname=d", out, sizeof(out));
    assert_string_equal(out, "host=h user=u password=*** dbname=d");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_is_json_with_required_fields, open_stream, close_stream),
        cmocka_unit_test_setup_teardown(test_message_with_quotes_and_newlines_stays_one_line, open_stream, close_stream),
        cmocka_unit_test_setup_teardown(test_levels_below_minimum_are_dropped, open_stream, close_stream),
        cmocka_unit_test_setup_teardown(test_event_fields_are_added_when_an_event_is_in_play, open_stream, close_stream),
        cmocka_unit_test(test_level_names_parse),
        cmocka_unit_test(test_passwords_are_masked_in_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
