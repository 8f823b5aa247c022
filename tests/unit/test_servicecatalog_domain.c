/*
 * test_servicecatalog_domain.c - the pure domain of servicecatalog: the
 * provider's state machine (registered → active, a second activation
 * refused), the offering's one step (published), every validation rule at
 * and just past its bounds, and the domain events each transition raises.
 * Links servicecatalog_domain and cmocka only: no database, no broker.
 */
#include "servicecatalog/domain/offering.h"
#include "servicecatalog/domain/provider.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define PROVIDER_ID "01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f"
#define OWNER_ID    "01936f0e-0000-7000-8000-000000000001"
#define OFFERING_ID "01936f0e-1c2b-7d4b-8e3f-0a1b2c3d4e60"

/* A string of n copies of c (n < sizeof buf). */
static const char *repeat(char *buf, size_t n, char c)
{
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

/* provider_register with the given name and type and a known owner. */
static int register_with(struct provider *p, struct provider_event *ev, const char *name,
                         size_t name_len, const char *type, size_t type_len, struct err *err)
{
    err_clear(err);
    return provider_register(p, PROVIDER_ID, OWNER_ID, true, name, name_len, type, type_len, ev,
                             err);
}

static int register_type(const char *type, struct err *err)
{
    struct provider p;
    struct provider_event ev;
    return register_with(&p, &ev, "Salon Ada", 9, type, strlen(type), err);
}

static int register_name(const char *name, size_t len, struct err *err)
{
    struct provider p;
    struct provider_event ev;
    return register_with(&p, &ev, name, len, "salon", 5, err);
}

static void registered_provider(struct provider *p)
{
    struct provider_event ev;
    struct err err;
    assert_int_equal(register_with(p, &ev, "Salon Ada", 9, "salon", 5, &err), 0);
}

/* ---- provider: (none) → registered ---------------------------------------- */

static void test_provider_register_makes_a_registered_provider_and_raises_registered(void **state)
{
    (void)state;
    struct provider p;
    struct provider_event ev;
    struct err err;
    assert_int_equal(register_with(&p, &ev, "Salon Ada", 9, "hair_salon2", 11, &err), 0);
    assert_int_equal(p.status, PROVIDER_REGISTERED);
    assert_string_equal(p.id, PROVIDER_ID);
    assert_string_equal(p.owner_id, OWNER_ID);
    assert_string_equal(p.business_name, "Salon Ada");
    assert_string_equal(p.provider_type, "hair_salon2");
    assert_int_equal(ev.kind, PROVIDER_EVENT_REGISTERED);
    assert_string_equal(ev.provider.id, PROVIDER_ID);
    assert_string_equal(ev.provider.owner_id, OWNER_ID);
    assert_string_equal(ev.provider.business_name, "Salon Ada");
    assert_string_equal(ev.provider.provider_type, "hair_salon2");
    assert_int_equal(ev.provider.status, PROVIDER_REGISTERED);
}

static void test_provider_register_refuses_an_unknown_owner(void **state)
{
    (void)state;
    struct provider p;
    struct provider_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(
        provider_register(&p, PROVIDER_ID, OWNER_ID, false, "Salon Ada", 9, "salon", 5, &ev, &err),
        ERR_UNPROCESSABLE);
    assert_string_equal(err.msg, "unknown owner '" OWNER_ID "'");
}

static void test_provider_register_judges_the_values_before_the_owner(void **state)
{
    (void)state;
    struct provider p;
    struct provider_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(
        provider_register(&p, PROVIDER_ID, OWNER_ID, false, "", 0, "salon", 5, &ev, &err),
        ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "business_name"));
}

static void test_provider_register_refuses_ids_that_do_not_fit(void **state)
{
    (void)state;
    struct provider p;
    struct provider_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(
        provider_register(&p, PROVIDER_ID "0", OWNER_ID, true, "Salon", 5, "salon", 5, &ev, &err),
        ERR_INVALID);
    err_clear(&err);
    assert_int_equal(
        provider_register(&p, PROVIDER_ID, "", true, "Salon", 5, "salon", 5, &ev, &err),
        ERR_INVALID);
    assert_non_null(strstr(err.msg, "owner_id"));
}

/* ---- provider: business_name 1..200 bytes, no NUL --------------------------- */

static void test_provider_business_name_of_1_and_200_bytes_is_accepted(void **state)
{
    (void)state;
    char buf[256];
    struct err err;
    assert_int_equal(register_name("A", 1, &err), 0);
    assert_int_equal(register_name(repeat(buf, 200, 'b'), 200, &err), 0);
    struct provider p;
    struct provider_event ev;
    assert_int_equal(register_with(&p, &ev, buf, 200, "salon", 5, &err), 0);
    assert_int_equal(strlen(p.business_name), 200);
}

static void test_provider_business_name_empty_is_refused(void **state)
{
    (void)state;
    struct err err;
    assert_int_equal(register_name("", 0, &err), ERR_UNPROCESSABLE);
    assert_string_equal(err.msg, "field 'business_name' must be 1 to 200 bytes long");
}

static void test_provider_business_name_of_201_bytes_is_refused(void **state)
{
    (void)state;
    char buf[256];
    struct err err;
    assert_int_equal(register_name(repeat(buf, 201, 'b'), 201, &err), ERR_UNPROCESSABLE);
}

static void test_provider_business_name_counts_bytes_not_characters(void **state)
{
    (void)state;
    char buf[256] = "";
    struct err err;
    for (int i = 0; i < 100; i++)
        strcat(buf, "\xc3\xa9"); /* é: 100 characters, 200 bytes */
    assert_int_equal(register_name(buf, 200, &err), 0);
    strcat(buf, "e");
    assert_int_equal(register_name(buf, 201, &err), ERR_UNPROCESSABLE);
}

static void test_provider_business_name_with_a_nul_inside_is_refused(void **state)
{
    (void)state;
    struct err err;
    assert_int_equal(register_name("Salon\0Ada", 9, &err), ERR_UNPROCESSABLE);
    assert_string_equal(err.msg, "field 'business_name' contains a NUL character");
    err_clear(&err);
    assert_int_equal(provider_validate_business_name("Salon\0", 6, &err), ERR_UNPROCESSABLE);
}

/* ---- provider: provider_type 1..64 bytes, [a-z][a-z0-9_]* ------------------- */

static void test_provider_type_lowercase_names_are_accepted(void **state)
{
    (void)state;
    char buf[128];
    struct err err;
    assert_int_equal(register_type("s", &err), 0);
    assert_int_equal(register_type("salon", &err), 0);
    assert_int_equal(register_type("hair_salon_2", &err), 0);
    assert_int_equal(register_type("a_", &err), 0);
    assert_int_equal(register_type(repeat(buf, 64, 'z'), &err), 0);
}

static void test_provider_type_empty_is_refused(void **state)
{
    (void)state;
    struct err err;
    assert_int_equal(register_type("", &err), ERR_UNPROCESSABLE);
    assert_string_equal(err.msg, "field 'provider_type' must be 1 to 64 bytes long");
}

static void test_provider_type_of_65_bytes_is_refused(void **state)
{
    (void)state;
    char buf[128];
    struct err err;
    assert_int_equal(register_type(repeat(buf, 65, 'z'), &err), ERR_UNPROCESSABLE);
    assert_string_equal(err.msg, "field 'provider_type' must be 1 to 64 bytes long");
}

static void test_provider_type_that_is_not_a_lowercase_name_is_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Salon", "salOn", "1salon", "_salon", "hair-salon", "hair salon", "salon.", "caf\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err err;
        assert_int_equal(register_type(bad[i], &err), ERR_UNPROCESSABLE);
        assert_string_equal(err.msg,
                            "field 'provider_type' must be a lowercase name [a-z][a-z0-9_]*");
    }
}

static void test_provider_type_with_a_nul_inside_is_refused(void **state)
{
    (void)state;
    struct err err;
    err_clear(&err);
    assert_int_equal(provider_validate_type("sal\0on", 6, &err), ERR_UNPROCESSABLE);
}

/* ---- provider: registered → active, and the refused second activation ------- */

static void test_provider_activate_moves_registered_to_active_and_raises_activated(void **state)
{
    (void)state;
    struct provider p;
    registered_provider(&p);
    struct provider_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(provider_activate(&p, &ev, &err), 0);
    assert_int_equal(p.status, PROVIDER_ACTIVE);
    assert_int_equal(ev.kind, PROVIDER_EVENT_ACTIVATED);
    assert_string_equal(ev.provider.id, PROVIDER_ID);
    assert_string_equal(ev.provider.owner_id, OWNER_ID);
    assert_int_equal(ev.provider.status, PROVIDER_ACTIVE);
}

static void test_provider_activate_refuses_an_active_provider_with_conflict(void **state)
{
    (void)state;
    struct provider p;
    registered_provider(&p);
    struct provider_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(provider_activate(&p, &ev, &err), 0);

    struct provider before = p;
    struct provider_event untouched;
    memset(&untouched, 0x5a, sizeof(untouched));
    struct provider_event ev2 = untouched;
    err_clear(&err);
    assert_int_equal(provider_activate(&p, &ev2, &err), ERR_CONFLICT);
    assert_string_equal(err.msg, "provider '" PROVIDER_ID "' is already active");
    assert_memory_equal(&p, &before, sizeof(p));        /* unchanged */
    assert_memory_equal(&ev2, &untouched, sizeof(ev2)); /* nothing raised */
}

static void test_provider_activate_refuses_an_unknown_status(void **state)
{
    (void)state;
    struct provider p;
    registered_provider(&p);
    p.status = (enum provider_status)42;
    struct provider_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(provider_activate(&p, &ev, &err), ERR_INTERNAL);
    assert_int_equal(p.status, 42);
}

/* ---- provider: status names ---------------------------------------------------- */

static void test_provider_status_names_round_trip(void **state)
{
    (void)state;
    static const enum provider_status all[] = {PROVIDER_REGISTERED, PROVIDER_ACTIVE};
    assert_string_equal(provider_status_name(PROVIDER_REGISTERED), "registered");
    assert_string_equal(provider_status_name(PROVIDER_ACTIVE), "active");
    for (size_t i = 0; i < 2; i++) {
        enum provider_status s;
        struct err err;
        err_clear(&err);
        assert_int_equal(provider_status_parse(provider_status_name(all[i]), &s, &err), 0);
        assert_int_equal(s, all[i]);
    }
}

static void test_provider_status_parse_refuses_unknown_names(void **state)
{
    (void)state;
    enum provider_status s;
    struct err err;
    err_clear(&err);
    assert_int_equal(provider_status_parse("Active", &s, &err), ERR_INVALID);
    assert_int_equal(provider_status_parse("", &s, &err), ERR_INVALID);
    assert_int_equal(provider_status_parse("pending", &s, &err), ERR_INVALID);
    assert_string_equal(err.msg, "unknown provider status 'pending'");
}

/* ---- offering: (none) → published ----------------------------------------------- */

static int publish_with(const char *name, size_t name_len, int64_t price, int64_t capacity,
                        struct err *err)
{
    struct offering o;
    struct offering_event ev;
    err_clear(err);
    return offering_publish(&o, OFFERING_ID, PROVIDER_ID, name, name_len, price, capacity, &ev,
                            err);
}

static void test_offering_publish_makes_a_published_offering_and_raises_published(void **state)
{
    (void)state;
    struct offering o;
    struct offering_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(
        offering_publish(&o, OFFERING_ID, PROVIDER_ID, "Haircut", 7, 2500, 10, &ev, &err), 0);
    assert_int_equal(o.status, OFFERING_PUBLISHED);
    assert_string_equal(o.id, OFFERING_ID);
    assert_string_equal(o.provider_id, PROVIDER_ID);
    assert_string_equal(o.name, "Haircut");
    assert_int_equal(o.price_cents, 2500);
    assert_int_equal(o.capacity, 10);
    assert_int_equal(ev.kind, OFFERING_EVENT_PUBLISHED);
    assert_string_equal(ev.offering.id, OFFERING_ID);
    assert_string_equal(ev.offering.provider_id, PROVIDER_ID);
    assert_string_equal(ev.offering.name, "Haircut");
    assert_int_equal(ev.offering.price_cents, 2500);
    assert_int_equal(ev.offering.capacity, 10);
    assert_string_equal(offering_status_name(OFFERING_PUBLISHED), "published");
}

static void test_offering_publish_refuses_ids_that_do_not_fit(void **state)
{
    (void)state;
    struct offering o;
    struct offering_event ev;
    struct err err;
    err_clear(&err);
    assert_int_equal(offering_publish(&o, "", PROVIDER_ID, "Haircut", 7, 1, 1, &ev, &err),
                     ERR_INVALID);
    err_clear(&err);
    assert_int_equal(
        offering_publish(&o, OFFERING_ID, PROVIDER_ID "ff", "Haircut", 7, 1, 1, &ev, &err),
        ERR_INVALID);
}

/* ---- offering: name 1..200 bytes, no NUL -------------------------------------- */

static void test_offering_name_of_1_and_200_bytes_is_accepted(void **state)
{
    (void)state;
    char buf[256];
    struct err err;
    assert_int_equal(publish_with("X", 1, 1, 1, &err), 0);
    assert_int_equal(publish_with(repeat(buf, 200, 'n'), 200, 1, 1, &err), 0);
}

static void test_offering_name_empty_is_refused(void **state)
{
    (void)state;
    struct err err;
    assert_int_equal(publish_with("", 0, 1, 1, &err), ERR_UNPROCESSABLE);
    assert_string_equal(err.msg, "field 'name' must be 1 to 200 bytes long");
}

static void test_offering_name_of_201_bytes_is_refused(void **state)
{
    (void)state;
    char buf[256];
    struct err err;
    assert_int_equal(publish_with(repeat(buf, 201, 'n'), 201, 1, 1, &err), ERR_UNPROCESSABLE);
    assert_string_equal(err.msg, "field 'name' must be 1 to 200 bytes long");
}

static void test_offering_name_with_a_nul_inside_is_refused(void **state)
{
    (void)state;
    struct err err;
    assert_int_equal(publish_with("Hair\0cut", 8, 1, 1, &err), ERR_UNPROCESSABLE);
    assert_string_equal(err.msg, "field 'name' contains a NUL character");
}

/* ---- offering: price_cents 1..100000000 ---------------------------------------- */

static void test_offering_price_at_its_bounds_is_accepted(void **state)
{
    (void)state;
    struct err err;
    assert_int_equal(publish_with("Haircut", 7, 1, 1, &err), 0);
    assert_int_equal(publish_with("Haircut", 7, 100000000, 1, &err), 0);
    err_clear(&err);
    assert_int_equal(offering_validate_price(OFFERING_PRICE_MIN, &err), 0);
    assert_int_equal(offering_validate_price(OFFERING_PRICE_MAX, &err), 0);
}

static void test_offering_price_outside_its_bounds_is_refused(void **state)
{
    (void)state;
    static const int64_t bad[] = {0, -1, 100000001, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err err;
        assert_int_equal(publish_with("Haircut", 7, bad[i], 1, &err), ERR_UNPROCESSABLE);
        assert_string_equal(err.msg, "field 'price_cents' must be an integer in [1, 100000000]");
    }
}

/* ---- offering: capacity 1..1000000 ------------------------------------------------ */

static void test_offering_capacity_at_its_bounds_is_accepted(void **state)
{
    (void)state;
    struct err err;
    assert_int_equal(publish_with("Haircut", 7, 1, 1, &err), 0);
    assert_int_equal(publish_with("Haircut", 7, 1, 1000000, &err), 0);
    err_clear(&err);
    assert_int_equal(offering_validate_capacity(OFFERING_CAPACITY_MIN, &err), 0);
    assert_int_equal(offering_validate_capacity(OFFERING_CAPACITY_MAX, &err), 0);
}

static void test_offering_capacity_outside_its_bounds_is_refused(void **state)
{
    (void)state;
    static const int64_t bad[] = {0, -1, 1000001, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err err;
        assert_int_equal(publish_with("Haircut", 7, 1, bad[i], &err), ERR_UNPROCESSABLE);
        assert_string_equal(err.msg, "field 'capacity' must be an integer in [1, 1000000]");
    }
}

static void test_offering_fields_are_judged_in_order_name_price_capacity(void **state)
{
    (void)state;
    struct err err;
    assert_int_equal(publish_with("", 0, 0, 0, &err), ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "'name'"));
    assert_int_equal(publish_with("Haircut", 7, 0, 0, &err), ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "'price_cents'"));
    assert_int_equal(publish_with("Haircut", 7, 1, 0, &err), ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "'capacity'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_provider_register_makes_a_registered_provider_and_raises_registered),
        cmocka_unit_test(test_provider_register_refuses_an_unknown_owner),
        cmocka_unit_test(test_provider_register_judges_the_values_before_the_owner),
        cmocka_unit_test(test_provider_register_refuses_ids_that_do_not_fit),
        cmocka_unit_test(test_provider_business_name_of_1_and_200_bytes_is_accepted),
        cmocka_unit_test(test_provider_business_name_empty_is_refused),
        cmocka_unit_test(test_provider_business_name_of_201_bytes_is_refused),
        cmocka_unit_test(test_provider_business_name_counts_bytes_not_characters),
        cmocka_unit_test(test_provider_business_name_with_a_nul_inside_is_refused),
        cmocka_unit_test(test_provider_type_lowercase_names_are_accepted),
        cmocka_unit_test(test_provider_type_empty_is_refused),
        cmocka_unit_test(test_provider_type_of_65_bytes_is_refused),
        cmocka_unit_test(test_provider_type_that_is_not_a_lowercase_name_is_refused),
        cmocka_unit_test(test_provider_type_with_a_nul_inside_is_refused),
        cmocka_unit_test(test_provider_activate_moves_registered_to_active_and_raises_activated),
        cmocka_unit_test(test_provider_activate_refuses_an_active_provider_with_conflict),
        cmocka_unit_test(test_provider_activate_refuses_an_unknown_status),
        cmocka_unit_test(test_provider_status_names_round_trip),
        cmocka_unit_test(test_provider_status_parse_refuses_unknown_names),
        cmocka_unit_test(test_offering_publish_makes_a_published_offering_and_raises_published),
        cmocka_unit_test(test_offering_publish_refuses_ids_that_do_not_fit),
        cmocka_unit_test(test_offering_name_of_1_and_200_bytes_is_accepted),
        cmocka_unit_test(test_offering_name_empty_is_refused),
        cmocka_unit_test(test_offering_name_of_201_bytes_is_refused),
        cmocka_unit_test(test_offering_name_with_a_nul_inside_is_refused),
        cmocka_unit_test(test_offering_price_at_its_bounds_is_accepted),
        cmocka_unit_test(test_offering_price_outside_its_bounds_is_refused),
        cmocka_unit_test(test_offering_capacity_at_its_bounds_is_accepted),
        cmocka_unit_test(test_offering_capacity_outside_its_bounds_is_refused),
        cmocka_unit_test(test_offering_fields_are_judged_in_order_name_price_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
