/*
 * test_fault_scaleout.c - two instances of every context at once: two HTTP
 * front ends (the load alternates), competing consumers on each queue, two
 * relays claiming from each outbox. Midway every second instance is killed
 * with SIGKILL (its unacked deliveries go to the other consumer, its leased
 * outbox rows to the other relay after LEASE_MS) and started again.
 */
#include "scenario.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SCALEOUT_DOWN_MS 700

static int setup(void **state)
{
    (void)state;
    scenario_setup("scaleout", NULL, NULL);
    for (int c = 0; c < E2E_NCTX; c++)
        fault_start(c, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scenario_teardown();
    return 0;
}

static void
test_two_instances_of_every_context_share_the_work_without_loss_or_double_effect(void **state)
{
    (void)state;
    scenario_note("two instances of every context");
    load_start(scenario.load);
    long accepted = load_wait_bookings(scenario.load, 0, 60 * fault_soak(), 30000 * fault_soak(),
                                       "bookings with two instances each");

    /* Both consumers of the busy queues took deliveries (competing consumers, not a standby). */
    static const enum e2e_ctx busy[] = {E2E_BOOKING, E2E_INVENTORY, E2E_PAYMENT, E2E_NOTIFICATION};
    char shares[512] = "";
    bool idle = false;
    for (size_t i = 0; i < sizeof(busy) / sizeof(busy[0]); i++) {
        long long a = fault_instance_metric(busy[i], 0, "events_consumed_total");
        long long b = fault_instance_metric(busy[i], 1, "events_consumed_total");
        idle = idle || a <= 0 || b <= 0;
        snprintf(shares + strlen(shares), sizeof(shares) - strlen(shares), "%s%s %lld/%lld",
                 i ? ", " : "", e2e_ctx_name(busy[i]), a, b);
    }
    fault_report("events consumed by instance 1/2: %s", shares);
    if (idle)
        fail_msg("one of the two instances of a busy context consumed nothing (%s): not competing "
                 "consumers",
                 shares);

    for (int c = 0; c < E2E_NCTX; c++)
        fault_kill(c, 1);
    scenario_note("SIGKILL of every second instance");
    scenario_hold(SCALEOUT_DOWN_MS);
    for (int c = 0; c < E2E_NCTX; c++)
        fault_start(c, 1);
    scenario_note("second instances started again");
    load_wait_bookings(scenario.load, accepted, 60 * fault_soak(), 30000 * fault_soak(),
                       "bookings after the second instances came back");
    scenario_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_two_instances_of_every_context_share_the_work_without_loss_or_double_effect, setup,
            teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
