/*
 * test_fault_expiry.c - the saga's deadline under load: payment stopped for
 * longer than BOOKING_TIMEOUT_MS (3 s here), then started again. Bookings
 * made meanwhile cannot be paid, so they expire: booking publishes
 * booking.booking.expired, inventory releases their reservations and
 * payment, once back, voids their intents (or refunds a charge that raced
 * the deadline). The ledger holds with the expiry invariants: every booking
 * final, no stock held and no money kept for an expired one, every stock
 * effect and payment once.
 */
#include "scenario.h"

#include <stdio.h>

#define EXPIRY_TIMEOUT_MS 3000                       /* BOOKING_TIMEOUT_MS of this scenario */
#define EXPIRY_DOWN_MS    (EXPIRY_TIMEOUT_MS + 3000) /* payment's outage: past the deadline */

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"BOOKING_TIMEOUT_MS=3000", NULL}; /* EXPIRY_TIMEOUT_MS */
    scenario_setup("expiry", env, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scenario_teardown();
    return 0;
}

static void test_bookings_expire_while_payment_is_down_and_compensation_holds(void **state)
{
    (void)state;
    load_start(scenario.load);
    load_wait_bookings(scenario.load, 0, 20, 20000, "bookings before payment stops");
    int rounds = fault_soak() > 1 ? fault_soak() / 2 : 1;
    for (int i = 0; i < rounds; i++) {
        long bookings0 = load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED);
        fault_stop(E2E_PAYMENT, 0);
        scenario_note("payment stopped for %.1f s (BOOKING_TIMEOUT_MS %d)", EXPIRY_DOWN_MS / 1000.0,
                      EXPIRY_TIMEOUT_MS);
        scenario_hold(EXPIRY_DOWN_MS);
        long during = load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED) - bookings0;
        fault_start(E2E_PAYMENT, 0);
        if (during < 10)
            fail_msg("bookings were not kept accepted while payment was down: %ld", during);
        load_wait_bookings(scenario.load, load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED),
                           20, 30000, "bookings after payment came back");
    }
    scenario_finish();
    /* The outage outlived the deadline: some bookings must have taken the expiry path. */
    int64_t expired =
        e2e_count("SELECT count(*) FROM booking.bookings WHERE status = 'expired'", NULL, NULL);
    int64_t voided = e2e_count("SELECT count(*) FROM payment.payments p JOIN booking.bookings b"
                               " ON b.id = p.booking_id WHERE b.status = 'expired'"
                               " AND p.status IN ('voided', 'refunded')",
                               NULL, NULL);
    fault_report("expired: %lld bookings, %lld of them with a payment voided or refunded",
                 (long long)expired, (long long)voided);
    if (expired < 1)
        fail_msg("no booking expired while payment was down for %d ms past a %d ms deadline",
                 EXPIRY_DOWN_MS, EXPIRY_TIMEOUT_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_bookings_expire_while_payment_is_down_and_compensation_holds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
