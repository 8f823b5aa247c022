/*
 * test_booking_handlers.c - booking's handlers through the handler test
 * harness (tests/lib/handler_test.h): PostgreSQL, no broker.
 */
#include "handler_test.h"

#include "booking/contract/booking_contract.h"
#include "booking/service.h"
#include "common/consumer.h"
#include "common/db.h"
#include "inventory/contract/inventory_contract.h"
#include "servicecatalog/contract/servicecatalog_contract.h"

#include <stdio.h>
#include <string.h>

/* The stock debited for a pending booking confirms it: booking.booking.confirmed, once. */
static void test_debited_stock_confirms_a_pending_booking_once(void **state)
{
    (void)state;
    struct handler_test *t = handler_test_start(&booking_service);
    struct servicecatalog_offering_published o = {.price_cents = 250, .capacity = 10};
    uuid7_generate(o.offering_id);
    uuid7_generate(o.provider_id);
    snprintf(o.name, sizeof(o.name), "%s", "harbour walk");
    assert_int_equal(handler_test_send(t, &SERVICECATALOG_OFFERING_PUBLISHED, &o, sizeof(o)), 0);
    assert_int_equal(handler_test_published(t, NULL), 0); /* a price replica publishes nothing */

    /* A pending booking, as POST /bookings leaves it. */
    char booking_id[UUID7_STR_LEN], user_id[UUID7_STR_LEN];
    uuid7_generate(booking_id);
    uuid7_generate(user_id);
    const char *params[] = {booking_id, user_id, o.offering_id};
    struct err err;
    err_clear(&err);
    assert_int_equal(
        db_exec(handler_test_db(t),
                "INSERT INTO bookings (id, user_id, offering_id, quantity, amount_cents,"
                " deadline) VALUES ($1, $2, $3, 2, 500, now() + interval '1 hour')",
                3, params, NULL, NULL, &err),
        1);

    struct inventory_stock_debited d = {.quantity = 2};
    memcpy(d.booking_id, booking_id, sizeof(d.booking_id));
    memcpy(d.offering_id, o.offering_id, sizeof(d.offering_id));
    assert_int_equal(handler_test_send(t, &INVENTORY_STOCK_DEBITED, &d, sizeof(d)), 0);
    struct booking_booking_confirmed confirmed;
    handler_test_take(t, &BOOKING_BOOKING_CONFIRMED, 0, &confirmed, sizeof(confirmed));
    assert_string_equal(confirmed.booking_id, booking_id);
    assert_string_equal(confirmed.user_id, user_id);
    assert_int_equal(confirmed.amount_cents, 500);
    assert_int_equal(handler_test_count(t,
                                        "SELECT count(*) FROM bookings WHERE id = $1 AND"
                                        " status = 'confirmed'",
                                        booking_id),
                     1);

    assert_int_equal(handler_test_redeliver(t), CONSUMER_DUPLICATE);
    assert_int_equal(handler_test_published(t, NULL), 0);
    handler_test_stop(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_debited_stock_confirms_a_pending_booking_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
