/*
 * test_isolation.c - SPEC §5 "Isolation (least privilege)" end to end: the
 * six executables each run with the PostgreSQL role and the RabbitMQ user
 * that deploy/local/isolation.sh made for their context, walk a provider
 * registration and a booking to "confirmed", and one context's credentials
 * are shown to reach nothing of another's: booking_svc cannot read
 * inventory's tables (SQLSTATE 42501), consume, declare or delete
 * inventory's queue, or publish inventory's event types (ACCESS_REFUSED),
 * while its own schema and its own events stay open to it.
 *
 * How each service gets its own URLs without changing the harness:
 * e2e_setup builds the schemas and the queues and starts the services with
 * the test's admin URLs; they are stopped, isolation.sh hands every schema
 * to its role, the queues are deleted (each user must declare its own
 * topology), and e2e_start starts each service again. e2e_start reads
 * DATABASE_URL and AMQP_URL from this process's environment as it starts
 * the service, so the test sets them to the context's own URLs around each
 * start and puts the admin ones back. That the services really run as their
 * own users is then checked from the servers' side (pg_stat_activity,
 * rabbitmqctl list_connections), so a harness that stopped reading the
 * environment would fail this test, not fool it.
 *
 * Needs what tests/run.sh exports: DATABASE_URL and AMQP_URL (the admin
 * 'events' role and user), INFRA_SH and LOCAL_DIR (isolation.sh reaches the
 * private RabbitMQ node through "infra.sh rabbitmqctl"). The roles and users
 * are dropped again at the end ("isolation.sh drop"), also after a failure.
 */
#include "e2e_harness.h"

#include "common/bus.h"
#include "common/db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef ISOLATION_SH
#error "ISOLATION_SH must name deploy/local/isolation.sh"
#endif

#define URL_MAX 512

/* What setup made: the admin URLs, the env file and each context's own URLs. */
static struct {
    char admin_db[URL_MAX], admin_amqp[URL_MAX];
    char dir[64], env_path[128];
    char db_url[E2E_NCTX][URL_MAX], amqp_url[E2E_NCTX][URL_MAX];
    bool applied;    /* isolation.sh apply ran: drop at the end */
    struct db *db;   /* a test's own session as booking_svc (freed at teardown too) */
    struct bus *bus; /* and its broker connection */
} iso;

/* ------------------------------------------------------------ isolation.sh */

/* Runs "isolation.sh action" with ISOLATION_ENV in our temporary directory; its exit status. */
static int run_isolation(const char *action)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setenv("ISOLATION_ENV", iso.env_path, 1);
        setenv("DATABASE_URL", iso.admin_db, 1);
        setenv("AMQP_URL", iso.admin_amqp, 1);
        dup2(STDERR_FILENO, STDOUT_FILENO); /* its progress lines with the test's output */
        execl("/bin/bash", "bash", ISOLATION_SH, action, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The whole env file as text (static buffer), failing when it cannot be read. */
static const char *read_env_file(void)
{
    static char text[8192];
    FILE *f = fopen(iso.env_path, "r");
    if (!f) {
        fail_msg("isolation.sh wrote no '%s': %s", iso.env_path, strerror(errno));
        return "";
    }
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

/* Reads <CONTEXT>_DATABASE_URL and <CONTEXT>_AMQP_URL of every context from the env file. */
static void load_env_file(void)
{
    char text[8192];
    snprintf(text, sizeof(text), "%s", read_env_file());
    for (int c = 0; c < E2E_NCTX; c++) {
        iso.db_url[c][0] = iso.amqp_url[c][0] = '\0';
    }
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        for (int c = 0; c < E2E_NCTX; c++) {
            char key[64];
            size_t n = 0;
            for (const char *s = e2e_ctx_name(c); *s && n < 40; s++)
                key[n++] = (char)(*s - 'a' + 'A');
            key[n] = '\0';
            size_t klen = strlen(key);
            if (strncmp(line, key, klen) != 0 || line[klen] != '_')
                continue;
            const char *rest = line + klen + 1;
            if (strncmp(rest, "DATABASE_URL=", 13) == 0)
                snprintf(iso.db_url[c], URL_MAX, "%s", rest + 13);
            else if (strncmp(rest, "AMQP_URL=", 9) == 0)
                snprintf(iso.amqp_url[c], URL_MAX, "%s", rest + 9);
        }
    }
    for (int c = 0; c < E2E_NCTX; c++) {
        char prefix[80];
        snprintf(prefix, sizeof(prefix), "//%s_svc:", e2e_ctx_name(c));
        if (!strstr(iso.db_url[c], prefix) || !strstr(iso.amqp_url[c], prefix))
            fail_msg("'%s' lacks %s's URLs with user %s_svc", iso.env_path, e2e_ctx_name(c),
                     e2e_ctx_name(c));
    }
}

/* Puts the admin URLs back into the environment (what the harness's own connections use). */
static void restore_admin_env(void)
{
    setenv("DATABASE_URL", iso.admin_db, 1);
    setenv("AMQP_URL", iso.admin_amqp, 1);
}

/* Drops the roles and users and removes the directory; once, at teardown or at exit. */
static void cleanup_isolation(void)
{
    if (iso.applied) {
        iso.applied = false;
        restore_admin_env();
        if (run_isolation("drop") != 0)
            fprintf(stderr,
                    "test_isolation: 'isolation.sh drop' failed: roles or users are left\n");
    }
    if (iso.dir[0]) {
        unlink(iso.env_path);
        char lock[128];
        snprintf(lock, sizeof(lock), "%s/.isolation.lock", iso.dir);
        unlink(lock);
        rmdir(iso.dir);
        iso.dir[0] = '\0';
    }
}

/* ------------------------------------------------------------ server views */

/* Deletes the six contexts' queues as the admin, so each user has to declare its own. */
static void delete_context_queues(void)
{
    struct err err;
    err_clear(&err);
    if (e2e_delete_context_queues(iso.admin_amqp, &err) != 0)
        fail_msg("deleting the contexts' queues: %s", err.msg);
}

/* The six role names "booking_svc, inventory_svc, …" sorted, as the checks below list them. */
static const char *svc_users_sorted(void)
{
    static char out[256];
    static const char *const sorted[E2E_NCTX] = {"booking", "inventory",      "notification",
                                                 "payment", "servicecatalog", "usermanagement"};
    out[0] = '\0';
    for (int i = 0; i < E2E_NCTX; i++)
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s_svc", i ? "," : "", sorted[i]);
    return out;
}

/* The distinct users of the broker's connections, sorted and comma-separated. */
static void amqp_connection_users(char *out, size_t outlen)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' rabbitmqctl -q list_connections user | sort -u",
             testlib_require_env("INFRA_SH"));
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p) {
        fail_msg("cannot run '%s'", cmd);
        return;
    }
    char line[256];
    while (fgets(line, sizeof(line), p)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || strcmp(line, "user") == 0) /* the header */
            continue;
        snprintf(out + strlen(out), outlen - strlen(out), "%s%s", out[0] ? "," : "", line);
    }
    int rc = pclose(p);
    if (rc != 0)
        fail_msg("'%s' failed (status %d)", cmd, rc);
}

/*
 * Waits until the servers see exactly the six roles and users connected
 * (besides the admin's own session): every service runs as its own.
 */
static void wait_services_connected_as_their_own_users(void)
{
    const char *want = svc_users_sorted();
    char pg[512] = "", amqp[512] = "";
    int64_t deadline = testlib_now_ms() + E2E_WAIT_MS;
    for (;;) {
        e2e_value(
            "SELECT coalesce(string_agg(DISTINCT usename::text, ',' ORDER BY usename::text), '')"
            " FROM pg_stat_activity WHERE backend_type = 'client backend'"
            " AND usename <> current_user",
            NULL, NULL, pg, sizeof(pg));
        amqp_connection_users(amqp, sizeof(amqp));
        if ((strcmp(pg, want) == 0 && strcmp(amqp, want) == 0) || testlib_now_ms() > deadline)
            break;
        testlib_sleep_ms(200);
    }
    if (strcmp(pg, want) != 0)
        fail_msg("PostgreSQL sessions (other than the admin's) are of [%s], expected [%s]", pg,
                 want);
    if (strcmp(amqp, want) != 0)
        fail_msg("RabbitMQ connections are of [%s], expected [%s]", amqp, want);
}

/* ------------------------------------------------------------------ fixture */

static int setup(void **state)
{
    (void)state;
    snprintf(iso.admin_db, URL_MAX, "%s", testlib_require_env("DATABASE_URL"));
    snprintf(iso.admin_amqp, URL_MAX, "%s", testlib_require_env("AMQP_URL"));
    testlib_require_env("INFRA_SH");
    testlib_require_env("LOCAL_DIR");
    snprintf(iso.dir, sizeof(iso.dir), "/tmp/isolation.XXXXXX");
    if (!mkdtemp(iso.dir))
        fail_msg("mkdtemp: %s", strerror(errno));
    snprintf(iso.env_path, sizeof(iso.env_path), "%s/isolation.env", iso.dir);
    atexit(cleanup_isolation); /* a failed teardown still drops what apply made */

    /* 1. Schemas migrated and topology declared by the services, as the admin. */
    e2e_setup(NULL);
    for (int c = 0; c < E2E_NCTX; c++)
        e2e_stop(c);

    /* 2. The roles and users, twice: the second run changes nothing (same passwords). */
    iso.applied = true;
    assert_int_equal(run_isolation("apply"), 0);
    char first[8192];
    snprintf(first, sizeof(first), "%s", read_env_file());
    assert_int_equal(run_isolation("apply"), 0);
    assert_string_equal(read_env_file(), first);
    load_env_file();

    /* 3. Every service again, as its own role and user, declaring its own queues. */
    delete_context_queues();
    for (int c = 0; c < E2E_NCTX; c++) {
        setenv("DATABASE_URL", iso.db_url[c], 1);
        setenv("AMQP_URL", iso.amqp_url[c], 1);
        e2e_start(c);
        restore_admin_env();
    }
    wait_services_connected_as_their_own_users();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    db_free(iso.db); /* left by a failed test */
    bus_free(iso.bus);
    iso.db = NULL;
    iso.bus = NULL;
    restore_admin_env();
    e2e_teardown(); /* the system settled, every service exits 0 on SIGTERM */
    cleanup_isolation();
    return 0;
}

/* -------------------------------------------------------------------- tests */

static bool has_welcome(long status, const json_t *json, const void *arg)
{
    (void)arg;
    return status == 200 &&
           e2e_find(json_object_get(json, "notifications"), "kind", "welcome", NULL, NULL);
}

static void test_both_choreographies_work_with_one_role_and_user_per_context(void **state)
{
    (void)state;
    char email[128], owner[E2E_ID_LEN], customer[E2E_ID_LEN], provider[E2E_ID_LEN];
    char offering[E2E_ID_LEN], path[192];
    long status;
    json_t *reply;

    /* Provider registration: user, provider, role, welcome, activation. */
    e2e_unique_email(email, sizeof(email), "iso_owner");
    e2e_create_user(email, "Ines Owner", NULL, owner);
    json_decref(e2e_create_provider(owner, NULL, provider));
    snprintf(path, sizeof(path), "/notifications?user_id=%s", owner);
    json_decref(e2e_poll(E2E_NOTIFICATION, path, has_welcome, NULL, E2E_WAIT_MS,
                         "a 'welcome' notification for the provider owner"));
    snprintf(path, sizeof(path), "/providers/%s/activate", provider);
    e2e_post(E2E_SERVICECATALOG, path, NULL, NULL, &status, &reply, NULL);
    if (status != 200)
        fail_msg("POST %s: status %ld, expected 200: %s", path, status, e2e_dump(reply));
    json_decref(reply);
    snprintf(path, sizeof(path), "/users/%s", owner);
    json_decref(e2e_poll_field(E2E_USERMANAGEMENT, path, "provider_status", "active", E2E_WAIT_MS,
                               "the owner's provider_status to become 'active'"));

    /* Booking: offering known to booking and inventory, booking confirmed, stock sold. */
    e2e_create_offering(provider, "Isolated Room", 2500, 5, NULL, offering);
    e2e_wait_offering_known(offering);
    e2e_unique_email(email, sizeof(email), "iso_customer");
    e2e_create_user(email, "Carlo Customer", NULL, customer);
    e2e_wait_handled(E2E_NOTIFICATION, "usermanagement.user.registered", "user_id", customer,
                     E2E_WAIT_MS);
    char body[256], booking[E2E_ID_LEN];
    snprintf(body, sizeof(body), "{\"user_id\": \"%s\", \"offering_id\": \"%s\", \"quantity\": 2}",
             customer, offering);
    e2e_post(E2E_BOOKING, "/bookings", body, NULL, &status, &reply, NULL);
    if (status != 202)
        fail_msg("POST /bookings: status %ld, expected 202: %s", status, e2e_dump(reply));
    snprintf(booking, sizeof(booking), "%s", e2e_str(reply, "id"));
    json_decref(reply);
    snprintf(path, sizeof(path), "/bookings/%s", booking);
    json_decref(e2e_poll_field(E2E_BOOKING, path, "status", "confirmed", E2E_WAIT_MS,
                               "the booking to become 'confirmed'"));
    snprintf(path, sizeof(path), "/stock/%s", offering);
    e2e_get(E2E_INVENTORY, path, NULL, &status, &reply, NULL);
    assert_int_equal(status, 200);
    assert_int_equal(e2e_int(reply, "sold"), 2);
    assert_int_equal(e2e_int(reply, "available"), 3);
    json_decref(reply);
    e2e_wait_handled(E2E_NOTIFICATION, "booking.booking.confirmed", "booking_id", booking,
                     E2E_WAIT_MS);
}

/* Runs sql as booking_svc and fails unless it is refused with SQLSTATE 42501. */
static void assert_denied(struct db *db, const char *sql)
{
    struct err err;
    err_clear(&err);
    char out[64];
    int rc = db_exec_value(db, sql, 0, NULL, out, sizeof(out), &err);
    if (rc >= 0 || strcmp(err.sqlstate, "42501") != 0)
        fail_msg("as booking_svc, '%s' gave %d (SQLSTATE '%s': %s), expected permission denied "
                 "(42501)",
                 sql, rc, err.sqlstate, err.msg);
}

static void test_a_context_role_reaches_its_own_schema_and_no_other(void **state)
{
    (void)state;
    struct db *db = iso.db = db_new(iso.db_url[E2E_BOOKING]);
    assert_non_null(db);
    db_set_application_name(db, "test_isolation");
    struct err err;
    err_clear(&err);
    char out[64];

    /* Its own schema: reads and writes (in a transaction rolled back). */
    if (db_exec_value(db, "SELECT count(*) FROM booking.bookings", 0, NULL, out, sizeof(out),
                      &err) != 1)
        fail_msg("as booking_svc, reading booking.bookings: %s", err.msg);
    assert_int_equal(db_begin(db, &err), 0);
    if (db_exec(db, "DELETE FROM booking.inbox WHERE false", 0, NULL, NULL, NULL, &err) < 0)
        fail_msg("as booking_svc, writing booking.inbox: %s", err.msg);
    db_rollback(db);

    /* Another context's tables, its outbox, a new object in its schema, its role, the admin. */
    assert_denied(db, "SELECT count(*) FROM inventory.stock");
    assert_denied(db, "SELECT count(*) FROM payment.outbox");
    assert_denied(db, "UPDATE inventory.stock SET available = available WHERE false");
    assert_denied(db, "CREATE TABLE inventory.intruder (id int)");
    assert_denied(db, "SET ROLE inventory_svc");
    assert_denied(db, "SET ROLE events");
    assert_denied(db, "CREATE SCHEMA intruder");
    db_free(db);
    iso.db = NULL;
}

/* Expects rc to be a refusal by the broker (ACCESS_REFUSED in err), then reconnects. */
static void assert_refused(struct bus *bus, int rc, const struct err *err, const char *what)
{
    if (rc == 0 || !strstr(err->msg, "ACCESS_REFUSED"))
        fail_msg("as booking_svc, %s gave %d (%s), expected ACCESS_REFUSED", what, rc,
                 rc ? err->msg : "accepted");
    struct err e2;
    err_clear(&e2);
    if (!bus_connected(bus) && bus_connect(bus, &e2) != 0)
        fail_msg("as booking_svc, reconnecting: %s", e2.msg);
}

static void test_a_context_user_reaches_its_own_queues_and_events_and_no_other(void **state)
{
    (void)state;
    struct bus *bus = iso.bus = bus_new(&(struct bus_config){
        .url = iso.amqp_url[E2E_BOOKING], .confirms = 1, .connection_name = "test_isolation"});
    assert_non_null(bus);
    struct err err;
    err_clear(&err);
    if (bus_connect(bus, &err) != 0)
        fail_msg("as booking_svc, connecting: %s", err.msg);

    /* Another context's queue: no consuming, declaring or deleting it. */
    assert_refused(bus, bus_consume(bus, "inventory.events", &err), &err,
                   "consuming from inventory.events");
    assert_refused(bus, bus_declare_queue(bus, "inventory.events", NULL, &err), &err,
                   "declaring inventory.events");
    assert_refused(bus, bus_delete_queue(bus, "inventory.events", &err), &err,
                   "deleting inventory.events");

    /* Publishing: its own event types to integration.events, yes (nothing is bound to this
     * one, so nobody receives it); another context's types, no (topic permission). */
    char id[E2E_ID_LEN];
    e2e_new_uuid(id);
    struct bus_message own = {
        .routing_key = "booking.isolation.probe", .body = "{}", .len = 2, .message_id = id};
    if (bus_publish_sync(bus, &own, 5000, &err) != 0)
        fail_msg("as booking_svc, publishing booking.isolation.probe to integration.events: %s",
                 err.msg);
    e2e_new_uuid(id);
    struct bus_message forged = {
        .routing_key = "inventory.stock.debited", .body = "{}", .len = 2, .message_id = id};
    assert_refused(bus, bus_publish_sync(bus, &forged, 5000, &err), &err,
                   "publishing inventory.stock.debited");
    bus_free(bus);
    iso.bus = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_choreographies_work_with_one_role_and_user_per_context),
        cmocka_unit_test(test_a_context_role_reaches_its_own_schema_and_no_other),
        cmocka_unit_test(test_a_context_user_reaches_its_own_queues_and_events_and_no_other),
    };
    /* One isolated system for the three tests: setting it up costs two service starts. */
    return cmocka_run_group_tests(tests, setup, teardown);
}
