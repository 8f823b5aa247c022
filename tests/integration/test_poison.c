/*
 * test_poison.c - every kind of poison (SPEC §4) goes to the dead letters at
 * once, with its reason, never into the inbox, and the consumer keeps
 * consuming the good messages behind it.
 */
#include "harness.h"
#include "testlib.h"

#include "common/envelope.h"

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
static json_t *valid_event(const char *item, char id_out[37])
{
    struct envelope ev;
    envelope_init(&ev);
    struct err err;
    assert_int_equal(envelope_build(&ev, "probe", "probe.item.created", 1,
                                    json_pack("{s:s}", "item", item), NULL, NULL, &err), 0);
    json_t *o = envelope_to_json(&ev);
    memcpy(id_out, ev.id, 37);
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
    char item[64], ids[5][37];
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
    char good_id[37];
    harness_commit_item(item, NULL, good_id);
    assert_int_equal(harness_wait_count("SELECT count(*) FROM effects WHERE item = $1", item, 1, 15000), 1);

    int n = 0;
    harness_dead_letters(5, 15000, &n);
    assert_int_equal(n, 5);
    const char *reasons[] = {"not JSON", "not a CloudEvent", "unknown event type 'probe.item.deleted'",
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
        assert_int_equal(harness_count("SELECT count(*) FROM inbox WHERE id::text = $1", ids[i]), 0);
    }
    assert_true(harness_alive(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_poison_kind_is_dead_lettered_at_once_and_consuming_goes_on, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
