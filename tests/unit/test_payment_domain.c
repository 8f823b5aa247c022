/*
 * test_payment_domain.c - the payment aggregate without any I/O: the charge
 * decision around the limit (limit-1, limit, limit+1), every transition of
 * intent → succeeded | failed, every refused one, the domain events raised
 * and the validation rules (contexts/payment/domain/payment.c).
 */
#include "payment/domain/payment.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define PAYMENT_ID "0193a5b0-7e1f-7c3d-8a2b-0c1d2e3f4a5b"
#define BOOKING_ID "0193a5b0-7e1f-7c3d-8a2b-0c1d2e3f4a5c"
#define DEFAULT_LIMIT 100000

/* An intent for amount_cents, as booking.booking.created opens it. */
static struct payment intent_of(int64_t amount_cents)
{
    struct payment p;
    struct payment_domain_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_open(&p, PAYMENT_ID, BOOKING_ID, amount_cents, &ev, &err), 0);
    return p;
}

/* ---- the decision: a pure function of amount and limit -------------------- */

static void assert_decision(int64_t amount, int64_t limit, int approved,
                            enum payment_decline_reason reason)
{
    struct payment_decision d = {-1, PAYMENT_DECLINE_NONE};
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_decide(amount, limit, &d, &err), 0);
    assert_int_equal(d.approved, approved);
    assert_int_equal(d.reason, reason);
}

static void test_decide_approves_an_amount_one_below_the_limit(void **state)
{
    (void)state;
    assert_decision(DEFAULT_LIMIT - 1, DEFAULT_LIMIT, 1, PAYMENT_DECLINE_NONE);
}

static void test_decide_approves_an_amount_equal_to_the_limit(void **state)
{
    (void)state;
    assert_decision(DEFAULT_LIMIT, DEFAULT_LIMIT, 1, PAYMENT_DECLINE_NONE);
}

static void test_decide_declines_an_amount_one_above_the_limit_as_limit_exceeded(void **state)
{
    (void)state;
    assert_decision(DEFAULT_LIMIT + 1, DEFAULT_LIMIT, 0, PAYMENT_DECLINE_LIMIT_EXCEEDED);
}

static void test_decide_holds_at_the_smallest_and_largest_limits(void **state)
{
    (void)state;
    assert_decision(1, PAYMENT_LIMIT_MIN, 1, PAYMENT_DECLINE_NONE);
    assert_decision(2, PAYMENT_LIMIT_MIN, 0, PAYMENT_DECLINE_LIMIT_EXCEEDED);
    assert_decision(PAYMENT_LIMIT_MAX - 1, PAYMENT_LIMIT_MAX, 1, PAYMENT_DECLINE_NONE);
    assert_decision(PAYMENT_LIMIT_MAX, PAYMENT_LIMIT_MAX, 1, PAYMENT_DECLINE_NONE);
    assert_decision(PAYMENT_LIMIT_MAX + 1, PAYMENT_LIMIT_MAX, 0, PAYMENT_DECLINE_LIMIT_EXCEEDED);
    /* The largest booking amount is above any limit the config accepts. */
    assert_decision(PAYMENT_AMOUNT_MAX, PAYMENT_LIMIT_MAX, 0, PAYMENT_DECLINE_LIMIT_EXCEEDED);
}

static void test_decide_refuses_an_amount_out_of_bounds(void **state)
{
    (void)state;
    const int64_t bad[] = {0, -1, PAYMENT_AMOUNT_MAX + 1, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct payment_decision d;
        struct err err;
        err_clear(&err);
        assert_int_equal(payment_decide(bad[i], DEFAULT_LIMIT, &d, &err), ERR_INVALID);
        assert_non_null(strstr(err.msg, "amount_cents"));
    }
}

static void test_decide_refuses_a_limit_out_of_bounds(void **state)
{
    (void)state;
    const int64_t bad[] = {0, -1, PAYMENT_LIMIT_MAX + 1};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct payment_decision d;
        struct err err;
        err_clear(&err);
        assert_int_equal(payment_decide(100, bad[i], &d, &err), ERR_INVALID);
        assert_non_null(strstr(err.msg, "payment limit"));
    }
}

static void test_amount_check_accepts_the_bounds_and_refuses_beyond(void **state)
{
    (void)state;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_amount_check(PAYMENT_AMOUNT_MIN, &err), 0);
    assert_int_equal(payment_amount_check(PAYMENT_AMOUNT_MAX, &err), 0);
    assert_int_equal(payment_amount_check(PAYMENT_AMOUNT_MIN - 1, &err), ERR_INVALID);
    assert_int_equal(payment_amount_check(PAYMENT_AMOUNT_MAX + 1, &err), ERR_INVALID);
}

/* ---- (none) → intent ----------------------------------------------------------- */

static void test_open_records_an_intent_and_raises_intent_recorded(void **state)
{
    (void)state;
    struct payment p;
    struct payment_domain_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_open(&p, PAYMENT_ID, BOOKING_ID, 4200, &ev, &err), 0);
    assert_string_equal(p.id, PAYMENT_ID);
    assert_string_equal(p.booking_id, BOOKING_ID);
    assert_int_equal(p.amount_cents, 4200);
    assert_int_equal(p.status, PAYMENT_INTENT);
    assert_int_equal(p.reason, PAYMENT_DECLINE_NONE);
    assert_int_equal(ev.kind, PAYMENT_DOMAIN_INTENT_RECORDED);
    assert_string_equal(ev.payment_id, PAYMENT_ID);
    assert_string_equal(ev.booking_id, BOOKING_ID);
    assert_int_equal(ev.amount_cents, 4200);
}

static void test_open_refuses_an_amount_out_of_bounds(void **state)
{
    (void)state;
    struct payment p;
    struct payment_domain_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_open(&p, PAYMENT_ID, BOOKING_ID, 0, &ev, &err), ERR_INVALID);
    assert_int_equal(payment_open(&p, PAYMENT_ID, BOOKING_ID, PAYMENT_AMOUNT_MAX + 1, &ev, &err),
                     ERR_INVALID);
}

static void test_open_refuses_ids_that_are_not_uuids(void **state)
{
    (void)state;
    struct payment p;
    struct payment_domain_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_open(&p, "short", BOOKING_ID, 100, &ev, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "payment id"));
    assert_int_equal(payment_open(&p, PAYMENT_ID, PAYMENT_ID "0", 100, &ev, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "booking id"));
    assert_int_equal(payment_open(&p, PAYMENT_ID, NULL, 100, &ev, &err), ERR_INVALID);
}

static void test_check_intent_accepts_the_same_booking_with_the_same_amount(void **state)
{
    (void)state;
    struct payment p = intent_of(4200);
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_check_intent(&p, 4200, &err), 0);
}

static void test_check_intent_refuses_the_same_booking_with_another_amount(void **state)
{
    (void)state;
    struct payment p = intent_of(4200);
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_check_intent(&p, 4300, &err), ERR_CONFLICT);
    assert_non_null(strstr(err.msg, BOOKING_ID));
}

/* ---- intent → succeeded | failed ---------------------------------------------- */

static void test_charge_within_the_limit_succeeds_and_raises_succeeded(void **state)
{
    (void)state;
    struct payment p = intent_of(DEFAULT_LIMIT);
    struct payment_domain_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_charge(&p, DEFAULT_LIMIT, &ev, &err), 0);
    assert_int_equal(p.status, PAYMENT_SUCCEEDED);
    assert_int_equal(p.reason, PAYMENT_DECLINE_NONE);
    assert_int_equal(ev.kind, PAYMENT_DOMAIN_SUCCEEDED);
    assert_string_equal(ev.payment_id, PAYMENT_ID);
    assert_string_equal(ev.booking_id, BOOKING_ID);
    assert_int_equal(ev.amount_cents, DEFAULT_LIMIT);
    assert_int_equal(ev.reason, PAYMENT_DECLINE_NONE);
}

static void test_charge_one_below_the_limit_succeeds(void **state)
{
    (void)state;
    struct payment p = intent_of(DEFAULT_LIMIT - 1);
    struct payment_domain_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_charge(&p, DEFAULT_LIMIT, &ev, &err), 0);
    assert_int_equal(p.status, PAYMENT_SUCCEEDED);
    assert_int_equal(ev.kind, PAYMENT_DOMAIN_SUCCEEDED);
}

static void test_charge_above_the_limit_fails_with_limit_exceeded_and_raises_failed(void **state)
{
    (void)state;
    struct payment p = intent_of(DEFAULT_LIMIT + 1);
    struct payment_domain_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_charge(&p, DEFAULT_LIMIT, &ev, &err), 0);
    assert_int_equal(p.status, PAYMENT_FAILED);
    assert_int_equal(p.reason, PAYMENT_DECLINE_LIMIT_EXCEEDED);
    assert_int_equal(ev.kind, PAYMENT_DOMAIN_FAILED);
    assert_string_equal(ev.payment_id, PAYMENT_ID);
    assert_string_equal(ev.booking_id, BOOKING_ID);
    assert_int_equal(ev.amount_cents, DEFAULT_LIMIT + 1);
    assert_int_equal(ev.reason, PAYMENT_DECLINE_LIMIT_EXCEEDED);
    assert_string_equal(payment_reason_name(ev.reason), "limit_exceeded");
}

/* A refused transition leaves the payment exactly as it was and raises nothing. */
static void assert_second_charge_refused(int64_t amount)
{
    struct payment p = intent_of(amount);
    struct payment_domain_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_charge(&p, DEFAULT_LIMIT, &ev, &err), 0);
    struct payment before = p;
    struct payment_domain_event untouched;
    memset(&untouched, 0xab, sizeof(untouched));
    struct payment_domain_event ev2 = untouched;
    /* A higher limit would approve it now: the first decision still stands. */
    assert_int_equal(payment_charge(&p, PAYMENT_LIMIT_MAX, &ev2, &err), ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "already"));
    assert_non_null(strstr(err.msg, BOOKING_ID));
    assert_memory_equal(&p, &before, sizeof(p));
    assert_memory_equal(&ev2, &untouched, sizeof(ev2));
}

static void test_charge_refuses_a_succeeded_payment(void **state)
{
    (void)state;
    assert_second_charge_refused(DEFAULT_LIMIT);
}

static void test_charge_refuses_a_failed_payment(void **state)
{
    (void)state;
    assert_second_charge_refused(DEFAULT_LIMIT + 1);
}

static void test_charge_with_an_invalid_limit_leaves_the_intent_untouched(void **state)
{
    (void)state;
    struct payment p = intent_of(100);
    struct payment before = p;
    struct payment_domain_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_charge(&p, 0, &ev, &err), ERR_INVALID);
    assert_memory_equal(&p, &before, sizeof(p));
    assert_int_equal(p.status, PAYMENT_INTENT);
}

/* ---- names: the text the store keeps and the contract carries -------------------- */

static void test_status_names_round_trip_and_unknown_ones_are_refused(void **state)
{
    (void)state;
    const enum payment_status all[] = {PAYMENT_INTENT, PAYMENT_SUCCEEDED, PAYMENT_FAILED};
    const char *names[] = {"intent", "succeeded", "failed"};
    struct err err;
    err_clear(&err);
    for (size_t i = 0; i < 3; i++) {
        enum payment_status s;
        assert_string_equal(payment_status_name(all[i]), names[i]);
        assert_int_equal(payment_status_parse(names[i], &s, &err), 0);
        assert_int_equal(s, all[i]);
    }
    enum payment_status s;
    assert_int_equal(payment_status_parse("pending", &s, &err), ERR_INVALID);
    assert_int_equal(payment_status_parse(NULL, &s, &err), ERR_INVALID);
}

static void test_reason_names_round_trip_and_unknown_ones_are_refused(void **state)
{
    (void)state;
    struct err err;
    err_clear(&err);
    enum payment_decline_reason r;
    assert_string_equal(payment_reason_name(PAYMENT_DECLINE_NONE), "");
    assert_string_equal(payment_reason_name(PAYMENT_DECLINE_LIMIT_EXCEEDED), "limit_exceeded");
    assert_int_equal(payment_reason_parse("limit_exceeded", &r, &err), 0);
    assert_int_equal(r, PAYMENT_DECLINE_LIMIT_EXCEEDED);
    assert_int_equal(payment_reason_parse("", &r, &err), 0);
    assert_int_equal(r, PAYMENT_DECLINE_NONE);
    assert_int_equal(payment_reason_parse("card_declined", &r, &err), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_approves_an_amount_one_below_the_limit),
        cmocka_unit_test(test_decide_approves_an_amount_equal_to_the_limit),
        cmocka_unit_test(test_decide_declines_an_amount_one_above_the_limit_as_limit_exceeded),
        cmocka_unit_test(test_decide_holds_at_the_smallest_and_largest_limits),
        cmocka_unit_test(test_decide_refuses_an_amount_out_of_bounds),
        cmocka_unit_test(test_decide_refuses_a_limit_out_of_bounds),
        cmocka_unit_test(test_amount_check_accepts_the_bounds_and_refuses_beyond),
        cmocka_unit_test(test_open_records_an_intent_and_raises_intent_recorded),
        cmocka_unit_test(test_open_refuses_an_amount_out_of_bounds),
        cmocka_unit_test(test_open_refuses_ids_that_are_not_uuids),
        cmocka_unit_test(test_check_intent_accepts_the_same_booking_with_the_same_amount),
        cmocka_unit_test(test_check_intent_refuses_the_same_booking_with_another_amount),
        cmocka_unit_test(test_charge_within_the_limit_succeeds_and_raises_succeeded),
        cmocka_unit_test(test_charge_one_below_the_limit_succeeds),
        cmocka_unit_test(test_charge_above_the_limit_fails_with_limit_exceeded_and_raises_failed),
        cmocka_unit_test(test_charge_refuses_a_succeeded_payment),
        cmocka_unit_test(test_charge_refuses_a_failed_payment),
        cmocka_unit_test(test_charge_with_an_invalid_limit_leaves_the_intent_untouched),
        cmocka_unit_test(test_status_names_round_trip_and_unknown_ones_are_refused),
        cmocka_unit_test(test_reason_names_round_trip_and_unknown_ones_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
