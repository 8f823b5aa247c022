/*
 * test_fault_broker.c - RabbitMQ stops for several seconds in the middle of
 * the flow and starts again. Meanwhile every service stays up, says on
 * /health that the broker is down, and keeps accepting writes into its
 * outbox; afterwards everything written is published and handled once.
 */
#include "scenario.h"

#define BROKER_DOWN_MS 4000 /* the outage beyond the broker's own stop and start (~3 s + ~6 s) */

static int setup(void **state)
{
    (void)state;
    scenario_setup("broker", NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scenario_teardown();
    return 0;
}

static void test_broker_outage_keeps_writes_accepted_and_loses_nothing(void **state)
{
    (void)state;
    load_start(scenario.load);
    long accepted = load_wait_bookings(scenario.load, 0, 20, 20000, "bookings before the outage");
    int outages = fault_soak() > 1 ? fault_soak() / 2 : 1;
    for (int i = 0; i < outages; i++) {
        int64_t t0 = testlib_now_ms();
        fault_infra("stop", "rabbitmq");
        long bookings0 = load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED);
        long users0 = load_count(scenario.load, LOAD_USER, LOAD_ACCEPTED);
        scenario_note("RabbitMQ stopped");
        fault_wait_health(503, "broker", "down", 20000);
        scenario_hold(BROKER_DOWN_MS);
        long bookings = load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED) - bookings0;
        long users = load_count(scenario.load, LOAD_USER, LOAD_ACCEPTED) - users0;
        fault_infra("start", "rabbitmq");
        scenario_note("RabbitMQ started again after %.1f s; meanwhile %ld bookings and %ld users "
                      "accepted (counted while it was surely down)",
                      (double)(testlib_now_ms() - t0) / 1000.0, bookings, users);
        if (bookings < 10 || users < 2)
            fail_msg("writes were not kept accepted while RabbitMQ was down: %ld bookings and %ld "
                     "users accepted in %d ms",
                     bookings, users, BROKER_DOWN_MS);
        fault_wait_health(200, "broker", "up", 30000);
        accepted = load_wait_bookings(scenario.load,
                                      load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED), 20,
                                      20000, "bookings after the broker came back");
    }
    (void)accepted;
    scenario_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_broker_outage_keeps_writes_accepted_and_loses_nothing,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
