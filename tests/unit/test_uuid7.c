/* test_uuid7.c - time-ordered ids: format, version, order, uniqueness. */
#include "common/uuid7.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void test_generated_id_is_canonical_version_7(void **state)
{
    (void)state;
    char id[UUID7_STR_LEN];
    assert_int_equal(uuid7_generate(id), 0);
    assert_int_equal(strlen(id), 36);
    assert_true(uuid7_is_valid(id));
    assert_int_equal(id[14], '7');
    assert_true(strchr("89ab", id[19]) != NULL);
    int64_t now = (int64_t)time(NULL) * 1000;
    int64_t ms = uuid7_unix_ms(id);
    assert_true(ms > now - 5000 && ms < now + 5000);
}

static void test_ids_strictly_increase_even_within_one_millisecond(void **state)
{
    (void)state;
    enum { N = 20000 };
    char(*ids)[UUID7_STR_LEN] = calloc(N, UUID7_STR_LEN);
    assert_non_null(ids);
    for (int i = 0; i < N; i++)
        assert_int_equal(uuid7_generate(ids[i]), 0);
    for (int i = 1; i < N; i++)
        assert_true(strcmp(ids[i - 1], ids[i]) < 0);
    free(ids);
}

static void test_format_places_time_counter_and_variant(void **state)
{
    (void)state;
    const uint8_t r[8] = {0xff, 1, 2, 3, 4, 5, 6, 7};
    char id[UUID7_STR_LEN];
    uuid7_format(id, 0x0123456789abULL, 0x0cde, r);
    assert_string_equal(id, "01234567-89ab-7cde-bf01-020304050607");
    assert_int_equal(uuid7_unix_ms(id), 0x0123456789abLL);
}

static void test_validation_rejects_malformed_text(void **state)
{
    (void)state;
    assert_true(uuid7_is_valid("01234567-89AB-4cde-bf01-020304050607"));
    assert_false(uuid7_is_valid(NULL));
    assert_false(uuid7_is_valid(""));
    assert_false(uuid7_is_valid("01234567-89ab-7cde-bf01-02030405060"));
    assert_false(uuid7_is_valid("01234567-89ab-7cde-bf01-0203040506077"));
    assert_false(uuid7_is_valid("01234567x89ab-7cde-bf01-020304050607"));
    assert_false(uuid7_is_valid("0123456g-89ab-7cde-bf01-020304050607"));
    assert_int_equal(uuid7_unix_ms("01234567-89ab-4cde-bf01-020304050607"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_id_is_canonical_version_7),
        cmocka_unit_test(test_ids_strictly_increase_even_within_one_millisecond),
        cmocka_unit_test(test_format_places_time_counter_and_variant),
        cmocka_unit_test(test_validation_rejects_malformed_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
