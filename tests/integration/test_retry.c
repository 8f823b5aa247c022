/*
 * test_retry.c - retries with backoff, dead letters, crash loops and requeue
 * (invariants I3 and I4 in common/include/common/inbox.h; ADR 0001). The
 * probe runs with RETRY_MAX_ATTEMPTS=5, RETRY_BASE_MS=50, RETRY_MAX_MS=200.
 */
#include "harness.h"
#include "testlib.h"

#include "common/envelope.h"
#include "common/inbox.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EFFECTS_OF_ITEM "SELECT count(*) FROM effects WHERE item = $1"
#define INBOX_DEAD      "SELECT count(*) FROM inbox WHERE id = $1::uuid AND status = 'dead'"

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

static void
test_handler_failing_twice_then_succeeding_has_one_effect_with_three_attempts(void **state)
{
    (void)state;
    harness_spawn(0, NULL);
    char item[64], id[UUID7_STR_LEN];
    testlib_unique_name(item, sizeof(item), "twice");
    harness_commit_item(item, "fail_twice", id);
    assert_int_equal(harness_wait_count(EFFECTS_OF_ITEM, item, 1, 15000), 1);
    assert_int_equal(
        harness_count("SELECT count(*) FROM inbox WHERE id = $1::uuid AND status = 'processed'"
                      " AND attempts = 3",
                      id),
        1);
    assert_int_equal(
        harness_count("SELECT count(*) FROM effects WHERE item = $1 AND attempt = 3", item), 1);
    /* Both failures' errors are kept, in order, with their attempt numbers. */
    assert_int_equal(
        harness_count("SELECT count(*) FROM inbox, jsonb_array_elements(errors) WITH"
                      " ORDINALITY AS e(v, n) WHERE id = $1::uuid"
                      " AND (v->>'attempt')::int = n AND v->>'error' LIKE '%planned failure%'"
                      " AND (v->>'at')::timestamptz IS NOT NULL",
                      id),
        2);
    testlib_sleep_ms(500);
    assert_int_equal(harness_count(EFFECTS_OF_ITEM, item), 1);
}

static void
test_handler_always_failing_is_dead_lettered_after_the_limit_with_its_error(void **state)
{
    (void)state;
    harness_spawn(0, NULL);
    char item[64], id[UUID7_STR_LEN], last_error[512];
    testlib_unique_name(item, sizeof(item), "always");
    harness_commit_item(item, "always_fail", id);
    assert_int_equal(harness_wait_count(INBOX_DEAD, id, 1, 20000), 1);
    assert_int_equal(harness_count("SELECT attempts FROM inbox WHERE id = $1::uuid", id), 5);
    harness_value("SELECT last_error FROM inbox WHERE id = $1::uuid", id, last_error,
                  sizeof(last_error));
    assert_non_null(strstr(last_error, "gave up after 5 attempts"));
    assert_non_null(strstr(last_error, "planned failure, always"));
    assert_int_equal(harness_count(EFFECTS_OF_ITEM, item), 0);
    /* Every attempt's error, 1 to 5, the last one the verdict. */
    assert_int_equal(harness_count("SELECT count(*) FROM inbox, jsonb_array_elements(errors) WITH"
                                   " ORDINALITY AS e(v, n) WHERE id = $1::uuid"
                                   " AND (v->>'attempt')::int = n",
                                   id),
                     5);
    assert_int_equal(harness_count("SELECT count(*) FROM inbox WHERE id = $1::uuid"
                                   " AND errors->-1->>'error' = last_error",
                                   id),
                     1);

    int n = 0;
    harness_dead_letters(1, 10000, &n);
    const struct harness_dead_letter *dl = harness_dead_letter_find(id);
    assert_non_null(dl);
    assert_non_null(strstr(dl->error, "planned failure, always"));
    assert_int_equal(dl->attempts, 5);
    assert_int_equal(dl->poison, 0);
    assert_string_equal(dl->original_routing_key, "probe.item.created");
    assert_int_equal(
        harness_wait_count(
            "SELECT count(*) FROM inbox WHERE id = $1::uuid AND dead_lettered_at IS NOT NULL", id,
            1, 5000),
        1);
}

static void test_permanent_failure_is_dead_lettered_at_once(void **state)
{
    (void)state;
    harness_spawn(0, NULL);
    char item[64], id[UUID7_STR_LEN];
    testlib_unique_name(item, sizeof(item), "reject");
    harness_commit_item(item, "reject", id);
    assert_int_equal(harness_wait_count(INBOX_DEAD, id, 1, 15000), 1);
    assert_int_equal(harness_count("SELECT attempts FROM inbox WHERE id = $1::uuid", id), 1);
    int n = 0;
    harness_dead_letters(1, 10000, &n);
    const struct harness_dead_letter *dl = harness_dead_letter_find(id);
    assert_non_null(dl);
    assert_non_null(strstr(dl->error, "unprocessable: planned permanent failure"));
}

/* I3: a message that kills the process is dead-lettered after the limit; the service then runs on. */
static void
test_handler_that_aborts_is_dead_lettered_after_the_limit_while_the_service_keeps_running(
    void **state)
{
    (void)state;
    char item[64], id[UUID7_STR_LEN];
    testlib_unique_name(item, sizeof(item), "abort");
    harness_commit_item(item, "abort", id);
    int crashes = 0;
    /* A supervisor's job, done by the test: restart the service whenever it dies. */
    for (int start = 0; start < 12 && harness_count(INBOX_DEAD, id) == 0; start++) {
        harness_spawn(0, NULL);
        if (harness_wait_exit(0, 8000))
            crashes++;
        else
            break;
    }
    assert_int_equal(harness_wait_count(INBOX_DEAD, id, 1, 15000), 1);
    /*
     * RETRY_MAX_ATTEMPTS (5) counted starts: the first delivery's start is
     * counted by the broker's redelivered flag, each later one by the inbox.
     * A process that dies before its relay marks the event published makes
     * the next relay publish it again (after LEASE_MS); such a fresh copy
     * that arrives before any redelivery was counted adds an uncounted start.
     * So: at least 5, and a few more at most, never a loop.
     */
    if (crashes < 5 || crashes > 8)
        fail_msg("the process died %d times; want 5 (up to 8 with republished copies)", crashes);
    char last_error[512];
    harness_value("SELECT last_error FROM inbox WHERE id = $1::uuid", id, last_error,
                  sizeof(last_error));
    assert_non_null(strstr(last_error, "started 5 times without finishing"));
    assert_true(harness_alive(0));

    char next[64], next_id[UUID7_STR_LEN];
    testlib_unique_name(next, sizeof(next), "after_abort");
    harness_commit_item(next, NULL, next_id);
    assert_int_equal(harness_wait_count(EFFECTS_OF_ITEM, next, 1, 15000), 1);
    assert_true(harness_alive(0));
    int n = 0;
    harness_dead_letters(1, 10000, &n);
    assert_non_null(harness_dead_letter_find(id));
}

static void test_requeued_dead_message_is_processed_once(void **state)
{
    (void)state;
    harness_spawn(0, NULL);
    char item[64], id[UUID7_STR_LEN];
    testlib_unique_name(item, sizeof(item), "switch");
    harness_commit_item(item, "switch", id);
    assert_int_equal(harness_wait_count(INBOX_DEAD, id, 1, 20000), 1);

    struct err err;
    err_clear(&err);
    struct db *db = harness_db();
    const char *p[] = {item};
    assert_int_equal(db_exec(db, "INSERT INTO switches (item) VALUES ($1)", 1, p, NULL, NULL, &err),
                     1);
    assert_int_equal(inbox_requeue(db, id, NULL, &err), 1);
    assert_int_equal(inbox_requeue(db, id, NULL, &err), 0); /* not dead any more */
    assert_int_equal(harness_wait_count(EFFECTS_OF_ITEM, item, 1, 15000), 1);
    assert_int_equal(
        harness_wait_count("SELECT count(*) FROM inbox WHERE id = $1::uuid AND status = 'processed'"
                           " AND requeued = 1",
                           id, 1, 5000),
        1);
    testlib_sleep_ms(500);
    assert_int_equal(harness_count(EFFECTS_OF_ITEM, item), 1);
}

/*
 * A dependency out for longer than the whole retry budget: twelve items whose
 * handler fails transiently until its switch is on. With the circuit breaker
 * (three failures in a row pause the consumer and its retries, 1 s doubling)
 * nothing is dead-lettered while it lasts and everything is handled once it
 * is back; with the breaker off the same outage dead-letters them all.
 */
static void outage_of_a_dependency(const char *breaker_threshold, int64_t *dead, int64_t *attempts,
                                   char like[64])
{
    char env_breaker[48];
    snprintf(env_breaker, sizeof(env_breaker), "BREAKER_THRESHOLD=%s", breaker_threshold);
    const char *env[] = {env_breaker, "BREAKER_PAUSE_MAX_MS=4000", "CONSUMERS=1", NULL};
    harness_spawn(0, env);
    char prefix[48], id[UUID7_STR_LEN];
    testlib_unique_name(prefix, sizeof(prefix), "outage");
    snprintf(like, 64, "%s-%%", prefix);
    enum { N = 12 };
    for (int i = 0; i < N; i++) {
        char item[64];
        snprintf(item, sizeof(item), "%s-%02d", prefix, i);
        harness_commit_item(item, "switch", id);
    }
    testlib_sleep_ms(4000); /* the budget (5 attempts, 50 ms doubling to 200 ms) is < 1 s */
    *dead = harness_count("SELECT count(*) FROM inbox WHERE payload->'data'->>'item' LIKE $1"
                          " AND status = 'dead'",
                          like);
    *attempts = harness_count("SELECT coalesce(sum(attempts), 0) FROM inbox"
                              " WHERE payload->'data'->>'item' LIKE $1",
                              like);
    struct err err;
    err_clear(&err);
    const char *p[] = {like};
    assert_int_equal(db_exec(harness_db(),
                             "INSERT INTO switches (item) SELECT DISTINCT payload->'data'->>'item'"
                             " FROM outbox WHERE payload->'data'->>'item' LIKE $1",
                             1, p, NULL, NULL, &err),
                     N);
}

static void
test_breaker_pauses_a_consumer_whose_dependency_is_out_and_nothing_is_dead_lettered(void **state)
{
    (void)state;
    int64_t dead = -1, attempts = -1;
    char like[64];
    outage_of_a_dependency("3", &dead, &attempts, like);
    print_message("breaker on: %lld dead, %lld handler starts in 4 s of outage\n", (long long)dead,
                  (long long)attempts);
    assert_int_equal(dead, 0);
    if (attempts >= 12 * 5)
        fail_msg("%lld starts: the retries were not paused", (long long)attempts);
    /* Back: every item handled once (the pause is at most 4 s), nothing dead. */
    assert_int_equal(
        harness_wait_count("SELECT count(*) FROM effects WHERE item LIKE $1", like, 12, 30000), 12);
    assert_int_equal(
        harness_count("SELECT count(DISTINCT item) FROM effects WHERE item LIKE $1", like), 12);
    assert_int_equal(harness_count("SELECT count(*) FROM inbox WHERE status = 'dead'", NULL), 0);
}

static void test_without_the_breaker_the_same_outage_dead_letters_everything(void **state)
{
    (void)state;
    int64_t dead = -1, attempts = -1;
    char like[64];
    outage_of_a_dependency("0", &dead, &attempts, like);
    print_message("breaker off: %lld dead, %lld handler starts\n", (long long)dead,
                  (long long)attempts);
    assert_int_equal(dead, 12);
}

static size_t collect(char *data, size_t size, size_t n, void *userdata)
{
    char **buf = userdata;
    size_t old = *buf ? strlen(*buf) : 0, add = size * n;
    char *grown = realloc(*buf, old + add + 1);
    if (!grown)
        return 0;
    memcpy(grown + old, data, add);
    grown[old + add] = '\0';
    *buf = grown;
    return add;
}

/* The event core's figures reach /metrics. */
static void test_metrics_show_published_consumed_retried_and_dead_lettered(void **state)
{
    (void)state;
    int port = harness_free_port();
    char port_env[32];
    snprintf(port_env, sizeof(port_env), "HTTP_PORT=%d", port);
    const char *env[] = {port_env, NULL};
    harness_spawn(0, env);
    char a[64], b[64], ida[UUID7_STR_LEN], idb[UUID7_STR_LEN];
    testlib_unique_name(a, sizeof(a), "m_twice");
    testlib_unique_name(b, sizeof(b), "m_reject");
    harness_commit_item(a, "fail_twice", ida);
    harness_commit_item(b, "reject", idb);
    assert_int_equal(harness_wait_count(EFFECTS_OF_ITEM, a, 1, 15000), 1);
    assert_int_equal(harness_wait_count(INBOX_DEAD, idb, 1, 15000), 1);

    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port);
    char *text = NULL;
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &text);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    curl_easy_cleanup(curl);
    assert_non_null(text);
    const char *expected[] = {
        "events_published_total{type=\"probe.item.created\"} 2",
        "events_consumed_total{type=\"probe.item.created\"} 1",
        "events_retried_total{type=\"probe.item.created\"} 2",
        "events_dead_lettered_total{reason=\"failed\"} 1",
        "# TYPE outbox_pending gauge",
        "# TYPE outbox_oldest_pending_seconds gauge",
        "handler_duration_seconds_count 1",
        "event_critical_time_seconds_count 1",
    };
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
        if (!strstr(text, expected[i]))
            fail_msg("/metrics lacks '%s':\n%s", expected[i], text);
    free(text);
}

/* inbox.errors keeps the last INBOX_ERRORS_KEPT attempts' errors, however many there were. */
static void test_attempt_errors_are_bounded_to_the_last_ones(void **state)
{
    (void)state;
    struct envelope ev;
    envelope_init(&ev);
    struct err err;
    assert_int_equal(envelope_build(&ev, "probe", "probe.item.created", 1,
                                    json_pack("{s:s}", "item", "bounded"), NULL, NULL, &err),
                     0);
    char *body = envelope_serialize(&ev, &err);
    assert_non_null(body);
    const int n = INBOX_ERRORS_KEPT + 5;
    for (int i = 1; i <= n; i++) {
        char why[32];
        snprintf(why, sizeof(why), "failure %d", i);
        assert_int_equal(inbox_mark_failed(harness_db(), &ev, body, "probe", i, why, 1000, &err),
                         0);
    }
    assert_int_equal(
        harness_count("SELECT jsonb_array_length(errors) FROM inbox WHERE id = $1::uuid", ev.id),
        INBOX_ERRORS_KEPT);
    /* The oldest went first: the kept ones are attempts 6 to 25, in order. */
    assert_int_equal(
        harness_count("SELECT (errors->0->>'attempt')::int FROM inbox WHERE id = $1::uuid", ev.id),
        n - INBOX_ERRORS_KEPT + 1);
    assert_int_equal(
        harness_count("SELECT (errors->-1->>'attempt')::int FROM inbox WHERE id = $1::uuid", ev.id),
        n);
    free(body);
    envelope_release(&ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_attempt_errors_are_bounded_to_the_last_ones, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_handler_failing_twice_then_succeeding_has_one_effect_with_three_attempts, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_handler_always_failing_is_dead_lettered_after_the_limit_with_its_error, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_permanent_failure_is_dead_lettered_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_handler_that_aborts_is_dead_lettered_after_the_limit_while_the_service_keeps_running,
            setup, teardown),
        cmocka_unit_test_setup_teardown(test_requeued_dead_message_is_processed_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_breaker_pauses_a_consumer_whose_dependency_is_out_and_nothing_is_dead_lettered,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_without_the_breaker_the_same_outage_dead_letters_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_metrics_show_published_consumed_retried_and_dead_lettered, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
