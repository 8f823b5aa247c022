/*
 * test_booking_saga.c - SPEC §1 "Booking with stock deduction" end to end,
 * against the six real executables: the happy path, a reservation that fails,
 * a declined payment and its compensation, bad input, 100 concurrent bookings
 * for 60 units, events delivered to payment in either order (the join: one
 * charge, no retry), the correlation/causation ids of one booking's events,
 * and a booking that expires at its deadline (BOOKING_TIMEOUT_MS) while
 * payment is down: stock released, customer told, no money kept.
 *
 * Each test starts from empty schemas and queues with a provider owner, a
 * customer (both users) and one offering that booking and inventory know.
 * Teardown checks the system settled: nothing dead or failed in any inbox,
 * nothing unpublished in any outbox.
 */
#include "e2e_harness.h"

#include "common/bus.h"
#include "common/uuid7.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAYMENT_LIMIT_CENTS 100000
#define SAGA_WAIT_MS        30000

/* What every test starts with (one test at a time: a file-level fixture). */
static struct {
    char owner_id[E2E_ID_LEN];
    char customer_id[E2E_ID_LEN];
    char provider_id[E2E_ID_LEN];
} fx;

/*
 * The deadline of the expiry tests: short, far above a saga's normal run, and
 * long enough to stop a service before it passes.
 */
#define DEADLINE_MS "3000"

static void setup_with(const char *const *extra)
{
    e2e_setup(extra);
    memset(&fx, 0, sizeof(fx));
    char email[128];
    e2e_unique_email(email, sizeof(email), "owner");
    e2e_create_user(email, "Paula Provider", NULL, fx.owner_id);
    e2e_unique_email(email, sizeof(email), "customer");
    e2e_create_user(email, "Carl Customer", NULL, fx.customer_id);
    json_decref(e2e_create_provider(fx.owner_id, NULL, fx.provider_id));
    /* The customer's e-mail must be in notification's replica before any booking notification. */
    e2e_wait_handled(E2E_NOTIFICATION, "usermanagement.user.registered", "user_id", fx.customer_id,
                     E2E_WAIT_MS);
}

static int setup(void **state)
{
    (void)state;
    static const char *const extra[] = {"PAYMENT_LIMIT_CENTS=100000", NULL};
    setup_with(extra);
    return 0;
}

/* As setup, with bookings that expire after DEADLINE_MS. */
static int setup_deadline(void **state)
{
    (void)state;
    static const char *const extra[] = {"PAYMENT_LIMIT_CENTS=100000",
                                        "BOOKING_TIMEOUT_MS=" DEADLINE_MS, NULL};
    setup_with(extra);
    return 0;
}

/* As setup_deadline, with at most IN_FLIGHT_MAX bookings in flight. */
#define IN_FLIGHT_MAX 2
#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x)
static int setup_admission(void **state)
{
    (void)state;
    static const char *const extra[] = {"PAYMENT_LIMIT_CENTS=100000",
                                        "BOOKING_TIMEOUT_MS=" DEADLINE_MS,
                                        "BOOKING_IN_FLIGHT_MAX=" STRINGIFY(IN_FLIGHT_MAX), NULL};
    setup_with(extra);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_teardown();
    return 0;
}

/* An offering with price and capacity that booking and inventory both know. */
static void offering(long long price_cents, long long capacity, char id_out[E2E_ID_LEN])
{
    e2e_create_offering(fx.provider_id, "E2E Room", price_cents, capacity, NULL, id_out);
    e2e_wait_offering_known(id_out);
}

/*
 * POST /bookings; expects 202 {id, status "pending", amount_cents}. Retries
 * while 409 (booking's price replica may lag), bounded; id_out gets the id.
 */
static void book(const char *offering_id, int quantity, const char *correlation_id,
                 long long want_amount, char id_out[E2E_ID_LEN])
{
    char body[256];
    snprintf(body, sizeof(body), "{\"user_id\": \"%s\", \"offering_id\": \"%s\", \"quantity\": %d}",
             fx.customer_id, offering_id, quantity);
    int64_t deadline = testlib_now_ms() + E2E_WAIT_MS;
    long status;
    json_t *reply = NULL;
    char cid[E2E_CID_LEN];
    for (;;) {
        json_decref(reply);
        e2e_post(E2E_BOOKING, "/bookings", body, correlation_id, &status, &reply, cid);
        if (status != 409 || testlib_now_ms() > deadline)
            break;
        testlib_sleep_ms(50);
    }
    if (status != 202)
        fail_msg("POST /bookings %s: status %ld, expected 202: %s", body, status, e2e_dump(reply));
    if (correlation_id)
        assert_string_equal(cid, correlation_id);
    const char *id = e2e_str(reply, "id");
    if (!uuid7_is_valid(id))
        fail_msg("POST /bookings: no UUID id in %s", e2e_dump(reply));
    snprintf(id_out, E2E_ID_LEN, "%s", id);
    assert_string_equal(e2e_str(reply, "status"), "pending");
    assert_int_equal(e2e_int(reply, "amount_cents"), want_amount);
    json_decref(reply);
}

/* Polls GET /bookings/{id} until status; returns the booking (json_decref it). */
static json_t *booking_until(const char *booking_id, const char *status)
{
    char path[128], what[128];
    snprintf(path, sizeof(path), "/bookings/%s", booking_id);
    snprintf(what, sizeof(what), "booking %s to become '%s'", booking_id, status);
    return e2e_poll_field(E2E_BOOKING, path, "status", status, SAGA_WAIT_MS, what);
}

static void assert_stock(const char *offering_id, long long capacity, long long available,
                         long long reserved, long long sold)
{
    char path[128];
    snprintf(path, sizeof(path), "/stock/%s", offering_id);
    long status;
    json_t *s;
    e2e_get(E2E_INVENTORY, path, NULL, &status, &s, NULL);
    if (status != 200 || e2e_int(s, "capacity") != capacity ||
        e2e_int(s, "available") != available || e2e_int(s, "reserved") != reserved ||
        e2e_int(s, "sold") != sold || strcmp(e2e_str(s, "offering_id"), offering_id) != 0)
        fail_msg("GET %s: expected 200 {capacity %lld, available %lld, reserved %lld, sold %lld}, "
                 "got %ld %s",
                 path, capacity, available, reserved, sold, status, e2e_dump(s));
    json_decref(s);
}

/* GET /payments?booking_id=…: the "payments" array (new reference). */
static json_t *payments_of(const char *booking_id)
{
    char path[160];
    snprintf(path, sizeof(path), "/payments?booking_id=%s", booking_id);
    long status;
    json_t *reply;
    e2e_get(E2E_PAYMENT, path, NULL, &status, &reply, NULL);
    if (status != 200 || !json_is_array(json_object_get(reply, "payments")))
        fail_msg("GET %s: expected 200 {payments: […]}, got %ld %s", path, status, e2e_dump(reply));
    json_t *p = json_incref(json_object_get(reply, "payments"));
    json_decref(reply);
    return p;
}

struct note_want {
    const char *kind;
    const char *reference_id;
};

static bool has_note(long status, const json_t *reply, const void *arg)
{
    const struct note_want *w = arg;
    return status == 200 && e2e_find(json_object_get(reply, "notifications"), "kind", w->kind,
                                     "reference_id", w->reference_id) != NULL;
}

/* Waits for the customer's notification of kind about booking_id. */
static void assert_notified(const char *kind, const char *booking_id)
{
    char path[160], what[160];
    snprintf(path, sizeof(path), "/notifications?user_id=%s", fx.customer_id);
    snprintf(what, sizeof(what), "a '%s' notification for booking %s", kind, booking_id);
    json_t *reply = e2e_poll(E2E_NOTIFICATION, path, has_note,
                             &(struct note_want){kind, booking_id}, SAGA_WAIT_MS, what);
    const json_t *n =
        e2e_find(json_object_get(reply, "notifications"), "kind", kind, "reference_id", booking_id);
    assert_string_equal(e2e_str(n, "user_id"), fx.customer_id);
    assert_string_equal(e2e_str(n, "channel"), "email");
    /* One notification per final booking. */
    size_t i, same = 0;
    const json_t *el;
    json_array_foreach(json_object_get(reply, "notifications"), i, el)
    {
        if (strcmp(e2e_str(el, "reference_id"), booking_id) == 0)
            same++;
    }
    assert_int_equal(same, 1);
    json_decref(reply);
}

/* True when history holds entries (status, event) in this relative order. */
static bool history_has(const json_t *booking, const char *const *pairs, size_t npairs)
{
    const json_t *history = json_object_get(booking, "history");
    size_t next = 0, i;
    const json_t *h;
    json_array_foreach(history, i, h)
    {
        if (next < npairs && strcmp(e2e_str(h, "status"), pairs[2 * next]) == 0 &&
            strcmp(e2e_str(h, "event"), pairs[2 * next + 1]) == 0 &&
            json_is_string(json_object_get(h, "at")))
            next++;
    }
    return next == npairs;
}

struct history_want {
    const char *const *pairs;
    size_t npairs;
};

static bool history_is(long status, const json_t *booking, const void *arg)
{
    const struct history_want *w = arg;
    return status == 200 && history_has(booking, w->pairs, w->npairs);
}

static void assert_history(const char *booking_id, const char *const *pairs, size_t npairs)
{
    char path[128], what[192];
    snprintf(path, sizeof(path), "/bookings/%s", booking_id);
    snprintf(what, sizeof(what), "booking %s's history to hold %zu expected entries in order",
             booking_id, npairs);
    json_decref(e2e_poll(E2E_BOOKING, path, history_is, &(struct history_want){pairs, npairs},
                         SAGA_WAIT_MS, what));
}

/* The id of the one outbox event of type in schema whose data member key is value. */
static void event_id(const char *schema, const char *type, const char *key, const char *value,
                     char out[E2E_ID_LEN])
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT id::text FROM %s.outbox WHERE type = $1 AND payload->'data'->>'%s' = $2",
             schema, key);
    json_t *rows = e2e_rows(sql, type, value);
    if (json_array_size(rows) != 1)
        fail_msg("expected exactly one %s with %s '%s' in %s.outbox, found %zu", type, key, value,
                 schema, json_array_size(rows));
    snprintf(out, E2E_ID_LEN, "%s", json_string_value(json_array_get(json_array_get(rows, 0), 0)));
    json_decref(rows);
}

static void assert_counts(const json_t *side, long long available, long long reserved,
                          long long sold, const char *what)
{
    if (e2e_int(side, "available") != available || e2e_int(side, "reserved") != reserved ||
        e2e_int(side, "sold") != sold)
        fail_msg("%s: expected {available %lld, reserved %lld, sold %lld}, got %s", what, available,
                 reserved, sold, e2e_dump(side));
}

/*
 * GET /stock/{offering}/movements, every page (following next_cursor): the
 * movements (new reference), oldest first.
 */
static json_t *movements_of(const char *offering_id)
{
    json_t *all = json_array();
    char path[256], cursor[32] = "";
    do {
        snprintf(path, sizeof(path), "/stock/%s/movements%s%s", offering_id,
                 cursor[0] ? "?cursor=" : "", cursor);
        long status;
        json_t *reply;
        e2e_get(E2E_INVENTORY, path, NULL, &status, &reply, NULL);
        json_t *next = json_object_get(reply, "next_cursor");
        if (status != 200 || strcmp(e2e_str(reply, "offering_id"), offering_id) != 0 ||
            !json_is_array(json_object_get(reply, "movements")) ||
            !(json_is_null(next) || json_is_string(next)))
            fail_msg("GET %s: expected 200 {offering_id, movements: […], next_cursor}, got %ld %s",
                     path, status, e2e_dump(reply));
        json_array_extend(all, json_object_get(reply, "movements"));
        snprintf(cursor, sizeof(cursor), "%s", json_is_string(next) ? json_string_value(next) : "");
        json_decref(reply);
    } while (cursor[0]);
    return all;
}

/* One movement: kind, quantity, booking, causing event, before and after. */
static void assert_movement(const json_t *m, const char *kind, long long quantity,
                            const char *booking_id, const char *caused_by,
                            const long long before[3], const long long after[3])
{
    if (!m)
        fail_msg("movement '%s' missing", kind);
    if (strcmp(e2e_str(m, "kind"), kind) != 0 || e2e_int(m, "quantity") != quantity ||
        strcmp(e2e_str(m, "booking_id"), booking_id) != 0 ||
        strcmp(e2e_str(m, "event_id"), caused_by) != 0 || !uuid7_is_valid(e2e_str(m, "id")) ||
        !json_is_string(json_object_get(m, "at")))
        fail_msg(
            "expected movement {kind '%s', quantity %lld, booking_id %s, event_id %s, id, at}, "
            "got %s",
            kind, quantity, booking_id, caused_by, e2e_dump(m));
    assert_counts(json_object_get(m, "before"), before[0], before[1], before[2], "movement before");
    assert_counts(json_object_get(m, "after"), after[0], after[1], after[2], "movement after");
}

/* ------------------------------------------------------------------ tests */

/* Capacity 100, 5 booked at 1000: confirmed, 95 left and 5 sold, paid 5000, notified, audited. */
static void test_booking_within_stock_and_limit_is_confirmed_paid_and_notified(void **state)
{
    (void)state;
    char off[E2E_ID_LEN], bk[E2E_ID_LEN];
    offering(1000, 100, off);
    book(off, 5, NULL, 5000, bk);

    json_t *b = booking_until(bk, "confirmed");
    assert_string_equal(e2e_str(b, "id"), bk);
    assert_string_equal(e2e_str(b, "user_id"), fx.customer_id);
    assert_string_equal(e2e_str(b, "offering_id"), off);
    assert_int_equal(e2e_int(b, "quantity"), 5);
    assert_int_equal(e2e_int(b, "amount_cents"), 5000);
    assert_null(json_object_get(b, "reason"));
    json_decref(b);

    assert_stock(off, 100, 95, 0, 5);

    json_t *p = payments_of(bk);
    if (json_array_size(p) != 1)
        fail_msg("expected one payment for booking %s, got %s", bk, e2e_dump(p));
    const json_t *pay = json_array_get(p, 0);
    assert_string_equal(e2e_str(pay, "status"), "succeeded");
    assert_string_equal(e2e_str(pay, "booking_id"), bk);
    assert_int_equal(e2e_int(pay, "amount_cents"), 5000);
    assert_true(uuid7_is_valid(e2e_str(pay, "id")));
    json_decref(p);

    assert_notified("booking_confirmed", bk);
    static const char *const pairs[] = {
        "pending",   "booking.booking.created",        "confirmed", "inventory.stock.debited",
        "confirmed", "notification.notification.sent",
    };
    assert_history(bk, pairs, 3);

    char created[E2E_ID_LEN], succeeded[E2E_ID_LEN];
    event_id("booking", "booking.booking.created", "booking_id", bk, created);
    event_id("payment", "payment.payment.succeeded", "booking_id", bk, succeeded);
    json_t *m = movements_of(off);
    if (json_array_size(m) != 2)
        fail_msg("expected movements reserve then sale, got %s", e2e_dump(m));
    assert_movement(json_array_get(m, 0), "reserve", 5, bk, created, (long long[]){100, 0, 0},
                    (long long[]){95, 5, 0});
    assert_movement(json_array_get(m, 1), "sale", 5, bk, succeeded, (long long[]){95, 5, 0},
                    (long long[]){95, 0, 5});
    json_decref(m);
}

/* 11 of 10: rejected for insufficient stock; stock untouched, nothing charged, notified. */
static void test_booking_over_capacity_is_rejected_without_stock_change_or_payment(void **state)
{
    (void)state;
    char off[E2E_ID_LEN], bk[E2E_ID_LEN];
    offering(1000, 10, off);
    book(off, 11, NULL, 11000, bk);

    json_t *b = booking_until(bk, "rejected");
    assert_string_equal(e2e_str(b, "reason"), "insufficient_stock");
    json_decref(b);
    static const char *const pairs[] = {
        "pending",
        "booking.booking.created",
        "rejected",
        "inventory.stock.reservation_failed",
    };
    assert_history(bk, pairs, 2);
    assert_notified("booking_rejected", bk);
    assert_stock(off, 10, 10, 0, 0);
    json_t *p = payments_of(bk);
    if (json_array_size(p) != 0)
        fail_msg("a rejected booking was charged: %s", e2e_dump(p));
    json_decref(p);
    json_t *m = movements_of(off);
    if (json_array_size(m) != 0)
        fail_msg("a failed reservation left movements: %s", e2e_dump(m));
    json_decref(m);
}

/* 3 × 50000 = 150000 above the 100000 limit: declined, the reservation released, cancelled. */
static void test_declined_payment_cancels_booking_and_releases_stock(void **state)
{
    (void)state;
    char off[E2E_ID_LEN], bk[E2E_ID_LEN];
    offering(50000, 10, off);
    book(off, 3, NULL, 150000, bk);
    assert_true(150000 > PAYMENT_LIMIT_CENTS);

    json_t *b = booking_until(bk, "cancelled");
    assert_string_equal(e2e_str(b, "reason"), "payment_declined");
    json_decref(b);
    static const char *const pairs[] = {
        "pending",
        "booking.booking.created",
        "cancelled",
        "payment.payment.failed",
    };
    assert_history(bk, pairs, 2);
    /* The compensation is a fact in the history too (before or after the cancellation). */
    char path[128];
    snprintf(path, sizeof(path), "/bookings/%s", bk);
    struct history_want rel_c = {(const char *const[]){"cancelled", "inventory.stock.released"}, 1};
    struct history_want rel_p = {(const char *const[]){"pending", "inventory.stock.released"}, 1};
    int64_t deadline = testlib_now_ms() + SAGA_WAIT_MS;
    for (;;) {
        long status;
        json_t *cur;
        e2e_get(E2E_BOOKING, path, NULL, &status, &cur, NULL);
        bool ok = history_is(status, cur, &rel_c) || history_is(status, cur, &rel_p);
        if (ok) {
            json_decref(cur);
            break;
        }
        if (testlib_now_ms() > deadline)
            fail_msg("waited %d ms for booking %s's history to hold inventory.stock.released: %s",
                     SAGA_WAIT_MS, bk, e2e_dump(cur));
        json_decref(cur);
        testlib_sleep_ms(50);
    }

    assert_notified("booking_cancelled", bk);
    /* The release may land a moment after booking's cancellation: poll the stock. */
    e2e_wait_handled(E2E_BOOKING, "inventory.stock.released", "booking_id", bk, SAGA_WAIT_MS);
    assert_stock(off, 10, 10, 0, 0);

    json_t *p = payments_of(bk);
    if (json_array_size(p) != 1)
        fail_msg("expected one payment for booking %s, got %s", bk, e2e_dump(p));
    const json_t *pay = json_array_get(p, 0);
    assert_string_equal(e2e_str(pay, "status"), "failed");
    assert_string_equal(e2e_str(pay, "reason"), "limit_exceeded");
    assert_int_equal(e2e_int(pay, "amount_cents"), 150000);
    json_decref(p);

    char created[E2E_ID_LEN], failed[E2E_ID_LEN];
    event_id("booking", "booking.booking.created", "booking_id", bk, created);
    event_id("payment", "payment.payment.failed", "booking_id", bk, failed);
    json_t *m = movements_of(off);
    if (json_array_size(m) != 2)
        fail_msg("expected movements reserve then release, got %s", e2e_dump(m));
    assert_movement(json_array_get(m, 0), "reserve", 3, bk, created, (long long[]){10, 0, 0},
                    (long long[]){7, 3, 0});
    assert_movement(json_array_get(m, 1), "release", 3, bk, failed, (long long[]){7, 3, 0},
                    (long long[]){10, 0, 0});
    json_decref(m);
}

static void expect_booking_refused(const char *body, long want, const char *error, const char *what)
{
    long status;
    json_t *reply;
    e2e_post(E2E_BOOKING, "/bookings", body, NULL, &status, &reply, NULL);
    if (status != want)
        fail_msg("POST /bookings with %s (%s): status %ld, expected %ld: %s", what, body, status,
                 want, e2e_dump(reply));
    e2e_assert_error_body(reply, error, what);
    json_decref(reply);
}

/* An offering booking never heard of is a 409; malformed input 400; out of bounds 422. */
static void test_unknown_offering_and_bad_booking_input_are_refused(void **state)
{
    (void)state;
    char off[E2E_ID_LEN], unknown[E2E_ID_LEN], body[512];
    offering(1000, 10, off);
    e2e_new_uuid(unknown);
    int64_t outbox = e2e_count("SELECT count(*) FROM booking.outbox", NULL, NULL);

    snprintf(body, sizeof(body), "{\"user_id\": \"%s\", \"offering_id\": \"%s\", \"quantity\": 1}",
             fx.customer_id, unknown);
    expect_booking_refused(body, 409, "conflict", "an unknown offering");

    static const struct {
        const char *quantity; /* JSON text */
        long status;
        const char *error;
        const char *what;
    } q[] = {
        {"0", 422, "unprocessable", "quantity 0"},
        {"1001", 422, "unprocessable", "quantity 1001"},
        {"-1", 422, "unprocessable", "quantity -1"},
        {"\"5\"", 400, "invalid", "quantity as a string"},
        {"2.5", 400, "invalid", "a fractional quantity"},
    };
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        snprintf(body, sizeof(body),
                 "{\"user_id\": \"%s\", \"offering_id\": \"%s\", \"quantity\": %s}", fx.customer_id,
                 off, q[i].quantity);
        expect_booking_refused(body, q[i].status, q[i].error, q[i].what);
    }
    snprintf(body, sizeof(body), "{\"offering_id\": \"%s\", \"quantity\": 1}", off);
    expect_booking_refused(body, 400, "invalid", "missing user_id");
    snprintf(body, sizeof(body), "{\"user_id\": \"%s\", \"quantity\": 1}", fx.customer_id);
    expect_booking_refused(body, 400, "invalid", "missing offering_id");
    snprintf(body, sizeof(body), "{\"user_id\": \"%s\", \"offering_id\": \"%s\"}", fx.customer_id,
             off);
    expect_booking_refused(body, 400, "invalid", "missing quantity");
    snprintf(body, sizeof(body),
             "{\"user_id\": \"nope\", \"offering_id\": \"%s\", \"quantity\": 1}", off);
    expect_booking_refused(body, 400, "invalid", "a user_id that is not a UUID");
    expect_booking_refused("{\"user_id\": ", 400, "invalid", "invalid JSON");

    long status;
    json_t *reply;
    e2e_get(E2E_BOOKING, "/bookings/not-a-uuid", NULL, &status, &reply, NULL);
    assert_int_equal(status, 400);
    e2e_assert_error_body(reply, "invalid", "GET /bookings/not-a-uuid");
    json_decref(reply);
    char path[128];
    snprintf(path, sizeof(path), "/bookings/%s", unknown);
    e2e_get(E2E_BOOKING, path, NULL, &status, &reply, NULL);
    assert_int_equal(status, 404);
    e2e_assert_error_body(reply, "not_found", "GET /bookings/<unknown>");
    json_decref(reply);
    snprintf(path, sizeof(path), "/stock/%s", unknown);
    e2e_get(E2E_INVENTORY, path, NULL, &status, &reply, NULL);
    assert_int_equal(status, 404);
    json_decref(reply);
    e2e_get(E2E_PAYMENT, "/payments", NULL, &status, &reply, NULL);
    assert_int_equal(status, 400);
    json_decref(reply);
    e2e_get(E2E_PAYMENT, "/payments?booking_id=nope", NULL, &status, &reply, NULL);
    assert_int_equal(status, 400);
    json_decref(reply);
    e2e_get(E2E_NOTIFICATION, "/notifications?user_id=nope", NULL, &status, &reply, NULL);
    assert_int_equal(status, 400);
    json_decref(reply);

    assert_int_equal(e2e_count("SELECT count(*) FROM booking.outbox", NULL, NULL), outbox);
    assert_stock(off, 10, 10, 0, 0);
}

/* ------------------------------------------------------------ concurrency */

#define CONC_THREADS    10
#define CONC_PER_THREAD 10
#define CONC_TOTAL      (CONC_THREADS * CONC_PER_THREAD)
#define CONC_CAPACITY   60

struct conc_worker {
    pthread_t thread;
    const char *offering_id;
    char ids[CONC_PER_THREAD][E2E_ID_LEN];
    char error[512]; /* the first failure, "" when none */
};

static void *conc_run(void *arg)
{
    struct conc_worker *w = arg;
    char body[256];
    snprintf(body, sizeof(body), "{\"user_id\": \"%s\", \"offering_id\": \"%s\", \"quantity\": 1}",
             fx.customer_id, w->offering_id);
    for (int i = 0; i < CONC_PER_THREAD && !w->error[0]; i++) {
        long status;
        json_t *reply;
        char errbuf[256];
        if (e2e_http("POST", E2E_BOOKING, "/bookings", body, strlen(body), NULL, &status, &reply,
                     NULL, errbuf) != 0) {
            snprintf(w->error, sizeof(w->error), "%s", errbuf);
            break;
        }
        const char *id = e2e_str(reply, "id");
        if (status != 202 || !uuid7_is_valid(id)) {
            char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
            snprintf(w->error, sizeof(w->error), "POST /bookings: status %ld, expected 202: %s",
                     status, text ? text : "(no JSON)");
            free(text);
        } else {
            snprintf(w->ids[i], E2E_ID_LEN, "%s", id);
        }
        json_decref(reply);
    }
    return NULL;
}

/* 100 single-unit bookings at once for 60 units: exactly 60 sold, never oversold. */
static void test_concurrent_bookings_never_oversell(void **state)
{
    (void)state;
    char off[E2E_ID_LEN];
    offering(1000, CONC_CAPACITY, off);

    static struct conc_worker workers[CONC_THREADS];
    memset(workers, 0, sizeof(workers));
    for (int t = 0; t < CONC_THREADS; t++) {
        workers[t].offering_id = off;
        assert_int_equal(pthread_create(&workers[t].thread, NULL, conc_run, &workers[t]), 0);
    }
    for (int t = 0; t < CONC_THREADS; t++)
        pthread_join(workers[t].thread, NULL);
    for (int t = 0; t < CONC_THREADS; t++)
        if (workers[t].error[0])
            fail_msg("concurrent booking thread %d: %s", t, workers[t].error);

    /* Wait until every booking reached a final state. */
    static char status_of[CONC_TOTAL][16];
    memset(status_of, 0, sizeof(status_of));
    int final = 0;
    int64_t deadline = testlib_now_ms() + 60000;
    while (final < CONC_TOTAL) {
        for (int k = 0; k < CONC_TOTAL; k++) {
            if (status_of[k][0] && strcmp(status_of[k], "pending") != 0)
                continue;
            char path[128];
            snprintf(path, sizeof(path), "/bookings/%s",
                     workers[k / CONC_PER_THREAD].ids[k % CONC_PER_THREAD]);
            long status;
            json_t *b;
            e2e_get(E2E_BOOKING, path, NULL, &status, &b, NULL);
            if (status != 200)
                fail_msg("GET %s: status %ld: %s", path, status, e2e_dump(b));
            snprintf(status_of[k], sizeof(status_of[k]), "%s", e2e_str(b, "status"));
            if (strcmp(status_of[k], "pending") != 0)
                final++;
            json_decref(b);
        }
        if (final < CONC_TOTAL) {
            if (testlib_now_ms() > deadline)
                fail_msg("waited 60000 ms for all %d bookings to be final: %d are", CONC_TOTAL,
                         final);
            testlib_sleep_ms(100);
        }
    }
    int confirmed = 0, rejected = 0;
    for (int k = 0; k < CONC_TOTAL; k++) {
        if (strcmp(status_of[k], "confirmed") == 0)
            confirmed++;
        else if (strcmp(status_of[k], "rejected") == 0)
            rejected++;
        else
            fail_msg("booking %s ended '%s'", workers[k / CONC_PER_THREAD].ids[k % CONC_PER_THREAD],
                     status_of[k]);
    }
    assert_int_equal(confirmed, CONC_CAPACITY);
    assert_int_equal(rejected, CONC_TOTAL - CONC_CAPACITY);
    assert_stock(off, CONC_CAPACITY, 0, 0, CONC_CAPACITY);

    /* One succeeded payment per confirmed booking, none for the rejected ones. */
    int succeeded = 0;
    for (int k = 0; k < CONC_TOTAL; k++) {
        const char *id = workers[k / CONC_PER_THREAD].ids[k % CONC_PER_THREAD];
        json_t *p = payments_of(id);
        bool is_confirmed = strcmp(status_of[k], "confirmed") == 0;
        if (json_array_size(p) != (is_confirmed ? 1u : 0u))
            fail_msg("booking %s (%s) has payments %s", id, status_of[k], e2e_dump(p));
        if (is_confirmed && strcmp(e2e_str(json_array_get(p, 0), "status"), "succeeded") == 0)
            succeeded++;
        json_decref(p);
    }
    assert_int_equal(succeeded, CONC_CAPACITY);

    /* One notification per booking, each of the matching kind. */
    char path[160];
    snprintf(path, sizeof(path), "/notifications?user_id=%s", fx.customer_id);
    json_t *notes = NULL;
    deadline = testlib_now_ms() + SAGA_WAIT_MS;
    for (;;) {
        long status;
        json_decref(notes);
        e2e_get(E2E_NOTIFICATION, path, NULL, &status, &notes, NULL);
        size_t n = json_array_size(json_object_get(notes, "notifications"));
        if (status == 200 && n >= CONC_TOTAL)
            break;
        if (testlib_now_ms() > deadline)
            fail_msg("waited %d ms for %d notifications: %zu so far", SAGA_WAIT_MS, CONC_TOTAL, n);
        testlib_sleep_ms(100);
    }
    const json_t *list = json_object_get(notes, "notifications");
    assert_int_equal(json_array_size(list), CONC_TOTAL);
    assert_int_equal(e2e_count_matching(list, "kind", "booking_confirmed"), CONC_CAPACITY);
    assert_int_equal(e2e_count_matching(list, "kind", "booking_rejected"),
                     CONC_TOTAL - CONC_CAPACITY);
    json_decref(notes);

    /* The audit trail adds up: 100 reserve attempts, 60 reserves and 60 sales, no release. */
    json_t *m = movements_of(off);
    assert_int_equal(e2e_count_matching(m, "kind", "reserve"), CONC_CAPACITY);
    assert_int_equal(e2e_count_matching(m, "kind", "sale"), CONC_CAPACITY);
    assert_int_equal(e2e_count_matching(m, "kind", "release"), 0);
    /* Invariant after every movement: capacity = available + reserved + sold, none negative. */
    size_t i;
    const json_t *mv;
    json_array_foreach(m, i, mv)
    {
        const json_t *a = json_object_get(mv, "after");
        int64_t av = e2e_int(a, "available"), re = e2e_int(a, "reserved"), so = e2e_int(a, "sold");
        if (av < 0 || re < 0 || so < 0 || av + re + so != CONC_CAPACITY)
            fail_msg("movement breaks capacity = available + reserved + sold: %s", e2e_dump(mv));
    }
    json_decref(m);
}

/* ------------------------------------------------------------- reordering */

/* A message read off a queue, kept to be published again. */
struct kept {
    struct bus_delivery d;
    bool used;
};

static void republish(struct bus *pub, const struct bus_delivery *d, const char *queue)
{
    struct bus_header headers[BUS_HEADERS_MAX];
    for (size_t i = 0; i < d->nheaders; i++)
        headers[i] = (struct bus_header){.key = d->headers[i].key,
                                         .value = d->headers[i].value,
                                         .int_value = d->headers[i].int_value,
                                         .is_int = d->headers[i].is_int};
    struct bus_message m = {
        .exchange = "",
        .routing_key = queue,
        .body = d->body,
        .len = d->len,
        .content_type = d->content_type[0] ? d->content_type : NULL,
        .message_id = d->message_id,
        .type = d->type[0] ? d->type : NULL,
        .correlation_id = d->correlation_id[0] ? d->correlation_id : NULL,
        .app_id = d->app_id[0] ? d->app_id : NULL,
        .timestamp = d->timestamp,
        .headers = d->nheaders ? headers : NULL,
        .nheaders = d->nheaders,
        .mandatory = 1,
    };
    struct err err;
    err_clear(&err);
    if (bus_publish_sync(pub, &m, 5000, &err) != 0)
        fail_msg("republishing %s to '%s': %s", d->type, queue, err.msg);
}

/* The event type of a delivery (AMQP type, else the CloudEvent's) and its data.booking_id. */
static void delivery_facts(const struct bus_delivery *d, char *type, size_t tlen, char *booking,
                           size_t blen)
{
    json_t *ev = json_loads(d->body, 0, NULL);
    snprintf(type, tlen, "%s", d->type[0] ? d->type : e2e_str(ev, "type"));
    snprintf(booking, blen, "%s", e2e_str(json_object_get(ev, "data"), "booking_id"));
    json_decref(ev);
}

/* Connects a publisher with confirms to the test's broker; bus_free it. */
static struct bus *publisher(void)
{
    struct err err;
    err_clear(&err);
    struct bus *pub = bus_new(&(struct bus_config){.url = e2e_amqp_url(), .confirms = 1});
    assert_non_null(pub);
    if (bus_connect(pub, &err) != 0)
        fail_msg("connecting the publisher: %s", err.msg);
    return pub;
}

/*
 * Takes booking.booking.created and inventory.stock.reserved of each of the n
 * bookings off payment.events into created[i] and reserved[i] (release them),
 * and puts every other message back. payment must be stopped: nobody else
 * consumes that queue then.
 */
static void take_payment_events(const char *const *bookings, size_t n, struct bus_delivery *created,
                                struct bus_delivery *reserved)
{
    struct err err;
    err_clear(&err);
    struct bus *sub = bus_new(&(struct bus_config){.url = e2e_amqp_url(), .prefetch = 256});
    assert_non_null(sub);
    if (bus_connect(sub, &err) != 0 || bus_consume(sub, "payment.events", &err) != 0)
        fail_msg("consuming payment.events: %s", err.msg);
    memset(created, 0, n * sizeof(*created));
    memset(reserved, 0, n * sizeof(*reserved));
    static struct kept others[64];
    int nothers = 0;
    size_t taken = 0;
    int64_t deadline = testlib_now_ms() + SAGA_WAIT_MS;
    while (taken < 2 * n) {
        if (testlib_now_ms() > deadline)
            fail_msg("waited %d ms for booking.booking.created and inventory.stock.reserved of %zu "
                     "booking(s) (first %s) in payment.events: %zu of %zu seen",
                     SAGA_WAIT_MS, n, bookings[0], taken, 2 * n);
        struct bus_delivery d;
        memset(&d, 0, sizeof(d));
        int got = bus_next(sub, &d, 200, &err);
        if (got < 0)
            fail_msg("reading payment.events: %s", err.msg);
        if (got == 0)
            continue;
        char type[BUS_ID_LEN], booking[64];
        delivery_facts(&d, type, sizeof(type), booking, sizeof(booking));
        if (bus_ack(sub, d.tag, 0, &err) != 0)
            fail_msg("ack on payment.events: %s", err.msg);
        struct bus_delivery *slot = NULL;
        for (size_t i = 0; i < n && !slot; i++) {
            if (strcmp(booking, bookings[i]) != 0)
                continue;
            if (strcmp(type, "booking.booking.created") == 0 && !created[i].body)
                slot = &created[i];
            else if (strcmp(type, "inventory.stock.reserved") == 0 && !reserved[i].body)
                slot = &reserved[i];
        }
        if (slot) {
            *slot = d;
            taken++;
        } else if (nothers < (int)(sizeof(others) / sizeof(others[0]))) {
            others[nothers++].d = d;
        } else {
            fail_msg("more than %d unrelated messages in payment.events", nothers);
        }
    }
    /* Close the reader first, so nothing published next comes back to it. */
    bus_free(sub);
    struct bus *pub = publisher();
    for (int i = 0; i < nothers; i++) {
        republish(pub, &others[i].d, "payment.events");
        bus_delivery_release(&others[i].d);
    }
    bus_free(pub);
}

/*
 * payment gets inventory.stock.reserved before booking.booking.created: it
 * records the reservation, charges when the intent arrives (the join), and
 * the booking is confirmed, without a retry.
 */
static void test_reservation_before_booking_created_still_confirms(void **state)
{
    (void)state;
    char off[E2E_ID_LEN], bk[E2E_ID_LEN];
    offering(1000, 10, off);

    e2e_stop(E2E_PAYMENT);
    book(off, 2, NULL, 2000, bk);
    const char *const bookings[] = {bk};
    struct bus_delivery created, reserved;
    take_payment_events(bookings, 1, &created, &reserved);
    struct bus *pub = publisher();
    republish(pub, &reserved, "payment.events");
    republish(pub, &created, "payment.events");
    bus_free(pub);
    char reserved_id[BUS_ID_LEN];
    snprintf(reserved_id, sizeof(reserved_id), "%s", reserved.message_id);
    bus_delivery_release(&created);
    bus_delivery_release(&reserved);

    e2e_start(E2E_PAYMENT);
    json_decref(booking_until(bk, "confirmed"));
    assert_stock(off, 10, 8, 0, 2);
    json_t *p = payments_of(bk);
    assert_int_equal(json_array_size(p), 1);
    assert_string_equal(e2e_str(json_array_get(p, 0), "status"), "succeeded");
    json_decref(p);

    /* payment saw the reservation first and handled it once: no retry (SPEC §4 Ordering). */
    char attempts[16], status[32];
    e2e_value("SELECT attempts::text FROM payment.inbox WHERE id = $1::uuid", reserved_id, NULL,
              attempts, sizeof(attempts));
    e2e_value("SELECT status FROM payment.inbox WHERE id = $1::uuid", reserved_id, NULL, status,
              sizeof(status));
    assert_string_equal(status, "processed");
    if (strcmp(attempts, "1") != 0)
        fail_msg("payment.inbox row of inventory.stock.reserved %s has attempts '%s', expected 1 "
                 "(it arrived before its booking.booking.created, which must not cost a retry)",
                 reserved_id, attempts);
    assert_notified("booking_confirmed", bk);
}

#define JOIN_CHARGE_MS 500 /* the charge follows the second half at once, not after a backoff */

/* The sum of every sample of metric `name` in payment's GET /metrics (0 when absent). */
static long long payment_metric(const char *name)
{
    long status;
    char *text = NULL, errbuf[256];
    if (e2e_http_port(e2e_port(E2E_PAYMENT), "GET", "/metrics", NULL, 0, NULL, 5000, &status, &text,
                      NULL, errbuf) != E2E_HTTP_ANSWERED ||
        status != 200)
        fail_msg("GET /metrics on payment failed: %s", errbuf);
    long long sum = 0;
    size_t len = strlen(name);
    for (const char *line = text; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, name, len) != 0 || (line[len] != ' ' && line[len] != '{'))
            continue;
        const char *value = strchr(line + len, ' ');
        sum += value ? strtoll(value + 1, NULL, 10) : 0;
    }
    free(text);
    return sum;
}

static const char *const PAYMENT_EVENTS_OF_BOOKING =
    "SELECT count(*) FROM payment.outbox WHERE type LIKE 'payment.payment.%'"
    " AND payload->'data'->>'booking_id' = $1";

/*
 * Gives payment `first` and waits until it is handled (no charge yet), then
 * `second`, and checks the charge follows within JOIN_CHARGE_MS.
 */
static void join_in_order(struct bus *pub, const struct bus_delivery *first,
                          const struct bus_delivery *second, const char *booking_id)
{
    char type[BUS_ID_LEN], booking[64];
    delivery_facts(first, type, sizeof(type), booking, sizeof(booking));
    republish(pub, first, "payment.events");
    e2e_wait_handled(E2E_PAYMENT, type, "booking_id", booking_id, SAGA_WAIT_MS);
    if (e2e_count(PAYMENT_EVENTS_OF_BOOKING, booking_id, NULL) != 0)
        fail_msg("payment charged booking %s on %s alone", booking_id, type);

    int64_t t0 = testlib_now_ms();
    republish(pub, second, "payment.events");
    int64_t n;
    while ((n = e2e_count(PAYMENT_EVENTS_OF_BOOKING, booking_id, NULL)) == 0 &&
           testlib_now_ms() - t0 < SAGA_WAIT_MS)
        testlib_sleep_ms(5);
    int64_t took = testlib_now_ms() - t0;
    if (n != 1)
        fail_msg("booking %s: %lld payment.payment.* events after its second half, expected 1",
                 booking_id, (long long)n);
    if (took > JOIN_CHARGE_MS)
        fail_msg("booking %s (%s first): charged %lld ms after the second half, expected at most "
                 "%d (a retry's backoff?)",
                 booking_id, type, (long long)took, JOIN_CHARGE_MS);
}

/*
 * SPEC §1 step 4 and §4 Ordering: booking.booking.created and
 * inventory.stock.reserved reach payment in either order; whichever comes
 * second charges at once, exactly once, and nothing is retried. Copies of
 * both (the same ids) change nothing.
 */
static void test_payment_charges_once_when_its_two_events_meet_in_either_order(void **state)
{
    (void)state;
    char off[E2E_ID_LEN], a[E2E_ID_LEN], b[E2E_ID_LEN];
    offering(1000, 10, off);
    e2e_stop(E2E_PAYMENT);
    book(off, 1, NULL, 1000, a);
    book(off, 2, NULL, 2000, b);
    const char *const bookings[] = {a, b};
    struct bus_delivery created[2], reserved[2];
    take_payment_events(bookings, 2, created, reserved);
    e2e_start(E2E_PAYMENT);

    struct bus *pub = publisher();
    join_in_order(pub, &reserved[0], &created[0], a); /* reservation first */
    join_in_order(pub, &created[1], &reserved[1], b); /* intent first */

    long long dups = payment_metric("events_duplicates_total");
    for (int i = 0; i < 2; i++) {
        republish(pub, &created[i], "payment.events");
        republish(pub, &reserved[i], "payment.events");
    }
    int64_t deadline = testlib_now_ms() + SAGA_WAIT_MS;
    while (payment_metric("events_duplicates_total") < dups + 4 && testlib_now_ms() < deadline)
        testlib_sleep_ms(50);
    if (payment_metric("events_duplicates_total") < dups + 4)
        fail_msg("payment did not count the 4 copies as duplicates within %d ms", SAGA_WAIT_MS);
    bus_free(pub);

    for (int i = 0; i < 2; i++) {
        json_decref(booking_until(bookings[i], "confirmed"));
        json_t *p = payments_of(bookings[i]);
        assert_int_equal(json_array_size(p), 1);
        assert_string_equal(e2e_str(json_array_get(p, 0), "status"), "succeeded");
        json_decref(p);
        assert_int_equal(e2e_count(PAYMENT_EVENTS_OF_BOOKING, bookings[i], NULL), 1);
        assert_int_equal(
            e2e_count("SELECT count(*) FROM payment.payments WHERE booking_id = $1::uuid",
                      bookings[i], NULL),
            1);
        const struct bus_delivery *both[] = {&created[i], &reserved[i]};
        for (int k = 0; k < 2; k++) {
            char row[64];
            e2e_value("SELECT status || ' ' || attempts FROM payment.inbox WHERE id = $1::uuid",
                      both[k]->message_id, NULL, row, sizeof(row));
            if (strcmp(row, "processed 1") != 0)
                fail_msg("payment.inbox row of %s %s (booking %s) is '%s', expected 'processed 1'",
                         both[k]->type, both[k]->message_id, bookings[i], row);
        }
        bus_delivery_release(&created[i]);
        bus_delivery_release(&reserved[i]);
    }
    assert_int_equal(payment_metric("events_retried_total"), 0);
    assert_stock(off, 10, 7, 0, 3);
}

/* ------------------------------------------------------------ correlation */

/* Row of all_events: [schema, id, type, correlation_id, causation_id]. */
static const char *col(const json_t *row, size_t i)
{
    const json_t *v = json_array_get(row, i);
    return json_is_string(v) ? json_string_value(v) : "<null>";
}

static const json_t *one_of(const json_t *rows, const char *type)
{
    const json_t *found = NULL;
    size_t i, n = 0;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (strcmp(col(row, 2), type) == 0) {
            found = row;
            n++;
        }
    }
    if (n != 1)
        fail_msg("expected exactly one '%s' for the booking, found %zu among %s", type, n,
                 e2e_dump(rows));
    return found;
}

static void assert_caused_by(const json_t *row, const char *cause)
{
    if (strcmp(col(row, 4), cause) != 0)
        fail_msg("%s: causation_id '%s', expected '%s'", col(row, 2), col(row, 4), cause);
}

/* Every event of one booking carries the request's correlation id and names its cause. */
static void test_booking_events_share_the_request_correlation_and_name_their_cause(void **state)
{
    (void)state;
    char off[E2E_ID_LEN], bk[E2E_ID_LEN], cid[E2E_CID_LEN], uuid[E2E_ID_LEN];
    offering(1000, 10, off);
    e2e_new_uuid(uuid);
    snprintf(cid, sizeof(cid), "book-%s", uuid);
    book(off, 1, cid, 1000, bk);
    json_decref(booking_until(bk, "confirmed"));
    assert_notified("booking_confirmed", bk);
    /* booking records the sent notification: the last hop of the chain. */
    e2e_wait_handled(E2E_BOOKING, "notification.notification.sent", "reference_id", bk,
                     SAGA_WAIT_MS);
    const char *unsettled = e2e_settled_problem(10000);
    if (unsettled)
        fail_msg("the saga did not settle: %s", unsettled);

    char sql[2048] = "";
    static const char *const schemas[] = {"booking", "inventory", "payment", "notification"};
    for (size_t i = 0; i < 4; i++)
        snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
                 "%sSELECT '%s', id::text, type, correlation_id, causation_id FROM %s.outbox"
                 " WHERE payload->'data'->>'booking_id' = $1"
                 " OR payload->'data'->>'reference_id' = $1",
                 i ? " UNION ALL " : "", schemas[i], schemas[i]);
    json_t *rows = e2e_rows(sql, bk, NULL);
    assert_int_equal(json_array_size(rows), 6);
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (strcmp(col(row, 3), cid) != 0)
            fail_msg("%s in %s.outbox has correlation_id '%s', expected the request's '%s'",
                     col(row, 2), col(row, 0), col(row, 3), cid);
    }
    const json_t *created = one_of(rows, "booking.booking.created");
    const json_t *reserved = one_of(rows, "inventory.stock.reserved");
    const json_t *succeeded = one_of(rows, "payment.payment.succeeded");
    const json_t *debited = one_of(rows, "inventory.stock.debited");
    const json_t *confirmed = one_of(rows, "booking.booking.confirmed");
    const json_t *sent = one_of(rows, "notification.notification.sent");
    assert_caused_by(created, cid);
    assert_caused_by(reserved, col(created, 1));
    assert_caused_by(succeeded, col(reserved, 1));
    assert_caused_by(debited, col(succeeded, 1));
    assert_caused_by(confirmed, col(debited, 1));
    assert_caused_by(sent, col(confirmed, 1));

    /* Every inbox row of these events carries the same ids as the event. */
    char isql[2048] = "";
    for (int c = 0; c < E2E_NCTX; c++)
        snprintf(isql + strlen(isql), sizeof(isql) - strlen(isql),
                 "%sSELECT '%s', id::text, type, correlation_id, causation_id FROM %s.inbox"
                 " WHERE payload->'data'->>'booking_id' = $1"
                 " OR payload->'data'->>'reference_id' = $1",
                 c ? " UNION ALL " : "", e2e_ctx_name(c), e2e_ctx_name(c));
    json_t *in = e2e_rows(isql, bk, NULL);
    /* The deliveries the contract promises: who consumes which of the six events. */
    static const char *const deliveries[][2] = {
        {"inventory", "booking.booking.created"},
        {"payment", "booking.booking.created"},
        {"payment", "inventory.stock.reserved"},
        {"inventory", "payment.payment.succeeded"},
        {"booking", "inventory.stock.debited"},
        {"notification", "booking.booking.confirmed"},
        {"booking", "notification.notification.sent"},
    };
    for (size_t k = 0; k < sizeof(deliveries) / sizeof(deliveries[0]); k++) {
        bool seen = false;
        json_array_foreach(in, i, row)
        {
            if (strcmp(col(row, 0), deliveries[k][0]) == 0 &&
                strcmp(col(row, 2), deliveries[k][1]) == 0)
                seen = true;
        }
        if (!seen)
            fail_msg("no %s.inbox row for %s of booking %s: %s", deliveries[k][0], deliveries[k][1],
                     bk, e2e_dump(in));
    }
    json_array_foreach(in, i, row)
    {
        const json_t *src = NULL;
        size_t j;
        const json_t *o;
        json_array_foreach(rows, j, o)
        {
            if (strcmp(col(o, 1), col(row, 1)) == 0)
                src = o;
        }
        if (!src)
            fail_msg("%s.inbox row %s has no outbox event of the booking", col(row, 0),
                     e2e_dump(row));
        if (strcmp(col(row, 3), col(src, 3)) != 0 || strcmp(col(row, 4), col(src, 4)) != 0)
            fail_msg("%s.inbox row %s differs from its event %s", col(row, 0), e2e_dump(row),
                     e2e_dump(src));
    }
    json_decref(in);
    json_decref(rows);
}

/*
 * SPEC §1, the deadline: payment is down, so the booking stays pending past
 * BOOKING_TIMEOUT_MS and expires: booking.booking.expired, the reservation
 * released (a 'release' movement caused by it), the customer told. Payment
 * then comes back and finds, in its queue, the intent, the reservation and
 * the expiry: whichever order it handles them in, no money is kept (voided,
 * or charged and refunded with payment.payment.refunded), the late
 * payment.payment.succeeded sells nothing, and the booking stays expired.
 */
static void test_pending_booking_expires_releases_stock_and_keeps_no_money(void **state)
{
    (void)state;
    char off[E2E_ID_LEN], bk[E2E_ID_LEN];
    offering(1000, 10, off);
    e2e_stop(E2E_PAYMENT);
    book(off, 2, NULL, 2000, bk);
    e2e_wait_handled(E2E_INVENTORY, "booking.booking.created", "booking_id", bk, SAGA_WAIT_MS);
    assert_stock(off, 10, 8, 2, 0);

    json_t *b = booking_until(bk, "expired");
    assert_null(json_object_get(b, "reason"));
    json_decref(b);
    static const char *const pairs[] = {
        "pending",
        "booking.booking.created",
        "expired",
        "booking.booking.expired",
    };
    assert_history(bk, pairs, 2);
    assert_notified("booking_expired", bk);
    e2e_wait_handled(E2E_INVENTORY, "booking.booking.expired", "booking_id", bk, SAGA_WAIT_MS);
    assert_stock(off, 10, 10, 0, 0);
    char created[E2E_ID_LEN], expired[E2E_ID_LEN];
    event_id("booking", "booking.booking.created", "booking_id", bk, created);
    event_id("booking", "booking.booking.expired", "booking_id", bk, expired);
    json_t *m = movements_of(off);
    if (json_array_size(m) != 2)
        fail_msg("expected movements reserve then release, got %s", e2e_dump(m));
    assert_movement(json_array_get(m, 0), "reserve", 2, bk, created, (long long[]){10, 0, 0},
                    (long long[]){8, 2, 0});
    assert_movement(json_array_get(m, 1), "release", 2, bk, expired, (long long[]){8, 2, 0},
                    (long long[]){10, 0, 0});
    json_decref(m);

    /* Payment comes back to three events in its queue. */
    e2e_start(E2E_PAYMENT);
    e2e_wait_handled(E2E_PAYMENT, "booking.booking.created", "booking_id", bk, SAGA_WAIT_MS);
    e2e_wait_handled(E2E_PAYMENT, "inventory.stock.reserved", "booking_id", bk, SAGA_WAIT_MS);
    e2e_wait_handled(E2E_PAYMENT, "booking.booking.expired", "booking_id", bk, SAGA_WAIT_MS);
    json_t *p = payments_of(bk);
    if (json_array_size(p) != 1)
        fail_msg("expected one payment for booking %s, got %s", bk, e2e_dump(p));
    const char *st = e2e_str(json_array_get(p, 0), "status");
    if (strcmp(st, "voided") != 0 && strcmp(st, "refunded") != 0)
        fail_msg("expected the payment of expired booking %s voided or refunded, got %s", bk,
                 e2e_dump(p));
    bool refunded = strcmp(st, "refunded") == 0;
    json_decref(p);
    int64_t refunds = e2e_count("SELECT count(*) FROM payment.outbox WHERE type = $1"
                                " AND payload->'data'->>'booking_id' = $2",
                                "payment.payment.refunded", bk);
    assert_int_equal(refunds, refunded ? 1 : 0);
    if (refunded) {
        /* The late charge reached inventory and booking: neither sold nor confirmed anything. */
        e2e_wait_handled(E2E_INVENTORY, "payment.payment.succeeded", "booking_id", bk,
                         SAGA_WAIT_MS);
        e2e_wait_handled(E2E_BOOKING, "payment.payment.refunded", "booking_id", bk, SAGA_WAIT_MS);
    }
    assert_stock(off, 10, 10, 0, 0);
    json_t *after = movements_of(off);
    assert_int_equal(json_array_size(after), 2);
    json_decref(after);
    json_decref(booking_until(bk, "expired"));
}

/*
 * Takes the one message of type about booking off queue into *out (release
 * it) and puts every other message back. The queue's consumer must be
 * stopped: nobody else reads it then.
 */
static void take_one(const char *queue, const char *type, const char *booking,
                     struct bus_delivery *out)
{
    struct err err;
    err_clear(&err);
    struct bus *sub = bus_new(&(struct bus_config){.url = e2e_amqp_url(), .prefetch = 256});
    assert_non_null(sub);
    if (bus_connect(sub, &err) != 0 || bus_consume(sub, queue, &err) != 0)
        fail_msg("consuming %s: %s", queue, err.msg);
    static struct kept others[64];
    int nothers = 0;
    memset(out, 0, sizeof(*out));
    int64_t deadline = testlib_now_ms() + SAGA_WAIT_MS;
    while (!out->body) {
        if (testlib_now_ms() > deadline)
            fail_msg("waited %d ms for %s of booking %s in %s", SAGA_WAIT_MS, type, booking, queue);
        struct bus_delivery d;
        memset(&d, 0, sizeof(d));
        int got = bus_next(sub, &d, 200, &err);
        if (got < 0)
            fail_msg("reading %s: %s", queue, err.msg);
        if (got == 0)
            continue;
        char t[BUS_ID_LEN], b[64];
        delivery_facts(&d, t, sizeof(t), b, sizeof(b));
        if (bus_ack(sub, d.tag, 0, &err) != 0)
            fail_msg("ack on %s: %s", queue, err.msg);
        if (strcmp(t, type) == 0 && strcmp(b, booking) == 0)
            *out = d;
        else if (nothers < (int)(sizeof(others) / sizeof(others[0])))
            others[nothers++].d = d;
        else
            fail_msg("more than %d unrelated messages in %s", nothers, queue);
    }
    bus_free(sub);
    struct bus *pub = publisher();
    for (int i = 0; i < nothers; i++) {
        republish(pub, &others[i].d, queue);
        bus_delivery_release(&others[i].d);
    }
    bus_free(pub);
}

/*
 * The deadline passes after the sale: booking is down while inventory sells
 * the reservation, and its inventory.stock.debited is held back. booking
 * comes back and expires the booking; inventory returns the sale (a 'return'
 * movement), payment refunds the charge (payment.payment.refunded, in the
 * booking's history); the held-back debit then arrives late and is
 * acknowledged without effect: the booking stays expired, nothing is dead.
 */
static void test_booking_expiring_after_its_sale_returns_stock_and_refunds(void **state)
{
    (void)state;
    char off[E2E_ID_LEN], bk[E2E_ID_LEN];
    offering(1000, 10, off);
    /* Payment waits until booking is down, so the booking is still pending when booking stops. */
    e2e_stop(E2E_PAYMENT);
    book(off, 2, NULL, 2000, bk);
    e2e_wait_handled(E2E_INVENTORY, "booking.booking.created", "booking_id", bk, SAGA_WAIT_MS);
    e2e_stop(E2E_BOOKING);
    json_t *still = e2e_rows("SELECT status FROM booking.bookings WHERE id = $1::uuid", bk, NULL);
    assert_string_equal(json_string_value(json_array_get(json_array_get(still, 0), 0)), "pending");
    json_decref(still);
    e2e_start(E2E_PAYMENT);
    e2e_wait_handled(E2E_INVENTORY, "payment.payment.succeeded", "booking_id", bk, SAGA_WAIT_MS);
    assert_stock(off, 10, 8, 0, 2);
    struct bus_delivery debited;
    take_one("booking.events", "inventory.stock.debited", bk, &debited);
    testlib_sleep_ms(atoi(DEADLINE_MS)); /* the deadline has passed, whenever booking started */

    e2e_start(E2E_BOOKING);
    json_decref(booking_until(bk, "expired"));
    e2e_wait_handled(E2E_INVENTORY, "booking.booking.expired", "booking_id", bk, SAGA_WAIT_MS);
    assert_stock(off, 10, 10, 0, 0);
    char expired[E2E_ID_LEN];
    event_id("booking", "booking.booking.expired", "booking_id", bk, expired);
    json_t *m = movements_of(off);
    if (json_array_size(m) != 3)
        fail_msg("expected movements reserve, sale, return, got %s", e2e_dump(m));
    assert_movement(json_array_get(m, 2), "return", 2, bk, expired, (long long[]){8, 0, 2},
                    (long long[]){10, 0, 0});
    json_decref(m);
    static const char *const pairs[] = {
        "pending", "booking.booking.created",  "expired", "booking.booking.expired",
        "expired", "payment.payment.refunded",
    };
    assert_history(bk, pairs, 3);
    json_t *p = payments_of(bk);
    if (json_array_size(p) != 1 || strcmp(e2e_str(json_array_get(p, 0), "status"), "refunded") != 0)
        fail_msg("expected the payment of booking %s refunded, got %s", bk, e2e_dump(p));
    json_decref(p);
    assert_notified("booking_expired", bk);

    struct bus *pub = publisher();
    republish(pub, &debited, "booking.events");
    bus_free(pub);
    bus_delivery_release(&debited);
    e2e_wait_handled(E2E_BOOKING, "inventory.stock.debited", "booking_id", bk, SAGA_WAIT_MS);
    json_decref(booking_until(bk, "expired"));
    assert_stock(off, 10, 10, 0, 0);
}

/* POSTs one booking of one unit; returns the status, and the error code of a refusal in error. */
static long try_book(const char *offering_id, char *error, size_t errlen)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"user_id\": \"%s\", \"offering_id\": \"%s\", \"quantity\": 1}",
             fx.customer_id, offering_id);
    long status;
    json_t *reply = NULL;
    char cid[E2E_CID_LEN];
    e2e_post(E2E_BOOKING, "/bookings", body, NULL, &status, &reply, cid);
    snprintf(error, errlen, "%s", status == 202 ? "" : e2e_str(reply, "error"));
    json_decref(reply);
    return status;
}

/*
 * Admission control (BOOKING_IN_FLIGHT_MAX, ADR 0009): with payment stopped
 * the bookings stay pending; once IN_FLIGHT_MAX are, POST /bookings answers
 * 503 "busy" (within a tick) and writes nothing; when they expire, it
 * accepts again. Every 202 is a booking, every 503 is none.
 */
static void
test_bookings_past_the_in_flight_bound_wait_at_the_client_until_some_complete(void **state)
{
    (void)state;
    char off[E2E_ID_LEN], error[64];
    offering(1000, 100, off);
    e2e_stop(E2E_PAYMENT);
    long accepted = 0, refused = 0;
    int64_t until = testlib_now_ms() + 5000;
    while (refused == 0 && testlib_now_ms() < until) {
        long status = try_book(off, error, sizeof(error));
        if (status == 202) {
            accepted++;
        } else {
            if (status != 503 || strcmp(error, "busy") != 0 || e2e_last_retry_after_s != 1)
                fail_msg("POST /bookings: status %ld '%s' Retry-After %ld, expected 202 or 503 busy"
                         " with Retry-After 1",
                         status, error, e2e_last_retry_after_s);
            refused++;
        }
        testlib_sleep_ms(20);
    }
    if (refused == 0 || accepted < IN_FLIGHT_MAX)
        fail_msg("after %ld bookings accepted none was refused (bound %d)", accepted,
                 IN_FLIGHT_MAX);
    /* A tick (BOOKING_TICK_MS) may let a few more in than the bound, never many. */
    assert_true(accepted <= IN_FLIGHT_MAX + 12);
    assert_int_equal(
        e2e_count("SELECT count(*) FROM booking.bookings WHERE offering_id = $1::uuid", off, NULL),
        accepted);

    /* They expire at their deadline; admission opens again within a tick. */
    e2e_wait_count("SELECT count(*) FROM booking.bookings WHERE offering_id = $1::uuid"
                   " AND status = 'expired'",
                   off, NULL, accepted, atoi(DEADLINE_MS) + SAGA_WAIT_MS, "the bookings expired");
    until = testlib_now_ms() + 5000;
    long status = 0;
    while (status != 202 && testlib_now_ms() < until) {
        status = try_book(off, error, sizeof(error));
        testlib_sleep_ms(50);
    }
    assert_int_equal(status, 202);
    e2e_start(E2E_PAYMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_booking_within_stock_and_limit_is_confirmed_paid_and_notified, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_booking_over_capacity_is_rejected_without_stock_change_or_payment, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_declined_payment_cancels_booking_and_releases_stock,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_offering_and_bad_booking_input_are_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_bookings_never_oversell, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reservation_before_booking_created_still_confirms,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_payment_charges_once_when_its_two_events_meet_in_either_order, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_booking_events_share_the_request_correlation_and_name_their_cause, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_pending_booking_expires_releases_stock_and_keeps_no_money, setup_deadline,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_booking_expiring_after_its_sale_returns_stock_and_refunds, setup_deadline,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_bookings_past_the_in_flight_bound_wait_at_the_client_until_some_complete,
            setup_admission, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
