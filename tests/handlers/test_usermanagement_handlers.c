/*
 * test_usermanagement_handlers.c - usermanagement's handlers through the
 * handler test harness (tests/lib/handler_test.h): PostgreSQL, no broker.
 */
#include "handler_test.h"

#include "common/db.h"
#include "servicecatalog/contract/servicecatalog_contract.h"
#include "usermanagement/contract/usermanagement_contract.h"
#include "usermanagement/service.h"

#include <stdio.h>
#include <string.h>

static void provider_of(struct servicecatalog_provider_registered *p, const char *owner_id)
{
    memset(p, 0, sizeof(*p));
    uuid7_generate(p->provider_id);
    snprintf(p->owner_id, sizeof(p->owner_id), "%s", owner_id);
    snprintf(p->business_name, sizeof(p->business_name), "%s", "Ann's Kayaks");
    snprintf(p->provider_type, sizeof(p->provider_type), "%s", "tours");
}

/* A provider registered for a user grants them the role: usermanagement.user.role_granted. */
static void test_a_registered_provider_grants_its_owner_the_role(void **state)
{
    (void)state;
    struct handler_test *t = handler_test_start(&usermanagement_service);
    char user_id[UUID7_STR_LEN];
    uuid7_generate(user_id);
    const char *params[] = {user_id};
    struct err err;
    err_clear(&err);
    assert_int_equal(
        db_exec(handler_test_db(t),
                "INSERT INTO users (id, email, name) VALUES ($1, 'ann@example.org', 'Ann')", 1,
                params, NULL, NULL, &err),
        1);
    struct servicecatalog_provider_registered p;
    provider_of(&p, user_id);
    assert_int_equal(handler_test_send(t, &SERVICECATALOG_PROVIDER_REGISTERED, &p, sizeof(p)), 0);
    struct usermanagement_user_role_granted granted;
    handler_test_take(t, &USERMANAGEMENT_USER_ROLE_GRANTED, 0, &granted, sizeof(granted));
    assert_string_equal(granted.user_id, user_id);
    assert_string_equal(granted.role, "provider");
    handler_test_stop(t);
}

/* An owner the context does not know is a permanent failure, and nothing is published. */
static void test_an_unknown_owner_is_unprocessable(void **state)
{
    (void)state;
    struct handler_test *t = handler_test_start(&usermanagement_service);
    char nobody[UUID7_STR_LEN];
    uuid7_generate(nobody);
    struct servicecatalog_provider_registered p;
    provider_of(&p, nobody);
    assert_int_equal(handler_test_send(t, &SERVICECATALOG_PROVIDER_REGISTERED, &p, sizeof(p)),
                     ERR_UNPROCESSABLE);
    assert_non_null(strstr(handler_test_error(t), "unknown user"));
    assert_int_equal(handler_test_published(t, NULL), 0);
    handler_test_stop(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_registered_provider_grants_its_owner_the_role),
        cmocka_unit_test(test_an_unknown_owner_is_unprocessable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
