/*
 * test_fault_duplicates.c - events already delivered are published again,
 * three times each, straight to the events exchange with their original
 * body and message id (what a relay that dies between the broker's ack and
 * its "published" mark does, or a broker redelivery). The inboxes must
 * absorb every copy: no second effect anywhere.
 */
#include "scenario.h"

#define DUP_EVENTS 30 /* per wave, spread over the six outboxes */
#define DUP_COPIES 3

static int setup(void **state)
{
    (void)state;
    scenario_setup("duplicates", NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scenario_teardown();
    return 0;
}

static void test_events_delivered_again_three_times_have_no_second_effect(void **state)
{
    (void)state;
    load_start(scenario.load);
    long accepted = load_wait_bookings(scenario.load, 0, 40, 20000, "bookings before the copies");
    int waves = fault_soak() > 1 ? 2 * fault_soak() : 2;
    for (int w = 0; w < waves; w++) {
        size_t before = scenario.inj.ndups;
        inject_duplicates(&scenario.inj, DUP_EVENTS, DUP_COPIES);
        scenario_note("%zu delivered events published %d times more", scenario.inj.ndups - before,
                      DUP_COPIES);
        accepted =
            load_wait_bookings(scenario.load, accepted, 40, 20000, "bookings after the copies");
    }
    scenario_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_events_delivered_again_three_times_have_no_second_effect, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
