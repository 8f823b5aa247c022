/*
 * test_inventory_handlers.c - inventory's handlers through the handler test
 * harness (tests/lib/handler_test.h): PostgreSQL, no broker.
 */
#include "handler_test.h"

#include "booking/contract/booking_contract.h"
#include "inventory/contract/inventory_contract.h"
#include "inventory/service.h"
#include "servicecatalog/contract/servicecatalog_contract.h"

#include <stdio.h>
#include <string.h>

static void booking_of(struct booking_booking_created *b, const char *offering_id, int64_t quantity)
{
    memset(b, 0, sizeof(*b));
    uuid7_generate(b->booking_id);
    uuid7_generate(b->user_id);
    snprintf(b->offering_id, sizeof(b->offering_id), "%s", offering_id);
    b->quantity = quantity;
    b->amount_cents = quantity * 100;
}

/* Stock of 3: a booking of 2 is reserved, the next one of 2 is refused with a reason. */
static void test_reservations_never_take_more_than_the_capacity(void **state)
{
    (void)state;
    struct handler_test *t = handler_test_start(&inventory_service);
    struct servicecatalog_offering_published o = {.price_cents = 100, .capacity = 3};
    uuid7_generate(o.offering_id);
    uuid7_generate(o.provider_id);
    snprintf(o.name, sizeof(o.name), "%s", "kayak tour");
    assert_int_equal(handler_test_send(t, &SERVICECATALOG_OFFERING_PUBLISHED, &o, sizeof(o)), 0);
    assert_int_equal(handler_test_published(t, NULL),
                     0); /* stock opened: inventory's own business */

    struct booking_booking_created first, second;
    booking_of(&first, o.offering_id, 2);
    assert_int_equal(handler_test_send(t, &BOOKING_BOOKING_CREATED, &first, sizeof(first)), 0);
    struct inventory_stock_reserved reserved;
    handler_test_take(t, &INVENTORY_STOCK_RESERVED, 0, &reserved, sizeof(reserved));
    assert_string_equal(reserved.booking_id, first.booking_id);
    assert_int_equal(reserved.quantity, 2);

    booking_of(&second, o.offering_id, 2);
    assert_int_equal(handler_test_send(t, &BOOKING_BOOKING_CREATED, &second, sizeof(second)), 0);
    struct inventory_stock_reservation_failed refused;
    handler_test_take(t, &INVENTORY_STOCK_RESERVATION_FAILED, 0, &refused, sizeof(refused));
    assert_string_equal(refused.reason, "insufficient_stock");
    assert_int_equal(
        handler_test_count(t, "SELECT available FROM stock WHERE offering_id = $1", o.offering_id),
        1);
    handler_test_stop(t);
}

/* Opens stock of capacity for a new offering; its id goes to offering_id. */
static void open_stock(struct handler_test *t, int64_t capacity, char offering_id[UUID7_STR_LEN])
{
    struct servicecatalog_offering_published o = {.price_cents = 100, .capacity = capacity};
    uuid7_generate(o.offering_id);
    uuid7_generate(o.provider_id);
    snprintf(o.name, sizeof(o.name), "%s", "kayak tour");
    assert_int_equal(handler_test_send(t, &SERVICECATALOG_OFFERING_PUBLISHED, &o, sizeof(o)), 0);
    memcpy(offering_id, o.offering_id, UUID7_STR_LEN);
}

/*
 * A booking gets one answer: booking.booking.created sent again as another
 * event (another id: the inbox does not know it) after the booking was
 * reserved, refused, or expired publishes nothing and moves no stock — the
 * three look-ups of stock_store_booking_answered.
 */
static void test_a_booking_answered_or_expired_already_gets_no_second_answer(void **state)
{
    (void)state;
    struct handler_test *t = handler_test_start(&inventory_service);
    char offering[UUID7_STR_LEN];
    open_stock(t, 3, offering);
    const char *available = "SELECT available FROM stock WHERE offering_id = $1";

    struct booking_booking_created reserved, refused, expired;
    booking_of(&reserved, offering, 2);
    assert_int_equal(handler_test_send(t, &BOOKING_BOOKING_CREATED, &reserved, sizeof(reserved)),
                     0);
    assert_int_equal(handler_test_published(t, &INVENTORY_STOCK_RESERVED), 1);
    booking_of(&refused, offering, 2);
    assert_int_equal(handler_test_send(t, &BOOKING_BOOKING_CREATED, &refused, sizeof(refused)), 0);
    assert_int_equal(handler_test_published(t, &INVENTORY_STOCK_RESERVATION_FAILED), 1);
    booking_of(&expired, offering, 1);
    struct booking_booking_expired gone = {.quantity = 1, .amount_cents = 100};
    memcpy(gone.booking_id, expired.booking_id, UUID7_STR_LEN);
    memcpy(gone.user_id, expired.user_id, UUID7_STR_LEN);
    memcpy(gone.offering_id, offering, UUID7_STR_LEN);
    assert_int_equal(handler_test_send(t, &BOOKING_BOOKING_EXPIRED, &gone, sizeof(gone)), 0);
    assert_int_equal(handler_test_count(t, available, offering), 1);

    const struct booking_booking_created *again[] = {&reserved, &refused, &expired};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(
            handler_test_send(t, &BOOKING_BOOKING_CREATED, again[i], sizeof(*again[i])), 0);
        assert_int_equal(handler_test_published(t, NULL), 0);
        assert_int_equal(handler_test_count(t, available, offering), 1);
    }
    assert_int_equal(
        handler_test_count(t, "SELECT count(*) FROM reservations WHERE offering_id = $1", offering),
        1);
    handler_test_stop(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reservations_never_take_more_than_the_capacity),
        cmocka_unit_test(test_a_booking_answered_or_expired_already_gets_no_second_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
