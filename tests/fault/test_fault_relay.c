/*
 * test_fault_relay.c - the relay's leases under failure.
 *
 * A relay killed in the middle of a batch: booking is frozen (SIGSTOP) at a
 * moment its relay holds claimed, unpublished outbox rows (a lease in their
 * locked_by/locked_until), then SIGKILLed, so the lease outlives the
 * process. Started again with the same INSTANCE_ID, it takes its own rows
 * back at once instead of waiting LEASE_MS (10 s here, so that only the
 * take-back can meet the promise): each of them must be published within
 * 2 s of the restart.
 *
 * A batch in flight on a frozen broker: with a LEASE_MS much shorter than
 * the wait for confirms and a second booking instance whose relay would take
 * any lapsed row, the broker is frozen while bookings keep coming; the rows
 * the waiting relay holds must stay its own, their leases live, for several
 * LEASE_MS (renewed every third of it). Then that relay is SIGKILLed, the
 * broker still frozen, and left down: the other instance's relay publishes
 * its rows within LEASE_MS and one sweep of the kill.
 *
 * Both: nothing is lost or done twice (the ledger).
 */
#include "scenario.h"

#include "common/relay.h"

#include <stdio.h>
#include <string.h>

#define RELAY_INSTANCE       "booking-fault-1" /* fault.c's INSTANCE_ID of booking's slot 0 */
#define RELAY_CATCH_TRIES    500               /* freezes until one catches a batch in flight */
#define RELAY_REPUBLISH_MS   2000             /* the promise: published within 2 s of the restart */
#define RELAY_DEAD_MS        500              /* how long the killed instance stays down */
#define RELAY_KILL_LEASE     "LEASE_MS=10000" /* longer than the promise: only a take-back meets it */
#define RELAY_SHORT_LEASE_MS 900              /* the frozen-broker test's LEASE_MS */
#define RELAY_FROZEN_MS      (3 * RELAY_SHORT_LEASE_MS) /* < RELAY_CONFIRM_TIMEOUT_MS (5 s) */
/* A killed relay's rows reach another: its lease, that relay's sweep, scheduling slack. */
#define RELAY_HANDOVER_MS (RELAY_SHORT_LEASE_MS + RELAY_SWEEP_MS + 500)

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
    static const char *const env[] = {RELAY_KILL_LEASE, NULL};
    scenario_setup("relay", env, NULL);
    return 0;
}

static int setup_short_lease(void **state)
{
    (void)state;
    if (fault_broker_pid() <= 0)
        return 0; /* the test skips itself */
    char lease[32];
    snprintf(lease, sizeof(lease), "LEASE_MS=%d", RELAY_SHORT_LEASE_MS);
    const char *const env[] = {lease, NULL};
    scenario_setup("relay-lease", env, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (scenario.load)
        scenario_teardown(); /* also thaws the broker (fault_freeze_broker's cleanup) */
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

/* Rows of caught (comma-separated "id" list, owners alike) no longer leased to their owner. */
#define RELAY_LAPSED                                                                               \
    "SELECT count(*) FROM booking.outbox o JOIN unnest(string_to_array($1, ',')::uuid[],"          \
    " string_to_array($2, ',')) AS c(id, owner) ON o.id = c.id WHERE o.status = 'pending'"         \
    " AND (o.locked_by IS DISTINCT FROM c.owner OR o.locked_until <= clock_timestamp())"

static void test_a_batch_waiting_on_a_frozen_broker_keeps_its_lease_past_lease_ms(void **state)
{
    (void)state;
    if (!scenario.load) {
        printf("fault[relay-lease]: skipped (no broker pid: set FAULT_BROKER_PID)\n");
        skip();
    }
    fault_start(E2E_BOOKING, 1); /* a second relay, to take any row whose lease lapses */
    load_start(scenario.load);
    load_wait_bookings(scenario.load, 0, 20, 20000, "bookings before the broker freezes");
    scenario_wait_flowing(20000, "before the broker freezes");

    fault_freeze_broker(true);
    int64_t t0 = testlib_now_ms();
    char ids[64 * 40] = "", owners[64 * 40] = "";
    while (!ids[0] && testlib_now_ms() - t0 < 2000) {
        e2e_value("SELECT coalesce(string_agg(id::text, ','), '') FROM (SELECT id FROM"
                  " booking.outbox WHERE status = 'pending' AND locked_until > clock_timestamp()"
                  " ORDER BY id LIMIT 64) s",
                  NULL, NULL, ids, sizeof(ids));
        testlib_sleep_ms(20);
    }
    if (!ids[0])
        fail_msg("no booking relay held a batch within 2 s of the broker freezing");
    e2e_value("SELECT string_agg(coalesce(locked_by, ''), ',' ORDER BY i) FROM booking.outbox o"
              " JOIN unnest(string_to_array($1, ',')::uuid[]) WITH ORDINALITY AS c(id, i)"
              " ON o.id = c.id",
              ids, NULL, owners, sizeof(owners));
    int64_t caught = testlib_now_ms();
    int64_t lapsed = 0, polls = 0;
    while (testlib_now_ms() - caught < RELAY_FROZEN_MS && lapsed == 0) {
        lapsed = e2e_count(RELAY_LAPSED, ids, owners);
        polls++;
        testlib_sleep_ms(100);
    }
    int64_t held = testlib_now_ms() - caught;
    int rows = 1;
    for (const char *p = ids; (p = strchr(p, ',')) != NULL; p++)
        rows++;
    fault_report("a batch of %d row(s) waiting on the frozen broker stayed leased to its relay "
                 "for %.1f s (%.1f × LEASE_MS, %lld checks)",
                 rows, (double)held / 1000.0, (double)held / RELAY_SHORT_LEASE_MS,
                 (long long)polls);
    if (lapsed)
        fail_msg("%lld of the %d row(s) a relay was publishing lost their lease after %lld ms "
                 "(LEASE_MS=%d) while the batch waited for the broker's confirms",
                 (long long)lapsed, rows, (long long)held, RELAY_SHORT_LEASE_MS);

    /*
     * The other half of the promise: the relay holding that batch is SIGKILLed while the broker
     * is still frozen (so nothing of the batch was confirmed or marked) and stays down. Once its
     * last renewal lapses, the other instance's relay claims the rows on its next wake-up (a
     * NOTIFY of the load's bookings, or its RELAY_SWEEP_MS sweep) and publishes them.
     */
    char owner[64] = "";
    snprintf(owner, sizeof(owner), "%.*s", (int)strcspn(owners, ","), owners);
    char mine[64 * 40] = "";
    e2e_value("SELECT coalesce(string_agg(id::text, ','), '') FROM booking.outbox WHERE"
              " id = ANY (string_to_array($1, ',')::uuid[]) AND locked_by = $2",
              ids, owner, mine, sizeof(mine));
    int slot = strcmp(owner, "booking-fault-2") == 0 ? 1 : 0;
    fault_kill(E2E_BOOKING, slot);
    int64_t k0 = testlib_now_ms(), moved;
    fault_freeze_broker(false);
    scenario_note("broker frozen %.1f s with LEASE_MS=%d and two booking relays; the one "
                  "waiting on it SIGKILLed and left down",
                  (double)(k0 - t0) / 1000.0, RELAY_SHORT_LEASE_MS);
    while ((moved = testlib_now_ms() - k0) < 4 * RELAY_HANDOVER_MS &&
           e2e_count("SELECT count(*) FROM booking.outbox WHERE status = 'pending'"
                     " AND id = ANY (string_to_array($1, ',')::uuid[])",
                     mine, NULL) > 0)
        testlib_sleep_ms(20);
    fault_report("the rows of %s, killed in the middle of that batch, were published by the other "
                 "instance %.2f s after the kill (LEASE_MS %.1f s)",
                 owner, (double)moved / 1000.0, RELAY_SHORT_LEASE_MS / 1000.0);
    if (!mine[0] || moved > RELAY_HANDOVER_MS)
        fail_msg("the rows of a relay killed mid-batch (%s) were not published by the other "
                 "instance within LEASE_MS + the sweep (%d ms): %lld ms",
                 owner, RELAY_HANDOVER_MS, (long long)moved);
    scenario_wait_flowing(60000, "after the broker was thawed");
    scenario_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_a_relay_killed_mid_batch_publishes_its_rows_within_2s_of_its_restart, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_a_batch_waiting_on_a_frozen_broker_keeps_its_lease_past_lease_ms,
            setup_short_lease, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
