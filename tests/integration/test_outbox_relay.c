/*
 * test_outbox_relay.c - the outbox and its relay against the real servers
 * (invariants O1-O4 in common/include/common/outbox.h). Each test counts
 * effects in probe.effects, which has no unique key: a second effect shows.
 */
#include "harness.h"
#include "testlib.h"

#include "common/inbox.h"
#include "common/metrics.h"
#include "common/outbox.h"
#include "common/relay.h"
#include "common/uuid7.h"
#include "probe_contract.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EFFECTS_OF_ITEM    "SELECT count(*) FROM effects WHERE item = $1"
#define PROBE_EFFECTS_LIKE "SELECT count(*) FROM effects WHERE item LIKE $1"

/* Adds probe.item.created {item} to the outbox in db's open transaction. */
static int publish_item(struct db *db, const char *item, char id[UUID7_STR_LEN], struct err *err)
{
    struct outbox_origin from = {db, NULL, NULL};
    struct probe_item_created data = {0};
    snprintf(data.item, sizeof(data.item), "%s", item);
    return outbox_publish(&from, &PROBE_ITEM_CREATED, &data, sizeof(data), id, err);
}

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

/* O1: a rolled-back business transaction leaves nothing to publish. */
static void test_rollback_publishes_nothing(void **state)
{
    (void)state;
    harness_spawn(0, NULL);
    char lost[64], kept[64], id[UUID7_STR_LEN];
    testlib_unique_name(lost, sizeof(lost), "rolled_back");
    testlib_unique_name(kept, sizeof(kept), "committed");
    struct err err;
    err_clear(&err);
    struct db *db = harness_db();
    assert_int_equal(db_begin(db, &err), 0);
    assert_int_equal(publish_item(db, lost, id, &err), 0);
    db_rollback(db);
    harness_commit_item(kept, NULL, id);
    assert_int_equal(harness_wait_count(EFFECTS_OF_ITEM, kept, 1, 15000), 1);
    assert_int_equal(
        harness_count("SELECT count(*) FROM outbox WHERE payload->'data'->>'item' = $1", lost), 0);
    assert_int_equal(harness_count(EFFECTS_OF_ITEM, lost), 0);
}

/*
 * A producer's own contract violation fails its own transaction: the event
 * is checked against its table before the INSERT, so a mapping that drifts
 * from the contract is an ERR_INVALID naming the field here, never poison in
 * a consumer, and the outbox holds nothing of it even after the commit.
 */
static void
test_an_event_breaking_its_contract_fails_the_producer_and_is_never_inserted(void **state)
{
    (void)state;
    char item[64], id[UUID7_STR_LEN] = "";
    testlib_unique_name(item, sizeof(item), "breaks_contract");
    struct err err;
    err_clear(&err);
    struct db *db = harness_db();
    struct outbox_origin from = {db, NULL, NULL};
    struct probe_item_created data = {0};
    snprintf(data.item, sizeof(data.item), "%s", item);
    snprintf(data.behaviour, sizeof(data.behaviour), "%s", "Not A Name");
    assert_int_equal(db_begin(db, &err), 0);
    assert_int_equal(outbox_publish(&from, &PROBE_ITEM_CREATED, &data, sizeof(data), id, &err),
                     ERR_INVALID);
    assert_string_equal(err.msg, "field 'behaviour' must be a lowercase name");
    assert_string_equal(id, "");
    assert_int_equal(db_commit(db, &err), 0);
    assert_int_equal(
        harness_count("SELECT count(*) FROM outbox WHERE payload->'data'->>'item' = $1", item), 0);
}

/* O2 and I1: a committed event is published, marked published, handled once. */
static void test_commit_is_delivered_and_handled_once(void **state)
{
    (void)state;
    harness_spawn(0, NULL);
    char item[64], id[UUID7_STR_LEN];
    testlib_unique_name(item, sizeof(item), "once");
    harness_commit_item(item, NULL, id);
    assert_int_equal(harness_wait_count(EFFECTS_OF_ITEM, item, 1, 15000), 1);
    assert_int_equal(harness_wait_count(
                         "SELECT count(*) FROM outbox WHERE id = $1::uuid AND status = 'published'"
                         " AND published_at IS NOT NULL",
                         id, 1, 5000),
                     1);
    assert_int_equal(
        harness_count("SELECT count(*) FROM inbox WHERE id = $1::uuid AND status = 'processed'"
                      " AND attempts = 1",
                      id),
        1);
    testlib_sleep_ms(500);
    assert_int_equal(harness_count(EFFECTS_OF_ITEM, item), 1);
}

/*
 * OUTBOX_NOTIFY=after_commit (ADR 0006): the relay's wake-up comes once the
 * business transaction has committed, not with it; the flow is the same.
 */
static void
test_after_commit_notify_wakes_the_relay_once_committed_and_the_event_is_handled_once(void **state)
{
    (void)state;
    harness_spawn(0, (const char *const[]){"OUTBOX_NOTIFY=after_commit", NULL});
    struct err err;
    err_clear(&err);
    struct db *listener = db_new(testlib_require_env("DATABASE_URL"));
    assert_non_null(listener);
    char channel[64];
    outbox_channel("probe", channel, sizeof(channel));
    assert_int_equal(db_listen(listener, channel, &err), 0);
    while (db_wait_notify(listener, 0, &err) == 1)
        ;

    struct db *db = harness_db();
    db_set_notify_after_commit(db, true);
    char item[64], id[UUID7_STR_LEN];
    testlib_unique_name(item, sizeof(item), "after_commit");
    assert_int_equal(db_begin(db, &err), 0);
    assert_int_equal(publish_item(db, item, id, &err), 0);
    assert_int_equal(db_wait_notify(listener, 200, &err), 0); /* nothing before the commit */
    assert_int_equal(db_commit(db, &err), 0);
    assert_int_equal(db_wait_notify(listener, 5000, &err), 1);
    db_set_notify_after_commit(db, false);
    db_free(listener);

    assert_int_equal(harness_wait_count(EFFECTS_OF_ITEM, item, 1, 15000), 1);
    assert_int_equal(harness_wait_count(
                         "SELECT count(*) FROM outbox WHERE id = $1::uuid AND status = 'published'",
                         id, 1, 5000),
                     1);
    testlib_sleep_ms(300);
    assert_int_equal(harness_count(EFFECTS_OF_ITEM, item), 1);
}

/* Writes keep succeeding while the broker is down; everything arrives once it is back. */
static void
test_events_committed_while_broker_is_stopped_are_delivered_after_it_starts(void **state)
{
    (void)state;
    harness_spawn(0, NULL);
    char warm[64], id[UUID7_STR_LEN];
    testlib_unique_name(warm, sizeof(warm), "warm");
    harness_commit_item(warm, NULL, id);
    assert_int_equal(harness_wait_count(EFFECTS_OF_ITEM, warm, 1, 15000), 1);

    assert_int_equal(testlib_infra("stop", "rabbitmq"), 0);
    char prefix[64], pattern[80];
    testlib_unique_name(prefix, sizeof(prefix), "outage");
    snprintf(pattern, sizeof(pattern), "%s_%%", prefix);
    for (int i = 0; i < 20; i++) {
        char item[96];
        snprintf(item, sizeof(item), "%s_%d", prefix, i);
        harness_commit_item(item, NULL, id);
    }
    testlib_sleep_ms(1000);
    assert_int_equal(harness_count("SELECT count(*) FROM outbox WHERE status = 'pending'"
                                   " AND payload->'data'->>'item' LIKE $1",
                                   pattern),
                     20);
    assert_int_equal(harness_count(PROBE_EFFECTS_LIKE, pattern), 0);
    assert_true(harness_alive(0));

    assert_int_equal(testlib_infra("start", "rabbitmq"), 0);
    assert_int_equal(harness_wait_count(PROBE_EFFECTS_LIKE, pattern, 20, 60000), 20);
    assert_int_equal(
        harness_count("SELECT count(DISTINCT item) FROM effects WHERE item LIKE $1", pattern), 20);
    assert_int_equal(
        harness_wait_count("SELECT count(*) FROM outbox WHERE status = 'pending'", NULL, 0, 10000),
        0);
}

/* O3: a relay killed after publishing, before marking, loses nothing; the inbox absorbs the repeats. */
static void test_relay_killed_mid_batch_loses_nothing(void **state)
{
    (void)state;
    char prefix[64], pattern[80], id[UUID7_STR_LEN];
    testlib_unique_name(prefix, sizeof(prefix), "midbatch");
    snprintf(pattern, sizeof(pattern), "%s_%%", prefix);
    for (int i = 0; i < 50; i++) {
        char item[96];
        snprintf(item, sizeof(item), "%s_%d", prefix, i);
        harness_commit_item(item, NULL, id);
    }
    const char *killer[] = {"PROBE_KILL_AFTER_PUBLISH=1", NULL};
    harness_spawn(0, killer);
    assert_true(harness_wait_exit(0, 20000));
    /* Published, confirmed, and still pending: the relay died before marking them. */
    assert_int_equal(harness_count("SELECT count(*) FROM outbox WHERE status = 'published'", NULL),
                     0);

    harness_spawn(1, NULL);
    assert_int_equal(harness_wait_count(PROBE_EFFECTS_LIKE, pattern, 50, 30000), 50);
    assert_int_equal(harness_wait_count("SELECT count(*) FROM outbox WHERE status = 'published'",
                                        NULL, 50, 10000),
                     50);
    testlib_sleep_ms(1000);
    assert_int_equal(harness_count(PROBE_EFFECTS_LIKE, pattern), 50);
    assert_int_equal(
        harness_count("SELECT count(DISTINCT event_id) FROM effects WHERE item LIKE $1", pattern),
        50);
}

/*
 * O3, fast: a relay killed mid-batch and restarted with the same INSTANCE_ID
 * takes back the rows it had leased at once, not after LEASE_MS (a minute
 * here): they are published within seconds of the restart.
 */
static void test_restarted_relay_takes_back_its_own_leases_at_once(void **state)
{
    (void)state;
    char prefix[64], pattern[80], id[UUID7_STR_LEN];
    testlib_unique_name(prefix, sizeof(prefix), "takeback");
    snprintf(pattern, sizeof(pattern), "%s_%%", prefix);
    for (int i = 0; i < 20; i++) {
        char item[96];
        snprintf(item, sizeof(item), "%s_%d", prefix, i);
        harness_commit_item(item, NULL, id);
    }
    const char *killer[] = {"PROBE_KILL_AFTER_PUBLISH=1", "LEASE_MS=60000", NULL};
    harness_spawn(0, killer);
    assert_true(harness_wait_exit(0, 20000));
    assert_true(harness_count("SELECT count(*) FROM outbox WHERE status = 'pending'"
                              " AND locked_until > clock_timestamp() AND locked_by = $1",
                              "probe-0") > 0);
    const char *again[] = {"LEASE_MS=60000", NULL};
    int64_t t0 = testlib_now_ms();
    harness_spawn(0, again); /* the same slot: the same INSTANCE_ID, probe-0 */
    assert_int_equal(
        harness_wait_count("SELECT count(*) FROM outbox WHERE status = 'pending'", NULL, 0, 15000),
        0);
    int64_t took = testlib_now_ms() - t0;
    /* Seconds at most, start-up included (2 s on a quiet machine), never the 60 s lease. */
    if (took > 10000)
        fail_msg("the restarted relay published its own leased rows after %lld ms",
                 (long long)took);
    print_message("restarted relay published its leased rows %lld ms after the restart\n",
                  (long long)took);
    assert_int_equal(harness_wait_count(PROBE_EFFECTS_LIKE, pattern, 20, 15000), 20);
}

/*
 * O3 while a batch is in flight: outbox_renew_leases extends only the
 * caller's own leases on pending rows, so a relay waiting for the broker
 * keeps its batch past LEASE_MS and no other relay claims it meanwhile;
 * without the renewal the other relay takes it once the lease lapses.
 */
static void test_a_renewed_lease_keeps_rows_from_other_relays_past_lease_ms(void **state)
{
    (void)state;
    char kept[64], lapsed[64], id_kept[UUID7_STR_LEN], id_lapsed[UUID7_STR_LEN];
    testlib_unique_name(kept, sizeof(kept), "renewed");
    testlib_unique_name(lapsed, sizeof(lapsed), "lapsed");
    harness_commit_item(kept, NULL, id_kept);
    harness_commit_item(lapsed, NULL, id_lapsed);
    struct db *db = harness_db();
    struct err err;
    err_clear(&err);
    struct outbox_row rows[OUTBOX_BATCH_MAX];
    size_t n = 0;
    assert_int_equal(outbox_claim(db, "relay-a", OUTBOX_BATCH_MAX, 300, false, rows, &n, &err), 0);
    outbox_rows_release(rows, n);
    assert_true(n >= 2); /* both rows, and whatever else was pending */
    const char *both[] = {id_kept, id_lapsed};
    const char *one[] = {id_kept};
    /* Another relay's renewal touches nothing of ours; ours renews exactly the rows named. */
    assert_int_equal(outbox_renew_leases(db, "relay-b", both, 2, 60000, &err), 0);
    assert_int_equal(outbox_renew_leases(db, "relay-a", one, 1, 60000, &err), 1);
    testlib_sleep_ms(400); /* relay-a's 300 ms lease on the other row lapses */
    n = 0;
    assert_int_equal(outbox_claim(db, "relay-b", OUTBOX_BATCH_MAX, 60000, false, rows, &n, &err),
                     0);
    bool took_kept = false, took_lapsed = false;
    for (size_t i = 0; i < n; i++) {
        took_kept |= strcmp(rows[i].id, id_kept) == 0;
        took_lapsed |= strcmp(rows[i].id, id_lapsed) == 0;
    }
    outbox_rows_release(rows, n);
    assert_false(took_kept);
    assert_true(took_lapsed);
    /* A row already published is never renewed. */
    assert_int_equal(outbox_mark_published(db, one, 1, &err), 0);
    assert_int_equal(outbox_renew_leases(db, "relay-a", one, 1, 60000, &err), 0);
}

/* The relay's outbox_handoffs_total for the probe context, read from this process's registry. */
static long long handoffs_so_far(void)
{
    char *text = metrics_render();
    assert_non_null(text);
    const char *line = strstr(text, "outbox_handoffs_total{context=\"probe\"} ");
    long long n = line ? strtoll(strchr(line, '}') + 2, NULL, 10) : 0;
    free(text);
    return n;
}

/*
 * A relay of the probe context in this process, with a one-minute lease,
 * past its first pass (the one claim that takes its own leases back): rows
 * this process commits are handed to it.
 */
static struct relay *start_handoff_relay(void)
{
    static const char *const keys[] = {"probe.item.created"};
    struct relay_config cfg = {
        .context = "probe",
        .instance = "handoff-relay",
        .database_url = testlib_require_env("DATABASE_URL"),
        .bus = {.url = testlib_require_env("AMQP_URL")},
        .binding_keys = keys,
        .nbinding_keys = 1,
        .retry_base_ms = 50,
        .retry_max_ms = 200,
        .retention_hours = 168,
        .lease_ms = 60000,
    };
    struct err err;
    err_clear(&err);
    struct relay *relay = relay_start(&cfg, &err);
    assert_non_null(relay);
    for (int waited = 0; !(relay_db_up(relay) && relay_bus_up(relay)); waited += 20) {
        assert_true(waited < 15000);
        testlib_sleep_ms(20);
    }
    return relay;
}

/*
 * ADR 0011: a row committed by the relay's own process is leased to that
 * relay at its INSERT and handed to it at the commit, so it is published
 * without a claim. The lease here is a minute and this relay never takes
 * its own leases back after its first pass, and the spawned probe's relay
 * respects the lease: only the hand-over can publish these rows within
 * seconds. Nothing is handed over for a rollback, or for the part of a
 * transaction rolled back to its savepoint (O1): a phantom would show as an
 * effect of an item the outbox never held.
 */
static void test_a_row_committed_beside_its_relay_is_handed_to_it_without_a_claim(void **state)
{
    (void)state;
    harness_spawn(0, NULL); /* the consumer (its relay claims, and respects our lease) */
    struct relay *relay = start_handoff_relay();
    struct err err;
    err_clear(&err);
    long long before = handoffs_so_far();

    char kept[64], undone[64], lost[64], id_kept[UUID7_STR_LEN], id_undone[UUID7_STR_LEN];
    char id_lost[UUID7_STR_LEN];
    testlib_unique_name(kept, sizeof(kept), "handed");
    testlib_unique_name(undone, sizeof(undone), "undone");
    testlib_unique_name(lost, sizeof(lost), "rolled_back");
    struct db *db = harness_db();
    assert_int_equal(db_begin(db, &err), 0);
    assert_int_equal(publish_item(db, lost, id_lost, &err), 0);
    db_rollback(db);

    assert_int_equal(db_begin(db, &err), 0);
    assert_int_equal(db_savepoint(db, &err), 0);
    assert_int_equal(publish_item(db, undone, id_undone, &err), 0);
    assert_int_equal(db_rollback_to_savepoint(db, &err), 0);
    assert_int_equal(db_savepoint(db, &err), 0);
    assert_int_equal(publish_item(db, kept, id_kept, &err), 0);
    /* Leased at the INSERT, in the writing transaction: what a claim would have written. */
    char owner[64];
    harness_value("SELECT coalesce(locked_by, '') FROM outbox WHERE id = $1::uuid"
                  " AND locked_until > clock_timestamp() + interval '50 seconds'",
                  id_kept, owner, sizeof(owner));
    assert_string_equal(owner, "handoff-relay");
    assert_int_equal(db_commit(db, &err), 0);

    assert_int_equal(harness_wait_count(EFFECTS_OF_ITEM, kept, 1, 10000), 1);
    assert_int_equal(harness_wait_count("SELECT count(*) FROM outbox WHERE id = $1::uuid"
                                        " AND status = 'published' AND locked_by IS NULL",
                                        id_kept, 1, 5000),
                     1);
    assert_int_equal(handoffs_so_far() - before, 1);
    testlib_sleep_ms(500);
    assert_int_equal(harness_count(EFFECTS_OF_ITEM, kept), 1);
    assert_int_equal(harness_count(EFFECTS_OF_ITEM, undone), 0);
    assert_int_equal(harness_count(EFFECTS_OF_ITEM, lost), 0);
    char gone[2 * UUID7_STR_LEN + 4];
    snprintf(gone, sizeof(gone), "{%s,%s}", id_undone, id_lost);
    assert_int_equal(harness_count("SELECT count(*) FROM outbox WHERE id = ANY($1::uuid[])", gone),
                     0);
    relay_stop(relay);
}

/*
 * ADR 0011, no lost wake-up: rows committed one at a time, 300 ms apart, for
 * longer than three sweeps. Once a second the relay also reads the table
 * (retries coming due); a row queued just before that pass once spent its
 * wake-up on it and waited for the next commit — 300 ms here, the gap
 * between two events in production. Every row must be published well
 * before the next one is written.
 */
static void test_rows_handed_over_one_at_a_time_never_wait_for_the_next_commit(void **state)
{
    (void)state;
    struct relay *relay = start_handoff_relay();
    struct db *db = harness_db();
    struct err err;
    err_clear(&err);
    char prefix[40], pattern[48]; /* an item is at most 64 bytes: the prefix and "_13" */
    testlib_unique_name(prefix, sizeof(prefix), "one_by_one");
    snprintf(pattern, sizeof(pattern), "%s_%%", prefix);
    enum { ROWS = 14, GAP_MS = 300 };
    for (int i = 0; i < ROWS; i++) {
        char item[64], id[UUID7_STR_LEN];
        snprintf(item, sizeof(item), "%s_%d", prefix, i);
        assert_int_equal(db_begin(db, &err), 0);
        assert_int_equal(publish_item(db, item, id, &err), 0);
        assert_int_equal(db_commit(db, &err), 0);
        testlib_sleep_ms(GAP_MS);
    }
    assert_int_equal(harness_wait_count("SELECT count(*) FROM outbox WHERE status = 'published'"
                                        " AND payload->'data'->>'item' LIKE $1",
                                        pattern, ROWS, 5000),
                     ROWS);
    char worst[32];
    harness_value("SELECT round(extract(epoch FROM max(published_at - created_at)) * 1000)"
                  "  FROM outbox WHERE payload->'data'->>'item' LIKE $1",
                  pattern, worst, sizeof(worst));
    print_message("slowest of %d rows handed over one at a time: %s ms\n", ROWS, worst);
    if (atoi(worst) >= GAP_MS * 2 / 3)
        fail_msg("a handed-over row waited %s ms to be published (rows came every %d ms)", worst,
                 GAP_MS);
    relay_stop(relay);
}

/* O3 and I1: two instances (two relays, two consumers) handle every event exactly once. */
static void test_two_relays_and_two_consumers_handle_each_event_once(void **state)
{
    (void)state;
    harness_spawn(0, NULL);
    harness_spawn(1, NULL);
    char prefix[64], pattern[80], id[UUID7_STR_LEN];
    testlib_unique_name(prefix, sizeof(prefix), "pair");
    snprintf(pattern, sizeof(pattern), "%s_%%", prefix);
    for (int i = 0; i < 200; i++) {
        char item[96];
        snprintf(item, sizeof(item), "%s_%d", prefix, i);
        harness_commit_item(item, i % 10 == 0 ? "chain" : NULL, id);
    }
    /* 200 created effects and 20 handled effects from the chained follow-ups. */
    assert_int_equal(harness_wait_count(PROBE_EFFECTS_LIKE, pattern, 220, 60000), 220);
    testlib_sleep_ms(1000);
    assert_int_equal(harness_count(PROBE_EFFECTS_LIKE, pattern), 220);
    assert_int_equal(
        harness_count("SELECT count(DISTINCT event_id) FROM effects WHERE item LIKE $1", pattern),
        220);
    assert_int_equal(harness_wait_count("SELECT count(*) FROM outbox WHERE status <> 'published'",
                                        NULL, 0, 10000),
                     0);
}

/* Retention: old published and processed rows go, dead rows stay. */
static void test_retention_deletes_old_published_and_processed_rows_only(void **state)
{
    (void)state;
    char item[64], id[UUID7_STR_LEN];
    testlib_unique_name(item, sizeof(item), "old");
    harness_commit_item(item, NULL, id);
    struct err err;
    err_clear(&err);
    struct db *db = harness_db();
    const char *p[] = {id};
    assert_true(
        db_exec(
            db,
            "UPDATE outbox SET status = 'published', published_at = now() - interval '200 hours'"
            " WHERE id = $1::uuid",
            1, p, NULL, NULL, &err) == 1);
    assert_true(
        db_exec(
            db,
            "INSERT INTO inbox (id, consumer, type, correlation_id, causation_id, payload,"
            " status, processed_at) SELECT id, 'probe', type, correlation_id, causation_id,"
            " payload, 'processed', now() - interval '200 hours' FROM outbox WHERE id = $1::uuid",
            1, p, NULL, NULL, &err) == 1);
    assert_true(
        db_exec(db,
                "INSERT INTO inbox (id, consumer, type, correlation_id, causation_id, payload,"
                " status) SELECT id, 'other', type, correlation_id, causation_id, payload, 'dead'"
                " FROM outbox WHERE id = $1::uuid",
                1, p, NULL, NULL, &err) == 1);
    assert_int_equal(outbox_purge_published(db, 168, 1000, &err), 1);
    assert_int_equal(inbox_purge_processed(db, 168, 1000, &err), 1);
    assert_int_equal(
        harness_count("SELECT count(*) FROM inbox WHERE id = $1::uuid AND status = 'dead'", id), 1);
    assert_int_equal(outbox_purge_published(db, 168, 1000, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rollback_publishes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_an_event_breaking_its_contract_fails_the_producer_and_is_never_inserted, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_commit_is_delivered_and_handled_once, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_after_commit_notify_wakes_the_relay_once_committed_and_the_event_is_handled_once,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_events_committed_while_broker_is_stopped_are_delivered_after_it_starts, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_relay_killed_mid_batch_loses_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restarted_relay_takes_back_its_own_leases_at_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_renewed_lease_keeps_rows_from_other_relays_past_lease_ms, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_row_committed_beside_its_relay_is_handed_to_it_without_a_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_rows_handed_over_one_at_a_time_never_wait_for_the_next_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_relays_and_two_consumers_handle_each_event_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_retention_deletes_old_published_and_processed_rows_only, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
