/*
 * test_usermanagement_domain.c - the user aggregate (contexts/usermanagement/
 * domain/user.c) alone: its validation rules, every transition of the
 * provider status and every refusal, and the domain events each one raises.
 * Links only usermanagement_domain and cmocka: no database, no broker.
 */
#include "usermanagement/domain/user.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define TEST_USER_ID "01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f"

/* Checks invariant I1: the role "provider" is held iff provider_status is not none. */
static void assert_invariant(const struct user *u)
{
    assert_int_equal(user_has_role(u, USER_ROLE_PROVIDER),
                     u->provider_status != USER_PROVIDER_NONE);
}

/* Field by field: a struct copy need not copy padding, so memcmp could see noise. */
static void assert_user_equal(const struct user *a, const struct user *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->email, b->email);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->roles, b->roles);
    assert_int_equal(a->provider_status, b->provider_status);
    assert_string_equal(a->created_at, b->created_at);
}

static bool email_ok(const char *s)
{
    return user_email_is_valid(s, strlen(s));
}

/* A registered user with no roles, via the domain itself. */
static void registered_user(struct user *u)
{
    struct user_events evs;
    user_events_init(&evs);
    struct err err;
    err_clear(&err);
    const char *email = "Ada@Example.org", *name = "Ada Lovelace";
    assert_int_equal(
        user_register(u, TEST_USER_ID, email, strlen(email), name, strlen(name), &evs, &err), 0);
}

/* A user whose provider status is pending (registered, then granted "provider"). */
static void pending_provider(struct user *u)
{
    registered_user(u);
    struct user_events evs;
    user_events_init(&evs);
    assert_int_equal(user_grant_role(u, USER_ROLE_PROVIDER, &evs, NULL), 0);
    assert_int_equal(u->provider_status, USER_PROVIDER_PENDING);
}

/* A user whose provider status is active. */
static void active_provider(struct user *u)
{
    pending_provider(u);
    struct user_events evs;
    user_events_init(&evs);
    assert_int_equal(user_activate_provider(u, &evs, NULL), 0);
    assert_int_equal(u->provider_status, USER_PROVIDER_ACTIVE);
}

/* ---- e-mail ---------------------------------------------------------------------- */

static void test_email_accepts_ordinary_addresses(void **state)
{
    (void)state;
    assert_true(email_ok("a@b.c"));
    assert_true(email_ok("ada@example.org"));
    assert_true(email_ok("Ada.Lovelace+tag@mail.Example.CO.uk"));
    assert_true(email_ok("o'brien_1-x@sub-domain.example"));
    assert_true(email_ok("\xc3\xa9l\xc3\xa8ve@\xc3\xa9"
                         "cole.fr")); /* UTF-8 bytes are kept */
}

static void test_email_refuses_a_missing_or_doubled_at(void **state)
{
    (void)state;
    assert_false(email_ok("ada.example.org"));
    assert_false(email_ok("ada@@example.org"));
    assert_false(email_ok("ada@home@example.org"));
    assert_false(email_ok("@example.org"));
    assert_false(email_ok("ada@"));
}

static void test_email_refuses_a_domain_without_two_nonempty_labels(void **state)
{
    (void)state;
    assert_false(email_ok("ada@localhost"));
    assert_false(email_ok("ada@.example.org"));
    assert_false(email_ok("ada@example.org."));
    assert_false(email_ok("ada@example..org"));
    assert_false(email_ok("ada@."));
}

static void test_email_refuses_spaces_controls_del_and_nul(void **state)
{
    (void)state;
    assert_false(email_ok("ada lovelace@example.org"));
    assert_false(email_ok(" ada@example.org"));
    assert_false(email_ok("ada@example.org "));
    assert_false(email_ok("ada\t@example.org"));
    assert_false(email_ok("ada\n@example.org"));
    assert_false(email_ok("ada\x7f@example.org"));
    /* A NUL hidden inside (JSON "\u0000") is seen because the length is passed. */
    const char with_nul[] = "ada\0x@example.org";
    assert_false(user_email_is_valid(with_nul, sizeof(with_nul) - 1));
}

static void test_email_length_bounds_are_3_to_254_bytes(void **state)
{
    (void)state;
    assert_false(user_email_is_valid("a@", 2));
    assert_false(user_email_is_valid("", 0));
    assert_false(user_email_is_valid(NULL, 0));

    /* 242 + "@example.org" (12) = 254: the longest accepted. */
    char email[300];
    memset(email, 'a', 242);
    strcpy(email + 242, "@example.org");
    assert_int_equal(strlen(email), USER_EMAIL_MAX);
    assert_true(email_ok(email));

    memset(email, 'a', 243);
    strcpy(email + 243, "@example.org");
    assert_int_equal(strlen(email), USER_EMAIL_MAX + 1);
    assert_false(email_ok(email));
}

static void test_normalize_lowercases_ascii_and_keeps_other_bytes(void **state)
{
    (void)state;
    char out[USER_EMAIL_MAX + 1];
    struct err err;
    err_clear(&err);
    const char *in = "Ada.LOVELACE@Example.ORG";
    assert_int_equal(user_normalize_email(in, strlen(in), out, &err), 0);
    assert_string_equal(out, "ada.lovelace@example.org");

    const char *utf8 = "\xc3\x89LI@X.FR"; /* "ÉLI@X.FR": É is not ASCII and stays */
    assert_int_equal(user_normalize_email(utf8, strlen(utf8), out, &err), 0);
    assert_string_equal(out, "\xc3\x89li@x.fr");
}

static void test_normalize_refuses_a_bad_address_as_unprocessable(void **state)
{
    (void)state;
    char out[USER_EMAIL_MAX + 1] = "junk";
    struct err err;
    err_clear(&err);
    assert_int_equal(user_normalize_email("not-an-address", 14, out, &err), ERR_UNPROCESSABLE);
    assert_int_equal(err.code, ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "field 'email'"));
    assert_string_equal(out, "");

    char long_email[300];
    memset(long_email, 'b', 250);
    strcpy(long_email + 250, "@x.org");
    err_clear(&err);
    assert_int_equal(user_normalize_email(long_email, strlen(long_email), out, &err),
                     ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "254"));
}

/* ---- name -------------------------------------------------------------------------- */

static void test_name_must_be_1_to_200_bytes(void **state)
{
    (void)state;
    char name[USER_NAME_MAX + 2];
    memset(name, 'n', sizeof(name));
    struct err err;
    err_clear(&err);
    assert_int_equal(user_validate_name(name, 0, &err), ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "field 'name'"));
    assert_int_equal(user_validate_name(name, 1, NULL), 0);
    assert_int_equal(user_validate_name(name, USER_NAME_MAX, NULL), 0);
    assert_int_equal(user_validate_name(name, USER_NAME_MAX + 1, NULL), ERR_UNPROCESSABLE);
}

static void test_name_length_counts_bytes_not_characters(void **state)
{
    (void)state;
    /* 100 × "é" (2 bytes each) is 200 bytes: accepted; one more byte is refused. */
    char name[USER_NAME_MAX + 2];
    for (int i = 0; i < 100; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    assert_int_equal(user_validate_name(name, 200, NULL), 0);
    name[200] = 'x';
    assert_int_equal(user_validate_name(name, 201, NULL), ERR_UNPROCESSABLE);
}

static void test_name_refuses_a_nul_inside(void **state)
{
    (void)state;
    struct err err;
    err_clear(&err);
    const char name[] = "Ada\0Lovelace";
    assert_int_equal(user_validate_name(name, sizeof(name) - 1, &err), ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "NUL"));
}

/* ---- register ---------------------------------------------------------------------- */

static void test_register_makes_a_user_without_roles_and_raises_registered(void **state)
{
    (void)state;
    struct user u;
    struct user_events evs;
    user_events_init(&evs);
    struct err err;
    err_clear(&err);
    const char *email = "Ada@Example.ORG", *name = "Ada Lovelace";
    assert_int_equal(
        user_register(&u, TEST_USER_ID, email, strlen(email), name, strlen(name), &evs, &err), 0);
    assert_string_equal(u.id, TEST_USER_ID);
    assert_string_equal(u.email, "ada@example.org");
    assert_string_equal(u.name, "Ada Lovelace");
    assert_int_equal(u.roles, 0);
    assert_false(user_has_role(&u, USER_ROLE_PROVIDER));
    assert_int_equal(u.provider_status, USER_PROVIDER_NONE);
    assert_string_equal(u.created_at, ""); /* the store's to set */
    assert_invariant(&u);

    assert_int_equal(evs.n, 1);
    assert_int_equal(evs.items[0].kind, USER_EVENT_REGISTERED);
    assert_string_equal(evs.items[0].user.id, TEST_USER_ID);
    assert_string_equal(evs.items[0].user.email, "ada@example.org");
    assert_string_equal(evs.items[0].user.name, "Ada Lovelace");
}

static void test_register_refuses_a_bad_email_and_raises_nothing(void **state)
{
    (void)state;
    struct user u;
    struct user_events evs;
    user_events_init(&evs);
    struct err err;
    err_clear(&err);
    const char *email = "ada(at)example.org", *name = "Ada";
    assert_int_equal(
        user_register(&u, TEST_USER_ID, email, strlen(email), name, strlen(name), &evs, &err),
        ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "email"));
    assert_int_equal(evs.n, 0);
}

static void test_register_refuses_a_name_out_of_bounds_and_raises_nothing(void **state)
{
    (void)state;
    struct user u;
    struct user_events evs;
    user_events_init(&evs);
    struct err err;
    const char *email = "ada@example.org";
    err_clear(&err);
    assert_int_equal(user_register(&u, TEST_USER_ID, email, strlen(email), "", 0, &evs, &err),
                     ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "name"));

    char name[USER_NAME_MAX + 1];
    memset(name, 'n', sizeof(name));
    err_clear(&err);
    assert_int_equal(
        user_register(&u, TEST_USER_ID, email, strlen(email), name, sizeof(name), &evs, &err),
        ERR_UNPROCESSABLE);
    assert_int_equal(evs.n, 0);
}

static void test_register_refuses_an_id_that_is_not_36_characters(void **state)
{
    (void)state;
    struct user u;
    struct user_events evs;
    user_events_init(&evs);
    const char *email = "ada@example.org";
    assert_int_equal(user_register(&u, "short", email, strlen(email), "Ada", 3, &evs, NULL),
                     ERR_INVALID);
    assert_int_equal(user_register(&u, NULL, email, strlen(email), "Ada", 3, &evs, NULL),
                     ERR_INVALID);
    assert_int_equal(evs.n, 0);
}

/* ---- grant role: none → pending, and the idempotent no-ops ---------------------- */

static void test_grant_provider_moves_none_to_pending_and_raises_both_events(void **state)
{
    (void)state;
    struct user u;
    registered_user(&u);
    struct user_events evs;
    user_events_init(&evs);
    struct err err;
    err_clear(&err);
    assert_int_equal(user_grant_role(&u, USER_ROLE_PROVIDER, &evs, &err), 0);
    assert_true(user_has_role(&u, USER_ROLE_PROVIDER));
    assert_int_equal(u.provider_status, USER_PROVIDER_PENDING);
    assert_invariant(&u);

    assert_int_equal(evs.n, 2);
    assert_int_equal(evs.items[0].kind, USER_EVENT_ROLE_GRANTED);
    assert_int_equal(evs.items[0].role, USER_ROLE_PROVIDER);
    assert_string_equal(evs.items[0].user.id, TEST_USER_ID);
    assert_true(user_has_role(&evs.items[0].user, USER_ROLE_PROVIDER));
    assert_int_equal(evs.items[1].kind, USER_EVENT_PROVIDER_STATUS_CHANGED);
    assert_int_equal(evs.items[1].from, USER_PROVIDER_NONE);
    assert_int_equal(evs.items[1].to, USER_PROVIDER_PENDING);
    assert_int_equal(evs.items[1].user.provider_status, USER_PROVIDER_PENDING);
}

static void test_grant_provider_again_while_pending_changes_and_raises_nothing(void **state)
{
    (void)state;
    struct user u;
    pending_provider(&u);
    struct user before = u;
    struct user_events evs;
    user_events_init(&evs);
    assert_int_equal(user_grant_role(&u, USER_ROLE_PROVIDER, &evs, NULL), 0);
    assert_int_equal(evs.n, 0);
    assert_user_equal(&u, &before);
}

static void test_grant_provider_while_active_keeps_active_and_raises_nothing(void **state)
{
    (void)state;
    struct user u;
    active_provider(&u);
    struct user before = u;
    struct user_events evs;
    user_events_init(&evs);
    assert_int_equal(user_grant_role(&u, USER_ROLE_PROVIDER, &evs, NULL), 0);
    assert_int_equal(evs.n, 0);
    assert_user_equal(&u, &before);
    assert_int_equal(u.provider_status, USER_PROVIDER_ACTIVE);
}

static void test_grant_refuses_an_unknown_role_and_leaves_the_user_unchanged(void **state)
{
    (void)state;
    struct user u;
    registered_user(&u);
    struct user before = u;
    struct user_events evs;
    user_events_init(&evs);
    struct err err;
    err_clear(&err);
    assert_int_equal(user_grant_role(&u, USER_ROLE_COUNT, &evs, &err), ERR_INVALID);
    assert_int_equal(user_grant_role(&u, (enum user_role) - 1, &evs, &err), ERR_INVALID);
    assert_int_equal(evs.n, 0);
    assert_user_equal(&u, &before);
}

static void test_grant_with_a_full_event_list_is_refused_whole(void **state)
{
    (void)state;
    struct user u;
    registered_user(&u);
    struct user before = u;
    struct user_events evs;
    user_events_init(&evs);
    evs.n = USER_EVENTS_MAX - 1; /* room for one event, the grant needs two */
    struct err err;
    err_clear(&err);
    assert_int_equal(user_grant_role(&u, USER_ROLE_PROVIDER, &evs, &err), ERR_INTERNAL);
    assert_int_equal(evs.n, USER_EVENTS_MAX - 1);
    assert_user_equal(&u, &before);
}

/* ---- activate: pending → active, and the refusals -------------------------------- */

static void test_activate_moves_pending_to_active_and_raises_status_changed(void **state)
{
    (void)state;
    struct user u;
    pending_provider(&u);
    struct user_events evs;
    user_events_init(&evs);
    struct err err;
    err_clear(&err);
    assert_int_equal(user_activate_provider(&u, &evs, &err), 0);
    assert_int_equal(u.provider_status, USER_PROVIDER_ACTIVE);
    assert_true(user_has_role(&u, USER_ROLE_PROVIDER));
    assert_invariant(&u);

    assert_int_equal(evs.n, 1);
    assert_int_equal(evs.items[0].kind, USER_EVENT_PROVIDER_STATUS_CHANGED);
    assert_int_equal(evs.items[0].from, USER_PROVIDER_PENDING);
    assert_int_equal(evs.items[0].to, USER_PROVIDER_ACTIVE);
    assert_int_equal(evs.items[0].user.provider_status, USER_PROVIDER_ACTIVE);
}

static void test_activate_again_while_active_changes_and_raises_nothing(void **state)
{
    (void)state;
    struct user u;
    active_provider(&u);
    struct user before = u;
    struct user_events evs;
    user_events_init(&evs);
    assert_int_equal(user_activate_provider(&u, &evs, NULL), 0);
    assert_int_equal(evs.n, 0);
    assert_user_equal(&u, &before);
}

static void test_activate_before_registration_is_refused_as_transient(void **state)
{
    (void)state;
    struct user u;
    registered_user(&u);
    struct user before = u;
    struct user_events evs;
    user_events_init(&evs);
    struct err err;
    err_clear(&err);
    assert_int_equal(user_activate_provider(&u, &evs, &err), ERR_TRANSIENT);
    assert_non_null(strstr(err.msg, TEST_USER_ID));
    assert_int_equal(evs.n, 0);
    assert_user_equal(&u, &before);
    assert_int_equal(u.provider_status, USER_PROVIDER_NONE);
}

static void test_activate_refuses_an_unknown_status(void **state)
{
    (void)state;
    struct user u;
    pending_provider(&u);
    u.provider_status = (enum user_provider_status)7; /* corrupted data, never made by the domain */
    struct user_events evs;
    user_events_init(&evs);
    assert_int_equal(user_activate_provider(&u, &evs, NULL), ERR_INVALID);
    assert_int_equal(evs.n, 0);
}

static void test_lifecycle_none_pending_active_keeps_the_invariant(void **state)
{
    (void)state;
    struct user u;
    registered_user(&u);
    struct user_events evs;
    user_events_init(&evs);
    assert_invariant(&u);
    /* Activation that overtakes registration is refused, then succeeds after it. */
    assert_int_equal(user_activate_provider(&u, &evs, NULL), ERR_TRANSIENT);
    assert_int_equal(user_grant_role(&u, USER_ROLE_PROVIDER, &evs, NULL), 0);
    assert_invariant(&u);
    assert_int_equal(user_activate_provider(&u, &evs, NULL), 0);
    assert_invariant(&u);
    /* A second provider of the same owner: registered and activated, no effect. */
    assert_int_equal(user_grant_role(&u, USER_ROLE_PROVIDER, &evs, NULL), 0);
    assert_int_equal(user_activate_provider(&u, &evs, NULL), 0);
    assert_invariant(&u);
    /* One list gathered them all, in order: granted, none→pending, pending→active. */
    assert_int_equal(evs.n, 3);
    assert_int_equal(evs.items[0].kind, USER_EVENT_ROLE_GRANTED);
    assert_int_equal(evs.items[1].kind, USER_EVENT_PROVIDER_STATUS_CHANGED);
    assert_int_equal(evs.items[2].kind, USER_EVENT_PROVIDER_STATUS_CHANGED);
    assert_int_equal(evs.items[2].to, USER_PROVIDER_ACTIVE);
}

/* ---- names ----------------------------------------------------------------------- */

static void test_role_names_round_trip_and_come_in_sorted_order(void **state)
{
    (void)state;
    for (unsigned i = 0; i < USER_ROLE_COUNT; i++) {
        enum user_role role;
        assert_int_equal(user_role_parse(user_role_name((enum user_role)i), &role, NULL), 0);
        assert_int_equal(role, i);
        if (i > 0)
            assert_true(strcmp(user_role_name((enum user_role)(i - 1)),
                               user_role_name((enum user_role)i)) < 0);
    }
    assert_string_equal(user_role_name(USER_ROLE_PROVIDER), "provider");
    assert_string_equal(user_role_name(USER_ROLE_COUNT), "");
}

static void test_role_parse_refuses_unknown_names(void **state)
{
    (void)state;
    enum user_role role;
    struct err err;
    err_clear(&err);
    assert_int_equal(user_role_parse("admin", &role, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "'admin'"));
    assert_int_equal(user_role_parse("Provider", &role, NULL), ERR_INVALID);
    assert_int_equal(user_role_parse(NULL, &role, NULL), ERR_INVALID);
}

static void test_provider_status_names_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"none", "pending", "active"};
    for (int i = 0; i < 3; i++) {
        enum user_provider_status s;
        assert_int_equal(user_provider_status_parse(names[i], &s, NULL), 0);
        assert_int_equal(s, i);
        assert_string_equal(user_provider_status_name(s), names[i]);
    }
    enum user_provider_status s;
    assert_int_equal(user_provider_status_parse("registered", &s, NULL), ERR_INVALID);
    assert_int_equal(user_provider_status_parse(NULL, &s, NULL), ERR_INVALID);
    assert_string_equal(user_provider_status_name((enum user_provider_status)9), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email_accepts_ordinary_addresses),
        cmocka_unit_test(test_email_refuses_a_missing_or_doubled_at),
        cmocka_unit_test(test_email_refuses_a_domain_without_two_nonempty_labels),
        cmocka_unit_test(test_email_refuses_spaces_controls_del_and_nul),
        cmocka_unit_test(test_email_length_bounds_are_3_to_254_bytes),
        cmocka_unit_test(test_normalize_lowercases_ascii_and_keeps_other_bytes),
        cmocka_unit_test(test_normalize_refuses_a_bad_address_as_unprocessable),
        cmocka_unit_test(test_name_must_be_1_to_200_bytes),
        cmocka_unit_test(test_name_length_counts_bytes_not_characters),
        cmocka_unit_test(test_name_refuses_a_nul_inside),
        cmocka_unit_test(test_register_makes_a_user_without_roles_and_raises_registered),
        cmocka_unit_test(test_register_refuses_a_bad_email_and_raises_nothing),
        cmocka_unit_test(test_register_refuses_a_name_out_of_bounds_and_raises_nothing),
        cmocka_unit_test(test_register_refuses_an_id_that_is_not_36_characters),
        cmocka_unit_test(test_grant_provider_moves_none_to_pending_and_raises_both_events),
        cmocka_unit_test(test_grant_provider_again_while_pending_changes_and_raises_nothing),
        cmocka_unit_test(test_grant_provider_while_active_keeps_active_and_raises_nothing),
        cmocka_unit_test(test_grant_refuses_an_unknown_role_and_leaves_the_user_unchanged),
        cmocka_unit_test(test_grant_with_a_full_event_list_is_refused_whole),
        cmocka_unit_test(test_activate_moves_pending_to_active_and_raises_status_changed),
        cmocka_unit_test(test_activate_again_while_active_changes_and_raises_nothing),
        cmocka_unit_test(test_activate_before_registration_is_refused_as_transient),
        cmocka_unit_test(test_activate_refuses_an_unknown_status),
        cmocka_unit_test(test_lifecycle_none_pending_active_keeps_the_invariant),
        cmocka_unit_test(test_role_names_round_trip_and_come_in_sorted_order),
        cmocka_unit_test(test_role_parse_refuses_unknown_names),
        cmocka_unit_test(test_provider_status_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
