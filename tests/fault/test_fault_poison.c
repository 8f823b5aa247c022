/*
 * test_fault_poison.c - poison of every kind SPEC §4 names (not JSON, not a
 * CloudEvent, unknown type, unknown version, data breaking the contract) is
 * published to every routing key a context is bound to, in the middle of
 * the flow. Each copy must end in the dead letters of every context bound
 * to its key, with x-poison and the reason, and nowhere else; the consumers
 * must go on as if nothing happened.
 */
#include "scenario.h"

static int setup(void **state)
{
    (void)state;
    scenario_setup("poison", NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scenario_teardown();
    return 0;
}

static void test_poison_of_every_kind_is_dead_lettered_everywhere_and_stops_nothing(void **state)
{
    (void)state;
    load_start(scenario.load);
    long accepted = load_wait_bookings(scenario.load, 0, 20, 20000, "bookings before the poison");
    int waves = fault_soak() > 1 ? fault_soak() : 1;
    for (int w = 0; w < waves; w++) {
        size_t before = scenario.inj.npoison;
        inject_poison_everywhere(&scenario.inj);
        scenario_note("%zu poison messages (%d kinds × every bound routing key)",
                      scenario.inj.npoison - before, POISON_NKINDS);
        accepted =
            load_wait_bookings(scenario.load, accepted, 40, 20000, "bookings after the poison");
    }
    scenario_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_poison_of_every_kind_is_dead_lettered_everywhere_and_stops_nothing, setup,
            teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
