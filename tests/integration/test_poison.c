/*
 * test_poison.c - every kind of poison (SPEC §4) goes to the dead letters at
 * once, with its reason, never into the inbox, and the consumer keeps
 * consuming the good messages behind it.
 */
#include "harness.h"
#include "testlib.h"

#include "common/dead_letter.h"
#include "common/envelope.h"
#include "common/uuid7.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A valid probe.item.created event as a JSON object (new reference), its id in id_out. */
static json_t *valid_event(const char *item, char id_out[UUID7_STR_LEN])
{
    struct envelope ev;
    envelope_init(&ev);
    struct err err;
    assert_int_equal(envelope_build(&ev, "probe", "probe.item.created", 1,
                                    json_pack("{s:s}", "item", item), NULL, NULL, &err),
                     0);
    json_t *o = envelope_to_json(&ev);
    memcpy(id_out, ev.id, UUID7_STR_LEN);
    envelope_release(&ev);
    return o;
}

static void publish_json(json_t *o, const char *id)
{
    char *body = json_dumps(o, JSON_COMPACT);
    harness_publish_raw("probe.item.created", body, id);
    free(body);
    json_decref(o);
}

static void test_each_poison_kind_is_dead_lettered_at_once_and_consuming_goes_on(void **state)
{
    (void)state;
    harness_spawn(0, NULL);
    char item[64], ids[5][UUID7_STR_LEN];
    testlib_unique_name(item, sizeof(item), "poison");

    /* 1. not JSON */
    snprintf(ids[0], sizeof(ids[0]), "%s", "00000000-0000-7000-8000-000000000001");
    harness_publish_raw("probe.item.created", "{\"specversion\": \"1.0\", oops", ids[0]);
    /* 2. JSON, but not a CloudEvent */
    snprintf(ids[1], sizeof(ids[1]), "%s", "00000000-0000-7000-8000-000000000002");
    harness_publish_raw("probe.item.created", "{\"hello\": \"world\"}", ids[1]);
    /* 3. a CloudEvent of a type this consumer does not know */
    json_t *o = valid_event(item, ids[2]);
    json_object_set_new(o, "type", json_string("probe.item.deleted"));
    json_object_set_new(o, "dataschema", json_string("urn:event:probe.item.deleted:1"));
    publish_json(o, ids[2]);
    /* 4. a known type in a version it does not know */
    o = valid_event(item, ids[3]);
    json_object_set_new(o, "dataschema", json_string("urn:event:probe.item.created:2"));
    publish_json(o, ids[3]);
    /* 5. data that breaks the contract */
    o = valid_event(item, ids[4]);
    json_object_set_new(o, "data", json_pack("{s:i}", "item", 42));
    publish_json(o, ids[4]);

    /* A good message behind the poison is still handled. */
    char good_id[UUID7_STR_LEN];
    harness_commit_item(item, NULL, good_id);
    assert_int_equal(
        harness_wait_count("SELECT count(*) FROM effects WHERE item = $1", item, 1, 15000), 1);

    int n = 0;
    harness_dead_letters(5, 15000, &n);
    assert_int_equal(n, 5);
    const char *reasons[] = {
        "not JSON", "not a CloudEvent", "unknown event type 'probe.item.deleted'",
        "unknown version 2 of 'probe.item.created'",
        "breaks the contract of 'probe.item.created': field 'item' must be a string"};
    for (int i = 0; i < 5; i++) {
        const struct harness_dead_letter *dl = harness_dead_letter_find(ids[i]);
        if (!dl)
            print_error("poison %d ('%s') is not in the dead letters\n", i + 1, reasons[i]);
        assert_non_null(dl);
        if (!strstr(dl->error, reasons[i]))
            fail_msg("poison %d: x-error '%s' lacks '%s'", i + 1, dl->error, reasons[i]);
        assert_int_equal(dl->poison, 1);
        assert_int_equal(dl->attempts, 0);
        assert_string_equal(dl->original_routing_key, "probe.item.created");
        /* Nowhere else: not in the inbox. */
        assert_int_equal(harness_count("SELECT count(*) FROM inbox WHERE id::text = $1", ids[i]),
                         0);
    }
    assert_true(harness_alive(0));
}

/* A valid event's JSON text with extra (raw JSON) text spliced into its data object. */
static char *event_with_raw_data(const char *item, const char *behaviour, const char *raw_extra,
                                 char id_out[UUID7_STR_LEN])
{
    json_t *o = valid_event(item, id_out);
    if (behaviour)
        json_object_set_new(json_object_get(o, "data"), "behaviour", json_string(behaviour));
    char *body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    /* data is {"behaviour":…,"item":…}: put the extra field in front of its first key. */
    char *at = strstr(body, "\"data\":{");
    assert_non_null(at);
    at += strlen("\"data\":{");
    size_t head = (size_t)(at - body), extra = strlen(raw_extra);
    char *out = malloc(strlen(body) + extra + 2);
    assert_non_null(out);
    memcpy(out, body, head);
    memcpy(out + head, raw_extra, extra);
    out[head + extra] = ',';
    strcpy(out + head + extra + 1, at);
    free(body);
    return out;
}

/*
 * The database refuses what the parser accepted (1e-100000 is beyond
 * numeric's range: SQLSTATE 22003). That is the message's fault, not an
 * outage: poison, recorded and acked; the consumer stays on its queue and
 * the next message is handled. It used to be given back forever, with
 * /health at 503.
 */
static void test_content_the_database_refuses_is_poison_not_an_outage(void **state)
{
    (void)state;
    harness_spawn(0, NULL);
    char item[64], id[UUID7_STR_LEN], good_id[UUID7_STR_LEN];
    testlib_unique_name(item, sizeof(item), "refused");
    char *body = event_with_raw_data(item, NULL, "\"n\":1e-100000", id);
    harness_publish_raw("probe.item.created", body, id);
    free(body);

    char good[64];
    testlib_unique_name(good, sizeof(good), "after-refused");
    harness_commit_item(good, NULL, good_id);
    assert_int_equal(
        harness_wait_count("SELECT count(*) FROM effects WHERE item = $1", good, 1, 15000), 1);
    assert_int_equal(
        harness_wait_count("SELECT count(*) FROM dead_letter WHERE message_id = $1", id, 1, 5000),
        1);
    char reason[512];
    harness_value("SELECT reason FROM dead_letter WHERE message_id = $1", id, reason,
                  sizeof(reason));
    if (!strstr(reason, "the database refused the message"))
        fail_msg("reason '%s'", reason);
    assert_int_equal(harness_count("SELECT count(*) FROM effects WHERE item = $1", item), 0);
    assert_int_equal(harness_count("SELECT count(*) FROM inbox WHERE id::text = $1", id), 0);

    int n = 0;
    harness_dead_letters(1, 15000, &n);
    const struct harness_dead_letter *dl = harness_dead_letter_find(id);
    assert_non_null(dl);
    assert_int_equal(dl->poison, 1);
    assert_true(harness_alive(0));
}

/*
 * A retry parses the exact text the first attempt accepted, not jsonb's
 * normal form: 1e19 comes back from jsonb as a 20-digit integer, which the
 * parser refuses as too big, and the retry used to end dead as "no handler".
 */
static void test_retry_reads_the_text_the_first_attempt_accepted(void **state)
{
    (void)state;
    const char *env[] = {"RETRY_BASE_MS=100", "RETRY_MAX_MS=200", NULL};
    harness_spawn(0, env);
    char item[64], id[UUID7_STR_LEN];
    testlib_unique_name(item, sizeof(item), "exact");
    char *body = event_with_raw_data(item, "fail_twice", "\"big\":1e19", id);
    harness_publish_raw("probe.item.created", body, id);
    free(body);
    assert_int_equal(
        harness_wait_count("SELECT count(*) FROM effects WHERE item = $1", item, 1, 15000), 1);
    char status[32];
    harness_value("SELECT status FROM inbox WHERE id::text = $1", id, status, sizeof(status));
    assert_string_equal(status, "processed");
}

/*
 * The broker checks who may publish a routing key, not what the body says:
 * a body whose type is not its routing key, or whose source is not its
 * type's publisher, is poison (a context could otherwise speak for another).
 */
static void test_a_body_that_lies_about_its_routing_key_or_source_is_poison(void **state)
{
    (void)state;
    harness_spawn(0, NULL);
    char item[64], ids[2][UUID7_STR_LEN];
    testlib_unique_name(item, sizeof(item), "liar");
    /* A probe.item.created body under the probe.item.handled key (both are subscribed). */
    json_t *o = valid_event(item, ids[0]);
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    harness_publish_raw("probe.item.handled", body, ids[0]);
    free(body);
    /* The right key, but a source that does not publish the type. */
    o = valid_event(item, ids[1]);
    json_object_set_new(o, "source", json_string("/booking"));
    publish_json(o, ids[1]);

    char good[64], good_id[UUID7_STR_LEN];
    testlib_unique_name(good, sizeof(good), "after-liar");
    harness_commit_item(good, NULL, good_id);
    assert_int_equal(
        harness_wait_count("SELECT count(*) FROM effects WHERE item = $1", good, 1, 15000), 1);
    assert_int_equal(harness_wait_count("SELECT count(*) FROM dead_letter WHERE message_id = $1",
                                        ids[0], 1, 5000),
                     1);
    assert_int_equal(harness_wait_count("SELECT count(*) FROM dead_letter WHERE message_id = $1",
                                        ids[1], 1, 5000),
                     1);
    char reason[512];
    harness_value("SELECT reason FROM dead_letter WHERE message_id = $1", ids[0], reason,
                  sizeof(reason));
    if (!strstr(reason,
                "routing key 'probe.item.handled' is not the event's type 'probe.item.created'"))
        fail_msg("reason '%s'", reason);
    harness_value("SELECT reason FROM dead_letter WHERE message_id = $1", ids[1], reason,
                  sizeof(reason));
    if (!strstr(reason, "source '/booking' does not publish 'probe.item.created'"))
        fail_msg("reason '%s'", reason);
    assert_int_equal(harness_count("SELECT count(*) FROM effects WHERE item = $1", item), 0);
}

/*
 * Every dead letter is recorded in the database before it leaves the queue,
 * raw body included, even one that is not JSON and too large for a copy; the
 * same letter delivered again is counted, not doubled; the broker's copy is
 * cut at DEAD_LETTER_BODY_MAX and says the full size.
 */
static void test_poison_is_recorded_once_with_its_raw_body_and_a_cut_copy(void **state)
{
    (void)state;
    harness_spawn(0, NULL);
    const char *small_id = "00000000-0000-7000-8000-0000000000a1";
    const char *big_id = "00000000-0000-7000-8000-0000000000a2";
    harness_publish_raw("probe.item.created", "not json \xff\xfe at all", small_id);
    harness_publish_raw("probe.item.created", "not json \xff\xfe at all",
                        small_id); /* the same letter again */
    size_t big = 3 * 1024 * 1024;
    char *body = malloc(big + 1);
    assert_non_null(body);
    memset(body, 'x', big);
    body[big] = '\0';
    harness_publish_raw("probe.item.created", body, big_id);
    free(body);

    char good[64], good_id[UUID7_STR_LEN];
    testlib_unique_name(good, sizeof(good), "after-big");
    harness_commit_item(good, NULL, good_id);
    assert_int_equal(
        harness_wait_count("SELECT count(*) FROM effects WHERE item = $1", good, 1, 15000), 1);
    assert_int_equal(harness_wait_count("SELECT deliveries FROM dead_letter WHERE message_id = $1",
                                        small_id, 2, 5000),
                     2);
    assert_int_equal(
        harness_count("SELECT count(*) FROM dead_letter WHERE message_id = $1", small_id), 1);
    char raw[64];
    harness_value("SELECT encode(body, 'escape') FROM dead_letter WHERE message_id = $1", small_id,
                  raw, sizeof(raw));
    assert_string_equal(raw, "not json \\377\\376 at all");
    assert_int_equal(
        harness_count("SELECT body_size FROM dead_letter WHERE message_id = $1", big_id),
        (int64_t)big);
    assert_int_equal(
        harness_count("SELECT length(body) FROM dead_letter WHERE message_id = $1", big_id),
        (int64_t)DEAD_LETTER_BODY_MAX);
    /* Both copies reach the dead-letter queue (the small one once), and the record says so. */
    int n = 0;
    harness_dead_letters(2, 15000, &n);
    assert_non_null(harness_dead_letter_find(small_id));
    assert_non_null(harness_dead_letter_find(big_id));
    assert_int_equal(
        harness_wait_count("SELECT count(*) FROM dead_letter WHERE dead_lettered_at IS NOT NULL"
                           " AND message_id = $1",
                           big_id, 1, 5000),
        1);
    assert_true(harness_alive(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_each_poison_kind_is_dead_lettered_at_once_and_consuming_goes_on, setup, teardown),
        cmocka_unit_test_setup_teardown(test_content_the_database_refuses_is_poison_not_an_outage,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_reads_the_text_the_first_attempt_accepted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_a_body_that_lies_about_its_routing_key_or_source_is_poison, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_poison_is_recorded_once_with_its_raw_body_and_a_cut_copy, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
