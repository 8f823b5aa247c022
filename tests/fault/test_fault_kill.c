/*
 * test_fault_kill.c - every service, in turn, dies by SIGKILL in the middle
 * of the flow (between a commit and its publish, a commit and its ack, or in
 * a handler: wherever it happens to be) and is started again, while the
 * load keeps registering users and booking; then every service, in turn, is
 * stopped with SIGTERM under load (it must drain and exit 0) and started
 * again. The ledger must show nothing lost and nothing done twice.
 */
#include "scenario.h"

#define KILL_DOWN_MS 700 /* how long each service stays dead */

static int setup(void **state)
{
    (void)state;
    scenario_setup("kill", NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scenario_teardown();
    return 0;
}

static void
test_each_service_killed_or_stopped_mid_flow_loses_nothing_and_does_nothing_twice(void **state)
{
    (void)state;
    load_start(scenario.load);
    long accepted =
        load_wait_bookings(scenario.load, 0, 20, 20000, "bookings before the first kill");
    int rounds = fault_soak();
    for (int round = 0; round < rounds; round++) {
        for (int c = 0; c < E2E_NCTX; c++) {
            fault_kill(c, 0);
            scenario_note("SIGKILL %s", e2e_ctx_name(c));
            scenario_hold(KILL_DOWN_MS);
            fault_start(c, 0);
            /* The flow goes on between two kills: each kill lands mid-flow. */
            accepted = load_wait_bookings(scenario.load, accepted, 10, 30000,
                                          "bookings accepted after the restart");
        }
    }
    for (int c = 0; c < E2E_NCTX; c++) {
        fault_stop(c, 0); /* fails unless it drains and exits 0 */
        scenario_note("SIGTERM %s under load (drained, exit 0)", e2e_ctx_name(c));
        fault_start(c, 0);
        accepted = load_wait_bookings(scenario.load, accepted, 10, 30000,
                                      "bookings accepted after the restart");
    }
    scenario_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_each_service_killed_or_stopped_mid_flow_loses_nothing_and_does_nothing_twice,
            setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
