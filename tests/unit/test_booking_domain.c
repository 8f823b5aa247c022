/*
 * test_booking_domain.c - the booking aggregate alone (contexts/booking/domain):
 * every allowed transition and the domain event it raises, every refused one
 * (each transition from each final state), the facts that change no state,
 * and the validation rules of a new booking (quantity bounds, amount and its
 * overflow checks, ids). No database, no broker: it links booking_domain only.
 */
#include "booking/domain/booking.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define BOOKING_ID         "0190b3c2-7d4e-7a01-8b2c-0123456789ab"
#define USER_ID            "0190b3c2-7d4e-7a02-8b2c-0123456789ab"
#define OFFERING_ID        "0190b3c2-7d4e-7a03-8b2c-0123456789ab"
#define CREATED            "booking.booking.created"
#define DEBITED            "inventory.stock.debited"
#define RESERVATION_FAILED "inventory.stock.reservation_failed"
#define PAYMENT_FAILED     "payment.payment.failed"
#define RELEASED           "inventory.stock.released"
#define SENT               "notification.notification.sent"
#define EXPIRED            "booking.booking.expired"

/* A pending booking of 3 units at 2500 cents. */
static struct booking pending_booking(void)
{
    struct booking b;
    struct booking_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(
        booking_create(&b, BOOKING_ID, USER_ID, OFFERING_ID, 3, 2500, CREATED, &ev, &err), 0);
    return b;
}

/* A booking driven into final state to through the matching transition. */
static struct booking final_booking(enum booking_status to)
{
    struct booking b = pending_booking();
    struct booking_event ev;
    struct err err;
    err_clear(&err);
    int rc = -1;
    switch (to) {
    case BOOKING_CONFIRMED: rc = booking_confirm(&b, DEBITED, &ev, &err); break;
    case BOOKING_REJECTED:
        rc = booking_reject(&b, "insufficient_stock", RESERVATION_FAILED, &ev, &err);
        break;
    case BOOKING_CANCELLED:
        rc = booking_cancel(&b, BOOKING_REASON_PAYMENT_DECLINED, PAYMENT_FAILED, &ev, &err);
        break;
    case BOOKING_EXPIRED: rc = booking_expire(&b, EXPIRED, &ev, &err); break;
    case BOOKING_PENDING: fail_msg("pending is not final");
    }
    assert_int_equal(rc, 0);
    assert_int_equal(b.status, to);
    return b;
}

/* ---- creation ------------------------------------------------------------------ */

static void test_create_makes_a_pending_booking_and_raises_created(void **state)
{
    (void)state;
    struct booking b;
    struct booking_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(
        booking_create(&b, BOOKING_ID, USER_ID, OFFERING_ID, 3, 2500, CREATED, &ev, &err), 0);
    assert_int_equal(b.status, BOOKING_PENDING);
    assert_string_equal(b.id, BOOKING_ID);
    assert_string_equal(b.user_id, USER_ID);
    assert_string_equal(b.offering_id, OFFERING_ID);
    assert_int_equal(b.quantity, 3);
    assert_int_equal(b.amount_cents, 7500);
    assert_string_equal(b.reason, "");
    assert_int_equal(ev.kind, BOOKING_EVENT_CREATED);
    assert_int_equal(ev.booking.status, BOOKING_PENDING);
    assert_string_equal(ev.booking.id, BOOKING_ID);
    assert_int_equal(ev.booking.amount_cents, 7500);
    assert_string_equal(ev.cause, CREATED);
}

static void test_create_keeps_ids_lowercase(void **state)
{
    (void)state;
    struct booking b;
    struct booking_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(booking_create(&b, "0190B3C2-7D4E-7A01-8B2C-0123456789AB", USER_ID,
                                    "0190B3C2-7D4E-7A03-8B2C-0123456789AB", 1, 1, CREATED, &ev,
                                    &err),
                     0);
    assert_string_equal(b.id, BOOKING_ID);
    assert_string_equal(b.offering_id, OFFERING_ID);
}

static void test_create_refuses_quantity_out_of_bounds(void **state)
{
    (void)state;
    const int64_t bad[] = {0, -1, BOOKING_QUANTITY_MAX + 1, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct booking b;
        memset(&b, 0x5a, sizeof(b));
        struct booking untouched;
        memcpy(&untouched, &b, sizeof(b));
        struct booking_event ev;
        struct err err;
        err_clear(&err);
        assert_int_equal(
            booking_create(&b, BOOKING_ID, USER_ID, OFFERING_ID, bad[i], 100, CREATED, &ev, &err),
            ERR_UNPROCESSABLE);
        assert_non_null(strstr(err.msg, "quantity"));
        assert_memory_equal(&b, &untouched, sizeof(b));
    }
}

static void test_create_accepts_quantity_bounds(void **state)
{
    (void)state;
    const int64_t good[] = {BOOKING_QUANTITY_MIN, BOOKING_QUANTITY_MAX};
    for (size_t i = 0; i < 2; i++) {
        struct booking b;
        struct booking_event ev;
        struct err err;
        err_clear(&err);
        assert_int_equal(
            booking_create(&b, BOOKING_ID, USER_ID, OFFERING_ID, good[i], 100, CREATED, &ev, &err),
            0);
        assert_int_equal(b.amount_cents, good[i] * 100);
    }
}

static void test_create_refuses_malformed_ids_and_cause(void **state)
{
    (void)state;
    struct booking b;
    struct booking_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(booking_create(&b, "short", USER_ID, OFFERING_ID, 1, 1, CREATED, &ev, &err),
                     ERR_INVALID);
    assert_non_null(strstr(err.msg, "booking id"));
    assert_int_equal(booking_create(&b, BOOKING_ID, NULL, OFFERING_ID, 1, 1, CREATED, &ev, &err),
                     ERR_INVALID);
    assert_non_null(strstr(err.msg, "user id"));
    assert_int_equal(
        booking_create(&b, BOOKING_ID, USER_ID, BOOKING_ID "x", 1, 1, CREATED, &ev, &err),
        ERR_INVALID);
    assert_non_null(strstr(err.msg, "offering id"));
    assert_int_equal(booking_create(&b, BOOKING_ID, USER_ID, OFFERING_ID, 1, 1, "", &ev, &err),
                     ERR_INVALID);
    assert_int_equal(booking_create(&b, BOOKING_ID, USER_ID, OFFERING_ID, 1, 1, NULL, &ev, &err),
                     ERR_INVALID);
}

/* ---- validation rules ------------------------------------------------------------- */

static void test_validate_quantity_bounds(void **state)
{
    (void)state;
    struct err err;
    err_clear(&err);
    assert_int_equal(booking_validate_quantity(0, &err), ERR_UNPROCESSABLE);
    assert_string_equal(err.msg, "quantity 0 is not in [1, 1000]");
    assert_int_equal(booking_validate_quantity(1, &err), 0);
    assert_int_equal(booking_validate_quantity(1000, &err), 0);
    assert_int_equal(booking_validate_quantity(1001, &err), ERR_UNPROCESSABLE);
    assert_int_equal(booking_validate_quantity(-5, &err), ERR_UNPROCESSABLE);
}

static void test_amount_is_quantity_times_price(void **state)
{
    (void)state;
    struct err err;
    err_clear(&err);
    int64_t amount = -1;
    assert_int_equal(booking_amount(7, 1234, &amount, &err), 0);
    assert_int_equal(amount, 8638);
    assert_int_equal(booking_amount(BOOKING_QUANTITY_MAX, BOOKING_PRICE_MAX, &amount, &err), 0);
    assert_int_equal(amount, BOOKING_AMOUNT_MAX);
}

static void test_amount_refuses_bad_price_and_overflow(void **state)
{
    (void)state;
    struct err err;
    err_clear(&err);
    int64_t amount = 42;
    assert_int_equal(booking_amount(1, 0, &amount, &err), ERR_UNPROCESSABLE);
    assert_int_equal(booking_amount(1, -100, &amount, &err), ERR_UNPROCESSABLE);
    assert_int_equal(booking_amount(1, BOOKING_PRICE_MAX + 1, &amount, &err), ERR_UNPROCESSABLE);
    /* A price that would overflow int64 when multiplied is refused, never wrapped. */
    assert_int_equal(booking_amount(2, INT64_MAX, &amount, &err), ERR_UNPROCESSABLE);
    assert_int_equal(booking_amount(BOOKING_QUANTITY_MAX, INT64_MAX / 2, &amount, &err),
                     ERR_UNPROCESSABLE);
    assert_int_equal(booking_amount(0, 100, &amount, &err), ERR_UNPROCESSABLE);
    assert_int_equal(amount, 42); /* untouched on every failure */
}

/* ---- transitions from pending ------------------------------------------------------- */

static void test_confirm_moves_pending_to_confirmed_and_raises_confirmed(void **state)
{
    (void)state;
    struct booking b = pending_booking();
    struct booking_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(booking_confirm(&b, DEBITED, &ev, &err), 0);
    assert_int_equal(b.status, BOOKING_CONFIRMED);
    assert_string_equal(b.reason, "");
    assert_int_equal(ev.kind, BOOKING_EVENT_CONFIRMED);
    assert_int_equal(ev.booking.status, BOOKING_CONFIRMED);
    assert_int_equal(ev.booking.amount_cents, 7500);
    assert_int_equal(ev.booking.quantity, 3);
    assert_string_equal(ev.cause, DEBITED);
}

static void test_reject_moves_pending_to_rejected_with_reason(void **state)
{
    (void)state;
    struct booking b = pending_booking();
    struct booking_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(booking_reject(&b, "insufficient_stock", RESERVATION_FAILED, &ev, &err), 0);
    assert_int_equal(b.status, BOOKING_REJECTED);
    assert_string_equal(b.reason, "insufficient_stock");
    assert_int_equal(ev.kind, BOOKING_EVENT_REJECTED);
    assert_int_equal(ev.booking.status, BOOKING_REJECTED);
    assert_string_equal(ev.booking.reason, "insufficient_stock");
    assert_string_equal(ev.cause, RESERVATION_FAILED);
}

static void test_cancel_moves_pending_to_cancelled_with_reason(void **state)
{
    (void)state;
    struct booking b = pending_booking();
    struct booking_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(booking_cancel(&b, BOOKING_REASON_PAYMENT_DECLINED, PAYMENT_FAILED, &ev, &err),
                     0);
    assert_int_equal(b.status, BOOKING_CANCELLED);
    assert_string_equal(b.reason, "payment_declined");
    assert_int_equal(ev.kind, BOOKING_EVENT_CANCELLED);
    assert_int_equal(ev.booking.status, BOOKING_CANCELLED);
    assert_string_equal(ev.booking.reason, "payment_declined");
    assert_string_equal(ev.cause, PAYMENT_FAILED);
}

static void test_reject_and_cancel_refuse_missing_or_long_reason(void **state)
{
    (void)state;
    char too_long[BOOKING_REASON_MAX + 2];
    memset(too_long, 'a', sizeof(too_long) - 1);
    too_long[sizeof(too_long) - 1] = '\0';
    const char *bad[] = {NULL, "", too_long};
    for (size_t i = 0; i < 3; i++) {
        struct booking b = pending_booking();
        struct booking_event ev;
        struct err err;
        err_clear(&err);
        assert_int_equal(booking_reject(&b, bad[i], RESERVATION_FAILED, &ev, &err), ERR_INVALID);
        assert_int_equal(booking_cancel(&b, bad[i], PAYMENT_FAILED, &ev, &err), ERR_INVALID);
        assert_int_equal(b.status, BOOKING_PENDING);
    }
}

static void test_transitions_refuse_empty_cause(void **state)
{
    (void)state;
    struct booking b = pending_booking();
    struct booking_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(booking_confirm(&b, "", &ev, &err), ERR_INVALID);
    assert_int_equal(booking_reject(&b, "insufficient_stock", NULL, &ev, &err), ERR_INVALID);
    assert_int_equal(booking_note_stock_released(&b, "", &ev, &err), ERR_INVALID);
    assert_int_equal(booking_note_notified(&b, NULL, &ev, &err), ERR_INVALID);
    assert_int_equal(b.status, BOOKING_PENDING);
}

/* ---- every transition refused from every final state ---------------------------------- */

/* Tries confirm, reject, cancel and expire on a booking in final state from; all must be refused. */
static void assert_final_state_refuses_everything(enum booking_status from)
{
    const char *from_name = booking_status_name(from);
    for (int attempt = 0; attempt < 4; attempt++) {
        struct booking b = final_booking(from);
        struct booking before;
        memcpy(&before, &b, sizeof(b));
        struct booking_event ev, ev_before;
        memset(&ev, 0x5a, sizeof(ev));
        memcpy(&ev_before, &ev, sizeof(ev));
        struct err err;
        err_clear(&err);
        int rc;
        const char *to;
        if (attempt == 0) {
            rc = booking_confirm(&b, DEBITED, &ev, &err);
            to = "confirmed";
        } else if (attempt == 1) {
            rc = booking_reject(&b, "insufficient_stock", RESERVATION_FAILED, &ev, &err);
            to = "rejected";
        } else if (attempt == 2) {
            rc = booking_cancel(&b, BOOKING_REASON_PAYMENT_DECLINED, PAYMENT_FAILED, &ev, &err);
            to = "cancelled";
        } else {
            rc = booking_expire(&b, EXPIRED, &ev, &err);
            to = "expired";
        }
        assert_int_equal(rc, ERR_CONFLICT);
        char expected[ERR_MSG_MAX];
        snprintf(expected, sizeof(expected), "booking '%s' is already %s: it cannot become %s",
                 BOOKING_ID, from_name, to);
        assert_string_equal(err.msg, expected);
        /* Nothing changed and no event was raised. */
        assert_memory_equal(&b, &before, sizeof(b));
        assert_memory_equal(&ev, &ev_before, sizeof(ev));
    }
}

static void test_confirmed_refuses_confirm_reject_and_cancel(void **state)
{
    (void)state;
    assert_final_state_refuses_everything(BOOKING_CONFIRMED);
}

static void test_rejected_refuses_confirm_reject_and_cancel(void **state)
{
    (void)state;
    assert_final_state_refuses_everything(BOOKING_REJECTED);
}

static void test_cancelled_refuses_confirm_reject_and_cancel(void **state)
{
    (void)state;
    assert_final_state_refuses_everything(BOOKING_CANCELLED);
}

static void test_expired_refuses_confirm_reject_cancel_and_expire(void **state)
{
    (void)state;
    assert_final_state_refuses_everything(BOOKING_EXPIRED);
}

static void test_expire_moves_pending_to_expired_without_reason(void **state)
{
    (void)state;
    struct booking b = pending_booking();
    struct booking_event ev;
    struct err err;
    err_clear(&err);
    assert_false(booking_is_late_for(&b));
    assert_int_equal(booking_expire(&b, EXPIRED, &ev, &err), 0);
    assert_int_equal(b.status, BOOKING_EXPIRED);
    assert_string_equal(b.reason, "");
    assert_int_equal(ev.kind, BOOKING_EVENT_EXPIRED);
    assert_int_equal(ev.booking.status, BOOKING_EXPIRED);
    assert_string_equal(ev.cause, EXPIRED);
    assert_true(booking_status_is_final(b.status));
    assert_true(booking_is_late_for(&b));
}

static void test_late_debit_after_expiry_never_confirms(void **state)
{
    (void)state;
    /* The deadline passed while the sale was in flight: the debit arrives to an expired booking. */
    struct booking b = pending_booking();
    struct booking_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(booking_expire(&b, EXPIRED, &ev, &err), 0);
    assert_int_equal(booking_confirm(&b, DEBITED, &ev, &err), ERR_CONFLICT);
    assert_int_equal(b.status, BOOKING_EXPIRED);
    assert_int_equal(ev.kind, BOOKING_EVENT_EXPIRED);
    /* Only an expired booking treats a contradicting event as late; the others refuse it as a bug. */
    const enum booking_status others[] = {BOOKING_CONFIRMED, BOOKING_REJECTED, BOOKING_CANCELLED};
    for (size_t i = 0; i < 3; i++) {
        struct booking f = final_booking(others[i]);
        assert_false(booking_is_late_for(&f));
    }
}

static void test_second_transition_keeps_the_first_outcome(void **state)
{
    (void)state;
    /* Stock debited, then a contradicting payment failure: the booking stays confirmed. */
    struct booking b = pending_booking();
    struct booking_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(booking_confirm(&b, DEBITED, &ev, &err), 0);
    assert_int_equal(booking_cancel(&b, BOOKING_REASON_PAYMENT_DECLINED, PAYMENT_FAILED, &ev, &err),
                     ERR_CONFLICT);
    assert_int_equal(b.status, BOOKING_CONFIRMED);
    assert_string_equal(b.reason, "");
    assert_int_equal(ev.kind, BOOKING_EVENT_CONFIRMED);
}

/* ---- facts that change no state ------------------------------------------------------ */

static void test_notes_are_allowed_in_every_state_and_keep_the_status(void **state)
{
    (void)state;
    const enum booking_status all[] = {BOOKING_PENDING, BOOKING_CONFIRMED, BOOKING_REJECTED,
                                       BOOKING_CANCELLED, BOOKING_EXPIRED};
    for (size_t i = 0; i < 5; i++) {
        struct booking b = all[i] == BOOKING_PENDING ? pending_booking() : final_booking(all[i]);
        struct booking before;
        memcpy(&before, &b, sizeof(b));
        struct booking_event ev;
        struct err err;
        err_clear(&err);

        assert_int_equal(booking_note_stock_released(&b, RELEASED, &ev, &err), 0);
        assert_int_equal(ev.kind, BOOKING_EVENT_STOCK_RELEASED);
        assert_int_equal(ev.booking.status, all[i]);
        assert_string_equal(ev.cause, RELEASED);

        assert_int_equal(booking_note_refunded(&b, "payment.payment.refunded", &ev, &err), 0);
        assert_int_equal(ev.kind, BOOKING_EVENT_REFUNDED);
        assert_int_equal(ev.booking.status, all[i]);

        assert_int_equal(booking_note_notified(&b, SENT, &ev, &err), 0);
        assert_int_equal(ev.kind, BOOKING_EVENT_NOTIFIED);
        assert_int_equal(ev.booking.status, all[i]);
        assert_string_equal(ev.booking.reason, before.reason);
        assert_string_equal(ev.cause, SENT);

        assert_memory_equal(&b, &before, sizeof(b));
    }
}

static void test_release_before_payment_failure_then_cancel_still_works(void **state)
{
    (void)state;
    /* Reordering: inventory.stock.released may be handled before payment.payment.failed. */
    struct booking b = pending_booking();
    struct booking_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(booking_note_stock_released(&b, RELEASED, &ev, &err), 0);
    assert_int_equal(ev.booking.status, BOOKING_PENDING);
    assert_int_equal(booking_cancel(&b, BOOKING_REASON_PAYMENT_DECLINED, PAYMENT_FAILED, &ev, &err),
                     0);
    assert_int_equal(b.status, BOOKING_CANCELLED);
}

/* ---- names -------------------------------------------------------------------------- */

static void test_status_names_round_trip(void **state)
{
    (void)state;
    const enum booking_status all[] = {BOOKING_PENDING, BOOKING_CONFIRMED, BOOKING_REJECTED,
                                       BOOKING_CANCELLED, BOOKING_EXPIRED};
    const char *names[] = {"pending", "confirmed", "rejected", "cancelled", "expired"};
    for (size_t i = 0; i < 5; i++) {
        enum booking_status parsed = BOOKING_PENDING;
        struct err err;
        err_clear(&err);
        assert_string_equal(booking_status_name(all[i]), names[i]);
        assert_int_equal(booking_status_parse(names[i], &parsed, &err), 0);
        assert_int_equal(parsed, all[i]);
        assert_int_equal(booking_status_is_final(all[i]), all[i] != BOOKING_PENDING);
    }
    enum booking_status parsed;
    struct err err;
    err_clear(&err);
    assert_int_equal(booking_status_parse("done", &parsed, &err), ERR_INVALID);
    assert_int_equal(booking_status_parse(NULL, &parsed, &err), ERR_INVALID);
    assert_string_equal(booking_status_name((enum booking_status)42), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_makes_a_pending_booking_and_raises_created),
        cmocka_unit_test(test_create_keeps_ids_lowercase),
        cmocka_unit_test(test_create_refuses_quantity_out_of_bounds),
        cmocka_unit_test(test_create_accepts_quantity_bounds),
        cmocka_unit_test(test_create_refuses_malformed_ids_and_cause),
        cmocka_unit_test(test_validate_quantity_bounds),
        cmocka_unit_test(test_amount_is_quantity_times_price),
        cmocka_unit_test(test_amount_refuses_bad_price_and_overflow),
        cmocka_unit_test(test_confirm_moves_pending_to_confirmed_and_raises_confirmed),
        cmocka_unit_test(test_reject_moves_pending_to_rejected_with_reason),
        cmocka_unit_test(test_cancel_moves_pending_to_cancelled_with_reason),
        cmocka_unit_test(test_reject_and_cancel_refuse_missing_or_long_reason),
        cmocka_unit_test(test_transitions_refuse_empty_cause),
        cmocka_unit_test(test_confirmed_refuses_confirm_reject_and_cancel),
        cmocka_unit_test(test_rejected_refuses_confirm_reject_and_cancel),
        cmocka_unit_test(test_cancelled_refuses_confirm_reject_and_cancel),
        cmocka_unit_test(test_expired_refuses_confirm_reject_cancel_and_expire),
        cmocka_unit_test(test_expire_moves_pending_to_expired_without_reason),
        cmocka_unit_test(test_late_debit_after_expiry_never_confirms),
        cmocka_unit_test(test_second_transition_keeps_the_first_outcome),
        cmocka_unit_test(test_notes_are_allowed_in_every_state_and_keep_the_status),
        cmocka_unit_test(test_release_before_payment_failure_then_cancel_still_works),
        cmocka_unit_test(test_status_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
