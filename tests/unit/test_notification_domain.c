/*
 * test_notification_domain.c - the notification domain alone: which fact
 * produces which notification (kind, subject, body), the draft → sent
 * transition and the ones it refuses, the raised domain event, the helpers.
 */
#include "notification/domain/notification.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define USER     "0193a1b2-0000-7000-8000-000000000001"
#define BOOKING  "0193a1b2-0000-7000-8000-0000000000b1"
#define NOTE_ID  "0193a1b2-0000-7000-8000-0000000000f1"
#define TOO_LONG "0193a1b2-0000-7000-8000-0000000000010000"

/* ---- rules: which fact produces which notification -------------------------------- */

static void test_provider_role_produces_a_welcome_about_the_user(void **state)
{
    (void)state;
    struct err err = {0};
    struct notification n;
    assert_int_equal(notification_for_role_granted(USER, "provider", &n, &err), 0);
    assert_int_equal(n.kind, NOTIFICATION_KIND_WELCOME);
    assert_string_equal(notification_kind_name(n.kind), "welcome");
    assert_string_equal(n.user_id, USER);
    assert_string_equal(n.reference_id, USER);
    assert_int_equal(n.channel, NOTIFICATION_CHANNEL_EMAIL);
    assert_int_equal(n.status, NOTIFICATION_DRAFT);
    assert_string_equal(n.subject, "Welcome to the marketplace, provider");
    assert_non_null(strstr(n.body, "provider"));
    assert_string_equal(n.id, "");
    assert_string_equal(n.email, "");
}

static void test_other_roles_produce_no_notification(void **state)
{
    (void)state;
    const char *roles[] = {"admin", "customer", "providers", "provider_admin", ""};
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        struct err err = {0};
        struct notification n;
        memset(&n, 0x5a, sizeof(n));
        assert_int_equal(notification_for_role_granted(USER, roles[i], &n, &err), 0);
        assert_int_equal(n.kind, NOTIFICATION_KIND_NONE);
        assert_string_equal(n.subject, "");
        assert_int_equal(err.code, 0);
    }
}

static void test_role_rule_refuses_missing_role_and_oversized_user_id(void **state)
{
    (void)state;
    struct err err = {0};
    struct notification n;
    assert_int_equal(notification_for_role_granted(USER, NULL, &n, &err), ERR_INVALID);
    assert_int_equal(n.kind, NOTIFICATION_KIND_NONE);
    assert_int_equal(notification_for_role_granted(TOO_LONG, "provider", &n, &err), ERR_INVALID);
    assert_int_equal(n.kind, NOTIFICATION_KIND_NONE);
    assert_non_null(strstr(err.msg, "too long"));
    assert_int_equal(notification_for_role_granted(NULL, "provider", &n, &err), ERR_INVALID);
    assert_int_equal(n.kind, NOTIFICATION_KIND_NONE);
}

static void test_confirmed_booking_produces_booking_confirmed_with_quantity_and_amount(void **state)
{
    (void)state;
    struct err err = {0};
    struct notification n;
    assert_int_equal(notification_for_booking_confirmed(BOOKING, USER, 3, 4500, &n, &err), 0);
    assert_int_equal(n.kind, NOTIFICATION_KIND_BOOKING_CONFIRMED);
    assert_string_equal(notification_kind_name(n.kind), "booking_confirmed");
    assert_string_equal(n.user_id, USER);
    assert_string_equal(n.reference_id, BOOKING);
    assert_string_equal(n.subject, "Your booking is confirmed");
    assert_non_null(strstr(n.body, "'" BOOKING "' is confirmed"));
    assert_non_null(strstr(n.body, "3 places, 45.00 paid"));
}

static void test_confirmed_booking_of_one_place_says_place(void **state)
{
    (void)state;
    struct err err = {0};
    struct notification n;
    assert_int_equal(notification_for_booking_confirmed(BOOKING, USER, 1, 1999, &n, &err), 0);
    assert_non_null(strstr(n.body, "1 place, 19.99 paid"));
}

static void test_confirmed_booking_refuses_impossible_quantity_or_amount(void **state)
{
    (void)state;
    struct err err = {0};
    struct notification n;
    assert_int_equal(notification_for_booking_confirmed(BOOKING, USER, 0, 100, &n, &err),
                     ERR_INVALID);
    assert_int_equal(n.kind, NOTIFICATION_KIND_NONE);
    assert_int_equal(notification_for_booking_confirmed(BOOKING, USER, 1, -1, &n, &err),
                     ERR_INVALID);
    assert_int_equal(n.kind, NOTIFICATION_KIND_NONE);
    assert_int_equal(notification_for_booking_confirmed(TOO_LONG, USER, 1, 1, &n, &err),
                     ERR_INVALID);
    assert_int_equal(n.kind, NOTIFICATION_KIND_NONE);
}

static void test_rejected_booking_produces_booking_rejected_with_readable_reason(void **state)
{
    (void)state;
    struct err err = {0};
    struct notification n;
    assert_int_equal(
        notification_for_booking_rejected(BOOKING, USER, "insufficient_stock", &n, &err), 0);
    assert_int_equal(n.kind, NOTIFICATION_KIND_BOOKING_REJECTED);
    assert_string_equal(notification_kind_name(n.kind), "booking_rejected");
    assert_string_equal(n.reference_id, BOOKING);
    assert_string_equal(n.subject, "Your booking could not be made");
    assert_non_null(strstr(n.body, "not enough places were left"));
    assert_non_null(strstr(n.body, "Nothing was charged"));
}

static void test_cancelled_booking_produces_booking_cancelled_with_readable_reason(void **state)
{
    (void)state;
    struct err err = {0};
    struct notification n;
    assert_int_equal(
        notification_for_booking_cancelled(BOOKING, USER, "payment_declined", &n, &err), 0);
    assert_int_equal(n.kind, NOTIFICATION_KIND_BOOKING_CANCELLED);
    assert_string_equal(notification_kind_name(n.kind), "booking_cancelled");
    assert_string_equal(n.reference_id, BOOKING);
    assert_string_equal(n.subject, "Your booking was cancelled");
    assert_non_null(strstr(n.body, "the payment was declined"));
    assert_non_null(strstr(n.body, "released"));
}

static void test_expired_booking_produces_booking_expired_naming_the_refund(void **state)
{
    (void)state;
    struct err err = {0};
    struct notification n;
    assert_int_equal(notification_for_booking_expired(BOOKING, USER, 12345, &n, &err), 0);
    assert_int_equal(n.kind, NOTIFICATION_KIND_BOOKING_EXPIRED);
    assert_string_equal(notification_kind_name(n.kind), "booking_expired");
    assert_string_equal(n.reference_id, BOOKING);
    assert_string_equal(n.subject, "Your booking expired");
    assert_non_null(strstr(n.body, "released"));
    assert_non_null(strstr(n.body, "123.45"));
    assert_non_null(strstr(n.body, "refunded"));
}

static void test_unknown_reason_is_named_as_it_is(void **state)
{
    (void)state;
    struct err err = {0};
    struct notification n;
    assert_int_equal(notification_for_booking_cancelled(BOOKING, USER, "fraud_suspected", &n, &err),
                     0);
    assert_int_equal(n.kind, NOTIFICATION_KIND_BOOKING_CANCELLED);
    assert_non_null(strstr(n.body, "reason 'fraud_suspected'"));
}

static void test_rejected_and_cancelled_refuse_missing_or_oversized_reason(void **state)
{
    (void)state;
    char long_reason[NOTIFICATION_REASON_MAX + 2];
    memset(long_reason, 'a', sizeof(long_reason) - 1);
    long_reason[sizeof(long_reason) - 1] = '\0';
    const char *bad[] = {NULL, "", long_reason};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err err = {0};
        struct notification n;
        assert_int_equal(notification_for_booking_rejected(BOOKING, USER, bad[i], &n, &err),
                         ERR_INVALID);
        assert_int_equal(n.kind, NOTIFICATION_KIND_NONE);
        assert_int_equal(notification_for_booking_cancelled(BOOKING, USER, bad[i], &n, &err),
                         ERR_INVALID);
        assert_int_equal(n.kind, NOTIFICATION_KIND_NONE);
    }
}

static void test_longest_reason_still_fits_the_body(void **state)
{
    (void)state;
    char reason[NOTIFICATION_REASON_MAX + 1];
    memset(reason, 'z', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    struct err err = {0};
    struct notification n;
    assert_int_equal(notification_for_booking_rejected(BOOKING, USER, reason, &n, &err), 0);
    assert_non_null(strstr(n.body, reason));
    assert_non_null(strstr(n.body, "Nothing was charged.\n"));
}

/* ---- the transition: draft → sent ------------------------------------------------------ */

static void test_send_moves_draft_to_sent_and_raises_sent_event(void **state)
{
    (void)state;
    struct err err = {0};
    struct notification n;
    struct notification_event ev;
    assert_int_equal(notification_for_booking_confirmed(BOOKING, USER, 2, 200, &n, &err), 0);
    assert_int_equal(notification_send(&n, NOTE_ID, "ann@example.org", &ev, &err), 0);
    assert_int_equal(n.status, NOTIFICATION_SENT);
    assert_string_equal(n.id, NOTE_ID);
    assert_string_equal(n.email, "ann@example.org");

    assert_int_equal(ev.kind, NOTIFICATION_EVENT_SENT);
    assert_string_equal(ev.notification_id, NOTE_ID);
    assert_string_equal(ev.user_id, USER);
    assert_int_equal(ev.notification_kind, NOTIFICATION_KIND_BOOKING_CONFIRMED);
    assert_string_equal(ev.reference_id, BOOKING);
    assert_int_equal(ev.channel, NOTIFICATION_CHANNEL_EMAIL);
    assert_string_equal(notification_channel_name(ev.channel), "email");
}

static void test_send_twice_is_refused_as_conflict(void **state)
{
    (void)state;
    struct err err = {0};
    struct notification n;
    struct notification_event ev;
    assert_int_equal(notification_for_role_granted(USER, "provider", &n, &err), 0);
    assert_int_equal(notification_send(&n, NOTE_ID, "ann@example.org", &ev, &err), 0);

    struct notification_event ev2;
    memset(&ev2, 0x5a, sizeof(ev2));
    assert_int_equal(notification_send(&n, NOTE_ID, "bob@example.org", &ev2, &err), ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "sent already"));
    assert_string_equal(n.email, "ann@example.org");    /* unchanged */
    assert_int_equal(((unsigned char *)&ev2)[0], 0x5a); /* no second event */
}

static void test_send_of_nothing_is_refused_as_conflict(void **state)
{
    (void)state;
    struct err err = {0};
    struct notification n;
    struct notification_event ev;
    assert_int_equal(notification_for_role_granted(USER, "customer", &n, &err), 0);
    assert_int_equal(notification_send(&n, NOTE_ID, "ann@example.org", &ev, &err), ERR_CONFLICT);
    assert_int_equal(n.status, NOTIFICATION_DRAFT);
}

static void test_send_refuses_malformed_id_and_leaves_draft(void **state)
{
    (void)state;
    struct err err = {0};
    struct notification n;
    struct notification_event ev;
    assert_int_equal(notification_for_role_granted(USER, "provider", &n, &err), 0);
    assert_int_equal(notification_send(&n, "short", "ann@example.org", &ev, &err), ERR_INVALID);
    assert_int_equal(notification_send(&n, NULL, "ann@example.org", &ev, &err), ERR_INVALID);
    assert_int_equal(n.status, NOTIFICATION_DRAFT);
    assert_string_equal(n.id, "");
}

static void test_send_refuses_a_recipient_without_address(void **state)
{
    (void)state;
    char huge[NOTIFICATION_EMAIL_MAX + 10];
    memset(huge, 'a', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    huge[3] = '@';
    const char *bad[] = {NULL, "", "ann", "@example.org", "ann@", huge};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err err = {0};
        struct notification n;
        struct notification_event ev;
        assert_int_equal(notification_for_role_granted(USER, "provider", &n, &err), 0);
        assert_int_equal(notification_send(&n, NOTE_ID, bad[i], &ev, &err), ERR_UNPROCESSABLE);
        assert_int_equal(n.status, NOTIFICATION_DRAFT);
        assert_string_equal(n.email, "");
    }
}

/* ---- names and helpers ------------------------------------------------------------------ */

static void test_kind_names_are_the_contract_strings(void **state)
{
    (void)state;
    assert_string_equal(notification_kind_name(NOTIFICATION_KIND_NONE), "none");
    assert_string_equal(notification_kind_name(NOTIFICATION_KIND_WELCOME), "welcome");
    assert_string_equal(notification_kind_name(NOTIFICATION_KIND_BOOKING_CONFIRMED),
                        "booking_confirmed");
    assert_string_equal(notification_kind_name(NOTIFICATION_KIND_BOOKING_REJECTED),
                        "booking_rejected");
    assert_string_equal(notification_kind_name(NOTIFICATION_KIND_BOOKING_CANCELLED),
                        "booking_cancelled");
    assert_string_equal(notification_channel_name(NOTIFICATION_CHANNEL_EMAIL), "email");
}

static void test_amount_is_formatted_with_two_decimals(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(notification_format_amount(0, out, sizeof(out)), 0);
    assert_string_equal(out, "0.00");
    assert_int_equal(notification_format_amount(5, out, sizeof(out)), 0);
    assert_string_equal(out, "0.05");
    assert_int_equal(notification_format_amount(123456, out, sizeof(out)), 0);
    assert_string_equal(out, "1234.56");
    assert_int_equal(notification_format_amount(-250, out, sizeof(out)), 0);
    assert_string_equal(out, "-2.50");
    assert_int_equal(notification_format_amount(INT64_MIN, out, sizeof(out)), 0);
    assert_string_equal(out, "-92233720368547758.08");
    assert_int_equal(notification_format_amount(100000000000LL, out, sizeof(out)), 0);
    assert_string_equal(out, "1000000000.00");
}

static void test_amount_refuses_a_buffer_too_small(void **state)
{
    (void)state;
    char out[4];
    assert_int_equal(notification_format_amount(12345, out, sizeof(out)), ERR_INVALID);
}

static void test_reason_text_knows_the_saga_reasons_only(void **state)
{
    (void)state;
    assert_string_equal(notification_reason_text("insufficient_stock"),
                        "not enough places were left");
    assert_string_equal(notification_reason_text("payment_declined"), "the payment was declined");
    assert_null(notification_reason_text("something_new"));
    assert_null(notification_reason_text(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provider_role_produces_a_welcome_about_the_user),
        cmocka_unit_test(test_other_roles_produce_no_notification),
        cmocka_unit_test(test_role_rule_refuses_missing_role_and_oversized_user_id),
        cmocka_unit_test(
            test_confirmed_booking_produces_booking_confirmed_with_quantity_and_amount),
        cmocka_unit_test(test_confirmed_booking_of_one_place_says_place),
        cmocka_unit_test(test_confirmed_booking_refuses_impossible_quantity_or_amount),
        cmocka_unit_test(test_rejected_booking_produces_booking_rejected_with_readable_reason),
        cmocka_unit_test(test_cancelled_booking_produces_booking_cancelled_with_readable_reason),
        cmocka_unit_test(test_expired_booking_produces_booking_expired_naming_the_refund),
        cmocka_unit_test(test_unknown_reason_is_named_as_it_is),
        cmocka_unit_test(test_rejected_and_cancelled_refuse_missing_or_oversized_reason),
        cmocka_unit_test(test_longest_reason_still_fits_the_body),
        cmocka_unit_test(test_send_moves_draft_to_sent_and_raises_sent_event),
        cmocka_unit_test(test_send_twice_is_refused_as_conflict),
        cmocka_unit_test(test_send_of_nothing_is_refused_as_conflict),
        cmocka_unit_test(test_send_refuses_malformed_id_and_leaves_draft),
        cmocka_unit_test(test_send_refuses_a_recipient_without_address),
        cmocka_unit_test(test_kind_names_are_the_contract_strings),
        cmocka_unit_test(test_amount_is_formatted_with_two_decimals),
        cmocka_unit_test(test_amount_refuses_a_buffer_too_small),
        cmocka_unit_test(test_reason_text_knows_the_saga_reasons_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
