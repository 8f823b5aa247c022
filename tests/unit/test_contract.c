/* test_contract.c - one declaration validates data (and later feeds the catalog). */
#include "common/contract.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static const struct contract_field fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking"},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000, "units"},
    {"email", CONTRACT_STRING, CONTRACT_OPTIONAL, CONTRACT_FORMAT_EMAIL, 0, 254, "who"},
    {"reason", CONTRACT_STRING, CONTRACT_OPTIONAL, CONTRACT_FORMAT_NAME, 1, 64, "why"},
    {"note", CONTRACT_STRING, CONTRACT_OPTIONAL, CONTRACT_FORMAT_NONE, 0, 10, "short text"},
    {"at", CONTRACT_STRING, CONTRACT_OPTIONAL, CONTRACT_FORMAT_DATETIME, 0, 0, "when"},
    {"paid", CONTRACT_BOOLEAN, CONTRACT_OPTIONAL, CONTRACT_FORMAT_NONE, 0, 0, "paid?"},
    {"roles", CONTRACT_STRING_ARRAY, CONTRACT_OPTIONAL, CONTRACT_FORMAT_NAME, 1, 32, "roles"},
};
static const struct contract_event created = {
    "booking.booking.created", 1, "booking", "a booking was asked for", fields, CONTRACT_COUNT(fields)};

static const struct {
    const char *data;
    int code;
    const char *msg; /* expected message, or NULL */
} cases[] = {
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5}", 0, NULL},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"extra\":[1]}", 0, NULL},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":1000,\"email\":\"a@b.io\","
     "\"reason\":\"out_of_stock\",\"note\":\"0123456789\",\"at\":\"2026-11-23T10:00:00Z\",\"paid\":true,"
     "\"roles\":[\"provider\"]}", 0, NULL},
    {"{\"quantity\":5}", ERR_INVALID, "field 'booking_id' is required"},
    {"{\"booking_id\":null,\"quantity\":5}", ERR_INVALID, "field 'booking_id' is required"},
    {"{\"booking_id\":\"not-a-uuid\",\"quantity\":5}", ERR_INVALID, "field 'booking_id' must be a UUID"},
    {"{\"booking_id\":7,\"quantity\":5}", ERR_INVALID, "field 'booking_id' must be a string"},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":0}", ERR_INVALID,
     "field 'quantity' must be an integer in [1, 1000]"},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":\"5\"}", ERR_INVALID,
     "field 'quantity' must be an integer in [1, 1000]"},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5.0}", ERR_INVALID, NULL},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"email\":\"nobody\"}", ERR_INVALID,
     "field 'email' must be an e-mail address"},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"reason\":\"Out Of Stock\"}", ERR_INVALID,
     "field 'reason' must be a lowercase name"},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"note\":\"01234567890\"}", ERR_INVALID,
     "field 'note' must be 0 to 10 characters long"},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"at\":\"yesterday\"}", ERR_INVALID, NULL},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"paid\":1}", ERR_INVALID, NULL},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"roles\":[\"ok\",3]}", ERR_INVALID,
     "item of 'roles' must be a string"},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"note\":\"a\\u0000b\"}", ERR_INVALID, NULL},
    {"[]", ERR_INVALID, "data of 'booking.booking.created' is not a JSON object"},
};

static void test_contract_table_of_valid_and_invalid_data(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_error_t je;
        json_t *data = json_loads(cases[i].data, JSON_ALLOW_NUL, &je);
        assert_non_null(data);
        struct err e;
        err_clear(&e);
        int rc = contract_validate(&created, data, &e);
        if (rc != cases[i].code)
            fail_msg("case %zu: got %d (%s), want %d", i, rc, e.msg, cases[i].code);
        if (cases[i].msg)
            assert_string_equal(e.msg, cases[i].msg);
        json_decref(data);
    }
}

static void test_find_looks_up_by_type(void **state)
{
    (void)state;
    const struct contract_event *list[] = {&created, NULL};
    assert_ptr_equal(contract_find(list, "booking.booking.created"), &created);
    assert_null(contract_find(list, "booking.booking.deleted"));
    assert_string_equal(contract_type_name(CONTRACT_INTEGER), "integer");
    assert_string_equal(contract_format_name(CONTRACT_FORMAT_UUID), "uuid");
}

static void test_email_validation(void **state)
{
    (void)state;
    assert_true(contract_email_is_valid("ann@example.org"));
    assert_false(contract_email_is_valid("ann@example"));
    assert_false(contract_email_is_valid("@example.org"));
    assert_false(contract_email_is_valid("ann@@example.org"));
    assert_false(contract_email_is_valid("ann example@x.org"));
    assert_false(contract_email_is_valid("ann@example.org."));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contract_table_of_valid_and_invalid_data),
        cmocka_unit_test(test_find_looks_up_by_type),
        cmocka_unit_test(test_email_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
