/* test_err.c - the error vocabulary and its two mappings. */
#include "common/err.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static void test_err_set_returns_code_and_formats_message(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_int_equal(err_set(&e, ERR_CONFLICT, "user '%s' exists", "a@b.c"), ERR_CONFLICT);
    assert_int_equal(e.code, ERR_CONFLICT);
    assert_string_equal(e.msg, "user 'a@b.c' exists");
    assert_int_equal(err_wrap(&e, "register"), ERR_CONFLICT);
    assert_string_equal(e.msg, "register: user 'a@b.c' exists");
    assert_int_equal(err_set(NULL, ERR_INVALID, "dropped"), ERR_INVALID);
}

static void test_err_if_none_turns_nothing_into_the_code_and_passes_the_rest(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_int_equal(err_if_none(1, &e, ERR_NOT_FOUND, "no '%s'", "x"), 0);
    assert_int_equal(err_if_none(3, &e, ERR_NOT_FOUND, "no '%s'", "x"), 0);
    assert_int_equal(e.code, 0);
    assert_string_equal(e.msg, "");
    assert_int_equal(err_if_none(ERR_TRANSIENT, &e, ERR_NOT_FOUND, "no '%s'", "x"), ERR_TRANSIENT);
    assert_int_equal(e.code, 0); /* a failure's err is the caller's, left as it was */
    assert_int_equal(err_if_none(0, &e, ERR_NOT_FOUND, "no '%s'", "x"), ERR_NOT_FOUND);
    assert_int_equal(e.code, ERR_NOT_FOUND);
    assert_string_equal(e.msg, "no 'x'");
    assert_int_equal(err_if_none(0, NULL, ERR_CONFLICT, "dropped"), ERR_CONFLICT);
}

static void test_err_long_message_is_truncated_not_overflowed(void **state)
{
    (void)state;
    struct err e;
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    err_set(&e, ERR_INVALID, "%s", big);
    assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
}

static void test_every_code_maps_to_one_http_status(void **state)
{
    (void)state;
    assert_int_equal(err_http_status(0), 200);
    assert_int_equal(err_http_status(ERR_INVALID), 400);
    assert_int_equal(err_http_status(ERR_UNPROCESSABLE), 422);
    assert_int_equal(err_http_status(ERR_NOT_FOUND), 404);
    assert_int_equal(err_http_status(ERR_CONFLICT), 409);
    assert_int_equal(err_http_status(ERR_TRANSIENT), 503);
    assert_int_equal(err_http_status(ERR_NOMEM), 500);
    assert_int_equal(err_http_status(ERR_INTERNAL), 500);
    assert_int_equal(err_http_status(-999), 500);
}

static void test_every_code_maps_to_one_message_disposition(void **state)
{
    (void)state;
    assert_int_equal(err_disposition(0), ERR_ACK);
    assert_int_equal(err_disposition(ERR_INVALID), ERR_DEAD);
    assert_int_equal(err_disposition(ERR_UNPROCESSABLE), ERR_DEAD);
    assert_int_equal(err_disposition(ERR_NOT_FOUND), ERR_DEAD);
    assert_int_equal(err_disposition(ERR_CONFLICT), ERR_DEAD);
    assert_int_equal(err_disposition(ERR_TRANSIENT), ERR_RETRY);
    assert_int_equal(err_disposition(ERR_NOMEM), ERR_RETRY);
    assert_int_equal(err_disposition(ERR_INTERNAL), ERR_RETRY);
    assert_string_equal(err_disposition_name(ERR_DEAD), "dead");
}

static void test_err_names_are_stable_snake_case(void **state)
{
    (void)state;
    assert_string_equal(err_name(ERR_INVALID), "invalid");
    assert_string_equal(err_name(ERR_UNPROCESSABLE), "unprocessable");
    assert_string_equal(err_name(ERR_NOT_FOUND), "not_found");
    assert_string_equal(err_name(ERR_CONFLICT), "conflict");
    assert_string_equal(err_name(ERR_TRANSIENT), "unavailable");
    assert_string_equal(err_name(ERR_INTERNAL), "internal");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_set_returns_code_and_formats_message),
        cmocka_unit_test(test_err_if_none_turns_nothing_into_the_code_and_passes_the_rest),
        cmocka_unit_test(test_err_long_message_is_truncated_not_overflowed),
        cmocka_unit_test(test_every_code_maps_to_one_http_status),
        cmocka_unit_test(test_every_code_maps_to_one_message_disposition),
        cmocka_unit_test(test_err_names_are_stable_snake_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
