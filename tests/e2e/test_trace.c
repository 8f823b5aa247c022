/*
 * test_trace.c - W3C trace context end to end (SPEC §2, §8): a booking made
 * with a traceparent header is one trace through every hop of its saga.
 * Every event its saga writes, in every context's outbox, carries the
 * caller's trace id in the outbox row and in the CloudEvent, each with a span
 * id of its own.
 */
#include "e2e_harness.h"
#include "testlib.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALLER_TRACE "4bf92f3577b34da6a3ce929d0e0e4736"
#define CALLER_SPAN  "00f067aa0ba902b7"

static struct {
    char customer_id[E2E_ID_LEN];
    char offering_id[E2E_ID_LEN];
} fx;

static int setup(void **state)
{
    (void)state;
    e2e_setup(NULL);
    char email[128], owner[E2E_ID_LEN], provider[E2E_ID_LEN];
    e2e_unique_email(email, sizeof(email), "owner");
    e2e_create_user(email, "Trace Owner", NULL, owner);
    e2e_unique_email(email, sizeof(email), "customer");
    e2e_create_user(email, "Trace Customer", NULL, fx.customer_id);
    json_decref(e2e_create_provider(owner, NULL, provider));
    e2e_wait_handled(E2E_NOTIFICATION, "usermanagement.user.registered", "user_id", fx.customer_id,
                     E2E_WAIT_MS);
    e2e_create_offering(provider, "Traced Room", 1500, 5, NULL, fx.offering_id);
    e2e_wait_offering_known(fx.offering_id);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_teardown();
    return 0;
}

static size_t keep_reply(char *data, size_t size, size_t n, void *ctx)
{
    json_t **out = ctx;
    json_decref(*out);
    *out = json_loadb(data, size * n, 0, NULL);
    return size * n;
}

/* POST /bookings with traceparent and correlation headers; returns the booking id. */
static void book_traced(const char *correlation_id, char id_out[E2E_ID_LEN])
{
    char url[128], body[256], cid[E2E_CID_LEN + 32];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/bookings", e2e_port(E2E_BOOKING));
    snprintf(body, sizeof(body), "{\"user_id\": \"%s\", \"offering_id\": \"%s\", \"quantity\": 1}",
             fx.customer_id, fx.offering_id);
    snprintf(cid, sizeof(cid), "X-Correlation-ID: %s", correlation_id);
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "traceparent: 00-" CALLER_TRACE "-" CALLER_SPAN "-01");
    h = curl_slist_append(h, cid);
    json_t *reply = NULL;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_reply);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK || status != 202 || !reply)
        fail_msg("POST /bookings: %s, status %ld", curl_easy_strerror(rc), status);
    snprintf(id_out, E2E_ID_LEN, "%s", e2e_str(reply, "id"));
    json_decref(reply);
}

static void test_a_booking_made_with_a_traceparent_is_one_trace_through_every_hop(void **state)
{
    (void)state;
    char cid[E2E_ID_LEN], booking[E2E_ID_LEN], path[128];
    e2e_new_uuid(cid);
    book_traced(cid, booking);
    snprintf(path, sizeof(path), "/bookings/%s", booking);
    json_decref(e2e_poll_field(E2E_BOOKING, path, "status", "confirmed", 30000,
                               "the traced booking to confirm"));
    /* The last hop: notification's booking_confirmed notification. */
    e2e_wait_count("SELECT count(*) FROM notification.outbox WHERE correlation_id = $1", cid, NULL,
                   1, 20000, "the booking_confirmed notification of the traced booking");

    json_t *rows =
        e2e_rows("SELECT s, type, coalesce(traceparent, ''), coalesce(payload->>'traceparent', '')"
                 "  FROM (SELECT 'booking' s, * FROM booking.outbox UNION ALL"
                 "        SELECT 'inventory', * FROM inventory.outbox UNION ALL"
                 "        SELECT 'payment', * FROM payment.outbox UNION ALL"
                 "        SELECT 'notification', * FROM notification.outbox) o"
                 " WHERE correlation_id = $1 ORDER BY created_at",
                 cid, NULL);
    static const char *const hops[] = {
        "booking.booking.created", "inventory.stock.reserved",  "payment.payment.succeeded",
        "inventory.stock.debited", "booking.booking.confirmed", "notification.notification.sent"};
    for (size_t h = 0; h < sizeof(hops) / sizeof(hops[0]); h++) {
        bool seen = false;
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) seen =
            seen || strcmp(json_string_value(json_array_get(r, 1)), hops[h]) == 0;
        if (!seen)
            fail_msg("no %s in the saga of booking %s: %s", hops[h], booking, e2e_dump(rows));
    }
    size_t i;
    json_t *r;
    char spans[32][17];
    size_t nspans = 0;
    json_array_foreach(rows, i, r)
    {
        const char *type = json_string_value(json_array_get(r, 1));
        const char *column = json_string_value(json_array_get(r, 2));
        const char *attr = json_string_value(json_array_get(r, 3));
        if (strlen(column) != 55 || strncmp(column, "00-" CALLER_TRACE "-", 36) != 0)
            fail_msg("%s (%s) has traceparent '%s', not in trace " CALLER_TRACE, type,
                     json_string_value(json_array_get(r, 0)), column);
        if (strcmp(column, attr) != 0)
            fail_msg("%s: outbox column '%s' and CloudEvent attribute '%s' differ", type, column,
                     attr);
        const char *span = column + 36;
        if (strncmp(span, CALLER_SPAN, 16) == 0)
            fail_msg("%s reuses the caller's span id", type);
        for (size_t k = 0; k < nspans; k++)
            if (strncmp(spans[k], span, 16) == 0)
                fail_msg("%s shares span id %.16s with another event", type, span);
        if (nspans < 32)
            snprintf(spans[nspans++], sizeof(spans[0]), "%.16s", span);
    }
    json_decref(rows);

    /* The operations tool shows it too: every event line of `eventctl trace` names the trace. */
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "'%s' trace '%s' --database-url \"$DATABASE_URL\" 2>&1",
             TRACE_EVENTCTL_BIN, cid);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[1024];
    int traced = 0;
    while (fgets(line, sizeof(line), p))
        traced += strstr(line, "  trace " CALLER_TRACE " span ") != NULL;
    assert_int_equal(pclose(p), 0);
    if (traced < 6)
        fail_msg("eventctl trace %s named trace " CALLER_TRACE " on %d event lines, want ≥ 6", cid,
                 traced);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_a_booking_made_with_a_traceparent_is_one_trace_through_every_hop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
