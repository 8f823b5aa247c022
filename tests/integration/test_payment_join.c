/*
 * test_payment_join.c - the lock payment's join rests on (SPEC §1 step 4,
 * §4 Ordering; migrations/payment/0004_charge_join.sql), against a real
 * PostgreSQL: two transactions handling the two events of one booking take
 * turns on the booking's join row, and the second sees what the first
 * committed, so it charges (never both, never neither). The first
 * transaction plays one handler, a thread with its own connection the other.
 *
 * payment's migrations are applied to a schema unique to the run, dropped at
 * the end.
 */
#include "payment/store.h"

#include "testlib.h"

#include "common/migrate.h"
#include "common/uuid7.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define BLOCKED_MS 300 /* how long the second transaction must stay blocked behind the first */
#define EVENT_ID   "01a23b02-9a19-76cc-9b97-abe3a5c66a52"

static const char *url;
static char schema[64];

static void expect_ok_at(int rc, const struct err *err, const char *call, int line)
{
    if (rc < 0)
        fail_msg("line %d: %s: %s [%s] (%s)", line, call, err->msg, err->sqlstate, err_name(rc));
}
#define expect_ok(call, err) expect_ok_at((call), &(err), #call, __LINE__)

static struct db *connect_payment(void)
{
    struct db *db = db_new(url);
    assert_non_null(db);
    db_set_application_name(db, "integration.payment_join");
    db_set_schema(db, schema);
    struct err err = {0};
    expect_ok(db_connect(db, &err), err);
    return db;
}

static int group_setup(void **state)
{
    (void)state;
    url = testlib_require_env("DATABASE_URL");
    testlib_unique_name(schema, sizeof(schema), "payjoin");
    struct db *db = db_new(url);
    assert_non_null(db);
    struct err err = {0};
    expect_ok(migrate_dir(db, PAYMENT_MIGRATIONS, schema, NULL, &err), err);
    db_free(db);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    struct db *db = db_new(url);
    assert_non_null(db);
    struct err err = {0};
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", schema);
    expect_ok(db_exec(db, sql, 0, NULL, NULL, NULL, &err), err);
    db_free(db);
    return 0;
}

static void new_booking(char id[PAYMENT_ID_LEN])
{
    assert_int_equal(uuid7_generate(id), 0);
}

/* An intent for booking_id, as booking.booking.created opens it. */
static struct payment intent_for(const char *booking_id)
{
    char id[PAYMENT_ID_LEN];
    assert_int_equal(uuid7_generate(id), 0);
    struct payment p;
    struct payment_event ev;
    struct err err = {0};
    assert_int_equal(payment_open(&p, id, booking_id, 4200, &ev, &err), 0);
    return p;
}

/* The other handler: its own connection and transaction, in a thread. */
struct second {
    const char *booking_id;
    pthread_t thread;
    atomic_bool locked; /* the join row is ours */
    int reserved;       /* payment_store_lock_join's answer */
    char reserved_by[PAYMENT_ID_LEN];
    int has_intent; /* payment_store_lock's answer */
    struct payment payment;
    struct err err;
    int rc;
};

static void *second_run(void *arg)
{
    struct second *s = arg;
    struct db *db = connect_payment();
    s->rc = db_begin(db, &s->err);
    if (s->rc == 0)
        s->rc = s->reserved = payment_store_lock_join(db, s->booking_id, s->reserved_by, &s->err);
    atomic_store(&s->locked, true);
    if (s->rc >= 0)
        s->rc = s->has_intent = payment_store_lock(db, s->booking_id, &s->payment, &s->err);
    if (s->rc >= 0)
        s->rc = db_commit(db, &s->err);
    else
        db_rollback(db);
    db_free(db);
    return NULL;
}

/* Starts the second transaction and checks it waits behind the first one's lock. */
static void start_second_behind(struct second *s, const char *booking_id)
{
    memset(s, 0, sizeof(*s));
    s->booking_id = booking_id;
    atomic_init(&s->locked, false);
    assert_int_equal(pthread_create(&s->thread, NULL, second_run, s), 0);
    testlib_sleep_ms(BLOCKED_MS);
    if (atomic_load(&s->locked))
        fail_msg("the second transaction got the join row of booking %s while the first held it",
                 booking_id);
}

static void join_second(struct second *s)
{
    assert_int_equal(pthread_join(s->thread, NULL), 0);
    if (s->rc < 0)
        fail_msg("second transaction: %s [%s]", s->err.msg, s->err.sqlstate);
}

/*
 * Neither half recorded; the intent's transaction creates and holds the join
 * row, the reservation's waits for it, then finds the intent committed.
 */
static void test_reservation_waits_for_a_concurrent_intent_and_then_sees_it(void **state)
{
    (void)state;
    char bk[PAYMENT_ID_LEN], by[PAYMENT_ID_LEN];
    new_booking(bk);
    struct db *a = connect_payment();
    struct err err = {0};
    expect_ok(db_begin(a, &err), err);
    int reserved = payment_store_lock_join(a, bk, by, &err);
    expect_ok(reserved, err);
    assert_int_equal(reserved, 0);
    assert_string_equal(by, "");

    struct second s;
    start_second_behind(&s, bk);
    struct payment p = intent_for(bk);
    int inserted = payment_store_insert_intent(a, &p, EVENT_ID, &err);
    expect_ok(inserted, err);
    assert_int_equal(inserted, 1);
    expect_ok(db_commit(a, &err), err);
    join_second(&s);

    assert_int_equal(s.reserved, 0);
    assert_int_equal(s.has_intent, 1);
    assert_string_equal(s.payment.id, p.id);
    assert_int_equal(s.payment.status, PAYMENT_INTENT);
    db_free(a);
}

/*
 * The intent is committed (its handler found no reservation and waits); the
 * reservation's transaction holds the existing join row, and the intent's
 * second delivery waits for it, then finds the reservation recorded.
 */
static void test_intent_waits_for_a_concurrent_reservation_and_then_sees_it(void **state)
{
    (void)state;
    char bk[PAYMENT_ID_LEN], by[PAYMENT_ID_LEN];
    new_booking(bk);
    struct db *a = connect_payment();
    struct err err = {0};
    expect_ok(db_begin(a, &err), err);
    expect_ok(payment_store_lock_join(a, bk, by, &err), err);
    struct payment p = intent_for(bk);
    expect_ok(payment_store_insert_intent(a, &p, EVENT_ID, &err), err);
    expect_ok(db_commit(a, &err), err);

    expect_ok(db_begin(a, &err), err);
    int reserved = payment_store_lock_join(a, bk, by, &err);
    expect_ok(reserved, err);
    assert_int_equal(reserved, 0);
    struct second s;
    start_second_behind(&s, bk);
    expect_ok(payment_store_record_reservation(a, bk, EVENT_ID, &err), err);
    expect_ok(db_commit(a, &err), err);
    join_second(&s);

    assert_int_equal(s.reserved, 1);
    assert_string_equal(s.reserved_by, EVENT_ID);
    assert_int_equal(s.has_intent, 1);
    db_free(a);
}

static void test_a_second_reservation_is_refused_by_the_store(void **state)
{
    (void)state;
    char bk[PAYMENT_ID_LEN], by[PAYMENT_ID_LEN];
    new_booking(bk);
    struct db *a = connect_payment();
    struct err err = {0};
    expect_ok(db_begin(a, &err), err);
    expect_ok(payment_store_lock_join(a, bk, by, &err), err);
    expect_ok(payment_store_record_reservation(a, bk, EVENT_ID, &err), err);
    assert_int_equal(payment_store_record_reservation(a, bk, EVENT_ID, &err), ERR_CONFLICT);
    db_rollback(a);
    db_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reservation_waits_for_a_concurrent_intent_and_then_sees_it),
        cmocka_unit_test(test_intent_waits_for_a_concurrent_reservation_and_then_sees_it),
        cmocka_unit_test(test_a_second_reservation_is_refused_by_the_store),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
