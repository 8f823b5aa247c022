/*
 * saga_bench.c - the booking saga, measured end to end: POST /bookings over
 * HTTP → booking → inventory → payment → inventory → booking final, with
 * the six services as their own processes against the servers in
 * DATABASE_URL and AMQP_URL. A benchmark, not a test: it prints figures and
 * never fails on them; it fails only on errors (a service that will not
 * start or stop cleanly, a setup step refused, an accepted booking that
 * never reaches a final state). Run it through tests/bench/saga.sh (Release
 * build, private servers); CTest's bench.saga runs its --quick variant.
 *
 * Phases, all in one run so the figures compare as ratios:
 *   1. reference: pgbench running the handler's transaction shape, the
 *      single-hop benchmark's own (bench_ref.h), before the services start;
 *   2. setup over HTTP: a user, a provider (activated), offerings; then a
 *      short warm-up of a few bookings;
 *   3. latency: bookings at fixed rates (open loop);
 *   4. throughput: bookings from 16 keep-alive connections as fast as they
 *      go, over 10 offerings, then over 1 offering (every booking locks the
 *      same stock row);
 *   after each load, a bounded wait until every accepted booking is final.
 * Every figure about bookings comes from the database, for the ids the 202
 * replies gave: created_at of the booking → the time of its final history
 * entry (both the database's clock).
 */
#include "bench_ref.h"
#include "saga_http.h"
#include "saga_load.h"
#include "saga_proc.h"

#include "e2e_harness.h"

#include "common/db.h"
#include "common/log.h"
#include "common/migrate.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NSERVICES      6 /* SPEC §1's contexts, in e2e_ctx order */
#define HEALTH_MS      60000
#define STOP_MS        20000
#define SETUP_MS       30000
#define DRAIN_MIN_MS   120000 /* plus 10 × the load's seconds */
#define PRICE_CENTS    1000
#define DECLINED_CENTS 150000 /* above the default PAYMENT_LIMIT_CENTS (100000): payment declines */
#define DECLINED_EVERY 20     /* one booking in 20 over the spread offerings is declined */
#define CAPACITY       1000000
#define MAX_PHASES     8
#define MAX_SPREAD     64

static const char *const bins[NSERVICES] = {SAGA_BIN_SERVICECATALOG, SAGA_BIN_USERMANAGEMENT,
                                            SAGA_BIN_BOOKING,        SAGA_BIN_INVENTORY,
                                            SAGA_BIN_PAYMENT,        SAGA_BIN_NOTIFICATION};

/* The processes whose CPU time is reported: the servers, the six services, this client. */
enum { P_POSTGRES, P_RABBITMQ, P_SERVICES, P_CLIENT = P_SERVICES + NSERVICES, NPROCS };

/*
 * The hops of a confirmed booking, each an event from one context's outbox
 * to another's inbox. "In flight": the producer's outbox INSERT → the
 * consumer's inbox row (the producer's commit, the relay's wake-up, claim
 * and publish, the broker, the consumer's receive and start); "handled":
 * that inbox row → the INSERT of the event the handler publishes next (its
 * effect). Their sum is about created → final.
 */
static const struct hop {
    const char *from, *type, *to, *next, *label;
} hops[] = {
    {"booking", "booking.booking.created", "inventory", "inventory.stock.reserved",
     "booking.created → inventory"},
    {"inventory", "inventory.stock.reserved", "payment", "payment.payment.succeeded",
     "stock.reserved → payment"},
    {"payment", "payment.payment.succeeded", "inventory", "inventory.stock.debited",
     "payment.succeeded → inventory"},
    {"inventory", "inventory.stock.debited", "booking", "booking.booking.confirmed",
     "stock.debited → booking"},
};
#define NHOPS ((int)(sizeof(hops) / sizeof(hops[0])))

struct options {
    int duration_s, rate_s, ref_s, connections, spread;
    int rates[MAX_PHASES];
    int nrates;
    bool quick;
};

struct phase {
    char title[32], load_desc[32];
    struct saga_load_result load;
    long found, final, confirmed, rejected, cancelled, final_in_load;
    double load_s, drained_s, p50, p99, max; /* load_s, drained_s: from the load's start */
    double cpu[NPROCS], wall_s;
    long stragglers;
    double hop[NHOPS][4]; /* in flight p50, p99; handled p50, p99 (ms) */
};

static const char *database_url;
static struct db *db;
static pid_t procs[NPROCS];
static int ports[NSERVICES];
static const char *log_dir;
static int errors; /* what makes the exit status 1: not figures, failures */

/* ------------------------------------------------------------------ helpers */

static void kill_services(void)
{
    for (int s = 0; s < NSERVICES; s++)
        if (procs[P_SERVICES + s] > 0) {
            kill(procs[P_SERVICES + s], SIGKILL);
            waitpid(procs[P_SERVICES + s], NULL, 0);
            procs[P_SERVICES + s] = 0;
        }
}

static void __attribute__((format(printf, 1, 2), noreturn)) die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("saga_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n", stderr);
    va_end(ap);
    if (log_dir)
        fprintf(stderr, "saga_bench: the services' logs are in %s\n", log_dir);
    exit(1); /* the atexit hook kills the services */
}

/* One value of a query with up to three text parameters; dies on error. */
static void query(const char *sql, const char *p1, const char *p2, const char *p3, char *out,
                  size_t outlen)
{
    struct err err;
    const char *params[] = {p1, p2, p3};
    int n = p3 ? 3 : p2 ? 2 : p1 ? 1 : 0;
    if (db_exec_value(db, sql, n, params, out, outlen, &err) < 0)
        die("%s: %s", sql, err.msg);
}

static long query_long(const char *sql, const char *p1)
{
    char out[64];
    query(sql, p1, NULL, NULL, out, sizeof(out));
    return strtol(out, NULL, 10);
}

static void exec_sql(const char *sql)
{
    struct err err;
    if (db_exec(db, sql, 0, NULL, NULL, NULL, &err) < 0)
        die("%s: %s", sql, err.msg);
}

/* CHECKPOINT needs the pg_checkpoint role (saga.sh grants it); without it phases are not isolated. */
static void try_checkpoint(void)
{
    struct err err;
    if (db_exec(db, "CHECKPOINT", 0, NULL, NULL, NULL, &err) < 0)
        fprintf(stderr, "saga_bench: no checkpoint between phases: %s\n", err.msg);
}

/* The ids as a PostgreSQL array literal "{id,id,…}" (free it). */
static char *id_array(char (*ids)[SAGA_ID_LEN], long n)
{
    char *text = malloc((size_t)n * SAGA_ID_LEN + 3);
    if (!text)
        die("out of memory");
    char *p = text;
    *p++ = '{';
    for (long i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        memcpy(p, ids[i], SAGA_ID_LEN - 1);
        p += SAGA_ID_LEN - 1;
    }
    *p++ = '}';
    *p = '\0';
    return text;
}

/* ------------------------------------------------------------------ processes */

static void snapshot_cpu(double out[NPROCS])
{
    for (int p = 0; p < P_CLIENT; p++)
        out[p] = procs[p] > 0 ? saga_proc_tree_cpu_s(procs[p]) : -1;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    out[P_CLIENT] = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* PostgreSQL's postmaster and RabbitMQ's node, from the pid files infra.sh keeps under LOCAL_DIR. */
static void find_servers(void)
{
    const char *local = getenv("LOCAL_DIR");
    procs[P_POSTGRES] = procs[P_RABBITMQ] = -1;
    if (!local)
        return;
    char path[PATH_MAX + 64], real[PATH_MAX];
    snprintf(path, sizeof(path), "%s/pg", local);
    if (realpath(path, real)) {
        snprintf(path, sizeof(path), "%s/data/postmaster.pid", real);
        procs[P_POSTGRES] = saga_proc_pidfile(path);
    }
    snprintf(path, sizeof(path), "%s/rabbitmq/rabbitmq.pid", local);
    procs[P_RABBITMQ] = saga_proc_pidfile(path);
}

extern char **environ;

/* The service's environment: ours (URLs, port, instance, log level) over the inherited one. */
static char **service_env(int s, char own[][512], int nown_max)
{
    int nown = 0;
    snprintf(own[nown++], 512, "DATABASE_URL=%s", database_url);
    snprintf(own[nown++], 512, "AMQP_URL=%s", getenv("AMQP_URL"));
    snprintf(own[nown++], 512, "HTTP_PORT=%d", ports[s]);
    snprintf(own[nown++], 512, "INSTANCE_ID=%s-bench", e2e_ctx_name((enum e2e_ctx)s));
    snprintf(own[nown++], 512, "LOG_LEVEL=warn");
    if (nown > nown_max)
        die("service_env: too many settings");
    size_t n = 0;
    for (char **e = environ; *e; e++)
        n++;
    char **envp = calloc(n + (size_t)nown + 1, sizeof(*envp));
    if (!envp)
        die("out of memory");
    size_t k = 0;
    for (char **e = environ; *e; e++) {
        bool overridden = false;
        for (int i = 0; i < nown; i++) {
            size_t len = strcspn(own[i], "=") + 1;
            overridden |= strncmp(*e, own[i], len) == 0;
        }
        if (!overridden)
            envp[k++] = *e;
    }
    for (int i = 0; i < nown; i++)
        envp[k++] = own[i];
    return envp;
}

static void start_services(void)
{
    for (int s = 0; s < NSERVICES; s++) {
        const char *name = e2e_ctx_name((enum e2e_ctx)s);
        if (!bins[s][0] || access(bins[s], X_OK) != 0)
            die("no executable for '%s' (%s): build it first", name, bins[s]);
        ports[s] = testlib_free_port();
        char own[8][512], log_path[4096];
        char **envp = service_env(s, own, 8);
        snprintf(log_path, sizeof(log_path), "%s/%s.log", log_dir, name);
        procs[P_SERVICES + s] = saga_proc_start(bins[s], envp, log_path);
        free(envp);
        if (procs[P_SERVICES + s] < 0)
            die("cannot start '%s'", name);
    }
    int64_t deadline = testlib_now_ms() + HEALTH_MS;
    for (int s = 0; s < NSERVICES; s++) {
        struct saga_http *h = saga_http_new(ports[s]);
        long status = 0;
        char errbuf[256];
        for (;;) {
            if (h &&
                saga_http_call(h, "GET", "/health", NULL, &status, errbuf, sizeof(errbuf)) == 0 &&
                status == 200)
                break;
            if (waitpid(procs[P_SERVICES + s], NULL, WNOHANG) != 0) {
                procs[P_SERVICES + s] = 0;
                die("%s exited during start-up", e2e_ctx_name((enum e2e_ctx)s));
            }
            if (testlib_now_ms() > deadline)
                die("%s: no healthy /health within %d s", e2e_ctx_name((enum e2e_ctx)s),
                    HEALTH_MS / 1000);
            testlib_sleep_ms(100);
        }
        saga_http_free(h);
    }
}

/* ------------------------------------------------------------------ setup */

/*
 * POSTs body to path of service s until the status is want (retrying a 422
 * or 409, which mean a replica has not caught up yet), at most SETUP_MS;
 * copies the reply's id into id (may be NULL).
 */
static void post_until(int s, const char *path, const char *body, long want, char id[SAGA_ID_LEN])
{
    struct saga_http *h = saga_http_new(ports[s]);
    if (!h)
        die("out of memory");
    int64_t deadline = testlib_now_ms() + SETUP_MS;
    long status = 0;
    char errbuf[256];
    for (;;) {
        if (saga_http_call(h, "POST", path, body, &status, errbuf, sizeof(errbuf)) != 0)
            die("%s", errbuf);
        if (status == want)
            break;
        if ((status != 422 && status != 409) || testlib_now_ms() > deadline)
            die("POST %s %s: %ld %s", path, body, status, saga_http_reply(h));
        testlib_sleep_ms(100);
    }
    if (id && saga_http_reply_str(h, "id", id, SAGA_ID_LEN) != 0)
        die("POST %s: no id in %s", path, saga_http_reply(h));
    saga_http_free(h);
}

struct fixture {
    char user[SAGA_ID_LEN];
    char spread[MAX_SPREAD][SAGA_ID_LEN]; /* PRICE_CENTS each */
    int nspread;
    char hot[1][SAGA_ID_LEN];
    char declined[SAGA_ID_LEN]; /* DECLINED_CENTS */
};

static void create_offering(const char *provider, const char *name, long price,
                            char id[SAGA_ID_LEN])
{
    char path[128], body[256];
    snprintf(path, sizeof(path), "/providers/%s/offerings", provider);
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price_cents\":%ld,\"capacity\":%d}", name,
             price, CAPACITY);
    post_until(E2E_SERVICECATALOG, path, body, 201, id);
}

static void setup(struct fixture *f, int nspread)
{
    char provider[SAGA_ID_LEN], path[128], body[256];
    post_until(E2E_USERMANAGEMENT, "/users", "{\"email\":\"bench@example.com\",\"name\":\"Bench\"}",
               201, f->user);
    snprintf(body, sizeof(body),
             "{\"owner_id\":\"%s\",\"business_name\":\"Bench Rooms\",\"provider_type\":\"hotel\"}",
             f->user);
    post_until(E2E_SERVICECATALOG, "/providers", body, 201, provider);
    snprintf(path, sizeof(path), "/providers/%s/activate", provider);
    post_until(E2E_SERVICECATALOG, path, NULL, 200, NULL);
    f->nspread = nspread;
    char all[MAX_SPREAD + 2][SAGA_ID_LEN];
    for (int i = 0; i < nspread; i++) {
        char name[32];
        snprintf(name, sizeof(name), "room %d", i + 1);
        create_offering(provider, name, PRICE_CENTS, f->spread[i]);
        memcpy(all[i], f->spread[i], SAGA_ID_LEN);
    }
    create_offering(provider, "the hot room", PRICE_CENTS, f->hot[0]);
    create_offering(provider, "the gold room", DECLINED_CENTS, f->declined);
    memcpy(all[nspread], f->hot[0], SAGA_ID_LEN);
    memcpy(all[nspread + 1], f->declined, SAGA_ID_LEN);

    /* Booking and inventory learn offerings from servicecatalog.offering.published. */
    char *ids = id_array(all, nspread + 2);
    int64_t deadline = testlib_now_ms() + SETUP_MS;
    while (query_long(
               "SELECT (SELECT count(*) FROM booking.offerings WHERE offering_id = ANY($1::uuid[]))"
               " + (SELECT count(*) FROM inventory.stock WHERE offering_id = ANY($1::uuid[]))",
               ids) != 2L * (nspread + 2)) {
        if (testlib_now_ms() > deadline)
            die("booking and inventory did not learn the offerings within %d s", SETUP_MS / 1000);
        testlib_sleep_ms(100);
    }
    free(ids);
}

/* ------------------------------------------------------------------ phases */

/* Waits until no booking is pending (phases run one after another), at most bound_ms. */
static long wait_drained(int bound_ms)
{
    int64_t deadline = testlib_now_ms() + bound_ms;
    long pending;
    while ((pending = query_long("SELECT count(*) FROM booking.bookings WHERE status = 'pending'",
                                 NULL)) > 0 &&
           testlib_now_ms() < deadline)
        testlib_sleep_ms(200);
    return pending;
}

static void report_stragglers(struct phase *ph)
{
    char out[1024];
    query("SELECT string_agg(id::text || ' (created ' || created_at::text || ')', ', ')"
          "  FROM (SELECT id, created_at FROM booking.bookings WHERE status = 'pending'"
          "         ORDER BY created_at LIMIT 5) s",
          NULL, NULL, NULL, out, sizeof(out));
    fprintf(stderr, "saga_bench: %s: %ld bookings still pending after the wait, e.g. %s\n",
            ph->title, ph->stragglers, out);
    errors++;
}

/* Per hop (hops[]), p50/p99 of in flight and handled, for the phase's bookings (ids). */
static void measure_hops(struct phase *ph, const char *ids)
{
    for (int h = 0; h < NHOPS; h++) {
        char sql[1024], out[256];
        /* Schema names come from hops[], a constant table: never from input. */
        snprintf(
            sql, sizeof(sql),
            "WITH o AS MATERIALIZED (SELECT id, created_at, payload->'data'->>'booking_id' AS b"
            "   FROM %s.outbox WHERE type = $2"
            "    AND (payload->'data'->>'booking_id')::uuid = ANY($1::uuid[])),"
            " n AS MATERIALIZED (SELECT created_at, payload->'data'->>'booking_id' AS b"
            "   FROM %s.outbox WHERE type = $3),"
            " x AS (SELECT extract(epoch FROM i.created_at - o.created_at) * 1000 AS f,"
            "              extract(epoch FROM n.created_at - i.created_at) * 1000 AS d"
            "   FROM o JOIN %s.inbox i ON i.id = o.id JOIN n ON n.b = o.b)"
            " SELECT concat_ws(' ',"
            "  coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY f), 0),"
            "  coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY f), 0),"
            "  coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY d), 0),"
            "  coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY d), 0)) FROM x",
            hops[h].from, hops[h].to, hops[h].to);
        query(sql, ids, hops[h].type, hops[h].next, out, sizeof(out));
        char *q = out, *end = NULL;
        for (int i = 0; i < 4; i++, q = end) {
            ph->hop[h][i] = strtod(q, &end);
            if (end == q)
                die("hop figures: '%s'", out);
        }
    }
}

/* Reads the phase's figures for its accepted ids, between the load's start t0 and end t1. */
static void measure(struct phase *ph, const char *t0, const char *t1)
{
    char *ids = id_array(ph->load.ids, ph->load.nids);
    char out[512];
    query("WITH b AS ("
          "  SELECT b.status, b.created_at,"
          "         (SELECT min(h.at) FROM booking.booking_history h"
          "           WHERE h.booking_id = b.id AND h.status <> 'pending') AS final_at"
          "    FROM booking.bookings b WHERE b.id = ANY($1::uuid[])),"
          " l AS (SELECT extract(epoch FROM final_at - created_at) * 1000 AS ms FROM b)"
          " SELECT concat_ws(' ', (SELECT count(*) FROM b), (SELECT count(final_at) FROM b),"
          "  (SELECT count(*) FROM b WHERE status = 'confirmed'),"
          "  (SELECT count(*) FROM b WHERE status = 'rejected'),"
          "  (SELECT count(*) FROM b WHERE status = 'cancelled'),"
          "  (SELECT count(*) FROM b WHERE final_at <= $3::timestamptz),"
          "  extract(epoch FROM $3::timestamptz - $2::timestamptz),"
          "  coalesce((SELECT extract(epoch FROM max(final_at) - $2::timestamptz) FROM b), 0),"
          "  (SELECT coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), 0) FROM l),"
          "  (SELECT coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms), 0) FROM l),"
          "  (SELECT coalesce(max(ms), 0) FROM l))",
          ids, t0, t1, out, sizeof(out));
    measure_hops(ph, ids);
    free(ids);
    double v[11];
    char *q = out, *end = NULL;
    for (int i = 0; i < 11; i++, q = end) {
        v[i] = strtod(q, &end);
        if (end == q)
            die("phase figures: '%s'", out);
    }
    ph->found = (long)v[0];
    ph->final = (long)v[1];
    ph->confirmed = (long)v[2];
    ph->rejected = (long)v[3];
    ph->cancelled = (long)v[4];
    ph->final_in_load = (long)v[5];
    ph->load_s = v[6];
    ph->drained_s = v[7];
    ph->p50 = v[8];
    ph->p99 = v[9];
    ph->max = v[10];
    if (ph->found != ph->load.accepted) {
        fprintf(stderr, "saga_bench: %s: %ld bookings accepted (202) but %ld in booking.bookings\n",
                ph->title, ph->load.accepted, ph->found);
        errors++;
    }
}

static void run_phase(struct phase *ph, const struct saga_load_spec *spec)
{
    printf("%s: %s ...\n", ph->title, ph->load_desc);
    fflush(stdout);
    try_checkpoint();
    double before[NPROCS], after[NPROCS];
    char t0[64], t1[64];
    int64_t wall0 = testlib_now_ms();
    snapshot_cpu(before);
    query("SELECT clock_timestamp()::text", NULL, NULL, NULL, t0, sizeof(t0));
    if (saga_load_run(spec, &ph->load) != 0)
        die("load: out of memory");
    query("SELECT clock_timestamp()::text", NULL, NULL, NULL, t1, sizeof(t1));
    if (ph->load.refused || ph->load.failed)
        fprintf(stderr, "saga_bench: %s: %ld refused, %ld without reply; first: %s\n", ph->title,
                ph->load.refused, ph->load.failed, ph->load.first_error);
    ph->stragglers = wait_drained(DRAIN_MIN_MS + 10000 * spec->seconds);
    snapshot_cpu(after);
    ph->wall_s = (double)(testlib_now_ms() - wall0) / 1000.0;
    for (int p = 0; p < NPROCS; p++)
        ph->cpu[p] = before[p] >= 0 && after[p] >= 0 ? after[p] - before[p] : -1;
    if (ph->stragglers)
        report_stragglers(ph);
    measure(ph, t0, t1);
}

/* ------------------------------------------------------------------ report */

static double pct(double x, double ref)
{
    return ref > 0 ? 100.0 * x / ref : 0;
}

/* "1.23 s" in buf (32 bytes); returns buf. */
static const char *seconds_text(double s, char buf[32])
{
    snprintf(buf, 32, "%.2f s", s);
    return buf;
}

static void row_label(const char *label)
{
    printf("%-42s", label);
}

static void print_phases(const struct phase *ph, int n, double ref)
{
    static const char *const proc_names[NPROCS] = {"postgres (all backends)",
                                                   "rabbitmq",
                                                   "servicecatalog",
                                                   "usermanagement",
                                                   "booking",
                                                   "inventory",
                                                   "payment",
                                                   "notification",
                                                   "load client (this process)"};
    char cell[64], cpu_text[MAX_PHASES][32];
#define ROW(label, ...)                                                                            \
    do {                                                                                           \
        row_label(label);                                                                          \
        for (int i = 0; i < n; i++) {                                                              \
            const struct phase *p = &ph[i];                                                        \
            (void)p;                                                                               \
            snprintf(cell, sizeof(cell), __VA_ARGS__);                                             \
            printf(" %20s", cell);                                                                 \
        }                                                                                          \
        printf("\n");                                                                              \
    } while (0)
    printf("\n%-42s %10.0f tx/s\n\n", "reference (pgbench, handler tx, 4 conns)", ref);
    ROW("phase", "%.31s", p->title);
    ROW("load", "%.31s", p->load_desc);
    ROW("bookings accepted (202)", "%ld", p->load.accepted);
    ROW("  refused / no reply", "%ld / %ld", p->load.refused, p->load.failed);
    ROW("  busy (503, waited Retry-After)", "%ld", p->load.busy);
    ROW("HTTP accepted/s (% of ref)", "%.0f/s %3.0f %%",
        p->load.accepted / (p->load.elapsed_s > 0 ? p->load.elapsed_s : 1),
        pct(p->load.accepted / (p->load.elapsed_s > 0 ? p->load.elapsed_s : 1), ref));
    ROW("HTTP POST → 202, p50 / p99", "%.1f / %.1f ms", p->load.http_p50_ms, p->load.http_p99_ms);
    ROW("final/s during the load (% of ref)", "%.0f/s %3.0f %%",
        p->final_in_load / (p->load_s > 0 ? p->load_s : 1),
        pct(p->final_in_load / (p->load_s > 0 ? p->load_s : 1), ref));
    ROW("final/s until drained (% of ref)", "%.0f/s %3.0f %%",
        p->final / (p->drained_s > 0 ? p->drained_s : 1),
        pct(p->final / (p->drained_s > 0 ? p->drained_s : 1), ref));
    ROW("backlog (pending) at end of load", "%ld", p->found - p->final_in_load);
    ROW("drained, after the load's end", "%.1f s",
        p->drained_s > p->load_s ? p->drained_s - p->load_s : 0.0);
    ROW("confirmed / rejected / cancelled / other", "%ld / %ld / %ld / %ld", p->confirmed,
        p->rejected, p->cancelled, p->final - p->confirmed - p->rejected - p->cancelled);
    ROW("not final (stragglers)", "%ld", p->found - p->final);
    ROW("created → final, p50", "%.1f ms", p->p50);
    ROW("created → final, p99", "%.1f ms", p->p99);
    ROW("created → final, max", "%.1f ms", p->max);
    printf(
        "where it goes, p50 / p99 (in flight: outbox INSERT → inbox; handled: → next INSERT):\n");
    for (int h = 0; h < NHOPS; h++) {
        char label[64];
        snprintf(label, sizeof(label), "  %s", hops[h].label);
        ROW(label, "%.1f / %.1f ms", p->hop[h][0], p->hop[h][1]);
        ROW("    handled", "%.1f / %.1f ms", p->hop[h][2], p->hop[h][3]);
    }
    printf("CPU seconds, load start → drained:\n");
    for (int q = 0; q < NPROCS; q++) {
        char label[64];
        snprintf(label, sizeof(label), "  %s", proc_names[q]);
        ROW(label, "%s", p->cpu[q] >= 0 ? seconds_text(p->cpu[q], cpu_text[p - ph]) : "n/a");
    }
    double total[MAX_PHASES] = {0};
    for (int i = 0; i < n; i++)
        for (int q = 0; q < NPROCS; q++)
            total[i] += ph[i].cpu[q] > 0 ? ph[i].cpu[q] : 0;
    ROW("  total / wall time", "%.1f s / %.1f s", total[p - ph], p->wall_s);
    ROW("  CPU per booking (all processes)", "%.2f ms",
        p->found ? 1000.0 * total[p - ph] / p->found : 0.0);
#undef ROW
}

struct memory {
    long idle_kb[NSERVICES], idle_anon_kb[NSERVICES], loaded_kb[NSERVICES],
        loaded_anon_kb[NSERVICES];
    char exit_how[NSERVICES][96];
};

static void read_memory(long kb[NSERVICES], long anon_kb[NSERVICES])
{
    for (int s = 0; s < NSERVICES; s++) {
        kb[s] = saga_proc_status_kb(procs[P_SERVICES + s], "VmRSS:");
        anon_kb[s] = saga_proc_status_kb(procs[P_SERVICES + s], "RssAnon:");
    }
}

static void print_memory(const struct memory *m)
{
    printf("\n%-16s %26s %26s   %s\n", "service", "RSS idle / after load", "private (RssAnon)",
           "exit on SIGTERM");
    for (int s = 0; s < NSERVICES; s++)
        printf("%-16s %15.1f / %5.1f MB %15.1f / %5.1f MB   %s\n", e2e_ctx_name((enum e2e_ctx)s),
               m->idle_kb[s] / 1024.0, m->loaded_kb[s] / 1024.0, m->idle_anon_kb[s] / 1024.0,
               m->loaded_anon_kb[s] / 1024.0, m->exit_how[s]);
    printf("(the rest of the RSS is shared library pages)\n");
}

/* Sums the samples of metric name (any labels) in a Prometheus text body. */
static double metric_sum(const char *text, const char *name)
{
    double sum = 0;
    size_t len = strlen(name);
    for (const char *line = text; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, name, len) != 0 || (line[len] != '{' && line[len] != ' '))
            continue;
        const char *v = line[len] == '{' ? strchr(line, '}') : line + len;
        if (v)
            sum += strtod(v + 1, NULL);
    }
    return sum;
}

/*
 * How the services' relays got what they published over the whole run: handed
 * over by their own commits (ADR 0011) or claimed from the table.
 */
static void read_handoffs(double *published, double *handed)
{
    *published = *handed = 0;
    for (int s = 0; s < NSERVICES; s++) {
        struct saga_http *h = saga_http_new(ports[s]);
        long status = 0;
        char errbuf[256];
        if (h && saga_http_call(h, "GET", "/metrics", NULL, &status, errbuf, sizeof(errbuf)) == 0 &&
            status == 200) {
            *published += metric_sum(saga_http_reply(h), "events_published_total");
            *handed += metric_sum(saga_http_reply(h), "outbox_handoffs_total");
        }
        saga_http_free(h);
    }
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
    fprintf(
        stderr,
        "usage: DATABASE_URL=… AMQP_URL=… saga_bench [--quick] [--duration S] [--rates R,R…]\n"
        "       [--rate-seconds S] [--connections N] [--offerings N] [--ref-seconds S]\n"
        "  --duration S      each throughput phase sends bookings for S seconds (15; --quick 3)\n"
        "  --rates R,R…      fixed-rate phases, bookings/s (50)\n"
        "  --rate-seconds S  each fixed-rate phase lasts S seconds (10; --quick 3)\n"
        "  --connections N   keep-alive connections of the throughput phases (16)\n"
        "  --offerings N     offerings of the spread phase, 1..%d (10)\n"
        "  --ref-seconds S   the pgbench reference's length (10; --quick 3)\n",
        MAX_SPREAD);
    exit(2);
}

static int positive(const char *text, int max)
{
    char *end;
    long v = strtol(text ? text : "", &end, 10);
    if (!text || *end || v < 1 || v > max)
        usage();
    return (int)v;
}

static struct options parse(int argc, char **argv)
{
    struct options o = {.duration_s = 15,
                        .rate_s = 10,
                        .ref_s = 10,
                        .connections = 16,
                        .spread = 10,
                        .rates = {50},
                        .nrates = 1};
    bool duration = false, rate_s = false, ref_s = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0) {
            o.quick = true;
            continue;
        }
        i++;
        if (strcmp(a, "--duration") == 0)
            o.duration_s = positive(v, 3600), duration = true;
        else if (strcmp(a, "--rate-seconds") == 0)
            o.rate_s = positive(v, 3600), rate_s = true;
        else if (strcmp(a, "--ref-seconds") == 0)
            o.ref_s = positive(v, 3600), ref_s = true;
        else if (strcmp(a, "--connections") == 0)
            o.connections = positive(v, 256);
        else if (strcmp(a, "--offerings") == 0)
            o.spread = positive(v, MAX_SPREAD);
        else if (strcmp(a, "--rates") == 0 && v) {
            char copy[256], *save = NULL;
            snprintf(copy, sizeof(copy), "%s", v);
            o.nrates = 0;
            for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (o.nrates == MAX_PHASES - 2)
                    usage();
                o.rates[o.nrates++] = positive(t, 10000);
            }
        } else
            usage();
    }
    if (o.quick) {
        o.duration_s = duration ? o.duration_s : 3;
        o.rate_s = rate_s ? o.rate_s : 3;
        o.ref_s = ref_s ? o.ref_s : 3;
    }
    return o;
}

/* Fresh schemas and queues: under tests/run.sh the servers are shared with other tests. */
static void reset_and_migrate(void)
{
    struct err err;
    for (int s = 0; s < NSERVICES; s++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE",
                 e2e_ctx_name((enum e2e_ctx)s));
        exec_sql(sql);
    }
    if (e2e_delete_context_queues(getenv("AMQP_URL"), &err) != 0)
        die("deleting the contexts' queues: %s", err.msg);
    if (migrate_all(db, SAGA_MIGRATIONS_ROOT, NULL, &err) != 0)
        die("migrations: %s", err.msg);
}

int main(int argc, char **argv)
{
    struct options o = parse(argc, argv);
    database_url = getenv("DATABASE_URL");
    if (!database_url || !getenv("AMQP_URL"))
        usage();
    static char logs[4096];
    snprintf(logs, sizeof(logs), "%s/saga-bench-logs",
             getenv("LOCAL_DIR") ? getenv("LOCAL_DIR") : "/tmp");
    log_dir = logs;
    if (mkdir(log_dir, 0755) != 0 && errno != EEXIST)
        die("cannot create %s: %s", log_dir, strerror(errno));
    log_setup("saga_bench", "bench", LOG_LEVEL_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    atexit(kill_services);
    db = db_new(database_url);
    if (!db)
        die("out of memory");
    find_servers();
    reset_and_migrate();

    printf("reference: pgbench, the handler's transaction shape, 4 connections, %d s ...\n",
           o.ref_s);
    fflush(stdout);
    double ref = bench_ref_pgbench(database_url, PROBE_MIGRATIONS "/probe", 4, o.ref_s);

    printf("six services starting, then setup over HTTP ...\n");
    fflush(stdout);
    start_services();
    struct fixture f;
    memset(&f, 0, sizeof(f));
    setup(&f, o.spread);

    struct memory m;
    memset(&m, 0, sizeof(m));
    static struct phase ph[MAX_PHASES];
    int n = 0;
    /* Warm-up (not reported): connections, prepared plans and caches of every service. */
    struct saga_load_spec spec = {.port = ports[E2E_BOOKING],
                                  .user_id = f.user,
                                  .offerings = (const char(*)[SAGA_ID_LEN])f.spread,
                                  .noffers = f.nspread,
                                  .declined_offering = f.declined,
                                  .declined_every = DECLINED_EVERY,
                                  .connections = 4,
                                  .rate = 20,
                                  .seconds = 2};
    struct phase warm = {.title = "warm-up", .load_desc = "20/s × 2 s"};
    run_phase(&warm, &spec);
    saga_load_free(&warm.load);
    testlib_sleep_ms(2000);
    read_memory(m.idle_kb, m.idle_anon_kb);

    for (int r = 0; r < o.nrates; r++, n++) {
        snprintf(ph[n].title, sizeof(ph[n].title), "fixed rate");
        snprintf(ph[n].load_desc, sizeof(ph[n].load_desc), "%d/s × %d s", o.rates[r], o.rate_s);
        spec.rate = o.rates[r];
        spec.seconds = o.rate_s;
        spec.connections = 8;
        run_phase(&ph[n], &spec);
    }
    spec.rate = 0;
    spec.seconds = o.duration_s;
    spec.connections = o.connections;
    snprintf(ph[n].title, sizeof(ph[n].title), "%d offerings", f.nspread);
    snprintf(ph[n].load_desc, sizeof(ph[n].load_desc), "%d conns × %d s", o.connections,
             o.duration_s);
    run_phase(&ph[n++], &spec);
    spec.offerings = (const char(*)[SAGA_ID_LEN])f.hot;
    spec.noffers = 1;
    spec.declined_offering = NULL;
    snprintf(ph[n].title, sizeof(ph[n].title), "1 offering (hot row)");
    snprintf(ph[n].load_desc, sizeof(ph[n].load_desc), "%d conns × %d s", o.connections,
             o.duration_s);
    run_phase(&ph[n++], &spec);
    read_memory(m.loaded_kb, m.loaded_anon_kb);
    double published, handed;
    read_handoffs(&published, &handed);

    for (int s = 0; s < NSERVICES; s++) {
        int status =
            saga_proc_stop(procs[P_SERVICES + s], STOP_MS, m.exit_how[s], sizeof(m.exit_how[s]));
        procs[P_SERVICES + s] = 0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "saga_bench: %s ended with %s on SIGTERM\n",
                    e2e_ctx_name((enum e2e_ctx)s), m.exit_how[s]);
            errors++;
        }
    }
    print_phases(ph, n, ref);
    print_memory(&m);
    printf("events the relays published, whole run: %.0f; handed over by their own commits,"
           " without a claim: %.0f (%.0f %%)\n",
           published, handed, published > 0 ? 100.0 * handed / published : 0.0);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("(%ld cores; the servers, the six services and this client share them)\n", cores);
    for (int i = 0; i < n; i++)
        saga_load_free(&ph[i].load);
    db_free(db);
    curl_global_cleanup();
    if (errors)
        fprintf(stderr, "saga_bench: %d error(s), see above\n", errors);
    return errors ? 1 : 0;
}
