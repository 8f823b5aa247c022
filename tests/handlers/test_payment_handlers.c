/*
 * test_payment_handlers.c - payment's handlers through the handler test
 * harness (tests/lib/handler_test.h): PostgreSQL, no broker.
 */
#include "handler_test.h"

#include "booking/contract/booking_contract.h"
#include "common/consumer.h"
#include "inventory/contract/inventory_contract.h"
#include "payment/contract/payment_contract.h"
#include "payment/service.h"

#include <stdio.h>
#include <string.h>

static void new_booking(struct booking_booking_created *b, int64_t amount_cents)
{
    memset(b, 0, sizeof(*b));
    uuid7_generate(b->booking_id);
    uuid7_generate(b->user_id);
    uuid7_generate(b->offering_id);
    b->quantity = 2;
    b->amount_cents = amount_cents;
}

static void reserve(struct handler_test *t, const struct booking_booking_created *b)
{
    struct inventory_stock_reserved r = {.quantity = b->quantity};
    memcpy(r.booking_id, b->booking_id, sizeof(r.booking_id));
    memcpy(r.offering_id, b->offering_id, sizeof(r.offering_id));
    assert_int_equal(handler_test_send(t, &INVENTORY_STOCK_RESERVED, &r, sizeof(r)), 0);
}

/* Intent, then reservation: one charge, payment.payment.succeeded, caused by the reservation. */
static void test_a_reserved_booking_within_the_limit_is_charged_once(void **state)
{
    (void)state;
    struct handler_test *t = handler_test_start(&payment_service);
    struct booking_booking_created b;
    new_booking(&b, 500);
    assert_int_equal(handler_test_send(t, &BOOKING_BOOKING_CREATED, &b, sizeof(b)), 0);
    assert_int_equal(handler_test_published(t, NULL), 0); /* an intent is internal */

    reserve(t, &b);
    assert_int_equal(handler_test_published(t, NULL), 1);
    struct payment_payment_succeeded paid;
    handler_test_take(t, &PAYMENT_PAYMENT_SUCCEEDED, 0, &paid, sizeof(paid));
    assert_string_equal(paid.booking_id, b.booking_id);
    assert_int_equal(paid.amount_cents, 500);

    /* The same reservation again: the inbox has it, nothing runs, nothing is published. */
    assert_int_equal(handler_test_redeliver(t), CONSUMER_DUPLICATE);
    assert_int_equal(handler_test_published(t, NULL), 0);
    assert_int_equal(
        handler_test_count(t, "SELECT count(*) FROM payments WHERE booking_id = $1", b.booking_id),
        1);
    handler_test_stop(t);
}

/* Above PAYMENT_LIMIT_CENTS (default 100000) the payment fails with its reason as a name. */
static void test_an_amount_above_the_limit_fails_with_limit_exceeded(void **state)
{
    (void)state;
    struct handler_test *t = handler_test_start(&payment_service);
    struct booking_booking_created b;
    new_booking(&b, 100001);
    assert_int_equal(handler_test_send(t, &BOOKING_BOOKING_CREATED, &b, sizeof(b)), 0);
    reserve(t, &b);
    struct payment_payment_failed failed;
    handler_test_take(t, &PAYMENT_PAYMENT_FAILED, 0, &failed, sizeof(failed));
    assert_string_equal(failed.reason, "limit_exceeded");
    assert_int_equal(handler_test_published(t, &PAYMENT_PAYMENT_SUCCEEDED), 0);
    handler_test_stop(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_reserved_booking_within_the_limit_is_charged_once),
        cmocka_unit_test(test_an_amount_above_the_limit_fails_with_limit_exceeded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
