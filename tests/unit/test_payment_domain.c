/*
 * test_payment_domain.c - the payment aggregate without any I/O: the charge
 * decision around the limit (limit-1, limit, limit+1), every transition of
 * intent → succeeded | failed, every refused one, the domain events raised,
 * the validation rules and the join of booking.booking.created and
 * inventory.stock.reserved in either order (contexts/payment/domain/payment.c).
 */
#include "payment/domain/payment.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define PAYMENT_ID    "0193a5b0-7e1f-7c3d-8a2b-0c1d2e3f4a5b"
#define BOOKING_ID    "0193a5b0-7e1f-7c3d-8a2b-0c1d2e3f4a5c"
#define DEFAULT_LIMIT 100000

/* An intent for amount_cents, as booking.booking.created opens it. */
static struct payment intent_of(int64_t amount_cents)
{
    struct payment p;
    struct payment_event ev;
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
    struct payment_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_open(&p, PAYMENT_ID, BOOKING_ID, 4200, &ev, &err), 0);
    assert_string_equal(p.id, PAYMENT_ID);
    assert_string_equal(p.booking_id, BOOKING_ID);
    assert_int_equal(p.amount_cents, 4200);
    assert_int_equal(p.status, PAYMENT_INTENT);
    assert_int_equal(p.reason, PAYMENT_DECLINE_NONE);
    assert_int_equal(ev.kind, PAYMENT_EVENT_INTENT_RECORDED);
    assert_string_equal(ev.payment_id, PAYMENT_ID);
    assert_string_equal(ev.booking_id, BOOKING_ID);
    assert_int_equal(ev.amount_cents, 4200);
}

static void test_open_refuses_an_amount_out_of_bounds(void **state)
{
    (void)state;
    struct payment p;
    struct payment_event ev;
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
    struct payment_event ev;
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
    struct payment_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_charge(&p, DEFAULT_LIMIT, &ev, &err), 0);
    assert_int_equal(p.status, PAYMENT_SUCCEEDED);
    assert_int_equal(p.reason, PAYMENT_DECLINE_NONE);
    assert_int_equal(ev.kind, PAYMENT_EVENT_SUCCEEDED);
    assert_string_equal(ev.payment_id, PAYMENT_ID);
    assert_string_equal(ev.booking_id, BOOKING_ID);
    assert_int_equal(ev.amount_cents, DEFAULT_LIMIT);
    assert_int_equal(ev.reason, PAYMENT_DECLINE_NONE);
}

static void test_charge_one_below_the_limit_succeeds(void **state)
{
    (void)state;
    struct payment p = intent_of(DEFAULT_LIMIT - 1);
    struct payment_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_charge(&p, DEFAULT_LIMIT, &ev, &err), 0);
    assert_int_equal(p.status, PAYMENT_SUCCEEDED);
    assert_int_equal(ev.kind, PAYMENT_EVENT_SUCCEEDED);
}

static void test_charge_above_the_limit_fails_with_limit_exceeded_and_raises_failed(void **state)
{
    (void)state;
    struct payment p = intent_of(DEFAULT_LIMIT + 1);
    struct payment_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_charge(&p, DEFAULT_LIMIT, &ev, &err), 0);
    assert_int_equal(p.status, PAYMENT_FAILED);
    assert_int_equal(p.reason, PAYMENT_DECLINE_LIMIT_EXCEEDED);
    assert_int_equal(ev.kind, PAYMENT_EVENT_FAILED);
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
    struct payment_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_charge(&p, DEFAULT_LIMIT, &ev, &err), 0);
    struct payment before = p;
    struct payment_event untouched;
    memset(&untouched, 0xab, sizeof(untouched));
    struct payment_event ev2 = untouched;
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
    struct payment_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_charge(&p, 0, &ev, &err), ERR_INVALID);
    assert_memory_equal(&p, &before, sizeof(p));
    assert_int_equal(p.status, PAYMENT_INTENT);
}

/* ---- the join: two events, either order, one charge ------------------------------ */

/* The join as the store finds it: p NULL = no intent yet. */
static struct payment_join join_of(const struct payment *p, int has_reservation)
{
    struct payment_join j;
    payment_join_of(&j, BOOKING_ID, p, has_reservation);
    return j;
}

static void test_join_of_copies_what_the_store_found(void **state)
{
    (void)state;
    struct payment_join j = join_of(NULL, 1);
    assert_string_equal(j.booking_id, BOOKING_ID);
    assert_int_equal(j.has_intent, 0);
    assert_int_equal(j.has_reservation, 1);
    struct payment p = intent_of(100);
    struct payment_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_charge(&p, DEFAULT_LIMIT, &ev, &err), 0);
    j = join_of(&p, 0);
    assert_int_equal(j.has_intent, 1);
    assert_int_equal(j.status, PAYMENT_SUCCEEDED);
    assert_int_equal(j.has_reservation, 0);
}

static void test_join_waits_while_either_half_is_missing(void **state)
{
    (void)state;
    struct payment p = intent_of(100);
    struct payment_join neither = join_of(NULL, 0);
    struct payment_join intent_only = join_of(&p, 0);
    struct payment_join reservation_only = join_of(NULL, 1);
    assert_int_equal(payment_join_next(&neither), PAYMENT_JOIN_WAIT);
    assert_int_equal(payment_join_next(&intent_only), PAYMENT_JOIN_WAIT);
    assert_int_equal(payment_join_next(&reservation_only), PAYMENT_JOIN_WAIT);
}

static void test_join_charges_when_both_halves_meet_an_intent(void **state)
{
    (void)state;
    struct payment p = intent_of(100);
    struct payment_join both = join_of(&p, 1);
    assert_int_equal(payment_join_next(&both), PAYMENT_JOIN_CHARGE);
}

static void test_join_is_done_once_the_payment_is_decided(void **state)
{
    (void)state;
    const int64_t amounts[] = {DEFAULT_LIMIT, DEFAULT_LIMIT + 1}; /* succeeded, failed */
    for (size_t i = 0; i < 2; i++) {
        struct payment p = intent_of(amounts[i]);
        struct payment_event ev;
        struct err err;
        err_clear(&err);
        assert_int_equal(payment_charge(&p, DEFAULT_LIMIT, &ev, &err), 0);
        struct payment_join j = join_of(&p, 1);
        assert_int_equal(payment_join_next(&j), PAYMENT_JOIN_DONE);
    }
}

/* Intent first: the reservation completes the join and calls for the charge. */
static void test_reservation_after_the_intent_charges(void **state)
{
    (void)state;
    struct payment p = intent_of(100);
    struct payment_join j = join_of(&p, 0);
    enum payment_join_step next = PAYMENT_JOIN_DONE;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_join_reserve(&j, &next, &err), 0);
    assert_int_equal(next, PAYMENT_JOIN_CHARGE);
    assert_int_equal(j.has_reservation, 1);
}

/* Reservation first: it is recorded and waits; the intent then completes the join. */
static void test_reservation_before_the_intent_waits_and_the_intent_then_charges(void **state)
{
    (void)state;
    struct payment_join j = join_of(NULL, 0);
    enum payment_join_step next = PAYMENT_JOIN_CHARGE;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_join_reserve(&j, &next, &err), 0);
    assert_int_equal(next, PAYMENT_JOIN_WAIT);
    assert_int_equal(j.has_reservation, 1);
    /* The intent arrives: what its handler finds under the lock. */
    struct payment p = intent_of(100);
    struct payment_join later = join_of(&p, j.has_reservation);
    assert_int_equal(payment_join_next(&later), PAYMENT_JOIN_CHARGE);
}

/* Both orders end in exactly one CHARGE among the two arrivals. */
static void test_either_order_charges_exactly_once(void **state)
{
    (void)state;
    for (int intent_first = 0; intent_first < 2; intent_first++) {
        struct payment p = intent_of(100);
        int has_intent = 0, has_reservation = 0, charges = 0;
        for (int k = 0; k < 2; k++) {
            int is_intent = (k == 0) == intent_first;
            struct payment_join j;
            if (is_intent) {
                has_intent = 1;
                j = join_of(&p, has_reservation);
                if (payment_join_next(&j) == PAYMENT_JOIN_CHARGE)
                    charges++;
            } else {
                j = join_of(has_intent ? &p : NULL, has_reservation);
                enum payment_join_step next = PAYMENT_JOIN_DONE;
                struct err err;
                err_clear(&err);
                assert_int_equal(payment_join_reserve(&j, &next, &err), 0);
                has_reservation = j.has_reservation;
                if (next == PAYMENT_JOIN_CHARGE)
                    charges++;
            }
            if (charges == 1 && p.status == PAYMENT_INTENT) {
                struct payment_event ev;
                struct err err;
                err_clear(&err);
                assert_int_equal(payment_charge(&p, DEFAULT_LIMIT, &ev, &err), 0);
            }
        }
        assert_int_equal(charges, 1);
        assert_int_equal(p.status, PAYMENT_SUCCEEDED);
        /* A second booking.booking.created (another event id) afterwards: nothing to do. */
        struct payment_join again = join_of(&p, has_reservation);
        assert_int_equal(payment_join_next(&again), PAYMENT_JOIN_DONE);
    }
}

/* ---- the booking expired ------------------------------------------------------ */

static void test_expire_voids_an_intent_and_refunds_a_charge(void **state)
{
    (void)state;
    struct payment_event ev;
    struct err err;
    err_clear(&err);
    struct payment p = intent_of(100);
    assert_int_equal(payment_expire(&p, &ev, &err), 1);
    assert_int_equal(p.status, PAYMENT_VOIDED);
    assert_int_equal(ev.kind, PAYMENT_EVENT_VOIDED);
    /* A voided payment is never charged afterwards. */
    assert_int_equal(payment_charge(&p, DEFAULT_LIMIT, &ev, &err), ERR_CONFLICT);
    assert_int_equal(payment_expire(&p, &ev, &err), 0);

    p = intent_of(100);
    assert_int_equal(payment_charge(&p, DEFAULT_LIMIT, &ev, &err), 0);
    assert_int_equal(payment_expire(&p, &ev, &err), 1);
    assert_int_equal(p.status, PAYMENT_REFUNDED);
    assert_int_equal(ev.kind, PAYMENT_EVENT_REFUNDED);
    assert_int_equal(ev.amount_cents, 100);
    assert_int_equal(payment_expire(&p, &ev, &err), 0);

    p = intent_of(DEFAULT_LIMIT + 1);
    assert_int_equal(payment_charge(&p, DEFAULT_LIMIT, &ev, &err), 0);
    struct payment before = p;
    struct payment_event ev_before = ev;
    assert_int_equal(payment_expire(&p, &ev, &err), 0);
    assert_memory_equal(&p, &before, sizeof(p));
    assert_memory_equal(&ev, &ev_before, sizeof(ev));
}

static void test_expired_join_never_charges_whatever_arrives_late(void **state)
{
    (void)state;
    struct err err;
    err_clear(&err);
    /* The intent, then the expiry, then the reservation: recorded, not charged, not refused. */
    struct payment p = intent_of(100);
    struct payment_event ev;
    assert_int_equal(payment_expire(&p, &ev, &err), 1);
    struct payment_join j = join_of(&p, 0);
    j.expired = 1;
    enum payment_join_step next = PAYMENT_JOIN_CHARGE;
    assert_int_equal(payment_join_reserve(&j, &next, &err), 0);
    assert_int_equal(next, PAYMENT_JOIN_DONE);
    /* The reservation and the expiry first, then the intent: DONE, never CHARGE. */
    struct payment fresh = intent_of(100);
    struct payment_join late = join_of(&fresh, 1);
    assert_int_equal(payment_join_next(&late), PAYMENT_JOIN_CHARGE);
    late.expired = 1;
    assert_int_equal(payment_join_next(&late), PAYMENT_JOIN_DONE);
}

/* A refused reservation leaves the join as it was and says nothing about the next step. */
static void assert_reservation_refused(struct payment_join j, const char *what)
{
    struct payment_join before = j;
    enum payment_join_step next = (enum payment_join_step)99;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_join_reserve(&j, &next, &err), ERR_CONFLICT);
    assert_non_null(strstr(err.msg, what));
    assert_non_null(strstr(err.msg, BOOKING_ID));
    assert_memory_equal(&j, &before, sizeof(j));
    assert_int_equal(next, 99);
}

static void test_second_reservation_is_refused_before_and_after_the_intent(void **state)
{
    (void)state;
    struct payment p = intent_of(100);
    assert_reservation_refused(join_of(NULL, 1), "already reserved");
    assert_reservation_refused(join_of(&p, 1), "already reserved");
}

static void test_reservation_of_a_decided_payment_is_refused(void **state)
{
    (void)state;
    /* Decided before the join was recorded (no reservation on the row): still a second one. */
    struct payment p = intent_of(DEFAULT_LIMIT + 1);
    struct payment_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(payment_charge(&p, DEFAULT_LIMIT, &ev, &err), 0);
    assert_reservation_refused(join_of(&p, 0), "already failed");
}

/* ---- names: the text the store keeps and the contract carries -------------------- */

static void test_status_names_round_trip_and_unknown_ones_are_refused(void **state)
{
    (void)state;
    const enum payment_status all[] = {PAYMENT_INTENT, PAYMENT_SUCCEEDED, PAYMENT_FAILED,
                                       PAYMENT_VOIDED, PAYMENT_REFUNDED};
    const char *names[] = {"intent", "succeeded", "failed", "voided", "refunded"};
    struct err err;
    err_clear(&err);
    for (size_t i = 0; i < 5; i++) {
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
        cmocka_unit_test(test_join_of_copies_what_the_store_found),
        cmocka_unit_test(test_join_waits_while_either_half_is_missing),
        cmocka_unit_test(test_join_charges_when_both_halves_meet_an_intent),
        cmocka_unit_test(test_join_is_done_once_the_payment_is_decided),
        cmocka_unit_test(test_reservation_after_the_intent_charges),
        cmocka_unit_test(test_reservation_before_the_intent_waits_and_the_intent_then_charges),
        cmocka_unit_test(test_either_order_charges_exactly_once),
        cmocka_unit_test(test_second_reservation_is_refused_before_and_after_the_intent),
        cmocka_unit_test(test_reservation_of_a_decided_payment_is_refused),
        cmocka_unit_test(test_expire_voids_an_intent_and_refunds_a_charge),
        cmocka_unit_test(test_expired_join_never_charges_whatever_arrives_late),
        cmocka_unit_test(test_status_names_round_trip_and_unknown_ones_are_refused),
        cmocka_unit_test(test_reason_names_round_trip_and_unknown_ones_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
