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
    assert_string_equal(json_string_value(json_object_get(o, "message")),
                        "relay started with 3 rows");
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
                                    "corr-1", NULL, &e),
                     0);
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
    /* The shape stays; the hostile forms are in unit/data/secrets.json (test_db.c). */
    log_mask_url("postgresql://user:p@ss@host/db", out, sizeof(out));
    assert_string_equal(out, "postgresql://user:***@host/db");
    log_mask_url("amqp://user:p%40ss@host/vhost", out, sizeof(out));
    assert_string_equal(out, "amqp://user:***@host/vhost");
    log_mask_url("postgresql://u@h/db?sslmode=require&password=secret&x=1", out, sizeof(out));
    assert_string_equal(out, "postgresql://u@h/db?sslmode=require&password=***&x=1");
    log_mask_url("host=h password = 'a b' user=u", out, sizeof(out));
    assert_string_equal(out, "host=h password = *** user=u");
    log_mask_url("host=h sslrootcert=/x://y password=secret", out, sizeof(out));
    assert_string_equal(out, "host=h sslrootcert=/x://y password=***");
    log_mask_url("amqp://u:@h/v", out, sizeof(out)); /* an empty password once looped forever */
    assert_string_equal(out, "amqp://u:***@h/v");
    log_mask_url(NULL, out, sizeof(out));
    assert_string_equal(out, "");
    log_mask_url("amqp://u:secret@h/v", out, 8);
    assert_string_equal(out, "amqp://");
}

/* Bytes 0xff 0xfe in a message id (an outside producer's) must not break the line's JSON. */
static void test_invalid_utf8_becomes_replacement_characters_and_the_line_stays_json(void **state)
{
    (void)state;
    struct log_fields f = {.event_id = "id-\xff\xfe-1", .type = "a.b.\xc3", .error = "poison"};
    log_write(LOG_LEVEL_WARN, &f, "bad %s, cut \xe2\x82, fine \xc3\xa9\xe2\x9c\x93\xf0\x9d\x84\x9e",
              "\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80");
    json_t *o = only_line(); /* jansson refuses invalid UTF-8: this parse is the proof */
    assert_string_equal(json_string_value(json_object_get(o, "event_id")),
                        "id-\xef\xbf\xbd\xef\xbf\xbd-1");
    assert_string_equal(json_string_value(json_object_get(o, "type")), "a.b.\xef\xbf\xbd");
    const char *msg = json_string_value(json_object_get(o, "message"));
    assert_non_null(msg);
    assert_non_null(
        strstr(msg, "fine \xc3\xa9\xe2\x9c\x93\xf0\x9d\x84\x9e")); /* valid text is kept */
    assert_non_null(strstr(msg, "cut \xef\xbf\xbd\xef\xbf\xbd,"));
    json_decref(o);
    fflush(mem);
    assert_null(strstr(buf, "\xff"));
}

static void test_sanitize_utf8_replaces_every_invalid_byte(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain key.x", "plain key.x"},
        {"\xff\xfe", "\xef\xbf\xbd\xef\xbf\xbd"},
        {"a\xc0\xaf"
         "b",
         "a\xef\xbf\xbd\xef\xbf\xbd"
         "b"},                                                    /* overlong '/' */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* a surrogate */
        {"\xf4\x90\x80\x80x", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx"}, /* > U+10FFFF */
        {"\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd"},                                   /* cut short */
        {"\x80", "\xef\xbf\xbd"}, /* stray continuation */
        {"\xc3\xa9\xe2\x9c\x93\xf0\x9d\x84\x9e", "\xc3\xa9\xe2\x9c\x93\xf0\x9d\x84\x9e"},
        {"\xef\xbf\xbf\xf4\x8f\xbf\xbf",
         "\xef\xbf\xbf\xf4\x8f\xbf\xbf"}, /* the largest are valid */
        {"", ""},
    };
    char out[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = log_sanitize_utf8(out, sizeof(out), cases[i].in);
        assert_string_equal(out, cases[i].out);
        assert_int_equal(n, strlen(cases[i].out));
    }
    /* Truncation never splits a character: 'a', then "é" (2 bytes) does not fit in 3. */
    assert_int_equal(log_sanitize_utf8(out, 3, "a\xc3\xa9"), 1);
    assert_string_equal(out, "a");
    assert_int_equal(log_sanitize_utf8(out, 4, "a\xff"), 1);
    assert_string_equal(out, "a"); /* the 3-byte U+FFFD does not fit either */
    assert_int_equal(log_sanitize_utf8(out, 1, "abc"), 0);
    assert_string_equal(out, "");
    assert_int_equal(log_sanitize_utf8(out, sizeof(out), NULL), 0);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_is_json_with_required_fields, open_stream,
                                        close_stream),
        cmocka_unit_test_setup_teardown(test_message_with_quotes_and_newlines_stays_one_line,
                                        open_stream, close_stream),
        cmocka_unit_test_setup_teardown(test_levels_below_minimum_are_dropped, open_stream,
                                        close_stream),
        cmocka_unit_test_setup_teardown(test_event_fields_are_added_when_an_event_is_in_play,
                                        open_stream, close_stream),
        cmocka_unit_test(test_level_names_parse),
        cmocka_unit_test(test_passwords_are_masked_in_urls),
        cmocka_unit_test_setup_teardown(
            test_invalid_utf8_becomes_replacement_characters_and_the_line_stays_json, open_stream,
            close_stream),
        cmocka_unit_test(test_sanitize_utf8_replaces_every_invalid_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
