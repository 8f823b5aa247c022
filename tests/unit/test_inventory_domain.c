/*
 * test_inventory_domain.c - the pure domain of inventory: stock levels, the
 * reservation state machine, validation rules and the domain events raised.
 * Every transition is tested, and every refused one leaves everything as it
 * was (checked by comparing the structs before and after).
 */
#include "inventory/domain/reservation.h"
#include "inventory/domain/stock.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define OFFERING       "01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f"
#define OTHER_OFFERING "01936f0e-1c2a-7d4b-8e3f-ffffffffffff"
#define BOOKING        "01936f0e-2222-7d4b-8e3f-0a1b2c3d4e5f"
#define BOOKING2       "01936f0e-3333-7d4b-8e3f-0a1b2c3d4e5f"

/* A stock of the given capacity, opened through the domain. */
static struct stock open_stock(int64_t capacity)
{
    struct stock s;
    struct stock_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_open(&s, OFFERING, capacity, &ev, &err), 0);
    return s;
}

/* Reserves quantity for booking and asserts it moved. */
static struct reservation reserve(struct stock *s, const char *booking, int64_t quantity)
{
    struct reservation r;
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_reserve(s, booking, quantity, &r, &out, &err), 0);
    assert_true(out.moved);
    return r;
}

static void assert_levels(const struct stock_levels *l, int64_t available, int64_t reserved,
                          int64_t sold)
{
    assert_int_equal(l->available, available);
    assert_int_equal(l->reserved, reserved);
    assert_int_equal(l->sold, sold);
}

static void assert_stock(const struct stock *s, int64_t available, int64_t reserved, int64_t sold)
{
    struct stock_levels l = stock_levels_of(s);
    assert_levels(&l, available, reserved, sold);
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_check(s, &err), 0);
}

/* Field by field (padding bytes carry no meaning, so no memcmp of whole structs). */
static void assert_same_stock(const struct stock *a, const struct stock *b)
{
    assert_memory_equal(a->offering_id, b->offering_id, sizeof(a->offering_id));
    assert_int_equal(a->capacity, b->capacity);
    assert_int_equal(a->available, b->available);
    assert_int_equal(a->reserved, b->reserved);
    assert_int_equal(a->sold, b->sold);
}

static void assert_same_reservation(const struct reservation *a, const struct reservation *b)
{
    assert_memory_equal(a->booking_id, b->booking_id, sizeof(a->booking_id));
    assert_memory_equal(a->offering_id, b->offering_id, sizeof(a->offering_id));
    assert_int_equal(a->quantity, b->quantity);
    assert_int_equal(a->status, b->status);
}

/* ---- validation rules ------------------------------------------------------------- */

static void test_capacity_bounds_are_one_to_a_million(void **state)
{
    (void)state;
    assert_false(stock_capacity_is_valid(0));
    assert_false(stock_capacity_is_valid(-1));
    assert_true(stock_capacity_is_valid(1));
    assert_true(stock_capacity_is_valid(STOCK_CAPACITY_MAX));
    assert_false(stock_capacity_is_valid(STOCK_CAPACITY_MAX + 1));
    assert_false(stock_capacity_is_valid(INT64_MAX));
}

static void test_quantity_bounds_are_one_to_a_thousand(void **state)
{
    (void)state;
    assert_false(stock_quantity_is_valid(0));
    assert_false(stock_quantity_is_valid(-5));
    assert_true(stock_quantity_is_valid(1));
    assert_true(stock_quantity_is_valid(STOCK_QUANTITY_MAX));
    assert_false(stock_quantity_is_valid(STOCK_QUANTITY_MAX + 1));
}

static void test_check_accepts_a_stock_that_adds_up(void **state)
{
    (void)state;
    struct stock s = {OFFERING, 10, 3, 4, 3};
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_check(&s, &err), 0);
}

static void test_check_refuses_levels_that_do_not_add_up(void **state)
{
    (void)state;
    struct stock s = {OFFERING, 10, 3, 4, 2};
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_check(&s, &err), ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "breaks its invariant"));
    assert_non_null(strstr(err.msg, OFFERING));
}

static void test_check_refuses_a_negative_level_even_when_the_sum_matches(void **state)
{
    (void)state;
    struct stock negative_available = {OFFERING, 10, -1, 11, 0};
    struct stock negative_reserved = {OFFERING, 10, 11, -1, 0};
    struct stock negative_sold = {OFFERING, 10, 5, 6, -1};
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_check(&negative_available, &err), ERR_UNPROCESSABLE);
    assert_int_equal(stock_check(&negative_reserved, &err), ERR_UNPROCESSABLE);
    assert_int_equal(stock_check(&negative_sold, &err), ERR_UNPROCESSABLE);
}

static void test_check_refuses_a_capacity_out_of_bounds_without_overflowing(void **state)
{
    (void)state;
    struct stock zero = {OFFERING, 0, 0, 0, 0};
    struct stock huge = {OFFERING, INT64_MAX, INT64_MAX, INT64_MAX, 2};
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_check(&zero, &err), ERR_UNPROCESSABLE);
    assert_int_equal(stock_check(&huge, &err), ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "capacity"));
}

static void test_names_are_the_stored_and_published_strings(void **state)
{
    (void)state;
    assert_string_equal(stock_movement_kind_name(STOCK_MOVEMENT_RESERVE), "reserve");
    assert_string_equal(stock_movement_kind_name(STOCK_MOVEMENT_RELEASE), "release");
    assert_string_equal(stock_movement_kind_name(STOCK_MOVEMENT_SALE), "sale");
    assert_string_equal(stock_movement_kind_name((enum stock_movement_kind)42), "unknown");
    assert_string_equal(stock_refusal_name(STOCK_REFUSAL_INSUFFICIENT_STOCK), "insufficient_stock");
    assert_string_equal(stock_refusal_name(STOCK_REFUSAL_NONE), "none");
    assert_string_equal(reservation_status_name(RESERVATION_RESERVED), "reserved");
    assert_string_equal(reservation_status_name(RESERVATION_SOLD), "sold");
    assert_string_equal(reservation_status_name(RESERVATION_RELEASED), "released");
    assert_string_equal(reservation_status_name((enum reservation_status)42), "unknown");
}

static void test_status_parse_round_trips_and_refuses_unknown_text(void **state)
{
    (void)state;
    struct err err;
    err_clear(&err);
    enum reservation_status st;
    const enum reservation_status all[] = {RESERVATION_RESERVED, RESERVATION_SOLD,
                                           RESERVATION_RELEASED};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(reservation_status_parse(reservation_status_name(all[i]), &st, &err), 0);
        assert_int_equal(st, all[i]);
    }
    assert_int_equal(reservation_status_parse("Reserved", &st, &err), ERR_INVALID);
    assert_int_equal(reservation_status_parse("", &st, &err), ERR_INVALID);
    assert_int_equal(reservation_status_parse(NULL, &st, &err), ERR_INVALID);
}

/* ---- stock_open ------------------------------------------------------------------- */

static void test_open_makes_everything_available_and_raises_opened(void **state)
{
    (void)state;
    struct stock s;
    struct stock_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_open(&s, OFFERING, 60, &ev, &err), 0);
    assert_string_equal(s.offering_id, OFFERING);
    assert_int_equal(s.capacity, 60);
    assert_stock(&s, 60, 0, 0);
    assert_int_equal(ev.kind, STOCK_EVENT_OPENED);
    assert_string_equal(ev.offering_id, OFFERING);
    assert_string_equal(ev.booking_id, "");
    assert_int_equal(ev.quantity, 60);
}

static void test_open_refuses_a_capacity_out_of_bounds(void **state)
{
    (void)state;
    struct stock s, before;
    memset(&s, 0x5a, sizeof(s));
    before = s;
    struct stock_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_open(&s, OFFERING, 0, &ev, &err), ERR_UNPROCESSABLE);
    assert_int_equal(stock_open(&s, OFFERING, STOCK_CAPACITY_MAX + 1, &ev, &err),
                     ERR_UNPROCESSABLE);
    assert_same_stock(&s, &before);
}

static void test_open_refuses_an_empty_or_too_long_offering_id(void **state)
{
    (void)state;
    struct stock s;
    struct stock_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_open(&s, "", 10, &ev, &err), ERR_INVALID);
    assert_int_equal(stock_open(&s, NULL, 10, &ev, &err), ERR_INVALID);
    assert_int_equal(stock_open(&s, OFFERING "x", 10, &ev, &err), ERR_INVALID);
}

/* ---- stock_reserve ------------------------------------------------------------------ */

static void test_reserve_moves_available_to_reserved_with_a_movement_and_an_event(void **state)
{
    (void)state;
    struct stock s = open_stock(10);
    struct reservation r;
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_reserve(&s, BOOKING, 3, &r, &out, &err), 0);
    assert_stock(&s, 7, 3, 0);

    assert_string_equal(r.booking_id, BOOKING);
    assert_string_equal(r.offering_id, OFFERING);
    assert_int_equal(r.quantity, 3);
    assert_int_equal(r.status, RESERVATION_RESERVED);

    assert_true(out.moved);
    assert_int_equal(out.movement.kind, STOCK_MOVEMENT_RESERVE);
    assert_string_equal(out.movement.booking_id, BOOKING);
    assert_int_equal(out.movement.quantity, 3);
    assert_levels(&out.movement.before, 10, 0, 0);
    assert_levels(&out.movement.after, 7, 3, 0);

    assert_int_equal(out.event.kind, STOCK_EVENT_RESERVED);
    assert_string_equal(out.event.offering_id, OFFERING);
    assert_string_equal(out.event.booking_id, BOOKING);
    assert_int_equal(out.event.quantity, 3);
    assert_int_equal(out.event.refusal, STOCK_REFUSAL_NONE);
    assert_int_equal(out.event.available, 7);
}

static void test_reserve_may_take_exactly_what_is_available(void **state)
{
    (void)state;
    struct stock s = open_stock(5);
    reserve(&s, BOOKING, 5);
    assert_stock(&s, 0, 5, 0);
}

static void test_reserve_more_than_available_is_refused_and_nothing_moves(void **state)
{
    (void)state;
    struct stock s = open_stock(5);
    reserve(&s, BOOKING, 4);
    struct stock before = s;
    struct reservation r, r_before;
    memset(&r, 0x5a, sizeof(r));
    r_before = r;
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_reserve(&s, BOOKING2, 2, &r, &out, &err), 0);
    assert_same_stock(&s, &before);
    assert_same_reservation(&r, &r_before);
    assert_false(out.moved);
    assert_int_equal(out.event.kind, STOCK_EVENT_RESERVATION_REFUSED);
    assert_int_equal(out.event.refusal, STOCK_REFUSAL_INSUFFICIENT_STOCK);
    assert_string_equal(out.event.booking_id, BOOKING2);
    assert_string_equal(out.event.offering_id, OFFERING);
    assert_int_equal(out.event.quantity, 2);
    assert_int_equal(out.event.available, 1);
}

static void test_reserve_never_oversells_one_unit_at_a_time(void **state)
{
    (void)state;
    struct stock s = open_stock(60);
    int reserved = 0, refused = 0;
    for (int i = 0; i < 100; i++) {
        struct reservation r;
        struct stock_outcome out;
        struct err err;
        err_clear(&err);
        assert_int_equal(stock_reserve(&s, BOOKING, 1, &r, &out, &err), 0);
        if (out.moved)
            reserved++;
        else
            refused++;
        assert_int_equal(stock_check(&s, &err), 0);
    }
    assert_int_equal(reserved, 60);
    assert_int_equal(refused, 40);
    assert_stock(&s, 0, 60, 0);
}

static void test_reserve_refuses_a_quantity_out_of_bounds(void **state)
{
    (void)state;
    struct stock s = open_stock(STOCK_CAPACITY_MAX);
    struct stock before = s;
    struct reservation r;
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_reserve(&s, BOOKING, 0, &r, &out, &err), ERR_UNPROCESSABLE);
    assert_int_equal(stock_reserve(&s, BOOKING, -3, &r, &out, &err), ERR_UNPROCESSABLE);
    assert_int_equal(stock_reserve(&s, BOOKING, STOCK_QUANTITY_MAX + 1, &r, &out, &err),
                     ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "quantity"));
    assert_same_stock(&s, &before);
}

static void test_reserve_refuses_a_stock_that_breaks_the_invariant(void **state)
{
    (void)state;
    struct stock s = {OFFERING, 10, 10, 1, 0}; /* 11 units in a capacity of 10 */
    struct stock before = s;
    struct reservation r;
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_reserve(&s, BOOKING, 1, &r, &out, &err), ERR_UNPROCESSABLE);
    assert_same_stock(&s, &before);
}

static void test_reserve_refuses_an_empty_or_too_long_booking_id(void **state)
{
    (void)state;
    struct stock s = open_stock(10);
    struct stock before = s;
    struct reservation r;
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_reserve(&s, "", 1, &r, &out, &err), ERR_INVALID);
    assert_int_equal(stock_reserve(&s, NULL, 1, &r, &out, &err), ERR_INVALID);
    assert_int_equal(stock_reserve(&s, BOOKING "-and-more", 1, &r, &out, &err), ERR_INVALID);
    assert_same_stock(&s, &before);
}

/* ---- stock_return: sold → available (the booking expired) ---------------------------- */

static void test_return_reverses_a_sale_with_a_return_movement(void **state)
{
    (void)state;
    struct stock s = open_stock(10);
    struct reservation r = reserve(&s, BOOKING, 3);
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_sell(&s, &r, &out, &err), 0);
    assert_int_equal(stock_return(&s, &r, &out, &err), 0);
    assert_stock(&s, 10, 0, 0);
    assert_int_equal(r.status, RESERVATION_RELEASED);
    assert_true(out.moved);
    assert_int_equal(out.movement.kind, STOCK_MOVEMENT_RETURN);
    assert_string_equal(stock_movement_kind_name(out.movement.kind), "return");
    assert_levels(&out.movement.before, 7, 0, 3);
    assert_levels(&out.movement.after, 10, 0, 0);
    assert_int_equal(out.event.kind, STOCK_EVENT_RELEASED);
    assert_int_equal(out.event.quantity, 3);
}

static void test_return_refuses_what_is_not_sold(void **state)
{
    (void)state;
    struct stock s = open_stock(10);
    struct reservation r = reserve(&s, BOOKING, 3);
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    struct stock before = s;
    assert_int_equal(stock_return(&s, &r, &out, &err), ERR_CONFLICT);
    assert_same_stock(&s, &before);
    assert_int_equal(r.status, RESERVATION_RESERVED);
    assert_int_equal(stock_release(&s, &r, &out, &err), 0);
    before = s;
    assert_int_equal(stock_return(&s, &r, &out, &err), ERR_CONFLICT);
    assert_same_stock(&s, &before);
    assert_int_equal(r.status, RESERVATION_RELEASED);
}

/* ---- stock_sell: reserved → sold ---------------------------------------------------- */

static void test_sell_moves_reserved_to_sold_with_a_movement_and_an_event(void **state)
{
    (void)state;
    struct stock s = open_stock(10);
    struct reservation r = reserve(&s, BOOKING, 3);
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_sell(&s, &r, &out, &err), 0);
    assert_stock(&s, 7, 0, 3);
    assert_int_equal(r.status, RESERVATION_SOLD);
    assert_true(out.moved);
    assert_int_equal(out.movement.kind, STOCK_MOVEMENT_SALE);
    assert_string_equal(out.movement.booking_id, BOOKING);
    assert_int_equal(out.movement.quantity, 3);
    assert_levels(&out.movement.before, 7, 3, 0);
    assert_levels(&out.movement.after, 7, 0, 3);
    assert_int_equal(out.event.kind, STOCK_EVENT_SOLD);
    assert_string_equal(out.event.booking_id, BOOKING);
    assert_string_equal(out.event.offering_id, OFFERING);
    assert_int_equal(out.event.quantity, 3);
}

static void test_sell_twice_is_a_conflict_and_changes_nothing(void **state)
{
    (void)state;
    struct stock s = open_stock(10);
    struct reservation r = reserve(&s, BOOKING, 3);
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_sell(&s, &r, &out, &err), 0);
    struct stock before = s;
    struct reservation r_before = r;
    assert_int_equal(stock_sell(&s, &r, &out, &err), ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "already sold"));
    assert_same_stock(&s, &before);
    assert_same_reservation(&r, &r_before);
}

static void test_sell_a_released_reservation_is_a_conflict(void **state)
{
    (void)state;
    struct stock s = open_stock(10);
    struct reservation r = reserve(&s, BOOKING, 3);
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_release(&s, &r, &out, &err), 0);
    struct stock before = s;
    assert_int_equal(stock_sell(&s, &r, &out, &err), ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "already released"));
    assert_same_stock(&s, &before);
    assert_int_equal(r.status, RESERVATION_RELEASED);
}

static void test_sell_refuses_a_reservation_of_another_offering(void **state)
{
    (void)state;
    struct stock s = open_stock(10);
    struct reservation r = reserve(&s, BOOKING, 3);
    strcpy(r.offering_id, OTHER_OFFERING);
    struct stock before = s;
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_sell(&s, &r, &out, &err), ERR_INVALID);
    assert_int_equal(stock_release(&s, &r, &out, &err), ERR_INVALID);
    assert_same_stock(&s, &before);
    assert_int_equal(r.status, RESERVATION_RESERVED);
}

static void test_sell_refuses_more_than_is_reserved(void **state)
{
    (void)state;
    struct stock s = open_stock(10);
    struct reservation r = reserve(&s, BOOKING, 3);
    r.quantity = 4; /* a reservation the stock does not hold */
    struct stock before = s;
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_sell(&s, &r, &out, &err), ERR_UNPROCESSABLE);
    assert_int_equal(stock_release(&s, &r, &out, &err), ERR_UNPROCESSABLE);
    assert_same_stock(&s, &before);
    assert_int_equal(r.status, RESERVATION_RESERVED);
}

static void test_sell_refuses_a_stock_that_breaks_the_invariant(void **state)
{
    (void)state;
    struct stock s = open_stock(10);
    struct reservation r = reserve(&s, BOOKING, 3);
    s.sold = 5; /* 7 + 3 + 5 != 10 */
    struct stock before = s;
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_sell(&s, &r, &out, &err), ERR_UNPROCESSABLE);
    assert_int_equal(stock_release(&s, &r, &out, &err), ERR_UNPROCESSABLE);
    assert_same_stock(&s, &before);
    assert_int_equal(r.status, RESERVATION_RESERVED);
}

/* ---- stock_release: reserved → released (the compensation) --------------------------- */

static void test_release_gives_reserved_units_back_with_a_movement_and_an_event(void **state)
{
    (void)state;
    struct stock s = open_stock(10);
    struct reservation r = reserve(&s, BOOKING, 4);
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_release(&s, &r, &out, &err), 0);
    assert_stock(&s, 10, 0, 0);
    assert_int_equal(r.status, RESERVATION_RELEASED);
    assert_true(out.moved);
    assert_int_equal(out.movement.kind, STOCK_MOVEMENT_RELEASE);
    assert_string_equal(out.movement.booking_id, BOOKING);
    assert_int_equal(out.movement.quantity, 4);
    assert_levels(&out.movement.before, 6, 4, 0);
    assert_levels(&out.movement.after, 10, 0, 0);
    assert_int_equal(out.event.kind, STOCK_EVENT_RELEASED);
    assert_string_equal(out.event.booking_id, BOOKING);
    assert_int_equal(out.event.quantity, 4);
    assert_int_equal(out.event.available, 10);
}

static void test_release_twice_is_a_conflict_and_changes_nothing(void **state)
{
    (void)state;
    struct stock s = open_stock(10);
    struct reservation r = reserve(&s, BOOKING, 4);
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_release(&s, &r, &out, &err), 0);
    struct stock before = s;
    assert_int_equal(stock_release(&s, &r, &out, &err), ERR_CONFLICT);
    assert_same_stock(&s, &before);
}

static void test_release_a_sold_reservation_is_a_conflict(void **state)
{
    (void)state;
    struct stock s = open_stock(10);
    struct reservation r = reserve(&s, BOOKING, 4);
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_sell(&s, &r, &out, &err), 0);
    struct stock before = s;
    assert_int_equal(stock_release(&s, &r, &out, &err), ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "already sold"));
    assert_same_stock(&s, &before);
    assert_int_equal(r.status, RESERVATION_SOLD);
}

static void test_released_units_can_be_reserved_again(void **state)
{
    (void)state;
    struct stock s = open_stock(2);
    struct reservation r = reserve(&s, BOOKING, 2);
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    struct reservation r2;
    assert_int_equal(stock_reserve(&s, BOOKING2, 1, &r2, &out, &err), 0);
    assert_false(out.moved);
    assert_int_equal(stock_release(&s, &r, &out, &err), 0);
    assert_int_equal(stock_reserve(&s, BOOKING2, 1, &r2, &out, &err), 0);
    assert_true(out.moved);
    assert_stock(&s, 1, 1, 0);
}

static void test_a_mixed_history_keeps_the_invariant(void **state)
{
    (void)state;
    struct stock s = open_stock(20);
    struct reservation a = reserve(&s, BOOKING, 5);
    struct reservation b = reserve(&s, BOOKING2, 7);
    struct stock_outcome out;
    struct err err;
    err_clear(&err);
    assert_int_equal(stock_sell(&s, &a, &out, &err), 0);
    assert_stock(&s, 8, 7, 5);
    assert_int_equal(stock_release(&s, &b, &out, &err), 0);
    assert_stock(&s, 15, 0, 5);
}

/* ---- the reservation state machine on its own ---------------------------------------- */

static void test_reservation_open_starts_reserved(void **state)
{
    (void)state;
    struct reservation r;
    struct err err;
    err_clear(&err);
    assert_int_equal(reservation_open(&r, BOOKING, OFFERING, 2, &err), 0);
    assert_int_equal(r.status, RESERVATION_RESERVED);
    assert_string_equal(r.booking_id, BOOKING);
    assert_string_equal(r.offering_id, OFFERING);
    assert_int_equal(r.quantity, 2);
}

static void test_reservation_open_refuses_bad_ids(void **state)
{
    (void)state;
    struct reservation r;
    struct err err;
    err_clear(&err);
    assert_int_equal(reservation_open(&r, "", OFFERING, 2, &err), ERR_INVALID);
    assert_int_equal(reservation_open(&r, BOOKING, "", 2, &err), ERR_INVALID);
    assert_int_equal(reservation_open(&r, BOOKING, NULL, 2, &err), ERR_INVALID);
    assert_int_equal(reservation_open(&r, BOOKING "0", OFFERING, 2, &err), ERR_INVALID);
}

static void test_reservation_transitions_from_reserved_only(void **state)
{
    (void)state;
    struct err err;
    err_clear(&err);
    struct reservation r;
    assert_int_equal(reservation_open(&r, BOOKING, OFFERING, 1, &err), 0);
    assert_int_equal(reservation_sell(&r, &err), 0);
    assert_int_equal(r.status, RESERVATION_SOLD);
    assert_int_equal(reservation_sell(&r, &err), ERR_CONFLICT);
    assert_int_equal(reservation_release(&r, &err), ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "cannot become released"));
    assert_int_equal(r.status, RESERVATION_SOLD);

    assert_int_equal(reservation_open(&r, BOOKING, OFFERING, 1, &err), 0);
    assert_int_equal(reservation_release(&r, &err), 0);
    assert_int_equal(r.status, RESERVATION_RELEASED);
    assert_int_equal(reservation_release(&r, &err), ERR_CONFLICT);
    assert_int_equal(reservation_sell(&r, &err), ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "cannot become sold"));
    assert_int_equal(r.status, RESERVATION_RELEASED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_bounds_are_one_to_a_million),
        cmocka_unit_test(test_quantity_bounds_are_one_to_a_thousand),
        cmocka_unit_test(test_check_accepts_a_stock_that_adds_up),
        cmocka_unit_test(test_check_refuses_levels_that_do_not_add_up),
        cmocka_unit_test(test_check_refuses_a_negative_level_even_when_the_sum_matches),
        cmocka_unit_test(test_check_refuses_a_capacity_out_of_bounds_without_overflowing),
        cmocka_unit_test(test_names_are_the_stored_and_published_strings),
        cmocka_unit_test(test_status_parse_round_trips_and_refuses_unknown_text),
        cmocka_unit_test(test_open_makes_everything_available_and_raises_opened),
        cmocka_unit_test(test_open_refuses_a_capacity_out_of_bounds),
        cmocka_unit_test(test_open_refuses_an_empty_or_too_long_offering_id),
        cmocka_unit_test(test_reserve_moves_available_to_reserved_with_a_movement_and_an_event),
        cmocka_unit_test(test_reserve_may_take_exactly_what_is_available),
        cmocka_unit_test(test_reserve_more_than_available_is_refused_and_nothing_moves),
        cmocka_unit_test(test_reserve_never_oversells_one_unit_at_a_time),
        cmocka_unit_test(test_reserve_refuses_a_quantity_out_of_bounds),
        cmocka_unit_test(test_reserve_refuses_a_stock_that_breaks_the_invariant),
        cmocka_unit_test(test_reserve_refuses_an_empty_or_too_long_booking_id),
        cmocka_unit_test(test_return_reverses_a_sale_with_a_return_movement),
        cmocka_unit_test(test_return_refuses_what_is_not_sold),
        cmocka_unit_test(test_sell_moves_reserved_to_sold_with_a_movement_and_an_event),
        cmocka_unit_test(test_sell_twice_is_a_conflict_and_changes_nothing),
        cmocka_unit_test(test_sell_a_released_reservation_is_a_conflict),
        cmocka_unit_test(test_sell_refuses_a_reservation_of_another_offering),
        cmocka_unit_test(test_sell_refuses_more_than_is_reserved),
        cmocka_unit_test(test_sell_refuses_a_stock_that_breaks_the_invariant),
        cmocka_unit_test(test_release_gives_reserved_units_back_with_a_movement_and_an_event),
        cmocka_unit_test(test_release_twice_is_a_conflict_and_changes_nothing),
        cmocka_unit_test(test_release_a_sold_reservation_is_a_conflict),
        cmocka_unit_test(test_released_units_can_be_reserved_again),
        cmocka_unit_test(test_a_mixed_history_keeps_the_invariant),
        cmocka_unit_test(test_reservation_open_starts_reserved),
        cmocka_unit_test(test_reservation_open_refuses_bad_ids),
        cmocka_unit_test(test_reservation_transitions_from_reserved_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
