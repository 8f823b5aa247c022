/* test_link_state.c - when a worker's connection failure is worth a log line. */
#include "link_state.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

static void test_a_link_that_never_came_up_says_so_at_the_first_attempt(void **state)
{
    (void)state;
    struct link_state s = {0};
    assert_false(link_is_up(&s));
    assert_true(link_failed(&s, 1000)); /* e.g. PRECONDITION_FAILED at the very first declare */
    assert_false(link_failed(&s, 1500));
    assert_false(link_failed(&s, 1000 + LINK_WARN_EVERY_MS - 1));
}

static void test_a_long_outage_is_repeated_every_interval_not_every_retry(void **state)
{
    (void)state;
    struct link_state s = {0};
    int lines = 0;
    for (int64_t t = 0; t < 3 * LINK_WARN_EVERY_MS; t += 250)
        lines += link_failed(&s, t);
    assert_int_equal(lines, 3);
}

static void test_going_down_after_being_up_is_always_said(void **state)
{
    (void)state;
    struct link_state s = {0};
    assert_true(link_failed(&s, 0));
    assert_true(link_ok(&s)); /* the end of an outage */
    assert_true(link_is_up(&s));
    assert_false(link_ok(&s));        /* staying up is not news */
    assert_true(link_failed(&s, 10)); /* down again, moments later: said at once */
    assert_false(link_is_up(&s));
}

static void test_first_contact_is_news(void **state)
{
    (void)state;
    struct link_state s = {0};
    assert_true(link_ok(&s));
    assert_false(link_ok(&s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_link_that_never_came_up_says_so_at_the_first_attempt),
        cmocka_unit_test(test_a_long_outage_is_repeated_every_interval_not_every_retry),
        cmocka_unit_test(test_going_down_after_being_up_is_always_said),
        cmocka_unit_test(test_first_contact_is_news),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
