/*
 * test_notification_handlers.c - notification's handlers through the
 * handler test harness (tests/lib/handler_test.h): PostgreSQL, no broker.
 */
#include "handler_test.h"

#include "booking/contract/booking_contract.h"
#include "notification/contract/notification_contract.h"
#include "notification/service.h"
#include "usermanagement/contract/usermanagement_contract.h"

#include <stdio.h>
#include <string.h>

/* A confirmed booking of a known user is told to them: notification.notification.sent. */
static void test_a_confirmed_booking_is_notified_to_its_user(void **state)
{
    (void)state;
    struct handler_test *t = handler_test_start(&notification_service);
    struct usermanagement_user_registered u = {0};
    uuid7_generate(u.user_id);
    snprintf(u.email, sizeof(u.email), "%s", "ann@example.org");
    snprintf(u.name, sizeof(u.name), "%s", "Ann");
    assert_int_equal(handler_test_send(t, &USERMANAGEMENT_USER_REGISTERED, &u, sizeof(u)), 0);

    struct booking_booking_confirmed c = {.quantity = 1, .amount_cents = 100};
    uuid7_generate(c.booking_id);
    memcpy(c.user_id, u.user_id, sizeof(c.user_id));
    uuid7_generate(c.offering_id);
    assert_int_equal(handler_test_send(t, &BOOKING_BOOKING_CONFIRMED, &c, sizeof(c)), 0);
    struct notification_notification_sent sent;
    handler_test_take(t, &NOTIFICATION_NOTIFICATION_SENT, 0, &sent, sizeof(sent));
    assert_string_equal(sent.user_id, u.user_id);
    assert_string_equal(sent.kind, "booking_confirmed");
    assert_string_equal(sent.reference_id, c.booking_id);
    assert_string_equal(sent.channel, "email");
    handler_test_stop(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_confirmed_booking_is_notified_to_its_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
