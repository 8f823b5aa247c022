/*
 * test_contract_schemas.c - the published JSON Schemas (docs/schemas/,
 * docs/contracts.md) accept what the six real executables publish. Both
 * choreographies run (a provider registration to an active provider, then a
 * confirmed, a rejected and a payment-declined booking), every row of every
 * <context>.outbox is dumped, and ajv (tests/standards/validate_payloads.js,
 * an implementation nobody here wrote) checks each CloudEvent against the
 * envelope schema and its data against the schema its dataschema names.
 *
 * The same validator is then fed one tampered copy (data breaking a bound)
 * and one with a dataschema no schema has, and must refuse both: a check that
 * cannot fail proves nothing.
 */
#include "e2e_harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SCHEMAS_WAIT_MS 30000

/* What both flows must have published: every type of docs/events.md. */
static const char *const expected_types[] = {
    "usermanagement.user.registered",    "servicecatalog.provider.registered",
    "usermanagement.user.role_granted",  "notification.notification.sent",
    "servicecatalog.provider.activated", "servicecatalog.offering.published",
    "booking.booking.created",           "inventory.stock.reserved",
    "payment.payment.succeeded",         "inventory.stock.debited",
    "booking.booking.confirmed",         "inventory.stock.reservation_failed",
    "booking.booking.rejected",          "payment.payment.failed",
    "inventory.stock.released",          "booking.booking.cancelled",
};

static int setup(void **state)
{
    (void)state;
    static const char *const extra[] = {"PAYMENT_LIMIT_CENTS=100000", NULL};
    e2e_setup(extra);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    e2e_teardown();
    return 0;
}

/* ---------------------------------------------------------------- the flows */

static bool provider_status_is(long status, const json_t *user, const void *arg)
{
    return status == 200 && strcmp(e2e_str(user, "provider_status"), (const char *)arg) == 0;
}

/* SPEC §1 provider registration up to an active provider; its id into provider_id. */
static void register_provider(char provider_id[E2E_ID_LEN])
{
    char email[128], owner[E2E_ID_LEN], path[160];
    e2e_unique_email(email, sizeof(email), "owner");
    e2e_create_user(email, "Paula Provider", NULL, owner);
    json_decref(e2e_create_provider(owner, NULL, provider_id));
    snprintf(path, sizeof(path), "/users/%s", owner);
    json_decref(e2e_poll(E2E_USERMANAGEMENT, path, provider_status_is, "pending", SCHEMAS_WAIT_MS,
                         "the owner's provider_status to become 'pending'"));
    snprintf(path, sizeof(path), "/providers/%s/activate", provider_id);
    long status;
    json_t *reply;
    e2e_post(E2E_SERVICECATALOG, path, NULL, NULL, &status, &reply, NULL);
    if (status != 200)
        fail_msg("POST %s: status %ld, expected 200: %s", path, status, e2e_dump(reply));
    json_decref(reply);
    snprintf(path, sizeof(path), "/users/%s", owner);
    json_decref(e2e_poll(E2E_USERMANAGEMENT, path, provider_status_is, "active", SCHEMAS_WAIT_MS,
                         "the owner's provider_status to become 'active'"));
}

/* POST /bookings (retried while 409: booking's price replica may lag), then waits for final. */
static void book_until(const char *customer, const char *offering, int quantity, const char *final)
{
    char body[256], id[E2E_ID_LEN], path[128], what[160];
    snprintf(body, sizeof(body), "{\"user_id\": \"%s\", \"offering_id\": \"%s\", \"quantity\": %d}",
             customer, offering, quantity);
    int64_t deadline = testlib_now_ms() + SCHEMAS_WAIT_MS;
    long status;
    json_t *reply = NULL;
    for (;;) {
        json_decref(reply);
        e2e_post(E2E_BOOKING, "/bookings", body, NULL, &status, &reply, NULL);
        if (status != 409 || testlib_now_ms() > deadline)
            break;
        testlib_sleep_ms(50);
    }
    if (status != 202)
        fail_msg("POST /bookings %s: status %ld, expected 202: %s", body, status, e2e_dump(reply));
    snprintf(id, sizeof(id), "%s", e2e_str(reply, "id"));
    json_decref(reply);
    snprintf(path, sizeof(path), "/bookings/%s", id);
    snprintf(what, sizeof(what), "booking %s to become '%s'", id, final);
    json_decref(e2e_poll_field(E2E_BOOKING, path, "status", final, SCHEMAS_WAIT_MS, what));
}

/* ----------------------------------------------------------- the outbox dump */

/* Every outbox row of the six schemas as [context, payload text], oldest first per context. */
static json_t *outbox_payloads(void)
{
    char sql[2048] = "";
    for (int c = 0; c < E2E_NCTX; c++)
        snprintf(sql + strlen(sql), sizeof(sql) - strlen(sql),
                 "%s(SELECT '%s', payload::text FROM %s.outbox ORDER BY created_at, id)",
                 c ? " UNION ALL " : "", e2e_ctx_name(c), e2e_ctx_name(c));
    return e2e_rows(sql, NULL, NULL);
}

/*
 * Writes rows as validate_payloads.js reads them, one {"context", "payload"}
 * per line, into path; tamper (may be NULL) changes each payload first.
 */
static void write_payloads(const char *path, const json_t *rows, void (*tamper)(json_t *payload))
{
    FILE *f = fopen(path, "w");
    if (!f)
        fail_msg("cannot create '%s': %s", path, strerror(errno));
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_error_t jerr;
        json_t *payload = json_loads(json_string_value(json_array_get(row, 1)), 0, &jerr);
        if (!json_is_object(payload))
            fail_msg("outbox payload of %s is not a JSON object: %s", e2e_dump(row), jerr.text);
        if (tamper)
            tamper(payload);
        json_t *line =
            json_pack("{s:O, s:o}", "context", json_array_get(row, 0), "payload", payload);
        if (!line || json_dumpf(line, f, JSON_COMPACT) != 0 || fputc('\n', f) == EOF)
            fail_msg("cannot write '%s'", path);
        json_decref(line);
    }
    if (fclose(f) != 0)
        fail_msg("cannot write '%s': %s", path, strerror(errno));
}

/* The exit status of "tests/standards/run.sh validate_payloads.js docs/schemas <file>", or -1. */
static int validate(const char *file)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(STDERR_FILENO, STDOUT_FILENO); /* its lines with the test's output */
        execl("/bin/bash", "bash", STANDARDS_DIR "/run.sh", "validate_payloads.js", SCHEMAS_DIR,
              file, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Fails unless rows hold at least one payload of every expected type. */
static void assert_every_type_published(const json_t *rows)
{
    for (size_t t = 0; t < sizeof(expected_types) / sizeof(expected_types[0]); t++) {
        bool found = false;
        size_t i;
        const json_t *row;
        json_array_foreach(rows, i, row)
        {
            json_t *payload = json_loads(json_string_value(json_array_get(row, 1)), 0, NULL);
            found = strcmp(e2e_str(payload, "type"), expected_types[t]) == 0;
            json_decref(payload);
            if (found)
                break;
        }
        if (!found)
            fail_msg("no outbox row of type '%s' after both flows", expected_types[t]);
    }
}

/* The first booking.booking.created gets quantity 0, below its contract's minimum of 1. */
static void tamper_quantity(json_t *payload)
{
    static int done;
    if (!done && strcmp(e2e_str(payload, "type"), "booking.booking.created") == 0) {
        json_object_set_new(json_object_get(payload, "data"), "quantity", json_integer(0));
        done = 1;
    }
}

/* Every payload names a major version of its type that no schema describes. */
static void tamper_version(json_t *payload)
{
    char schema[256];
    snprintf(schema, sizeof(schema), "urn:event:%s:99", e2e_str(payload, "type"));
    json_object_set_new(payload, "dataschema", json_string(schema));
}

/* ------------------------------------------------------------------- tests */

static void test_every_published_event_matches_its_json_schema(void **state)
{
    (void)state;
    char provider[E2E_ID_LEN], customer[E2E_ID_LEN], email[128];
    char cheap[E2E_ID_LEN], dear[E2E_ID_LEN];
    register_provider(provider);
    e2e_unique_email(email, sizeof(email), "customer");
    e2e_create_user(email, "Carl Customer", NULL, customer);
    e2e_wait_handled(E2E_NOTIFICATION, "usermanagement.user.registered", "user_id", customer,
                     SCHEMAS_WAIT_MS);
    e2e_create_offering(provider, "Schema Room", 1000, 10, NULL, cheap);
    e2e_create_offering(provider, "Schema Suite", 50000, 10, NULL, dear);
    e2e_wait_offering_known(cheap);
    e2e_wait_offering_known(dear);
    book_until(customer, cheap, 5, "confirmed");
    book_until(customer, cheap, 11, "rejected"); /* over the capacity left */
    book_until(customer, dear, 3, "cancelled");  /* 150000 cents over PAYMENT_LIMIT_CENTS */
    const char *unsettled = e2e_settled_problem(SCHEMAS_WAIT_MS);
    if (unsettled)
        fail_msg("the flows did not settle: %s", unsettled);

    json_t *rows = outbox_payloads();
    assert_every_type_published(rows);
    write_payloads(PAYLOADS_FILE, rows, NULL);
    int rc = validate(PAYLOADS_FILE);
    if (rc != 0)
        fail_msg("%zu outbox payloads (in %s) do not all match docs/schemas/: validator exit %d",
                 json_array_size(rows), PAYLOADS_FILE, rc);

    /* The validator refuses what breaks a schema, and a version no schema has. */
    write_payloads(PAYLOADS_FILE ".tampered", rows, tamper_quantity);
    rc = validate(PAYLOADS_FILE ".tampered");
    if (rc != 1)
        fail_msg("a booking.booking.created with quantity 0 passed the validator (exit %d)", rc);
    write_payloads(PAYLOADS_FILE ".unknown", rows, tamper_version);
    rc = validate(PAYLOADS_FILE ".unknown");
    if (rc != 1)
        fail_msg("payloads with dataschema version 99 passed the validator (exit %d)", rc);
    json_decref(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_published_event_matches_its_json_schema, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
