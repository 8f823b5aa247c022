/*
 * test_adding_an_event.c - docs/adding-an-event.md, followed literally with a
 * test-only event of the test-only context "probe": a struct and a table
 * (step 1), a domain event mapped in an events.c-style function (step 2), a
 * handler and its subscription row (step 3), tested with the handler test
 * harness (step 4). The event is published the way a route publishes it,
 * and the outbox row's CloudEvent is handed to the handler as the relay
 * would hand it to the broker. When the page changes, this test changes.
 */
#include "handler_test.h"

#include "common/consumer.h"
#include "common/db.h"
#include "common/envelope.h"
#include "common/outbox.h"
#include "common/uuid7.h"
#include "probe_contract.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- 1. the struct and the table (probe_contract.h / .c in a real context) ---- */

#define PROBE_ITEM_PRICED_TYPE    "probe.item.priced"
#define PROBE_ITEM_PRICED_VERSION 1

struct probe_item_priced {
    char item_id[UUID7_STR_LEN];
    char item[65];
    int64_t price_cents;
    bool gift;
    char currency[4]; /* optional: "" is left out */
};

static const struct contract_field item_priced[] = {
    CONTRACT_UUID(probe_item_priced, item_id, "the item"),
    CONTRACT_TEXT(probe_item_priced, item, 64, "what the test tracks"),
    CONTRACT_INT(probe_item_priced, price_cents, 1, 1000000, "its price, in cents"),
    {"gift", CONTRACT_BOOLEAN, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 0, 0, "wrapped as a gift",
     CONTRACT_AT(struct probe_item_priced, gift)},
    {"currency", CONTRACT_STRING, CONTRACT_OPTIONAL, CONTRACT_FORMAT_NONE, 3, 3, "ISO 4217 code",
     CONTRACT_AT(struct probe_item_priced, currency)},
};
static CONTRACT_EVENT(PROBE_ITEM_PRICED, "probe", "a test item got a price", item_priced,
                      probe_item_priced);

/* ---- 2. the domain event and the mapping (domain/ and events.c) ---- */

enum probe_domain_event_kind {
    PROBE_DOMAIN_PRICED,
    PROBE_DOMAIN_LOOKED_AT, /* stays inside: dropped by the mapping */
};

struct probe_domain_event {
    enum probe_domain_event_kind kind;
    char id[UUID7_STR_LEN];
    char name[65];
    int64_t price_cents;
};

static int probe_events_publish(const struct outbox_origin *from,
                                const struct probe_domain_event *ev, char id_out[UUID7_STR_LEN],
                                struct err *err)
{
    if (id_out)
        id_out[0] = '\0';
    switch (ev->kind) {
    case PROBE_DOMAIN_PRICED: {
        struct probe_item_priced out = {.price_cents = ev->price_cents, .gift = true};
        snprintf(out.item_id, sizeof(out.item_id), "%s", ev->id);
        snprintf(out.item, sizeof(out.item), "%s", ev->name);
        return outbox_publish(from, &PROBE_ITEM_PRICED, &out, sizeof(out), id_out, err);
    }
    case PROBE_DOMAIN_LOOKED_AT: return 0; /* nobody outside cares */
    }
    return err_set(err, ERR_INTERNAL, "unknown probe domain event kind %d", (int)ev->kind);
}

/* ---- 3. the handler and its subscription row (handlers.c) ---- */

/*
 * probe.item.priced → one effect row; publishes probe.item.handled.
 * Idempotent through the inbox (the effect and the event commit with it).
 */
static int on_probe_item_priced(struct handler_ctx *hc, struct err *err)
{
    struct probe_item_priced in;
    int rc = handler_decode(hc, &in, sizeof(in), err);
    if (rc)
        return rc;
    const char *params[] = {hc->ev->id, in.item, in.gift ? "priced_gift" : "priced"};
    rc = db_exec(hc->db,
                 "INSERT INTO effects (event_id, item, kind, attempt, handled_by)"
                 " VALUES ($1::uuid, $2, $3, 1, 'handler_test')",
                 3, params, NULL, NULL, err);
    if (rc < 0)
        return rc;
    struct probe_item_handled out = {0};
    memcpy(out.item, in.item, sizeof(out.item));
    return handler_publish(hc, &PROBE_ITEM_HANDLED, &out, sizeof(out), err);
}

static const struct subscription probe_subscriptions[] = {
    {&PROBE_ITEM_PRICED, on_probe_item_priced},
};

static const struct service_def probe_service = {
    .name = "probe",
    .subscriptions = probe_subscriptions,
    .nsubscriptions = CONTRACT_COUNT(probe_subscriptions),
};

/* ---- 4. the test ---- */

static struct handler_test *start(void)
{
    return handler_test_start_in(&probe_service, PROBE_MIGRATIONS);
}

/* What a route does: the domain event, mapped, into the outbox in its own transaction. */
static int produce(struct handler_test *t, const struct probe_domain_event *ev,
                   char id[UUID7_STR_LEN], struct err *err)
{
    struct db *db = handler_test_db(t);
    char correlation[UUID7_STR_LEN];
    uuid7_generate(correlation);
    struct outbox_origin from = {db, correlation, NULL};
    int rc = db_begin(db, err);
    if (rc)
        return rc;
    rc = probe_events_publish(&from, ev, id, err);
    if (rc == 0)
        rc = db_commit(db, err);
    else
        db_rollback(db);
    return rc;
}

static int take_payload(void *ctx, const struct db_row *row, struct err *err)
{
    (void)err;
    snprintf((char *)ctx, 4096, "%s", db_row_text(row, 0));
    return 0;
}

static void test_an_event_added_the_documented_way_is_published_and_handled(void **state)
{
    (void)state;
    struct handler_test *t = start();
    struct probe_domain_event ev = {.kind = PROBE_DOMAIN_PRICED, .price_cents = 1250};
    uuid7_generate(ev.id);
    testlib_unique_name(ev.name, sizeof(ev.name), "priced");
    char id[UUID7_STR_LEN];
    struct err err;
    err_clear(&err);
    assert_int_equal(produce(t, &ev, id, &err), 0);

    /* The outbox row, as the relay would publish it. */
    static char body[4096];
    const char *params[] = {id};
    assert_int_equal(db_exec(handler_test_db(t), "SELECT payload::text FROM outbox WHERE id = $1",
                             1, params, take_payload, body, &err),
                     1);
    assert_non_null(strstr(body, "\"price_cents\": 1250"));
    assert_null(strstr(body, "currency")); /* an empty optional string is left out */

    assert_int_equal(handler_test_deliver(t, body), 0);
    assert_string_equal(handler_test_sent_id(t), id);
    assert_int_equal(handler_test_count(t,
                                        "SELECT count(*) FROM effects WHERE item = $1 AND"
                                        " kind = 'priced_gift'",
                                        ev.name),
                     1);
    struct probe_item_handled handled;
    handler_test_take(t, &PROBE_ITEM_HANDLED, 0, &handled, sizeof(handled));
    assert_string_equal(handled.item, ev.name);

    assert_int_equal(handler_test_redeliver(t), CONSUMER_DUPLICATE);
    assert_int_equal(handler_test_count(t, "SELECT count(*) FROM effects WHERE item = $1", ev.name),
                     1);

    /* A domain event that stays inside publishes nothing. */
    ev.kind = PROBE_DOMAIN_LOOKED_AT;
    assert_int_equal(produce(t, &ev, id, &err), 0);
    assert_string_equal(id, "");
    handler_test_stop(t);
}

/* A mapping that breaks the table fails the producer's transaction, naming the field. */
static void test_a_mapping_that_breaks_the_table_fails_the_producer(void **state)
{
    (void)state;
    struct handler_test *t = start();
    struct probe_domain_event ev = {.kind = PROBE_DOMAIN_PRICED, .price_cents = 0};
    uuid7_generate(ev.id);
    testlib_unique_name(ev.name, sizeof(ev.name), "unpriced");
    char id[UUID7_STR_LEN];
    struct err err;
    err_clear(&err);
    assert_int_equal(produce(t, &ev, id, &err), ERR_INVALID);
    assert_string_equal(err.msg, "field 'price_cents' must be an integer in [1, 1000000]");
    assert_int_equal(handler_test_count(t, "SELECT count(*) FROM outbox", NULL), 0);
    handler_test_stop(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_event_added_the_documented_way_is_published_and_handled),
        cmocka_unit_test(test_a_mapping_that_breaks_the_table_fails_the_producer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
