/*
 * test_inbox.c - exactly-once effect on at-least-once delivery (invariants
 * I1 and I2 in common/include/common/inbox.h), with the real servers.
 */
#include "harness.h"
#include "testlib.h"

#include "common/envelope.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define EFFECTS_OF_ITEM "SELECT count(*) FROM effects WHERE item = $1"

static int setup(void **state)
{
    (void)state;
    harness_setup();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    harness_teardown();
    return 0;
}

/* I1: the same event (same id) delivered three times has one effect. */
static void test_same_event_delivered_three_times_has_one_effect(void **state)
{
    (void)state;
    harness_spawn(0, NULL);
    char item[64];
    testlib_unique_name(item, sizeof(item), "thrice");
    struct envelope ev;
    envelope_init(&ev);
    struct err err;
    assert_int_equal(envelope_build(&ev, "probe", "probe.item.created", 1,
                                    json_pack("{s:s}", "item", item), NULL, NULL, &err),
                     0);
    char *body = envelope_serialize(&ev, &err);
    assert_non_null(body);
    for (int i = 0; i < 3; i++)
        harness_publish_raw("probe.item.created", body, ev.id);
    assert_int_equal(harness_wait_count(EFFECTS_OF_ITEM, item, 1, 15000), 1);
    testlib_sleep_ms(1000);
    assert_int_equal(harness_count(EFFECTS_OF_ITEM, item), 1);
    assert_int_equal(
        harness_count("SELECT count(*) FROM inbox WHERE id = $1::uuid AND status = 'processed'"
                      " AND attempts = 1",
                      ev.id),
        1);
    free(body);
    envelope_release(&ev);
}

/*
 * Deliveries at hand share one transaction, each under its own savepoint
 * (SPEC §4): twenty events waiting for a stopped consumer commit in a few
 * transactions (their effects share a top-level transaction id), and the one whose handler
 * writes, breaks the transaction with a failing statement and fails is
 * rolled back alone: retried once, its effect once, the others untouched.
 */
static void
test_deliveries_at_hand_share_a_transaction_and_a_failing_one_is_rolled_back_alone(void **state)
{
    (void)state;
    const char *env[] = {"CONSUMERS=1", "RETRY_BASE_MS=100", "RETRY_MAX_MS=200", NULL};
    pid_t pid = harness_spawn(0, env);
    char base[48];
    testlib_unique_name(base, sizeof(base), "batch");
    /* Wait until it consumes, then hold it still while the queue fills. */
    char warm[64], warm_id[UUID7_STR_LEN];
    snprintf(warm, sizeof(warm), "%s.warm", base);
    harness_commit_item(warm, NULL, warm_id);
    assert_int_equal(harness_wait_count(EFFECTS_OF_ITEM, warm, 1, 15000), 1);
    kill(pid, SIGSTOP); /* not harness_kill: that waits for an exit */
    enum { N = 20, DIRTY = 7 };
    for (int i = 0; i < N; i++) {
        char item[64];
        snprintf(item, sizeof(item), "%s-%02d", base, i);
        struct envelope ev;
        envelope_init(&ev);
        struct err err;
        json_t *data = i == DIRTY ? json_pack("{s:s, s:s}", "item", item, "behaviour", "dirty_fail")
                                  : json_pack("{s:s}", "item", item);
        assert_int_equal(
            envelope_build(&ev, "probe", "probe.item.created", 1, data, NULL, NULL, &err), 0);
        char *body = envelope_serialize(&ev, &err);
        assert_non_null(body);
        harness_publish_raw("probe.item.created", body, ev.id);
        free(body);
        envelope_release(&ev);
    }
    kill(pid, SIGCONT);
    char like[64];
    snprintf(like, sizeof(like), "%s-%%", base);
    assert_int_equal(
        harness_wait_count("SELECT count(*) FROM effects WHERE item LIKE $1", like, N, 20000), N);
    testlib_sleep_ms(500);
    assert_int_equal(harness_count("SELECT count(*) FROM effects WHERE item LIKE $1", like), N);
    assert_int_equal(
        harness_count("SELECT count(DISTINCT item) FROM effects WHERE item LIKE $1", like), N);
    char dirty[64];
    snprintf(dirty, sizeof(dirty), "%s-%02d", base, (int)DIRTY);
    assert_int_equal(
        harness_count("SELECT attempts FROM inbox WHERE payload->'data'->>'item' = $1", dirty), 2);
    int64_t first =
        harness_count("SELECT count(*) FROM inbox WHERE payload->'data'->>'item' LIKE $1"
                      " AND attempts = 1 AND status = 'processed'",
                      like);
    assert_int_equal(first, N - 1);
    int64_t transactions = harness_count("SELECT count(DISTINCT tx) FROM effects WHERE item LIKE $1"
                                         " AND attempt = 1",
                                         like);
    if (transactions > N / 2)
        fail_msg("%d deliveries at hand took %lld transactions: not batched", N - 1,
                 (long long)transactions);
    print_message("%d deliveries at hand committed in %lld transactions\n", N - 1,
                  (long long)transactions);
}

/* I2: killed after the commit and before the ack, the redelivery has no second effect. */
static void test_consumer_killed_between_commit_and_ack_causes_no_second_effect(void **state)
{
    (void)state;
    const char *killer[] = {"PROBE_KILL_AFTER_COMMIT=1", NULL};
    harness_spawn(0, killer);
    char item[64], marker[64], id[UUID7_STR_LEN], marker_id[UUID7_STR_LEN];
    testlib_unique_name(item, sizeof(item), "commit_then_die");
    harness_commit_item(item, NULL, id);
    assert_true(harness_wait_exit(0, 20000));
    assert_int_equal(harness_count(EFFECTS_OF_ITEM, item), 1);

    /* The unacked delivery comes back to the next instance, which must see it as done. */
    harness_spawn(1, NULL);
    testlib_unique_name(marker, sizeof(marker), "after");
    harness_commit_item(marker, NULL, marker_id);
    assert_int_equal(harness_wait_count(EFFECTS_OF_ITEM, marker, 1, 15000), 1);
    testlib_sleep_ms(1000);
    assert_int_equal(harness_count(EFFECTS_OF_ITEM, item), 1);
    assert_int_equal(
        harness_count("SELECT count(*) FROM inbox WHERE id = $1::uuid AND status = 'processed'",
                      id),
        1);
}

/* A handler's follow-up event carries the correlation id, and its causation id names its cause. */
static void test_follow_up_event_carries_correlation_and_causation(void **state)
{
    (void)state;
    harness_spawn(0, NULL);
    char item[64], id[UUID7_STR_LEN], corr[64], cause[64];
    testlib_unique_name(item, sizeof(item), "chain");
    harness_commit_item(item, "chain", id);
    assert_int_equal(
        harness_wait_count("SELECT count(*) FROM effects WHERE item = $1 AND kind = 'handled'",
                           item, 1, 15000),
        1);
    harness_value("SELECT correlation_id FROM outbox WHERE type = 'probe.item.handled'"
                  " AND payload->'data'->>'item' = $1",
                  item, corr, sizeof(corr));
    harness_value("SELECT causation_id FROM outbox WHERE type = 'probe.item.handled'"
                  " AND payload->'data'->>'item' = $1",
                  item, cause, sizeof(cause));
    assert_string_equal(corr,
                        id); /* the created event started the flow: its id is the correlation id */
    assert_string_equal(cause, id);
    assert_int_equal(
        harness_count(
            "SELECT count(*) FROM inbox WHERE correlation_id = $1 AND status = 'processed'", id),
        2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_event_delivered_three_times_has_one_effect, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_deliveries_at_hand_share_a_transaction_and_a_failing_one_is_rolled_back_alone,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_consumer_killed_between_commit_and_ack_causes_no_second_effect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_up_event_carries_correlation_and_causation,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
