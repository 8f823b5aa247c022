/*
 * test_fault_ledger.c - the ledger's own check: a ledger that never fails
 * proves nothing. After a short clean run (every invariant holds), each
 * invariant in turn is shown a database broken the way it guards against,
 * inside a transaction that is rolled back, and must fail naming the
 * booking, event, offering or user that breaks it.
 */
#include "scenario.h"

#include "common/bus.h"

#include <stdio.h>
#include <string.h>

static int setup(void **state)
{
    (void)state;
    scenario_setup("ledger", NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_value("ROLLBACK", NULL, NULL, (char[8]){0}, 8); /* in case a mutation failed half-way */
    scenario_teardown();
    return 0;
}

typedef int (*invariant_fn)(struct ledger *l);

static const struct load *the_load(void)
{
    return scenario.load;
}

static int writes_stored(struct ledger *l)
{
    return ledger_accepted_writes_stored(l, the_load());
}

static int nothing_unasked(struct ledger *l)
{
    return ledger_nothing_stored_unasked(l, the_load());
}

static int dead_letters(struct ledger *l)
{
    return ledger_dead_letters_explained(l, NULL);
}

static struct injected fake; /* for the poison and duplicate invariants */

static int poison_nowhere(struct ledger *l)
{
    return ledger_poison_nowhere_else(l, &fake);
}

static int duplicates(struct ledger *l)
{
    return ledger_duplicates_absorbed(l, &fake);
}

/*
 * Applies sql (params p1, p2) in a transaction on the ledger's connection,
 * runs the invariant there, rolls back, and fails unless the invariant
 * broke naming `expect`.
 */
static void must_catch(const char *name, invariant_fn fn, const char *sql, const char *p1,
                       const char *p2, const char *expect)
{
    struct ledger *l = scenario.ledger;
    ledger_reset(l);
    char out[64];
    e2e_value("BEGIN", NULL, NULL, out, sizeof(out));
    e2e_value(sql, p1, p2, out, sizeof(out));
    int offenders = fn(l);
    e2e_value("ROLLBACK", NULL, NULL, out, sizeof(out));
    if (offenders <= 0 || !strstr(ledger_failures(l), expect))
        fail_msg("invariant '%s' did not catch \"%s\" (%s): %d offenders, text:%s", name, sql,
                 expect, offenders, ledger_failures(l));
    const char *line = strstr(ledger_failures(l), "- ");
    printf("fault[ledger]: '%s' caught it: %.*s\n", name, line ? (int)strcspn(line, "\n") : 0,
           line ? line : "");
}

/*
 * The other way round for the dead letters, which a check consumes: a dead
 * inbox row whose copy one check read must still hold at the next check
 * (fault.cluster checks once per phase). In a transaction rolled back, like
 * must_catch; the copy is published as a consumer would, to the dead-letter
 * exchange with the context as routing key.
 */
static void dead_letter_holds_at_a_second_check(const char *inbox_event)
{
    struct ledger *l = scenario.ledger;
    char out[64];
    e2e_value("BEGIN", NULL, NULL, out, sizeof(out));
    e2e_value("UPDATE booking.inbox SET status = 'dead', last_error = 'selftest',"
              " dead_lettered_at = now() WHERE id = $1::uuid",
              inbox_event, NULL, out, sizeof(out));
    struct err err;
    err_clear(&err);
    struct bus *bus = bus_new(&(struct bus_config){
        .url = fault_amqp_url(), .confirms = 1, .connection_name = "fault ledger selftest"});
    const struct bus_header why = {.key = "x-error", .value = "selftest"};
    const struct bus_message copy = {.exchange = "integration.dead-letter",
                                     .routing_key = "booking",
                                     .body = "{}",
                                     .len = 2,
                                     .message_id = inbox_event,
                                     .headers = &why,
                                     .nheaders = 1};
    if (!bus || bus_connect(bus, &err) != 0 || bus_publish_sync(bus, &copy, 5000, &err) != 0)
        fail_msg("cannot publish the dead letter of %s: %s", inbox_event, err.msg);
    bus_free(bus);
    int offenders[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        ledger_reset(l);
        offenders[i] = ledger_dead_letters_explained(l, NULL);
        if (offenders[i])
            break;
    }
    e2e_value("ROLLBACK", NULL, NULL, out, sizeof(out));
    if (offenders[0] || offenders[1])
        fail_msg("a dead row with its copy in the queue broke 'dead letters explained' at the %s "
                 "check:%s",
                 offenders[0] ? "first" : "second", ledger_failures(l));
    printf("fault[ledger]: 'dead letters explained' holds for a copy read by an earlier check\n");
}

static void test_each_invariant_names_what_breaks_it(void **state)
{
    (void)state;
    load_start(scenario.load);
    load_wait_bookings(scenario.load, 0, 60, 30000, "bookings for the ledger's own check");
    scenario_finish(); /* a clean run: every invariant holds */

    char booking[64], offering[64], event[64], created[64], reserved[64], reserved_for[64],
        user[64], inbox_event[64];
    e2e_value("SELECT b.id::text FROM booking.bookings b JOIN inventory.stock s"
              " ON s.offering_id = b.offering_id WHERE b.status = 'confirmed' AND s.available > 0"
              " ORDER BY b.created_at LIMIT 1",
              NULL, NULL, booking, sizeof(booking));
    e2e_value("SELECT offering_id::text FROM booking.bookings WHERE id = $1::uuid", booking, NULL,
              offering, sizeof(offering));
    e2e_value("SELECT id::text FROM booking.outbox ORDER BY created_at LIMIT 1", NULL, NULL, event,
              sizeof(event));
    e2e_value("SELECT id::text FROM booking.outbox WHERE type = 'booking.booking.created'"
              " ORDER BY created_at LIMIT 1",
              NULL, NULL, created, sizeof(created));
    e2e_value("SELECT id::text FROM inventory.outbox WHERE type = 'inventory.stock.reserved'"
              " ORDER BY created_at LIMIT 1",
              NULL, NULL, reserved, sizeof(reserved));
    e2e_value("SELECT payload->'data'->>'booking_id' FROM inventory.outbox WHERE id = $1::uuid",
              reserved, NULL, reserved_for, sizeof(reserved_for));
    e2e_value("SELECT u.id::text FROM usermanagement.users u WHERE NOT EXISTS (SELECT 1 FROM"
              " servicecatalog.providers p WHERE p.owner_id = u.id) ORDER BY u.created_at LIMIT 1",
              NULL, NULL, user, sizeof(user));
    e2e_value("SELECT id::text FROM booking.inbox ORDER BY created_at LIMIT 1", NULL, NULL,
              inbox_event, sizeof(inbox_event));
    if (!booking[0] || !event[0] || !reserved[0] || !user[0])
        fail_msg("the clean run left too little to break: booking '%s' event '%s' reservation '%s' "
                 "user '%s'",
                 booking, event, reserved, user);

    must_catch("accepted writes stored", writes_stored,
               "UPDATE booking.bookings SET quantity = quantity + 1 WHERE id = $1::uuid", booking,
               NULL, booking);
    must_catch("nothing stored unasked", nothing_unasked,
               "INSERT INTO usermanagement.users (id, email, name) VALUES (gen_random_uuid(),"
               " 'intruder@example.com', 'Intruder')",
               NULL, NULL, "intruder@example.com");
    must_catch("bookings final", ledger_bookings_final,
               "UPDATE booking.bookings SET status = 'pending', reason = NULL WHERE id = $1::uuid",
               booking, NULL, booking);
    must_catch("stock balanced", ledger_stock_balanced,
               "UPDATE inventory.stock SET sold = sold + 1, available = available - 1"
               " WHERE offering_id = $1::uuid",
               offering, NULL, offering);
    must_catch("stock effects once", ledger_stock_effects_once,
               "DELETE FROM inventory.movements WHERE booking_id = $1::uuid AND kind = 'sale'",
               booking, NULL, booking);
    /* An expired booking must hold no stock and keep no money: this one still has both. */
    must_catch("stock effects once (expired)", ledger_stock_effects_once,
               "UPDATE booking.bookings SET status = 'expired' WHERE id = $1::uuid", booking, NULL,
               booking);
    must_catch("payments once (expired)", ledger_payments_once,
               "UPDATE booking.bookings SET status = 'expired' WHERE id = $1::uuid", booking, NULL,
               booking);
    must_catch("payments once", ledger_payments_once,
               "UPDATE payment.payments SET status = 'failed', reason = 'selftest'"
               " WHERE booking_id = $1::uuid",
               booking, NULL, booking);
    must_catch("notifications once", ledger_notifications_once,
               "DELETE FROM notification.notifications WHERE reference_id = $1::uuid", booking,
               NULL, booking);
    must_catch("registrations complete", ledger_registrations_complete,
               "DELETE FROM servicecatalog.known_users WHERE user_id = $1::uuid", user, NULL, user);
    must_catch("outbox published", ledger_outbox_published,
               "UPDATE booking.outbox SET status = 'pending' WHERE id = $1::uuid", event, NULL,
               event);
    must_catch("events consumed", ledger_events_consumed,
               "DELETE FROM payment.inbox WHERE id = $1::uuid", created, NULL, created);
    must_catch(
        "facts published once", ledger_facts_published_once,
        "INSERT INTO inventory.outbox (id, type, correlation_id, causation_id, payload, status,"
        " published_at) SELECT gen_random_uuid(), type, correlation_id, causation_id, payload,"
        " 'published', now() FROM inventory.outbox WHERE id = $1::uuid",
        reserved, NULL, reserved_for);
    must_catch("dead letters explained", dead_letters,
               "UPDATE booking.inbox SET status = 'dead', last_error = 'selftest',"
               " dead_lettered_at = now() WHERE id = $1::uuid",
               inbox_event, NULL, inbox_event);
    dead_letter_holds_at_a_second_check(inbox_event);

    inject_init(&fake);
    struct inject_poison p = {.kind = POISON_BAD_DATA, .routing_key = "booking.booking.created"};
    e2e_new_uuid(p.id);
    fake.poison = &p;
    fake.npoison = 1;
    must_catch("poison nowhere else", poison_nowhere,
               "UPDATE usermanagement.users SET name = $1 WHERE id = $2::uuid", fake.marker, user,
               fake.marker);
    struct inject_duplicate d = {.subscribers = ledger_subscribers("booking.booking.created")};
    snprintf(d.id, sizeof(d.id), "%.36s", created);
    snprintf(d.type, sizeof(d.type), "booking.booking.created");
    fake.poison = NULL;
    fake.npoison = 0;
    fake.dups = &d;
    fake.ndups = 1;
    fake.dup_baseline = -1000000; /* the copies' count is not what is checked here */
    must_catch("duplicates absorbed", duplicates, "DELETE FROM inventory.inbox WHERE id = $1::uuid",
               created, NULL, created);
    fake.dups = NULL;
    fake.ndups = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_invariant_names_what_breaks_it, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
