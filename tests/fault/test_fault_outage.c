/*
 * test_fault_outage.c - the database away for longer than the whole retry
 * budget. The services run with a short one (RETRY_MAX_ATTEMPTS=4,
 * RETRY_BASE_MS=200, RETRY_MAX_MS=400: about 1 s from the first attempt to
 * the dead letters) and PostgreSQL is stopped for five times that, under
 * load. An outage is not the messages' fault: no attempt may be spent on it.
 * Each consumer sees its database link down and stays off its queue (the
 * broker keeps the messages; the circuit breaker is for a dependency a
 * handler reports as failing, and never counts an outage), so nothing is
 * dead-lettered, and everything is processed once the database is back.
 */
#include "scenario.h"

#include <stdio.h>

#define OUTAGE_BUDGET_MS 1000 /* the retry budget below: 200 + 400 + 400 ms */
#define OUTAGE_DOWN_MS   (5 * OUTAGE_BUDGET_MS)

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"RETRY_MAX_ATTEMPTS=4", "RETRY_BASE_MS=200",
                                      "RETRY_MAX_MS=400", NULL};
    scenario_setup("outage", env, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scenario_teardown();
    return 0;
}

static void test_a_database_outage_longer_than_the_retry_budget_dead_letters_nothing(void **state)
{
    (void)state;
    load_start(scenario.load);
    load_wait_bookings(scenario.load, 0, 20, 20000, "bookings before the outage");
    int rounds = fault_soak() > 1 ? fault_soak() / 2 : 1;
    for (int i = 0; i < rounds; i++) {
        int64_t t0 = testlib_now_ms();
        fault_infra("stop", "postgres");
        fault_wait_health(503, "database", "down", 20000);
        int64_t left = OUTAGE_DOWN_MS - (testlib_now_ms() - t0);
        if (left > 0)
            scenario_hold((int)left);
        fault_infra("start", "postgres");
        double down_s = (double)(testlib_now_ms() - t0) / 1000.0;
        fault_wait_health(200, "database", "up", 30000);
        int64_t resumed = scenario_wait_flowing(30000, "after the database came back");
        scenario_note("PostgreSQL away for %.1f s (the retry budget is %.1f s)", down_s,
                      OUTAGE_BUDGET_MS / 1000.0);
        fault_report("database away %.1f s, %.1fx the retry budget; flow resumed %.1f s after "
                     "/health said it was back",
                     down_s, down_s * 1000.0 / OUTAGE_BUDGET_MS, (double)resumed / 1000.0);
    }
    scenario_finish();
    int64_t dead =
        e2e_count("SELECT (SELECT count(*) FROM servicecatalog.inbox WHERE status = 'dead')"
                  " + (SELECT count(*) FROM usermanagement.inbox WHERE status = 'dead')"
                  " + (SELECT count(*) FROM booking.inbox WHERE status = 'dead')"
                  " + (SELECT count(*) FROM inventory.inbox WHERE status = 'dead')"
                  " + (SELECT count(*) FROM payment.inbox WHERE status = 'dead')"
                  " + (SELECT count(*) FROM notification.inbox WHERE status = 'dead')",
                  NULL, NULL);
    fault_report("dead-lettered during and after the outage: %lld", (long long)dead);
    if (dead != 0)
        fail_msg("%lld messages were dead-lettered because of a database outage", (long long)dead);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_a_database_outage_longer_than_the_retry_budget_dead_letters_nothing, setup,
            teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
