/* test_retry.c - exponential backoff with equal jitter. */
#include "common/retry.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

static void test_delay_doubles_and_stays_within_half_to_full(void **state)
{
    (void)state;
    struct retry_policy p = {5, 1000, 60000};
    for (int attempt = 1; attempt <= 6; attempt++) {
        int64_t full = 1000LL << (attempt - 1);
        assert_int_equal(retry_delay_ms(&p, attempt, 0), full / 2);
        assert_int_equal(retry_delay_ms(&p, attempt, (uint32_t)(full / 2)), full);
        for (uint32_t r = 0; r < 5000; r += 7) {
            int64_t d = retry_delay_ms(&p, attempt, r * 2654435761u);
            assert_true(d >= full / 2 && d <= full);
        }
    }
}

static void test_delay_is_capped_by_max_even_for_huge_attempts(void **state)
{
    (void)state;
    struct retry_policy p = {100, 1000, 60000};
    for (int attempt = 7; attempt < 100; attempt++) {
        int64_t d = retry_delay_ms(&p, attempt, (uint32_t)attempt * 977u);
        assert_true(d >= 30000 && d <= 60000);
    }
}

static void test_exhausted_after_max_attempts(void **state)
{
    (void)state;
    struct retry_policy p = RETRY_POLICY_DEFAULT;
    assert_false(retry_exhausted(&p, 0));
    assert_false(retry_exhausted(&p, 4));
    assert_true(retry_exhausted(&p, 5));
    assert_true(retry_exhausted(&p, 6));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay_doubles_and_stays_within_half_to_full),
        cmocka_unit_test(test_delay_is_capped_by_max_even_for_huge_attempts),
        cmocka_unit_test(test_exhausted_after_max_attempts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
