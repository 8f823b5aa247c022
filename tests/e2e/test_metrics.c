/*
 * test_metrics.c - the six services' GET /metrics as Prometheus reads it
 * (docs/observability.md): after one booking end to end, every service's
 * exposition passes `promtool check metrics` (format and naming lint), and a
 * private Prometheus started by deploy/local/prometheus.sh scrapes all six
 * and loads the shipped rules (deploy/prometheus/rules.yml) without error.
 *
 * promtool and prometheus come from Debian's "prometheus" package, which
 * deploy/local/deps.sh --lint installs; a machine without them fails here
 * with a line saying so, never a skip. The six expositions are kept in
 * METRICS_OUT_DIR/<context>.prom for reading after a failure.
 */
#include "e2e_harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define METRICS_WAIT_MS    30000
#define PROMETHEUS_WAIT_MS 60000

/* What to do when promtool or prometheus is missing. */
#define PROM_PACKAGE_HINT "install Debian's 'prometheus' package (deploy/local/deps.sh --lint does)"

static char prometheus_dir[512]; /* LOCAL_DIR of the private Prometheus, "" when not started */

static int setup(void **state)
{
    (void)state;
    static const char *const extra[] = {"PAYMENT_LIMIT_CENTS=100000", NULL};
    e2e_setup(extra);
    return 0;
}

/* Runs deploy/local/prometheus.sh stop for the instance this test started, if any. */
static void prometheus_stop(void)
{
    if (!prometheus_dir[0])
        return;
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "LOCAL_DIR='%s' '%s' stop", prometheus_dir, PROMETHEUS_SH);
    int rc = system(cmd);
    if (rc != 0)
        print_error("'%s' stop: exit status %d\n", PROMETHEUS_SH, rc);
    prometheus_dir[0] = '\0';
}

static int teardown(void **state)
{
    (void)state;
    prometheus_stop();
    e2e_teardown();
    return 0;
}

static void require_tool(const char *tool)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
    if (system(cmd) != 0)
        fail_msg("'%s' not found on PATH: %s", tool, PROM_PACKAGE_HINT);
}

static void make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        fail_msg("cannot create '%s': %s", path, strerror(errno));
}

/* One booking through the whole choreography: users, provider, offering, booking confirmed. */
static void one_booking(void)
{
    char email[128], owner[E2E_ID_LEN], customer[E2E_ID_LEN], provider[E2E_ID_LEN],
        offering[E2E_ID_LEN];
    e2e_unique_email(email, sizeof(email), "owner");
    e2e_create_user(email, "Paula Provider", NULL, owner);
    e2e_unique_email(email, sizeof(email), "customer");
    e2e_create_user(email, "Carl Customer", NULL, customer);
    json_decref(e2e_create_provider(owner, NULL, provider));
    e2e_wait_handled(E2E_NOTIFICATION, "usermanagement.user.registered", "user_id", customer,
                     E2E_WAIT_MS);
    e2e_create_offering(provider, "Metrics Room", 5000, 3, NULL, offering);
    e2e_wait_offering_known(offering);

    char body[256];
    snprintf(body, sizeof(body), "{\"user_id\": \"%s\", \"offering_id\": \"%s\", \"quantity\": 1}",
             customer, offering);
    long status;
    json_t *reply = NULL;
    int64_t deadline = testlib_now_ms() + E2E_WAIT_MS;
    for (;;) { /* booking's price replica may lag: 409 until it has the offering */
        json_decref(reply);
        e2e_post(E2E_BOOKING, "/bookings", body, NULL, &status, &reply, NULL);
        if (status != 409 || testlib_now_ms() > deadline)
            break;
        testlib_sleep_ms(50);
    }
    if (status != 202)
        fail_msg("POST /bookings %s: status %ld, expected 202: %s", body, status, e2e_dump(reply));
    char path[128];
    snprintf(path, sizeof(path), "/bookings/%s", e2e_str(reply, "id"));
    json_decref(reply);
    json_decref(e2e_poll_field(E2E_BOOKING, path, "status", "confirmed", METRICS_WAIT_MS,
                               "the booking to be confirmed"));
}

/* GET /metrics of c as text (free it); fails unless 200. */
static char *get_metrics(enum e2e_ctx c)
{
    long status = 0;
    char *text = NULL, errbuf[256] = "";
    if (e2e_http_port(e2e_port(c), "GET", "/metrics", NULL, 0, NULL, 10000, &status, &text, NULL,
                      errbuf) != E2E_HTTP_ANSWERED)
        fail_msg("GET /metrics of '%s': %s", e2e_ctx_name(c), errbuf);
    if (status != 200 || !text)
        fail_msg("GET /metrics of '%s': status %ld", e2e_ctx_name(c), status);
    return text;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        fail_msg("cannot write '%s': %s", path, strerror(errno));
    fputs(text, f);
    if (fclose(f) != 0)
        fail_msg("cannot write '%s': %s", path, strerror(errno));
}

/* Runs cmd through the shell; returns its exit status and its output (stdout and stderr) in out. */
static int run_capture(const char *cmd, char *out, size_t outlen)
{
    char full[2100];
    snprintf(full, sizeof(full), "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p)
        fail_msg("cannot run '%s': %s", cmd, strerror(errno));
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* What the booking must have left in the expositions: each family name appears as a sample. */
static void assert_has_sample(const char *text, enum e2e_ctx c, const char *sample_prefix)
{
    char needle[160];
    snprintf(needle, sizeof(needle), "\n%s", sample_prefix);
    if (!strstr(text, needle))
        fail_msg("'%s' /metrics has no '%s' sample after a booking", e2e_ctx_name(c),
                 sample_prefix);
}

static void test_every_service_metrics_pass_promtool(void **state)
{
    (void)state;
    require_tool("promtool");
    one_booking();

    make_dir(METRICS_OUT_DIR);
    for (enum e2e_ctx c = 0; c < E2E_NCTX; c++) {
        char *text = get_metrics(c);
        char path[600];
        snprintf(path, sizeof(path), "%s/%s.prom", METRICS_OUT_DIR, e2e_ctx_name(c));
        write_file(path, text);
        /* Every service consumes and answers HTTP; booking published and the saga handled it. */
        assert_has_sample(text, c, "events_consumed_total{type=");
        assert_has_sample(text, c, "event_critical_time_seconds_bucket{le=");
        assert_has_sample(text, c, "http_requests_total{method=");
        assert_has_sample(text, c, "outbox_oldest_pending_seconds{context=");
        if (c == E2E_BOOKING)
            assert_has_sample(text, c, "events_published_total{type=\"booking.booking.created\"}");
        free(text);

        char cmd[700], out[8192];
        snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s'", path);
        int rc = run_capture(cmd, out, sizeof(out));
        if (rc != 0)
            fail_msg("promtool check metrics on '%s' /metrics (%s) exit %d:\n%s", e2e_ctx_name(c),
                     path, rc, out);
    }
}

/* The prometheus.yml of a private Prometheus scraping the six test services every second. */
static void write_scrape_config(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        fail_msg("cannot write '%s': %s", path, strerror(errno));
    fprintf(f,
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "rule_files:\n  - '%s'\n"
            "scrape_configs:\n  - job_name: events\n    static_configs:\n      - targets:\n",
            PROMETHEUS_RULES);
    for (enum e2e_ctx c = 0; c < E2E_NCTX; c++)
        fprintf(f, "          - '127.0.0.1:%d'\n", e2e_port(c));
    if (fclose(f) != 0)
        fail_msg("cannot write '%s': %s", path, strerror(errno));
}

/* GET path on 127.0.0.1:port as JSON (new reference), or NULL when not answered 200 with JSON. */
static json_t *get_json(int port, const char *path)
{
    long status = 0;
    char *text = NULL;
    if (e2e_http_port(port, "GET", path, NULL, 0, NULL, 5000, &status, &text, NULL, NULL) !=
            E2E_HTTP_ANSWERED ||
        status != 200) {
        free(text);
        return NULL;
    }
    json_t *json = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return json;
}

/* How many results of an instant query have the value "1" (0 when the query fails). */
static size_t results_equal_to_one(int port, const char *query_path)
{
    json_t *reply = get_json(port, query_path);
    const json_t *result = json_object_get(json_object_get(reply, "data"), "result");
    size_t i, ones = 0;
    const json_t *r;
    json_array_foreach(result, i, r)
    {
        const char *v = json_string_value(json_array_get(json_object_get(r, "value"), 1));
        if (v && strcmp(v, "1") == 0)
            ones++;
    }
    json_decref(reply);
    return ones;
}

/* Every rule group of /api/v1/rules evaluated without error; the number of rules in *nrules. */
static bool rules_healthy(int port, size_t *nrules, char *problem, size_t plen)
{
    json_t *reply = get_json(port, "/api/v1/rules");
    const json_t *groups = json_object_get(json_object_get(reply, "data"), "groups");
    *nrules = 0;
    snprintf(problem, plen, "no rule groups");
    bool ok = json_array_size(groups) > 0;
    size_t i, j;
    const json_t *g, *rule;
    json_array_foreach(groups, i, g)
    {
        json_array_foreach(json_object_get(g, "rules"), j, rule)
        {
            (*nrules)++;
            const char *health = json_string_value(json_object_get(rule, "health"));
            if (!health || strcmp(health, "ok") != 0) {
                snprintf(problem, plen, "rule '%s' health '%s': %s",
                         json_string_value(json_object_get(rule, "name")),
                         health ? health : "unknown",
                         json_string_value(json_object_get(rule, "lastError")));
                ok = false;
            }
        }
    }
    json_decref(reply);
    return ok;
}

static void test_private_prometheus_scrapes_all_six_and_evaluates_the_rules(void **state)
{
    (void)state;
    require_tool("prometheus");
    make_dir(METRICS_OUT_DIR);
    snprintf(prometheus_dir, sizeof(prometheus_dir), "%s/prometheus-local", METRICS_OUT_DIR);
    char cmd[2048], out[8192], config[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", prometheus_dir);
    if (system(cmd) != 0)
        fail_msg("cannot clear '%s'", prometheus_dir);
    make_dir(prometheus_dir);
    snprintf(config, sizeof(config), "%s/prometheus.yml", prometheus_dir);
    write_scrape_config(config);

    int port = testlib_free_port();
    snprintf(cmd, sizeof(cmd),
             "LOCAL_DIR='%s' PROMETHEUS_PORT=%d PROMETHEUS_CONFIG='%s' '%s' start", prometheus_dir,
             port, config, PROMETHEUS_SH);
    int rc = run_capture(cmd, out, sizeof(out));
    if (rc != 0)
        fail_msg("%s: exit %d:\n%s", cmd, rc, out);

    /* Its URL is in LOCAL_DIR/env, as up.sh's users read it. */
    char env_path[600], want[64], env[1024] = "";
    snprintf(env_path, sizeof(env_path), "%s/env", prometheus_dir);
    snprintf(want, sizeof(want), "PROMETHEUS_URL=http://127.0.0.1:%d\n", port);
    FILE *f = fopen(env_path, "r");
    if (f) {
        env[fread(env, 1, sizeof(env) - 1, f)] = '\0';
        fclose(f);
    }
    if (!strstr(env, want))
        fail_msg("'%s' lacks '%s': %s", env_path, want, env);

    size_t up = 0, nrules = 0;
    char problem[512] = "";
    bool healthy = false;
    int64_t deadline = testlib_now_ms() + PROMETHEUS_WAIT_MS;
    while (testlib_now_ms() < deadline) {
        up = results_equal_to_one(port, "/api/v1/query?query=up");
        healthy = rules_healthy(port, &nrules, problem, sizeof(problem));
        if (up == E2E_NCTX && healthy)
            break;
        testlib_sleep_ms(250);
    }
    if (up != E2E_NCTX)
        fail_msg("Prometheus on port %d: %zu of %d targets up within %d ms", port, up, E2E_NCTX,
                 PROMETHEUS_WAIT_MS);
    if (!healthy)
        fail_msg("Prometheus on port %d: the shipped rules do not evaluate: %s", port, problem);
    prometheus_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_service_metrics_pass_promtool, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_private_prometheus_scrapes_all_six_and_evaluates_the_rules, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
