/*
 * test_dashboard.c - the dashboard of "eventctl dashboard" in a real browser
 * (Debian's chromium driven by playwright-core, tests/browser/dashboard.js),
 * over the six services running as the e2e tests run them (e2e_harness.h).
 *
 * One operator's walk, in order: the counts are there; the six instances are
 * alive (their heartbeats) and the charts have bars; a poison message
 * published by hand appears in its failure group; a handler that fails (a
 * trigger refuses servicecatalog's known_users rows) leaves its messages dead,
 * the fault is fixed, Retry group in the page sends them back and each is
 * processed exactly once; the poison group is purged from the page; one of
 * those messages is opened (its rows, body and errors) and its flow is drawn
 * as a sequence diagram. Each browser step
 * saves a screenshot in BROWSER_OUT_DIR; docs/operations.md shows copies of
 * them (docs/img/dashboard-*.png).
 */
#include "e2e_harness.h"

#include "common/bus.h"
#include "common/uuid7.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NUSERS       3 /* messages the failing handler leaves dead */
#define FAILING_TYPE "usermanagement.user.registered"
#define REFUSE_ERROR "known_users closed by the browser test"

static pid_t dashboard = -1;
static char url[64];

/* ---- the dashboard process ------------------------------------------------------------ */

static void start_dashboard(void)
{
    int port = testlib_free_port();
    assert_true(port > 0);
    char port_text[16], log_path[512];
    snprintf(port_text, sizeof(port_text), "%d", port);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    snprintf(log_path, sizeof(log_path), "%s/eventctl-dashboard.log", BROWSER_OUT_DIR);
    const char *database_url = testlib_require_env("DATABASE_URL");
    dashboard = fork();
    assert_true(dashboard >= 0);
    if (dashboard == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execl(EVENTCTL_BIN, "eventctl", "dashboard", "--port", port_text, "--database-url",
              database_url, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        long status = 0;
        if (e2e_http_port(port, "GET", "/api/contexts", NULL, 0, NULL, 2000, &status, NULL, NULL,
                          NULL) == E2E_HTTP_ANSWERED &&
            status == 200)
            return;
        testlib_sleep_ms(50);
    }
    fail_msg("eventctl dashboard did not answer on %s within 10 s (its log: %s)", url, log_path);
}

static void stop_dashboard(void)
{
    if (dashboard <= 0)
        return;
    kill(dashboard, SIGTERM);
    int status = 0;
    while (waitpid(dashboard, &status, 0) < 0 && errno == EINTR)
        ;
    dashboard = -1;
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- one browser step ------------------------------------------------------------------- */

/*
 * Runs tests/browser/run.sh <url> <out dir> step args..., its lines with the
 * test's output; fails the test unless it exits 0.
 */
static void browser(const char *step, const char *a1, const char *a2, const char *a3)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execl("/bin/bash", "bash", BROWSER_DIR "/run.sh", url, BROWSER_OUT_DIR, step, a1, a2, a3,
              (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            fail_msg("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("browser step '%s %s %s %s' failed (its line above)", step, a1 ? a1 : "",
                 a2 ? a2 : "", a3 ? a3 : "");
}

/* ---- what the operator does outside the browser ----------------------------------------- */

/* Publishes a body that is not JSON to FAILING_TYPE, as someone would by hand. */
static void publish_poison(char id[UUID7_STR_LEN])
{
    assert_int_equal(uuid7_generate(id), 0);
    char body[128];
    snprintf(body, sizeof(body), "browser test poison %s: {not JSON", id);
    struct bus *bus = bus_new(&(struct bus_config){
        .url = e2e_amqp_url(), .confirms = 1, .connection_name = "browser test"});
    assert_non_null(bus);
    struct err err;
    err_clear(&err);
    struct bus_message m = {.routing_key = FAILING_TYPE,
                            .body = body,
                            .len = strlen(body),
                            .message_id = id,
                            .mandatory = 1};
    int rc = bus_connect(bus, &err);
    if (rc == 0)
        rc = bus_publish_sync(bus, &m, 5000, &err);
    bus_free(bus);
    if (rc)
        fail_msg("publishing the poison message: %s", err.msg);
}

/* The fault: servicecatalog's handler of FAILING_TYPE fails on every attempt until fixed. */
static void break_handler(void)
{
    char out[8];
    e2e_value("CREATE OR REPLACE FUNCTION servicecatalog.browser_test_refuse() RETURNS trigger "
              "LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION '" REFUSE_ERROR "'; END$$",
              NULL, NULL, out, sizeof(out));
    e2e_value("CREATE TRIGGER browser_test_refuse BEFORE INSERT ON servicecatalog.known_users "
              "FOR EACH ROW EXECUTE FUNCTION servicecatalog.browser_test_refuse()",
              NULL, NULL, out, sizeof(out));
}

static void fix_handler(void)
{
    char out[8];
    e2e_value("DROP TRIGGER browser_test_refuse ON servicecatalog.known_users", NULL, NULL, out,
              sizeof(out));
    e2e_value("DROP FUNCTION servicecatalog.browser_test_refuse()", NULL, NULL, out, sizeof(out));
}

/* ---- the walk ----------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    if (mkdir(BROWSER_OUT_DIR, 0755) != 0 && errno != EEXIST)
        fail_msg("mkdir '%s': %s", BROWSER_OUT_DIR, strerror(errno));
    /* Three attempts: the failing handler's messages are dead within a second or two. */
    static const char *const env[] = {"RETRY_MAX_ATTEMPTS=3", NULL};
    e2e_setup(env);
    start_dashboard();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stop_dashboard();
    e2e_teardown();
    return 0;
}

static void test_an_operator_sees_a_failure_retries_its_group_and_follows_a_flow(void **state)
{
    (void)state;
    char email[128], first[E2E_ID_LEN];
    e2e_unique_email(email, sizeof(email), "browser_ok");
    e2e_create_user(email, "Ada Browser", NULL, first);
    e2e_wait_handled(E2E_SERVICECATALOG, FAILING_TYPE, "user_id", first, E2E_WAIT_MS);
    browser("counts", "servicecatalog", NULL, NULL);
    /* The six services' heartbeats, and servicecatalog's message in this minute's bar. */
    browser("endpoints", "6", "servicecatalog", NULL);

    /* Poison published by hand: recorded by both consumers of the type, shown in its group. */
    char poison[UUID7_STR_LEN];
    publish_poison(poison);
    browser("failure", "servicecatalog", "poison", "1");

    /* A handler failing until fixed: its messages end dead, one group. */
    break_handler();
    char users[NUSERS][E2E_ID_LEN], cids[NUSERS][64];
    for (int i = 0; i < NUSERS; i++) {
        snprintf(cids[i], sizeof(cids[i]), "browser-%s-%d", poison + 24, i);
        e2e_unique_email(email, sizeof(email), "browser_dead");
        e2e_create_user(email, "Grace Browser", cids[i], users[i]);
    }
    e2e_wait_count("SELECT count(*) FROM servicecatalog.inbox WHERE status = 'dead' AND "
                   "last_error LIKE '%" REFUSE_ERROR "%'",
                   NULL, NULL, NUSERS, E2E_WAIT_MS, "servicecatalog's messages dead");
    char n[8];
    snprintf(n, sizeof(n), "%d", NUSERS);
    browser("failure", "servicecatalog", "dead", n);
    assert_int_equal(e2e_count("SELECT count(*) FROM servicecatalog.known_users", NULL, NULL), 1);

    /* Fixed, then Retry group in the page: each message processed exactly once. */
    fix_handler();
    browser("retry", "servicecatalog", "dead", n);
    for (int i = 0; i < NUSERS; i++)
        e2e_wait_handled(E2E_SERVICECATALOG, FAILING_TYPE, "user_id", users[i], E2E_WAIT_MS);
    assert_int_equal(e2e_count("SELECT count(*) FROM servicecatalog.known_users", NULL, NULL),
                     NUSERS + 1);
    assert_int_equal(e2e_count("SELECT count(*) FROM servicecatalog.inbox WHERE status <> "
                               "'processed'",
                               NULL, NULL),
                     0);
    assert_int_equal(e2e_count("SELECT count(*) FROM servicecatalog.inbox", NULL, NULL),
                     NUSERS + 1);

    /* The poison cannot be retried: the operator purges it from the page. */
    browser("purge", "servicecatalog", "poison", NULL);
    assert_int_equal(e2e_count("SELECT count(*) FROM servicecatalog.dead_letter WHERE "
                               "message_id = $1",
                               poison, NULL),
                     0);
    assert_int_equal(e2e_count("SELECT count(*) FROM notification.dead_letter WHERE "
                               "message_id = $1",
                               poison, NULL),
                     1);

    /* One retried message: its outbox row and both inbox rows, its body, its flow. */
    char event[E2E_ID_LEN];
    e2e_value("SELECT id FROM servicecatalog.inbox WHERE correlation_id = $1", cids[0], NULL, event,
              sizeof(event));
    browser("message", event, "3", NULL);

    /* The flow of a retried user: usermanagement to servicecatalog and notification. */
    browser("flow", cids[0], "2", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_an_operator_sees_a_failure_retries_its_group_and_follows_a_flow, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
