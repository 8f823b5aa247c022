/*
 * test_fault_relay.c - a relay killed in the middle of a batch: booking is
 * frozen (SIGSTOP) at a moment its relay holds claimed, unpublished outbox
 * rows (a lease in their locked_by/locked_until), then SIGKILLed, so the
 * lease outlives the process. Started again with the same INSTANCE_ID, it
 * takes its own rows back at once instead of waiting LEASE_MS (10 s): each
 * of them must be published within 2 s of the restart. Nothing is lost or
 * published twice (the ledger).
 */
#include "scenario.h"

#include <stdio.h>
#include <string.h>

#define RELAY_INSTANCE     "booking-fault-1" /* fault.c's INSTANCE_ID of booking's slot 0 */
#define RELAY_CATCH_TRIES  500               /* freezes until one catches a batch in flight */
#define RELAY_REPUBLISH_MS 2000              /* the promise: published within 2 s of the restart */
#define RELAY_DEAD_MS      500               /* how long the killed instance stays down */

/* Freezes booking until a freeze catches its relay holding claimed rows; their ids,
 * comma-separated. */
static void catch_batch_in_flight(char *ids, size_t idslen)
{
    for (int tries = 0;; tries++) {
        fault_freeze(E2E_BOOKING, 0, true);
        e2e_value("SELECT coalesce(string_agg(id::text, ','), '') FROM (SELECT id"
                  " FROM booking.outbox WHERE status = 'pending' AND locked_by = $1"
                  " AND locked_until > now() LIMIT 64) s",
                  RELAY_INSTANCE, NULL, ids, idslen);
        if (ids[0])
            return;
        fault_freeze(E2E_BOOKING, 0, false);
        if (tries >= RELAY_CATCH_TRIES)
            fail_msg("%d freezes of booking never caught its relay in the middle of a batch",
                     tries);
        testlib_sleep_ms(5 + tries % 23);
    }
}

static int setup(void **state)
{
    (void)state;
    scenario_setup("relay", NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scenario_teardown();
    return 0;
}

static void test_a_relay_killed_mid_batch_publishes_its_rows_within_2s_of_its_restart(void **state)
{
    (void)state;
    load_start(scenario.load);
    load_wait_bookings(scenario.load, 0, 20, 20000, "bookings before the first kill");
    int rounds = 2 * (fault_soak() > 1 ? fault_soak() : 1);
    for (int i = 0; i < rounds; i++) {
        char ids[64 * 40];
        catch_batch_in_flight(ids, sizeof(ids));
        fault_kill(E2E_BOOKING, 0);
        int rows = 1;
        for (const char *p = ids; (p = strchr(p, ',')) != NULL; p++)
            rows++;
        scenario_hold(RELAY_DEAD_MS);
        int64_t t0 = testlib_now_ms();
        fault_start(E2E_BOOKING, 0);
        int64_t ready = testlib_now_ms() - t0;
        int64_t published;
        for (;;) {
            published = testlib_now_ms() - t0;
            if (e2e_count("SELECT count(*) FROM booking.outbox WHERE status = 'pending'"
                          " AND id = ANY (string_to_array($1, ',')::uuid[])",
                          ids, NULL) == 0)
                break;
            if (published > 4 * RELAY_REPUBLISH_MS)
                break;
            testlib_sleep_ms(20);
        }
        scenario_note("SIGKILL booking in the middle of a relay batch, restarted with the same "
                      "INSTANCE_ID");
        fault_report("relay kill %d: %d claimed row(s) published %.2f s after the restart began "
                     "(the service was ready after %.2f s)",
                     i + 1, rows, (double)published / 1000.0, (double)ready / 1000.0);
        if (published > RELAY_REPUBLISH_MS)
            fail_msg("the %d row(s) booking's relay had claimed when it was killed were not all "
                     "published within %d ms of its restart (%lld ms)",
                     rows, RELAY_REPUBLISH_MS, (long long)published);
        load_wait_bookings(scenario.load, load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED),
                           10, 20000, "bookings after the restart");
    }
    scenario_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_a_relay_killed_mid_batch_publishes_its_rows_within_2s_of_its_restart, setup,
            teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
