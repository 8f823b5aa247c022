/*
 * test_contract.c - one declaration validates, encodes and decodes data (and
 * feeds the catalog); every published event's table matches its struct.
 */
#include "common/contract.h"

#include "booking/contract/booking_contract.h"
#include "inventory/contract/inventory_contract.h"
#include "notification/contract/notification_contract.h"
#include "payment/contract/payment_contract.h"
#include "servicecatalog/contract/servicecatalog_contract.h"
#include "usermanagement/contract/usermanagement_contract.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <cmocka.h>
#include <string.h>

struct every_kind {
    char booking_id[UUID7_STR_LEN];
    int64_t quantity;
    char email[255];
    char reason[65];
    char note[11];
    char at[40];
    bool paid;
    struct contract_strings roles;
};

#define ROW(m) CONTRACT_AT(struct every_kind, m)
static const struct contract_field fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking",
     ROW(booking_id)},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000, "units",
     ROW(quantity)},
    {"email", CONTRACT_STRING, CONTRACT_OPTIONAL, CONTRACT_FORMAT_EMAIL, 0, 254, "who", ROW(email)},
    {"reason", CONTRACT_STRING, CONTRACT_OPTIONAL, CONTRACT_FORMAT_NAME, 1, 64, "why", ROW(reason)},
    {"note", CONTRACT_STRING, CONTRACT_OPTIONAL, CONTRACT_FORMAT_NONE, 0, 10, "short text",
     ROW(note)},
    {"at", CONTRACT_STRING, CONTRACT_OPTIONAL, CONTRACT_FORMAT_DATETIME, 0, 39, "when", ROW(at)},
    {"paid", CONTRACT_BOOLEAN, CONTRACT_OPTIONAL, CONTRACT_FORMAT_NONE, 0, 0, "paid?", ROW(paid)},
    {"roles", CONTRACT_STRING_ARRAY, CONTRACT_OPTIONAL, CONTRACT_FORMAT_NAME, 1, 32, "roles",
     ROW(roles)},
};
#undef ROW
static const struct contract_event created = {
    "booking.booking.created", 1,      "booking",
    "a booking was asked for", fields, CONTRACT_COUNT(fields),
    sizeof(struct every_kind)};

#define A_UUID "01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f"

static const struct {
    const char *data;
    int code;
    const char *msg; /* expected message, or NULL */
} cases[] = {
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5}", 0, NULL},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"extra\":[1]}", 0,
     NULL},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":1000,\"email\":\"a@b."
     "io\","
     "\"reason\":\"out_of_stock\",\"note\":\"0123456789\",\"at\":\"2026-11-23T10:00:00Z\",\"paid\":"
     "true,"
     "\"roles\":[\"provider\"]}",
     0, NULL},
    {"{\"quantity\":5}", ERR_INVALID, "field 'booking_id' is required"},
    {"{\"booking_id\":null,\"quantity\":5}", ERR_INVALID, "field 'booking_id' is required"},
    {"{\"booking_id\":\"not-a-uuid\",\"quantity\":5}", ERR_INVALID,
     "field 'booking_id' must be a UUID"},
    {"{\"booking_id\":7,\"quantity\":5}", ERR_INVALID, "field 'booking_id' must be a string"},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":0}", ERR_INVALID,
     "field 'quantity' must be an integer in [1, 1000]"},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":\"5\"}", ERR_INVALID,
     "field 'quantity' must be an integer in [1, 1000]"},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5.0}", ERR_INVALID,
     NULL},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"email\":"
     "\"nobody\"}",
     ERR_INVALID, "field 'email' must be an e-mail address"},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"reason\":\"Out Of "
     "Stock\"}",
     ERR_INVALID, "field 'reason' must be a lowercase name"},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"note\":"
     "\"01234567890\"}",
     ERR_INVALID, "field 'note' must be 0 to 10 characters long"},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"at\":"
     "\"yesterday\"}",
     ERR_INVALID, NULL},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"paid\":1}",
     ERR_INVALID, NULL},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"roles\":[\"ok\",3]"
     "}",
     ERR_INVALID, "item of 'roles' must be a string"},
    {"{\"booking_id\":\"01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f\",\"quantity\":5,\"note\":"
     "\"a\\u0000b\"}",
     ERR_INVALID, NULL},
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

static json_t *load(const char *text)
{
    json_error_t je;
    json_t *data = json_loads(text, 0, &je);
    assert_non_null(data);
    return data;
}

/* Decoding a full object and encoding the struct again gives the same object back. */
static void test_decode_then_encode_is_the_identity_for_every_kind(void **state)
{
    (void)state;
    json_t *data =
        load("{\"booking_id\":\"" A_UUID "\",\"quantity\":1000,\"email\":\"a@b.io\","
             "\"reason\":\"out_of_stock\",\"note\":\"0123456789\","
             "\"at\":\"2026-11-23T10:00:00Z\",\"paid\":true,\"roles\":[\"provider\",\"admin\"]}");
    struct every_kind k;
    struct err e;
    err_clear(&e);
    assert_int_equal(contract_decode(&created, data, &k, sizeof(k), &e), 0);
    assert_string_equal(k.booking_id, A_UUID);
    assert_int_equal(k.quantity, 1000);
    assert_true(k.paid);
    assert_int_equal(k.roles.n, 2);
    assert_string_equal(k.roles.items[1], "admin");
    json_t *again = NULL;
    assert_int_equal(contract_encode(&created, &k, sizeof(k), &again, &e), 0);
    assert_true(json_equal(data, again));
    json_decref(again);
    json_decref(data);
}

/* An absent optional string decodes to "" and is left out again when encoded. */
static void test_absent_optional_strings_are_empty_and_left_out(void **state)
{
    (void)state;
    json_t *data = load("{\"booking_id\":\"" A_UUID "\",\"quantity\":5,\"note\":null}");
    struct every_kind k;
    struct err e;
    err_clear(&e);
    assert_int_equal(contract_decode(&created, data, &k, sizeof(k), &e), 0);
    assert_string_equal(k.note, "");
    assert_int_equal(k.roles.n, 0);
    json_t *again = NULL;
    assert_int_equal(contract_encode(&created, &k, sizeof(k), &again, &e), 0);
    assert_null(json_object_get(again, "note"));
    assert_null(json_object_get(again, "email"));
    assert_int_equal(json_integer_value(json_object_get(again, "quantity")), 5);
    json_decref(again);
    json_decref(data);
}

/* The decoder validates (a caller cannot skip it) and never writes past a member. */
static void test_decode_is_bounded_and_names_the_field(void **state)
{
    (void)state;
    struct every_kind k;
    struct err e;
    err_clear(&e);
    json_t *bad = load("{\"booking_id\":\"" A_UUID "\",\"quantity\":0}");
    assert_int_equal(contract_decode(&created, bad, &k, sizeof(k), &e), ERR_INVALID);
    assert_string_equal(e.msg, "field 'quantity' must be an integer in [1, 1000]");
    json_decref(bad);
    /* A role of 40 characters passes the contract's rule (max 32 is per row) but not the struct. */
    static const struct contract_field wide_fields[] = {
        {"roles", CONTRACT_STRING_ARRAY, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 0, 100, "roles",
         CONTRACT_AT(struct every_kind, roles)},
    };
    static const struct contract_event wide = {
        "t.t.t", 1, "t", "t", wide_fields, 1, sizeof(struct every_kind)};
    json_t *long_role = load("{\"roles\":[\"0123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789\"]}");
    assert_int_equal(contract_decode(&wide, long_role, &k, sizeof(k), &e), ERR_INVALID);
    assert_string_equal(e.msg, "field 'roles' is longer than 64 characters");
    json_decref(long_role);
    /* ...which contract_check reports about the table itself. */
    assert_int_equal(contract_check(&wide, &e), ERR_INTERNAL);
}

/* A struct of the wrong event is refused before any byte is read or written. */
static void test_codec_refuses_a_struct_of_another_size(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    json_t *data = load("{\"booking_id\":\"" A_UUID "\",\"quantity\":5}");
    char small[8];
    assert_int_equal(contract_decode(&created, data, small, sizeof(small), &e), ERR_INTERNAL);
    json_t *out = NULL;
    assert_int_equal(contract_encode(&created, small, sizeof(small), &out, &e), ERR_INTERNAL);
    assert_null(out);
    json_decref(data);
}

/* Every event a context publishes has rows that match its struct (contract_check). */
static void test_every_published_table_matches_its_struct(void **state)
{
    (void)state;
    const struct contract_event *const *lists[] = {booking_contract_events,
                                                   inventory_contract_events,
                                                   notification_contract_events,
                                                   payment_contract_events,
                                                   servicecatalog_contract_events,
                                                   usermanagement_contract_events,
                                                   NULL};
    size_t n = 0;
    for (size_t i = 0; lists[i]; i++)
        for (const struct contract_event *const *ev = lists[i]; *ev; ev++, n++) {
            struct err e;
            err_clear(&e);
            if (contract_check(*ev, &e))
                fail_msg("%s", e.msg);
        }
    assert_true(n >= 18); /* every context publishes; a list cut short would hide rows */
    struct err e;
    err_clear(&e);
    assert_int_equal(contract_check(&created, &e), 0);
}

/* A row whose member is of the wrong kind (an int64_t read as a bool) is caught. */
static void test_check_catches_a_row_of_the_wrong_kind(void **state)
{
    (void)state;
    static const struct contract_field wrong_fields[] = {
        {"quantity", CONTRACT_BOOLEAN, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 0, 0, "units",
         CONTRACT_AT(struct every_kind, quantity)},
    };
    static const struct contract_event wrong = {
        "t.t.t", 1, "t", "t", wrong_fields, 1, sizeof(struct every_kind)};
    struct err e;
    err_clear(&e);
    assert_int_equal(contract_check(&wrong, &e), ERR_INTERNAL);
    assert_non_null(strstr(e.msg, "field 'quantity' of 't.t.t'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contract_table_of_valid_and_invalid_data),
        cmocka_unit_test(test_find_looks_up_by_type),
        cmocka_unit_test(test_email_validation),
        cmocka_unit_test(test_decode_then_encode_is_the_identity_for_every_kind),
        cmocka_unit_test(test_absent_optional_strings_are_empty_and_left_out),
        cmocka_unit_test(test_decode_is_bounded_and_names_the_field),
        cmocka_unit_test(test_codec_refuses_a_struct_of_another_size),
        cmocka_unit_test(test_every_published_table_matches_its_struct),
        cmocka_unit_test(test_check_catches_a_row_of_the_wrong_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
