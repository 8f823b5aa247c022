/*
 * test_fault_freeze.c - silent peer death: the broker stops answering
 * without closing a connection (its process frozen with SIGSTOP: the kernel
 * still holds the sockets open and even accepts new TCP connections). Only
 * AMQP heartbeats can tell. The services run with AMQP_HEARTBEAT_S=2; each
 * must report "broker": "down" in /health within two heartbeats of the
 * freeze. Then the broker is thawed (SIGCONT) and the flow must resume with
 * nothing lost or done twice (the ledger). Detection and resume times are
 * reported.
 *
 * The broker's pid: FAULT_BROKER_PID, else $LOCAL_DIR/rabbitmq/rabbitmq.pid
 * (tests/run.sh's private node). Without either the test skips itself.
 */
#include "scenario.h"

#include <stdio.h>
#include <string.h>

#define FREEZE_HEARTBEAT_S 2 /* keep in step with the AMQP_HEARTBEAT_S in setup() */
#define FREEZE_DETECT_MS   (2 * FREEZE_HEARTBEAT_S * 1000)
#define FREEZE_POLL_SLACK_MS                                                                       \
    700 /* measuring: a /health round over six busy services, its poll period */
#define FREEZE_HOLD_MS (FREEZE_DETECT_MS + 3000) /* frozen this long in all */

static int setup(void **state)
{
    (void)state;
    if (fault_broker_pid() <= 0)
        return 0; /* the test skips itself */
    static const char *const env[] = {"AMQP_HEARTBEAT_S=2", NULL};
    scenario_setup("freeze", env, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!scenario.load)
        return 0;        /* skipped */
    scenario_teardown(); /* also thaws the broker (the registered cleanup) */
    return 0;
}

/* Milliseconds until every service's /health said the broker is down (since t0), per context. */
static int64_t wait_detected(int64_t t0, int64_t detected[E2E_NCTX], int timeout_ms)
{
    int left = E2E_NCTX;
    for (int c = 0; c < E2E_NCTX; c++)
        detected[c] = -1;
    while (left > 0) {
        for (int c = 0; c < E2E_NCTX; c++) {
            if (detected[c] >= 0)
                continue;
            long status = 0;
            json_t *json = NULL;
            fault_http((enum e2e_ctx)c, "GET", "/health", NULL, NULL, &status, &json, NULL);
            const char *broker =
                json_string_value(json_object_get(json_object_get(json, "checks"), "broker"));
            if (broker && strcmp(broker, "down") == 0) {
                detected[c] = testlib_now_ms() - t0;
                left--;
            }
            json_decref(json);
        }
        if (left > 0 && testlib_now_ms() - t0 > timeout_ms)
            return -1;
        testlib_sleep_ms(50);
    }
    int64_t worst = 0;
    for (int c = 0; c < E2E_NCTX; c++)
        worst = detected[c] > worst ? detected[c] : worst;
    return worst;
}

static void test_a_frozen_broker_is_noticed_within_two_heartbeats(void **state)
{
    (void)state;
    if (!scenario.load) {
        printf("fault[freeze]: skipped (no broker pid: set FAULT_BROKER_PID)\n");
        skip();
    }

    load_start(scenario.load);
    load_wait_bookings(scenario.load, 0, 20, 20000, "bookings before the broker freezes");
    scenario_wait_flowing(20000, "before the broker freezes");
    int rounds = fault_soak() > 1 ? fault_soak() / 2 : 1;
    for (int i = 0; i < rounds; i++) {
        int64_t t0 = testlib_now_ms();
        fault_freeze_broker(true);
        int64_t detected[E2E_NCTX];
        int64_t worst = wait_detected(t0, detected, FREEZE_HOLD_MS);
        char each[256] = "";
        for (int c = 0; c < E2E_NCTX; c++) {
            size_t len = strlen(each);
            snprintf(each + len, sizeof(each) - len, "%s%s %.1f s", c ? ", " : "",
                     e2e_ctx_name((enum e2e_ctx)c), (double)detected[c] / 1000.0);
        }
        int64_t held = testlib_now_ms() - t0;
        if (held < FREEZE_HOLD_MS)
            scenario_hold((int)(FREEZE_HOLD_MS - held));
        fault_freeze_broker(false);
        int64_t resumed = scenario_wait_flowing(60000, "after the broker was thawed");
        scenario_note("broker frozen (SIGSTOP) for %.1f s with AMQP_HEARTBEAT_S=%d",
                      (double)(testlib_now_ms() - t0 - resumed) / 1000.0, FREEZE_HEARTBEAT_S);
        fault_report("frozen broker noticed (/health \"broker\": \"down\") after: %s; flow resumed "
                     "%.1f s after SIGCONT",
                     each, (double)resumed / 1000.0);
        if (worst < 0 || worst > FREEZE_DETECT_MS + FREEZE_POLL_SLACK_MS)
            fail_msg("a frozen broker was not noticed within two heartbeats (%d ms): %s",
                     FREEZE_DETECT_MS, each);
    }
    fault_on_cleanup(NULL);
    scenario_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_frozen_broker_is_noticed_within_two_heartbeats,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
