/*
 * test_isolation.c - SPEC §5 "Isolation (least privilege)" end to end: the
 * six executables each run with the PostgreSQL role and the RabbitMQ user
 * that deploy/local/isolation.sh made for their context, walk a provider
 * registration and a booking to "confirmed", and one context's credentials
 * are shown to reach nothing of another's: booking_svc cannot read
 * inventory's tables (SQLSTATE 42501), consume, declare or delete
 * inventory's queue, publish inventory's event types, configure or delete
 * the shared exchanges, or route into or bind to inventory's dead letters
 * (ACCESS_REFUSED), while its own schema and its own events stay open to it.
 * And what a context plants in its own schema (triggers, a row policy) runs
 * with the context's privileges when eventctl and migrate act there, never
 * with the admin's, and cannot escalate (ADR 0007).
 *
 * How each service gets its own URLs without changing the harness:
 * e2e_setup builds the schemas and the queues and starts the services with
 * the test's admin URLs; they are stopped, the queues are deleted (the admin
 * step must declare them), isolation.sh hands every schema to its role and
 * declares the shared topology, and e2e_start starts each service again.
 * e2e_start reads DATABASE_URL and AMQP_URL from this process's environment
 * as it starts the service, so the test sets them to the context's own URLs
 * around each start and puts the admin ones back. That the services really
 * run as their own users is then checked from the servers' side
 * (pg_stat_activity, rabbitmqctl list_connections), so a harness that
 * stopped reading the environment would fail this test, not fool it.
 *
 * Needs what tests/run.sh exports: DATABASE_URL and AMQP_URL (the admin
 * 'events' role and user), INFRA_SH and LOCAL_DIR (isolation.sh reaches the
 * private RabbitMQ node through "infra.sh rabbitmqctl"). The roles and users
 * are dropped again at the end ("isolation.sh drop"), also after a failure.
 */
#include "e2e_harness.h"

#include "common/bus.h"
#include "common/db.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef ISOLATION_SH
#error "ISOLATION_SH must name deploy/local/isolation.sh"
#endif
#if !defined(EVENTCTL_BIN) || !defined(MIGRATE_BIN) || !defined(MIGRATIONS_ROOT)
#error "EVENTCTL_BIN, MIGRATE_BIN and MIGRATIONS_ROOT come from CMake"
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

static bool planted;         /* booking_svc planted its code: remove it at the end */
static char planted_dir[96]; /* the migrations copy with one more booking migration */
static void unplant(void);

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

/* Runs sql (one or more statements) on url, failing the test with what on error. */
static void sql_on(const char *url, const char *sql, const char *what)
{
    struct db *db = db_new(url);
    assert_non_null(db);
    db_set_application_name(db, "test_isolation");
    struct err err;
    err_clear(&err);
    if (db_connect(db, &err) != 0 || db_exec_script(db, sql, &err) < 0) {
        db_free(db);
        fail_msg("%s: %s", what, err.msg);
    }
    db_free(db);
}

#define DEAD_LETTER_BOUND "3" /* isolation.sh's DEAD_LETTER_MAX_LENGTH for this test */

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

    /* 1. Schemas migrated and topology declared by the services, as the admin; the queues
     * deleted again, so that the admin step has to declare them. */
    e2e_setup(NULL);
    for (int c = 0; c < E2E_NCTX; c++)
        e2e_stop(c);
    delete_context_queues();

    /* 2. The roles, users and shared topology, twice: the second run changes nothing. The
     * dead-letter queues' bound small enough to overflow in a test (ADR 0010). */
    setenv("DEAD_LETTER_MAX_LENGTH", DEAD_LETTER_BOUND, 1);
    iso.applied = true;
    assert_int_equal(run_isolation("apply"), 0);
    char first[8192];
    snprintf(first, sizeof(first), "%s", read_env_file());
    assert_int_equal(run_isolation("apply"), 0);
    assert_string_equal(read_env_file(), first);
    load_env_file();

    /* 3. Every service again, as its own role and user, on the queues the admin step made. */
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
    if (planted)
        unplant();  /* left by a failed test */
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

/*
 * exchange.declare (topic, durable, as the services declare it) or
 * exchange.delete of exchange as url's user, on a connection of its own:
 * what the bus module never does (it declares shared exchanges passively).
 * Returns 0 when the broker agreed, its channel.close reply code (403
 * ACCESS_REFUSED) with its text, or -1 when the connection failed.
 */
static int raw_exchange_op(const char *url, const char *exchange, bool delete, char *text,
                           size_t textlen)
{
    char buf[URL_MAX];
    snprintf(buf, sizeof(buf), "%s", url);
    snprintf(text, textlen, "ok");
    struct amqp_connection_info ci;
    amqp_default_connection_info(&ci);
    if (amqp_parse_url(buf, &ci) != AMQP_STATUS_OK) {
        snprintf(text, textlen, "unparsable URL");
        return -1;
    }
    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t *sock = conn ? amqp_tcp_socket_new(conn) : NULL;
    int code = -1;
    if (!sock || amqp_socket_open(sock, ci.host, ci.port) != AMQP_STATUS_OK) {
        snprintf(text, textlen, "cannot connect");
        goto done;
    }
    amqp_rpc_reply_t r = amqp_login(conn, ci.vhost, /* channel_max = */ 0,
                                    /* frame_max = */ 131072, /* heartbeat = */ 0,
                                    AMQP_SASL_METHOD_PLAIN, ci.user, ci.password);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        amqp_channel_open(conn, 1);
        r = amqp_get_rpc_reply(conn);
    }
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(text, textlen, "cannot log in or open a channel");
        goto done;
    }
    if (delete)
        amqp_exchange_delete(conn, 1, amqp_cstring_bytes(exchange), /* if_unused = */ 0);
    else
        amqp_exchange_declare(conn, 1, amqp_cstring_bytes(exchange), amqp_cstring_bytes("topic"),
                              /* passive = */ 0, /* durable = */ 1, /* auto_delete = */ 0,
                              /* internal = */ 0, amqp_empty_table);
    r = amqp_get_rpc_reply(conn);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        code = 0;
        amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    } else if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
               r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const amqp_channel_close_t *m = r.reply.decoded;
        code = m->reply_code;
        snprintf(text, textlen, "%.*s", (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        amqp_channel_close_ok_t ok = {0};
        amqp_send_method(conn, 1, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
    } else {
        snprintf(text, textlen, "unexpected reply");
    }
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
done:
    if (conn)
        amqp_destroy_connection(conn);
    return code;
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

    /* Dead letters: its own, yes (into booking.dead-letter); into inventory's, no (topic
     * permission on the dead-letter exchange), nor binding its queue to inventory's key,
     * which would divert inventory's dead letters to booking.events (ADR 0007). */
    e2e_new_uuid(id);
    struct bus_message own_dead = {.exchange = "integration.dead-letter",
                                   .routing_key = "booking",
                                   .body = "{}",
                                   .len = 2,
                                   .message_id = id,
                                   .mandatory = 1};
    if (bus_publish_sync(bus, &own_dead, 5000, &err) != 0)
        fail_msg("as booking_svc, publishing a dead letter to 'booking': %s", err.msg);
    e2e_new_uuid(id);
    struct bus_message other_dead = own_dead;
    other_dead.routing_key = "inventory";
    other_dead.message_id = id;
    assert_refused(bus, bus_publish_sync(bus, &other_dead, 5000, &err), &err,
                   "publishing a dead letter to 'inventory'");
    assert_refused(
        bus, bus_bind_queue(bus, "booking.events", "integration.dead-letter", "inventory", &err),
        &err, "binding booking.events to inventory's dead letters");

    /* Its own queues: no redeclaring (with another dead-letter routing key, the broker would
     * dead-letter into inventory's queue for it) and no deleting: the admin step made them. */
    struct bus_queue_options redirect = {.dead_letter_exchange = "integration.dead-letter",
                                         .dead_letter_routing_key = "inventory"};
    assert_refused(bus, bus_declare_queue(bus, "booking.events", &redirect, &err), &err,
                   "redeclaring booking.events with dead-letter routing key 'inventory'");
    assert_refused(bus, bus_delete_queue(bus, "booking.events", &err), &err,
                   "deleting booking.events");
    bus_free(bus);
    iso.bus = NULL;

    /* The shared exchanges: no declaring (not even as they are) and no deleting them. */
    static const char *const shared[] = {"integration.events", "integration.dead-letter"};
    for (size_t i = 0; i < 2; i++) {
        char text[256];
        int code = raw_exchange_op(iso.amqp_url[E2E_BOOKING], shared[i], false, text, sizeof(text));
        if (code != AMQP_ACCESS_REFUSED)
            fail_msg("as booking_svc, declaring exchange '%s' gave %d (%s), expected 403",
                     shared[i], code, text);
        code = raw_exchange_op(iso.amqp_url[E2E_BOOKING], shared[i], true, text, sizeof(text));
        if (code != AMQP_ACCESS_REFUSED)
            fail_msg("as booking_svc, deleting exchange '%s' gave %d (%s), expected 403", shared[i],
                     code, text);
    }
}

/* ------------------------------------------------- code planted by a context */

/*
 * What booking_svc plants in its own schema: spy_note(what) records who runs
 * it (current_user, session_user, application_name), then tries to become
 * the admin (RESET ROLE: under "SET ROLE booking_svc" in an admin's session
 * that would succeed) and to take what the admin's CREATEROLE could give
 * (pg_execute_server_program); spy_definer does the same as a SECURITY
 * DEFINER function. Triggers on its inbox, outbox and schema_migrations and a
 * forced row policy on its outbox call both, so every write and every read
 * of eventctl and migrate runs them.
 */
static const char plant_sql[] =
    "CREATE TABLE booking.spy_log (what text, app text, cur text, sess text, after_reset text,"
    "                              escalation text);"
    "CREATE FUNCTION booking.spy_note(what text) RETURNS boolean LANGUAGE plpgsql AS $$"
    " DECLARE r text; e text;"
    " BEGIN"
    "   BEGIN RESET ROLE; r := current_user; EXCEPTION WHEN others THEN r := 'refused'; END;"
    "   BEGIN GRANT pg_execute_server_program TO booking_svc; e := 'granted';"
    "   EXCEPTION WHEN others THEN e := 'refused'; END;"
    "   INSERT INTO booking.spy_log VALUES (what, current_setting('application_name'),"
    "                                       current_user, session_user, r, e);"
    "   RETURN true;"
    " END $$;"
    "CREATE FUNCTION booking.spy_definer(what text) RETURNS boolean LANGUAGE sql"
    " SECURITY DEFINER AS 'SELECT booking.spy_note(what || '' definer'')';"
    "CREATE FUNCTION booking.spy_trigger() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    "   PERFORM booking.spy_note(TG_TABLE_NAME || ' ' || TG_OP);"
    "   PERFORM booking.spy_definer(TG_TABLE_NAME || ' ' || TG_OP);"
    "   RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;"
    " END $$;"
    "CREATE TRIGGER spy BEFORE INSERT OR UPDATE OR DELETE ON booking.inbox"
    " FOR EACH ROW EXECUTE FUNCTION booking.spy_trigger();"
    "CREATE TRIGGER spy BEFORE UPDATE ON booking.outbox"
    " FOR EACH ROW EXECUTE FUNCTION booking.spy_trigger();"
    "CREATE TRIGGER spy BEFORE INSERT ON booking.schema_migrations"
    " FOR EACH ROW EXECUTE FUNCTION booking.spy_trigger();"
    "ALTER TABLE booking.outbox ENABLE ROW LEVEL SECURITY;"
    "ALTER TABLE booking.outbox FORCE ROW LEVEL SECURITY;"
    "CREATE POLICY spy ON booking.outbox"
    " USING (booking.spy_note('outbox read') AND booking.spy_definer('outbox read'))"
    " WITH CHECK (true);";

/* Removes all of it, and the rows the test made, as booking_svc (also after a failed test). */
static const char unplant_sql[] =
    "DROP POLICY IF EXISTS spy ON booking.outbox;"
    "ALTER TABLE booking.outbox NO FORCE ROW LEVEL SECURITY;"
    "ALTER TABLE booking.outbox DISABLE ROW LEVEL SECURITY;"
    "DROP TRIGGER IF EXISTS spy ON booking.inbox;"
    "DROP TRIGGER IF EXISTS spy ON booking.outbox;"
    "DROP TRIGGER IF EXISTS spy ON booking.schema_migrations;"
    "DROP FUNCTION IF EXISTS booking.spy_trigger();"
    "DROP FUNCTION IF EXISTS booking.spy_definer(text);"
    "DROP FUNCTION IF EXISTS booking.spy_note(text);"
    "DROP TABLE IF EXISTS booking.spy_log;"
    "DELETE FROM booking.inbox WHERE consumer = 'isolation_probe';"
    "DELETE FROM booking.outbox WHERE type = 'booking.isolation.planted';"
    "DELETE FROM booking.schema_migrations WHERE version = 999;";

/* The probe rows: a dead inbox row, an old dead one (purged), a failed outbox row. */
static const char probe_rows_sql[] =
    "INSERT INTO booking.inbox (id, consumer, type, correlation_id, causation_id, payload,"
    "                           status, attempts, last_error, dead_lettered_at)"
    " VALUES ('%s', 'isolation_probe', 'booking.isolation.planted', 'iso-planted', 'x', '{}',"
    "         'dead', 5, 'planted', now()),"
    "        ('%s', 'isolation_probe', 'booking.isolation.planted', 'iso-planted', 'x', '{}',"
    "         'dead', 5, 'planted', now() - interval '2 days');"
    "UPDATE booking.inbox SET created_at = now() - interval '2 days' WHERE id = '%s';"
    "INSERT INTO booking.outbox (id, type, correlation_id, causation_id, payload, status,"
    "                            attempts, last_error)"
    " VALUES ('%s', 'booking.isolation.planted', 'iso-planted', 'x', '{}', 'failed', 3, "
    "'planted');";

static void unplant(void)
{
    planted = false;
    if (iso.db_url[E2E_BOOKING][0])
        sql_on(iso.db_url[E2E_BOOKING], unplant_sql, "removing what booking_svc planted");
    if (planted_dir[0]) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", planted_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "test_isolation: cannot remove '%s'\n", planted_dir);
        planted_dir[0] = '\0';
    }
}

/*
 * Runs argv (a tool) with DATABASE_URL the admin's and, with own_urls, every
 * <CONTEXT>_DATABASE_URL of the env file (without, none); its stdout and
 * stderr go to out. Returns its exit status, -1 when it could not run.
 */
static int run_tool(const char *const *argv, bool own_urls, char *out, size_t outlen)
{
    int fds[2];
    out[0] = '\0';
    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        setenv("DATABASE_URL", iso.admin_db, 1);
        for (int c = 0; c < E2E_NCTX; c++) {
            char key[64];
            size_t n = 0;
            for (const char *p = e2e_ctx_name(c); *p && n < 40; p++)
                key[n++] = (char)(*p - 'a' + 'A');
            snprintf(key + n, sizeof(key) - n, "_DATABASE_URL");
            if (own_urls)
                setenv(key, iso.db_url[c], 1);
            else
                unsetenv(key);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    for (;;) {
        char chunk[512];
        ssize_t r = read(fds[0], chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t take = (size_t)r < outlen - 1 - used ? (size_t)r : outlen - 1 - used;
        memcpy(out + used, chunk, take);
        used += take;
        out[used] = '\0';
    }
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs argv and fails unless it exits with want and its output holds expect (NULL: anything). */
static void expect_tool(const char *const *argv, bool own_urls, int want, const char *expect)
{
    static char out[16384];
    int rc = run_tool(argv, own_urls, out, sizeof(out));
    if (rc != want || (expect && !strstr(out, expect)))
        fail_msg("'%s %s' (%s URLs) exited %d, expected %d with '%s': %s", argv[0], argv[1],
                 own_urls ? "the contexts'" : "the admin's", rc, want, expect ? expect : "", out);
}

/* A copy of the migrations with one more booking migration, so migrate has something to do. */
static void make_planted_migrations(void)
{
    snprintf(planted_dir, sizeof(planted_dir), "/tmp/isolation-migrations.XXXXXX");
    if (!mkdtemp(planted_dir))
        fail_msg("mkdtemp: %s", strerror(errno));
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "cp -R '%s/booking' '%s/' && echo 'SELECT 1;' > '%s/booking/0999_planted_probe.sql'",
             MIGRATIONS_ROOT, planted_dir, planted_dir);
    if (system(cmd) != 0)
        fail_msg("'%s' failed", cmd);
}

static void test_code_a_context_planted_runs_with_its_privileges_never_the_admins(void **state)
{
    (void)state;
    char dead[E2E_ID_LEN], old[E2E_ID_LEN], failed[E2E_ID_LEN], sql[2048];
    e2e_new_uuid(dead);
    e2e_new_uuid(old);
    e2e_new_uuid(failed);
    snprintf(sql, sizeof(sql), probe_rows_sql, dead, old, old, failed);
    planted = true;
    sql_on(iso.db_url[E2E_BOOKING], plant_sql, "planting as booking_svc");
    sql_on(iso.db_url[E2E_BOOKING], sql, "inserting the probe rows as booking_svc");
    make_planted_migrations();

    /* With only the admin's URL, the tools refuse booking's schema, although the admin is a
     * member of booking_svc and could act there: it would run the planted code. */
    const char *messages[] = {EVENTCTL_BIN, "messages", "--context", "booking", NULL};
    expect_tool(messages, false, 1, "belongs to 'booking_svc', not to the login 'events'");
    const char *migrate[] = {MIGRATE_BIN, "--dir", planted_dir, "booking", NULL};
    expect_tool(migrate, false, 1, "belongs to 'booking_svc', not to the login 'events'");

    /* With each context's own URL they act, and what they set off runs as booking_svc. */
    expect_tool(messages, true, 0, failed);
    const char *requeue_dead[] = {EVENTCTL_BIN, "requeue", dead, NULL};
    expect_tool(requeue_dead, true, 0, "inbox message");
    const char *requeue_failed[] = {EVENTCTL_BIN, "requeue", failed, NULL};
    expect_tool(requeue_failed, true, 0, "outbox message");
    const char *purge[] = {EVENTCTL_BIN, "purge",     "--dead",  "--older-than",
                           "1d",         "--context", "booking", NULL};
    expect_tool(purge, true, 0, "1 dead inbox row deleted");
    expect_tool(migrate, true, 0, NULL);

    /* Every planted call ran as booking_svc in booking_svc's session; RESET ROLE stayed
     * booking_svc (or was refused, in the SECURITY DEFINER function); the grant was refused. */
    char n[64];
    struct err err;
    err_clear(&err);
    struct db *db = iso.db = db_new(iso.db_url[E2E_BOOKING]);
    assert_non_null(db);
    if (db_exec_value(db,
                      "SELECT count(*) FROM booking.spy_log WHERE cur <> 'booking_svc'"
                      " OR sess <> 'booking_svc' OR after_reset NOT IN ('booking_svc', 'refused')"
                      " OR escalation <> 'refused'",
                      0, NULL, n, sizeof(n), &err) != 1)
        fail_msg("reading booking.spy_log: %s", err.msg);
    if (strcmp(n, "0") != 0) {
        char rows[1024] = "";
        (void)db_exec_value(db,
                            "SELECT string_agg(DISTINCT concat_ws('/', what, app, cur, sess,"
                            " after_reset, escalation), '; ') FROM booking.spy_log"
                            " WHERE cur <> 'booking_svc' OR sess <> 'booking_svc'"
                            " OR escalation <> 'refused'",
                            0, NULL, rows, sizeof(rows), &err);
        fail_msg("%s planted calls escaped booking_svc: %s", n, rows);
    }
    /* ...and each tool did set them off. */
    static const char *const seen[][2] = {
        {"outbox read", "eventctl"},
        {"outbox read definer", "eventctl"},
        {"inbox UPDATE", "eventctl"},
        {"inbox UPDATE definer", "eventctl"},
        {"outbox UPDATE", "eventctl"},
        {"inbox DELETE", "eventctl"},
        {"schema_migrations INSERT", "migrate"},
    };
    for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++) {
        const char *params[] = {seen[i][0], seen[i][1]};
        if (db_exec_value(db, "SELECT count(*) FROM booking.spy_log WHERE what = $1 AND app = $2",
                          2, params, n, sizeof(n), &err) != 1)
            fail_msg("reading booking.spy_log: %s", err.msg);
        if (strcmp(n, "0") == 0)
            fail_msg("%s never ran the planted '%s'", seen[i][1], seen[i][0]);
    }
    if (db_exec_value(db,
                      "SELECT pg_has_role('booking_svc', 'pg_execute_server_program', 'MEMBER')"
                      " OR rolcreaterole FROM pg_roles WHERE rolname = 'booking_svc'",
                      0, NULL, n, sizeof(n), &err) != 1)
        fail_msg("reading booking_svc's attributes: %s", err.msg);
    assert_string_equal(n, "f");
    db_free(db);
    iso.db = NULL;
    unplant();
}

/*
 * ADR 0010: the admin step bounds every <context>.dead-letter queue (a policy,
 * drop-head). More poison than the bound overflows booking's: the queue keeps
 * the bound's number of copies, and every letter is still recorded in
 * booking.dead_letter, its copy confirmed by the broker.
 */
static void
test_a_dead_letter_queue_overflows_its_bound_and_the_database_keeps_every_letter(void **state)
{
    (void)state;
    enum { N = 5 };
    char prefix[64], ids[N][80];
    testlib_unique_name(prefix, sizeof(prefix), "bound");
    struct err err;
    err_clear(&err);
    struct bus *bus = bus_new(&(struct bus_config){
        .url = iso.admin_amqp, .confirms = 1, .connection_name = "test_isolation"});
    assert_non_null(bus);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "%s-%d", prefix, i);
        char body[128];
        snprintf(body, sizeof(body), "poison %s: {not JSON", ids[i]);
        struct bus_message m = {.routing_key = "inventory.stock.debited",
                                .body = body,
                                .len = strlen(body),
                                .message_id = ids[i],
                                .mandatory = 1};
        int rc = bus_connect(bus, &err);
        if (rc == 0)
            rc = bus_publish_sync(bus, &m, 5000, &err);
        if (rc)
            fail_msg("publishing poison %s: %s", ids[i], err.msg);
    }
    char like[80];
    snprintf(like, sizeof(like), "%s-%%", prefix);
    e2e_wait_count("SELECT count(*) FROM booking.dead_letter WHERE message_id LIKE $1 AND "
                   "dead_lettered_at IS NOT NULL",
                   like, NULL, N, E2E_WAIT_MS, "booking's dead letters recorded and copied");

    long long messages = -1, consumers = -1;
    assert_int_equal(bus_connect(bus, &err), 0);
    if (bus_queue_inspect(bus, "booking.dead-letter", &messages, &consumers, &err) != 0)
        fail_msg("booking.dead-letter: %s", err.msg);
    assert_int_equal(messages, atoi(DEAD_LETTER_BOUND));
    /* Every letter is in the database all the same. */
    assert_int_equal(
        e2e_count("SELECT count(*) FROM booking.dead_letter WHERE message_id LIKE $1", like, NULL),
        N);
    bus_free(bus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_choreographies_work_with_one_role_and_user_per_context),
        cmocka_unit_test(test_a_context_role_reaches_its_own_schema_and_no_other),
        cmocka_unit_test(test_a_context_user_reaches_its_own_queues_and_events_and_no_other),
        cmocka_unit_test(test_code_a_context_planted_runs_with_its_privileges_never_the_admins),
        cmocka_unit_test(
            test_a_dead_letter_queue_overflows_its_bound_and_the_database_keeps_every_letter),
    };
    /* One isolated system for the three tests: setting it up costs two service starts. */
    return cmocka_run_group_tests(tests, setup, teardown);
}
