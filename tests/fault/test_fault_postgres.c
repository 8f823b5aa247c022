/*
 * test_fault_postgres.c - PostgreSQL restarts (fast shutdown: every
 * connection is cut, transactions in flight roll back, a commit in flight
 * may or may not have happened) in the middle of the flow, then stays down
 * for a few seconds. Meanwhile every service stays up and says on /health
 * that the database is down; afterwards they reconnect; writes that failed
 * meanwhile are the load's "unknown"; whatever was committed is published
 * and handled exactly once.
 */
#include "scenario.h"

#define PG_DOWN_MS 3000 /* the database outage, beyond its own stop */

static int setup(void **state)
{
    (void)state;
    scenario_setup("postgres", NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scenario_teardown();
    return 0;
}

static void
test_postgres_restart_and_outage_mid_flow_lose_nothing_and_do_nothing_twice(void **state)
{
    (void)state;
    load_start(scenario.load);
    load_wait_bookings(scenario.load, 0, 20, 20000, "bookings before the restart");
    int rounds = fault_soak() > 1 ? fault_soak() : 1;
    for (int i = 0; i < rounds; i++) {
        int64_t t0 = testlib_now_ms();
        fault_infra("restart", "postgres");
        scenario_note("PostgreSQL restarted in %.1f s", (double)(testlib_now_ms() - t0) / 1000.0);
        load_wait_bookings(scenario.load, load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED),
                           20, 30000, "bookings accepted after PostgreSQL restarted");

        t0 = testlib_now_ms();
        fault_infra("stop", "postgres");
        fault_wait_health(503, "database", "down", 20000);
        scenario_hold(PG_DOWN_MS);
        fault_infra("start", "postgres");
        scenario_note("PostgreSQL stopped and started again after %.1f s",
                      (double)(testlib_now_ms() - t0) / 1000.0);
        fault_wait_health(200, "database", "up", 30000);
        load_wait_bookings(scenario.load, load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED),
                           20, 30000, "bookings accepted after PostgreSQL came back");
    }
    scenario_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_postgres_restart_and_outage_mid_flow_lose_nothing_and_do_nothing_twice, setup,
            teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
