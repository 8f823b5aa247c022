/*
 * test_tls.c - both links over TLS (docs/security.md "TLS"): the six services
 * given amqps:// with AMQP_CA_FILE and a client certificate, and a
 * DATABASE_URL with sslmode=verify-full, walk the provider registration
 * flow; a service given a CA that did not sign the server's certificate
 * fails within seconds, naming the server on stderr and reporting the link
 * down on /health; migrate and eventctl take the same verify-full URL.
 *
 * The servers are the ones tests/run.sh starts with INFRA_TLS=1: the
 * infrastructure's own CA (TLS_CA_FILE), its client certificate, the broker's
 * TLS-only port AMQPS_URL (it requires a client certificate) and
 * DATABASE_URL_TLS. The wrong CA is made here with openssl.
 */
#include "e2e_harness.h"

#include "common/bus.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if !defined(TLS_SERVICE_BIN) || !defined(TLS_MIGRATE_BIN) || !defined(TLS_EVENTCTL_BIN) ||        \
    !defined(TLS_MIGRATIONS_ROOT)
#error "CMake names usermanagement, migrate, eventctl and the migrations directory"
#endif

#define FAIL_FAST_MS 10000 /* the brief's bound; expected well below it (< 1 s) */
#define ENV_LEN      512

static char wrong_dir[64];
static char wrong_ca[128];

/* "NAME=value" into out (size ENV_LEN), failing when it does not fit. */
static const char *env_entry(char *out, const char *name, const char *value)
{
    if (snprintf(out, ENV_LEN, "%s=%s", name, value) >= ENV_LEN)
        fail_msg("%s is longer than %d bytes", name, ENV_LEN);
    return out;
}

/* ------------------------------------------------------------ the wrong CA */

/* A self-made CA nobody used to sign anything: what a misconfigured client trusts. */
static int make_wrong_ca(void **state)
{
    (void)state;
    snprintf(wrong_dir, sizeof(wrong_dir), "/tmp/e2e-tls.XXXXXX");
    if (!mkdtemp(wrong_dir))
        fail_msg("mkdtemp: %s", strerror(errno));
    snprintf(wrong_ca, sizeof(wrong_ca), "%s/wrong-ca.crt", wrong_dir);
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
             "-subj '/CN=e2e wrong CA' -keyout '%s/wrong-ca.key' -out '%s' 2>/dev/null",
             wrong_dir, wrong_ca);
    if (system(cmd) != 0)
        fail_msg("openssl could not make a CA in %s (is openssl installed? deploy/local/deps.sh)",
                 wrong_dir);
    return 0;
}

static int remove_wrong_ca(void **state)
{
    (void)state;
    char path[192];
    snprintf(path, sizeof(path), "%s/wrong-ca.key", wrong_dir);
    unlink(path);
    unlink(wrong_ca);
    rmdir(wrong_dir);
    return 0;
}

/* -------------------------------------------------------- one service alone */

struct lone {
    pid_t pid;
    int port;
    int err_fd; /* read end of its stderr */
    char text[16384];
    size_t len;
};

extern char **environ;

/* The service a test started and has not reaped yet (a failed assertion leaves it running). */
static struct lone *lone_running;

/* cmocka teardown: kills and reaps what a failed test left behind. */
static int lone_kill(void **state)
{
    (void)state;
    if (lone_running) {
        kill(lone_running->pid, SIGKILL);
        waitpid(lone_running->pid, NULL, 0);
        close(lone_running->err_fd);
        lone_running = NULL;
    }
    return 0;
}

/*
 * Starts usermanagement with the test's environment overridden by extra
 * ("NAME=value", NULL-terminated) on a free port, its stderr into a pipe.
 */
static void lone_start(struct lone *s, const char *const *extra)
{
    memset(s, 0, sizeof(*s));
    s->port = testlib_free_port();
    assert_true(s->port > 0);
    static char own[3][ENV_LEN];
    char port[16];
    snprintf(port, sizeof(port), "%d", s->port);
    const char *mine[16];
    size_t n = 0;
    mine[n++] = env_entry(own[0], "HTTP_PORT", port);
    mine[n++] = env_entry(own[1], "INSTANCE_ID", "usermanagement-tls");
    mine[n++] = env_entry(own[2], "LOG_LEVEL", "warn");
    for (; extra && *extra && n < 15; extra++)
        mine[n++] = *extra;
    mine[n] = NULL;

    static const char *envp[1024];
    size_t k = 0;
    for (char **e = environ; *e && k < 1000; e++) {
        bool overridden = false;
        for (size_t i = 0; i < n && !overridden; i++) {
            size_t key = strcspn(mine[i], "=");
            overridden = strncmp(*e, mine[i], key + 1) == 0;
        }
        if (!overridden)
            envp[k++] = *e;
    }
    for (size_t i = 0; i < n; i++)
        envp[k++] = mine[i];
    envp[k] = NULL;

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            dup2(devnull, STDOUT_FILENO);
        }
        execve(TLS_SERVICE_BIN, (char *const[]){(char *)TLS_SERVICE_BIN, NULL},
               (char *const *)envp);
        _exit(127);
    }
    close(fds[1]);
    s->err_fd = fds[0];
    fcntl(s->err_fd, F_SETFL, O_NONBLOCK);
    lone_running = s;
}

/*
 * Reads what stderr has for up to wait_ms; false at end of file. Beyond
 * sizeof(text) it keeps reading and drops the rest, so the service never
 * blocks on a full pipe.
 */
static bool lone_read(struct lone *s, int wait_ms)
{
    struct pollfd p = {.fd = s->err_fd, .events = POLLIN};
    if (poll(&p, 1, wait_ms) <= 0)
        return true;
    char dropped[4096];
    size_t room = sizeof(s->text) - 1 - s->len;
    char *dst = room ? s->text + s->len : dropped;
    ssize_t got = read(s->err_fd, dst, room ? room : sizeof(dropped));
    if (got <= 0)
        return got < 0 && errno == EAGAIN;
    if (room) {
        s->len += (size_t)got;
        s->text[s->len] = '\0';
    }
    return true;
}

/* Reads what is left on stderr, closes it; the process has been reaped. */
static void lone_reaped(struct lone *s)
{
    struct pollfd p = {.fd = s->err_fd, .events = POLLIN};
    while (poll(&p, 1, 0) > 0 && lone_read(s, 0))
        ;
    close(s->err_fd);
    lone_running = NULL;
}

/* The first stderr line holding every one of the NULL-terminated needles (static), or NULL. */
static const char *lone_line_with(const struct lone *s, const char *const *needles)
{
    static char line[4096];
    for (const char *p = s->text; *p;) {
        size_t len = strcspn(p, "\n");
        snprintf(line, sizeof(line), "%.*s", (int)len, p);
        bool all = true;
        for (const char *const *x = needles; *x && all; x++)
            all = strstr(line, *x) != NULL;
        if (all)
            return line;
        p += len + (p[len] == '\n');
    }
    return NULL;
}

/*
 * Waits until a stderr line holds every needle; fails after FAIL_FAST_MS
 * with what stderr said. Returns the milliseconds it took.
 */
static int64_t lone_wait_line(struct lone *s, const char *const *needles, const char *what)
{
    int64_t t0 = testlib_now_ms();
    const char *line;
    while (!(line = lone_line_with(s, needles))) {
        if (testlib_now_ms() - t0 > FAIL_FAST_MS || !lone_read(s, 100))
            fail_msg("no stderr line about %s within %d ms; stderr was:\n%s", what, FAIL_FAST_MS,
                     s->text);
    }
    int64_t ms = testlib_now_ms() - t0;
    print_message("after %lld ms: %s\n", (long long)ms, line);
    return ms;
}

/*
 * GET /health answers 503 with checks.<link> "down". (Which other link is up
 * depends on what each worker reaches first: a consumer without its broker
 * never opens its database, so only the failing link is checked.)
 */
static void lone_expect_down(const struct lone *s, const char *link)
{
    int64_t deadline = testlib_now_ms() + FAIL_FAST_MS;
    for (;;) {
        long status = 0;
        char *body = NULL, errbuf[256] = "", seen[512];
        enum e2e_http_result r = e2e_http_port(s->port, "GET", "/health", NULL, 0, NULL, 2000,
                                               &status, &body, NULL, errbuf);
        json_t *json = r == E2E_HTTP_ANSWERED && body ? json_loads(body, 0, NULL) : NULL;
        bool down =
            status == 503 && strcmp(e2e_str(json_object_get(json, "checks"), link), "down") == 0;
        snprintf(seen, sizeof(seen), "status %ld, body %s %s", status, body ? body : "-", errbuf);
        json_decref(json);
        free(body);
        if (down)
            return;
        if (testlib_now_ms() > deadline)
            fail_msg("GET /health did not report the %s down within %d ms: %s", link, FAIL_FAST_MS,
                     seen);
        testlib_sleep_ms(50);
    }
}

/* SIGTERM, then the exit status (fails unless it ends within 20 s). */
static int lone_stop(struct lone *s)
{
    kill(s->pid, SIGTERM);
    int status = 0;
    int64_t deadline = testlib_now_ms() + 20000;
    pid_t got;
    while ((got = waitpid(s->pid, &status, WNOHANG)) == 0 && testlib_now_ms() < deadline)
        lone_read(s, 20);
    if (got != s->pid)
        fail_msg("usermanagement did not stop within 20 s of SIGTERM"); /* lone_kill reaps it */
    lone_reaped(s);
    return status;
}

/* ------------------------------------------------------------------ tests */

/* The six services with every link over TLS: AMQPS_URL with CA and client certificate, DATABASE_URL_TLS. */
static int start_services_over_tls(void **state)
{
    (void)state;
    static char e[5][ENV_LEN];
    static const char *env[6];
    env[0] = env_entry(e[0], "AMQP_URL", testlib_require_env("AMQPS_URL"));
    env[1] = env_entry(e[1], "AMQP_CA_FILE", testlib_require_env("TLS_CA_FILE"));
    env[2] = env_entry(e[2], "AMQP_CERT_FILE", testlib_require_env("TLS_CLIENT_CERT_FILE"));
    env[3] = env_entry(e[3], "AMQP_KEY_FILE", testlib_require_env("TLS_CLIENT_KEY_FILE"));
    env[4] = env_entry(e[4], "DATABASE_URL", testlib_require_env("DATABASE_URL_TLS"));
    env[5] = NULL;
    if (!strstr(env[4], "sslmode=verify-full") || strncmp(env[0], "AMQP_URL=amqps://", 17) != 0)
        fail_msg("the infrastructure's TLS URLs are not TLS: %s, %s", env[0], env[4]);
    e2e_setup(env);
    return 0;
}

static int stop_services(void **state)
{
    (void)state;
    e2e_teardown();
    return 0;
}

/* The flow of test_provider_registration.c, every link of every service over TLS. */
static void test_provider_registration_runs_with_both_links_over_tls(void **state)
{
    (void)state;
    char email[128], user_id[E2E_ID_LEN], provider_id[E2E_ID_LEN], path[160];
    e2e_unique_email(email, sizeof(email), "tls");
    e2e_create_user(email, "Tina Tls", "tls-user", user_id);
    json_decref(e2e_create_provider(user_id, "tls-provider", provider_id));
    snprintf(path, sizeof(path), "/users/%s", user_id);
    json_decref(e2e_poll_field(E2E_USERMANAGEMENT, path, "provider_status", "pending", E2E_WAIT_MS,
                               "the owner's provider_status 'pending' (role granted)"));
    e2e_wait_handled(E2E_NOTIFICATION, "usermanagement.user.role_granted", "user_id", user_id,
                     E2E_WAIT_MS);
    char apath[192];
    snprintf(apath, sizeof(apath), "/providers/%s/activate", provider_id);
    long status;
    json_t *active;
    e2e_post(E2E_SERVICECATALOG, apath, NULL, "tls-activate", &status, &active, NULL);
    if (status != 200)
        fail_msg("POST %s: status %ld, expected 200: %s", apath, status, e2e_dump(active));
    json_decref(active);
    json_decref(e2e_poll_field(E2E_USERMANAGEMENT, path, "provider_status", "active", E2E_WAIT_MS,
                               "the owner's provider_status 'active'"));

    /*
     * The broker's AMQPS_URL port speaks nothing but TLS and wants our client
     * certificate, so the flow above proves the broker link. PostgreSQL takes
     * both on one port: every session of the services must be encrypted.
     */
    static const char services_sessions[] =
        "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)"
        " WHERE a.application_name LIKE '%-e2e %' AND s.ssl = $1::boolean";
    assert_int_equal(e2e_count(services_sessions, "false", NULL), 0);
    int64_t encrypted = e2e_count(services_sessions, "true", NULL);
    if (encrypted < E2E_NCTX)
        fail_msg("expected at least one TLS session per service in pg_stat_ssl, found %lld",
                 (long long)encrypted);
}

/* DATABASE_URL_TLS with the wrong CA as sslrootcert, into out (size ENV_LEN). */
static void wrong_database_url(char *out)
{
    const char *url = testlib_require_env("DATABASE_URL_TLS");
    const char *root = strstr(url, "sslrootcert=");
    if (!root)
        fail_msg("DATABASE_URL_TLS has no sslrootcert: %s", url);
    snprintf(out, ENV_LEN, "%.*ssslrootcert=%s", (int)(root - url), url, wrong_ca);
}

/*
 * Runs usermanagement alone with env, and expects within FAIL_FAST_MS / 2 a
 * stderr line holding every needle, /health reporting link down, and a
 * clean exit on SIGTERM all the same.
 */
static void expect_fast_failure(const char *const *env, const char *const *needles,
                                const char *link)
{
    static struct lone s; /* static: lone_kill may reach it after a failed assertion */
    lone_start(&s, env);
    char what[64];
    snprintf(what, sizeof(what), "the %s's certificate failing verification", link);
    int64_t ms = lone_wait_line(&s, needles, what);
    lone_expect_down(&s, link);
    int status = lone_stop(&s);
    if (ms > FAIL_FAST_MS / 2)
        fail_msg("the %s's TLS failure took %lld ms to show", link, (long long)ms);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("usermanagement did not exit 0 on SIGTERM (status %d); stderr:\n%s", status,
                 s.text);
}

/* A CA that did not sign the broker's certificate: the broker link is down at once, and said so. */
static void test_wrong_amqp_ca_fails_fast_naming_the_broker(void **state)
{
    (void)state;
    char e[4][ENV_LEN], where[64];
    const char *env[] = {
        env_entry(e[0], "AMQP_URL", testlib_require_env("AMQPS_URL")),
        env_entry(e[1], "AMQP_CA_FILE", wrong_ca),
        env_entry(e[2], "AMQP_CERT_FILE", testlib_require_env("TLS_CLIENT_CERT_FILE")),
        env_entry(e[3], "AMQP_KEY_FILE", testlib_require_env("TLS_CLIENT_KEY_FILE")),
        NULL,
    };
    snprintf(where, sizeof(where), "@127.0.0.1:%s/", testlib_require_env("AMQPS_PORT"));
    expect_fast_failure(env,
                        (const char *[]){"cannot reach the broker", where,
                                         "SSL peer cert verification failed",
                                         "is not signed by a CA in", wrong_ca, NULL},
                        "broker");
}

/* The same for PostgreSQL: libpq names host and port, our line says which link. */
static void test_wrong_database_ca_fails_fast_naming_the_server(void **state)
{
    (void)state;
    char e[1][ENV_LEN], url[ENV_LEN], where[64];
    wrong_database_url(url);
    const char *env[] = {env_entry(e[0], "DATABASE_URL", url), NULL};
    snprintf(where, sizeof(where), "port %s failed", testlib_require_env("PG_PORT"));
    expect_fast_failure(env,
                        (const char *[]){"cannot reach the database", "127.0.0.1", where,
                                         "certificate verify failed", NULL},
                        "database");
}

/* A client certificate without its key is a configuration error: exit 2 and one line. */
static void test_client_certificate_without_key_is_refused_at_start(void **state)
{
    (void)state;
    char e[1][ENV_LEN];
    const char *env[] = {
        env_entry(e[0], "AMQP_CERT_FILE", testlib_require_env("TLS_CLIENT_CERT_FILE")), NULL};
    static struct lone s; /* static: lone_kill may reach it after a failed assertion */
    lone_start(&s, env);
    int64_t deadline = testlib_now_ms() + FAIL_FAST_MS;
    int status = 0;
    pid_t got;
    while ((got = waitpid(s.pid, &status, WNOHANG)) == 0 && testlib_now_ms() < deadline)
        lone_read(&s, 20);
    if (got != s.pid)
        fail_msg("usermanagement with AMQP_CERT_FILE alone kept running; stderr:\n%s", s.text);
    lone_reaped(&s);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 2)
        fail_msg("expected exit 2, got status %d; stderr:\n%s", status, s.text);
    if (!lone_line_with(&s, (const char *[]){"AMQP_CERT_FILE and AMQP_KEY_FILE", NULL}))
        fail_msg("stderr does not name AMQP_CERT_FILE and AMQP_KEY_FILE:\n%s", s.text);
}

/*
 * bus_connect's TLS errors name the setting to fix: the broker wants a client
 * certificate; the CA file cannot be read; a certificate came without its key.
 */
static void test_bus_tls_errors_name_the_setting_to_fix(void **state)
{
    (void)state;
    struct bus *bus =
        bus_new(&(struct bus_config){.url = testlib_require_env("AMQPS_URL"),
                                     .tls_ca_file = testlib_require_env("TLS_CA_FILE")});
    assert_non_null(bus);
    struct err err;
    err_clear(&err);
    assert_int_equal(bus_connect(bus, &err), ERR_TRANSIENT);
    if (!strstr(err.msg, "client certificate") || !strstr(err.msg, "AMQP_CERT_FILE"))
        fail_msg("the error does not mention the client certificate: %s", err.msg);
    bus_free(bus);

    /* An unreadable CA file will not get better by retrying: ERR_INVALID naming it. */
    bus = bus_new(&(struct bus_config){.url = testlib_require_env("AMQPS_URL"),
                                       .tls_ca_file = "/nonexistent/ca.crt"});
    assert_non_null(bus);
    err_clear(&err);
    assert_int_equal(bus_connect(bus, &err), ERR_INVALID);
    if (!strstr(err.msg, "'/nonexistent/ca.crt'") || !strstr(err.msg, "AMQP_CA_FILE"))
        fail_msg("the error does not name the CA file: %s", err.msg);
    bus_free(bus);

    bus =
        bus_new(&(struct bus_config){.url = testlib_require_env("AMQPS_URL"),
                                     .tls_ca_file = testlib_require_env("TLS_CA_FILE"),
                                     .tls_cert_file = testlib_require_env("TLS_CLIENT_CERT_FILE")});
    assert_non_null(bus);
    err_clear(&err);
    assert_int_equal(bus_connect(bus, &err), ERR_INVALID);
    if (!strstr(err.msg, "client certificate needs its key"))
        fail_msg("a certificate without its key: %s", err.msg);
    bus_free(bus);
}

/* Runs a shell command, its stdout and stderr into out; returns its wait status. */
static int run_capture(const char *cmd, char *out, size_t outlen)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        fail_msg("popen '%s': %s", cmd, strerror(errno));
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    return pclose(p);
}

/* migrate and eventctl hand a verify-full URL to libpq as is, and name the server when it fails. */
static void test_operations_tools_take_a_verify_full_url(void **state)
{
    (void)state;
    const char *url = testlib_require_env("DATABASE_URL_TLS");
    char cmd[2048], out[8192], wrong[ENV_LEN], where[64];
    wrong_database_url(wrong);
    snprintf(where, sizeof(where), "port %s failed", testlib_require_env("PG_PORT"));

    snprintf(cmd, sizeof(cmd), "'%s' --dir '%s' --database-url '%s' usermanagement 2>&1",
             TLS_MIGRATE_BIN, TLS_MIGRATIONS_ROOT, url);
    int status = run_capture(cmd, out, sizeof(out));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("migrate over TLS: status %d:\n%s", status, out);
    snprintf(cmd, sizeof(cmd), "'%s' messages --limit 1 --database-url '%s' 2>&1", TLS_EVENTCTL_BIN,
             url);
    status = run_capture(cmd, out, sizeof(out));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("eventctl messages over TLS: status %d:\n%s", status, out);

    snprintf(cmd, sizeof(cmd), "'%s' messages --limit 1 --database-url '%s' 2>&1", TLS_EVENTCTL_BIN,
             wrong);
    status = run_capture(cmd, out, sizeof(out));
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 0 || !strstr(out, where) ||
        !strstr(out, "certificate verify failed") || !strstr(out, "events:***@"))
        fail_msg("eventctl with a wrong CA: expected a failure naming the server ('%s', "
                 "'certificate verify failed', password masked), got status %d:\n%s",
                 where, status, out);
    snprintf(cmd, sizeof(cmd), "'%s' --dir '%s' --database-url '%s' usermanagement 2>&1",
             TLS_MIGRATE_BIN, TLS_MIGRATIONS_ROOT, wrong);
    status = run_capture(cmd, out, sizeof(out));
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 0 || !strstr(out, where) ||
        !strstr(out, "certificate verify failed"))
        fail_msg(
            "migrate with a wrong CA: expected a failure naming the server, got status %d:\n%s",
            status, out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_provider_registration_runs_with_both_links_over_tls,
                                        start_services_over_tls, stop_services),
        cmocka_unit_test_teardown(test_wrong_amqp_ca_fails_fast_naming_the_broker, lone_kill),
        cmocka_unit_test_teardown(test_wrong_database_ca_fails_fast_naming_the_server, lone_kill),
        cmocka_unit_test_teardown(test_client_certificate_without_key_is_refused_at_start,
                                  lone_kill),
        cmocka_unit_test(test_bus_tls_errors_name_the_setting_to_fix),
        cmocka_unit_test(test_operations_tools_take_a_verify_full_url),
    };
    return cmocka_run_group_tests(tests, make_wrong_ca, remove_wrong_ca);
}
