/*
 * test_servicecatalog_handlers.c - servicecatalog's handler through the
 * handler test harness (tests/lib/handler_test.h): PostgreSQL, no broker.
 */
#include "handler_test.h"

#include "common/consumer.h"
#include "servicecatalog/service.h"
#include "usermanagement/contract/usermanagement_contract.h"

#include <stdio.h>

/* A registered user becomes known to the replica, once; nothing is published. */
static void test_a_registered_user_is_known_once(void **state)
{
    (void)state;
    struct handler_test *t = handler_test_start(&servicecatalog_service);
    struct usermanagement_user_registered u = {0};
    uuid7_generate(u.user_id);
    snprintf(u.email, sizeof(u.email), "%s", "bo@example.org");
    snprintf(u.name, sizeof(u.name), "%s", "Bo");
    assert_int_equal(handler_test_send(t, &USERMANAGEMENT_USER_REGISTERED, &u, sizeof(u)), 0);
    assert_int_equal(handler_test_published(t, NULL), 0);
    assert_int_equal(handler_test_redeliver(t), CONSUMER_DUPLICATE);
    assert_int_equal(handler_test_count(t, "SELECT count(*) FROM known_users", NULL), 1);
    handler_test_stop(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_registered_user_is_known_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
