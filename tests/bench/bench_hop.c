/*
 * bench_hop.c - the single hop, measured: business transaction → outbox →
 * relay → broker → handler transaction committed, on the test-only probe
 * context (tests/integration/probe), against the servers in DATABASE_URL
 * and AMQP_URL. A benchmark, not a test: it prints figures and never fails
 * on them. Run it through tests/bench/run.sh (Release build, private servers).
 *
 * Phases, all in one run so the figures compare as ratios:
 *   1. reference: pgbench running the handler's transaction shape (inbox
 *      insert + row update + outbox insert) at 4 connections;
 *   2. latency: events at a fixed rate, each measured from its outbox row's
 *      created_at to its effect's commit time (both the database's clock);
 *   3. throughput: N events committed by 4 producer threads at full speed,
 *      timed from the first commit to the last handler commit;
 *   4. memory: VmRSS of the probe service idle and after the load.
 * Phases 2-4 run twice, once per OUTBOX_NOTIFY mode (ADR 0006): the NOTIFY
 * inside the business transaction (SPEC §4, the default), then right after
 * its commit; producers and the probe service use the same mode.
 */
#include "bench_ref.h"

#include "common/db.h"
#include "common/envelope.h"
#include "common/migrate.h"
#include "common/outbox.h"
#include "probe_contract.h"

#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PRODUCERS 4

static const char *database_url;
static bool notify_after_commit; /* the OUTBOX_NOTIFY mode being measured */

static void die(const char *what, const struct err *err)
{
    fprintf(stderr, "bench_hop: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_us(int64_t us)
{
    if (us <= 0)
        return;
    struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static struct db *connect_probe(void)
{
    struct db *db = db_new(database_url);
    if (!db)
        die("db_new", NULL);
    db_set_schema(db, "probe");
    db_set_notify_after_commit(db, notify_after_commit);
    return db;
}

static long long query_ll(struct db *db, const char *sql, const char *p1)
{
    char out[64];
    struct err err;
    const char *params[] = {p1};
    if (db_exec_value(db, sql, p1 ? 1 : 0, p1 ? params : NULL, out, sizeof(out), &err) < 0)
        die(sql, &err);
    return strtoll(out, NULL, 10);
}

static void exec_sql(struct db *db, const char *sql)
{
    struct err err;
    if (db_exec(db, sql, 0, NULL, NULL, NULL, &err) < 0)
        die(sql, &err);
}

/* CHECKPOINT needs a privileged role; without one the phases just are not isolated. */
static void try_checkpoint(struct db *db)
{
    struct err err;
    if (db_exec(db, "CHECKPOINT", 0, NULL, NULL, NULL, &err) < 0)
        fprintf(stderr, "bench_hop: no checkpoint between phases: %s\n", err.msg);
}

static void commit_item(struct db *db, const char *item)
{
    struct err err;
    struct outbox_origin from = {db, NULL, NULL};
    struct probe_item_created data = {0};
    snprintf(data.item, sizeof(data.item), "%s", item);
    if (db_begin(db, &err) != 0 ||
        outbox_publish(&from, &PROBE_ITEM_CREATED, &data, sizeof(data), NULL, &err) != 0 ||
        db_commit(db, &err) != 0)
        die("business transaction", &err);
}

/* Waits until want effects whose item starts with prefix exist; returns when it saw them. */
static int64_t wait_effects(struct db *db, const char *prefix, long long want, int timeout_s)
{
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "%s%%", prefix);
    int64_t deadline = now_us() + (int64_t)timeout_s * 1000000;
    while (now_us() < deadline) {
        if (query_ll(db, "SELECT count(*) FROM effects WHERE item LIKE $1", pattern) >= want)
            return now_us();
        sleep_us(5000);
    }
    fprintf(stderr, "bench_hop: timed out waiting for %lld effects of '%s'\n", want, prefix);
    exit(1);
}

/* A field of /proc/<pid>/status in kB: "VmRSS:" (all resident pages) or "RssAnon:" (private ones). */
static long status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, field, n) == 0)
            kb = strtol(line + n, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

static pid_t start_probe(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        setenv("INSTANCE_ID", "probe-bench", 1);
        setenv("HTTP_PORT", "0", 1);
        setenv("LOG_LEVEL", "warn", 1);
        setenv("OUTBOX_NOTIFY", notify_after_commit ? "after_commit" : "in_transaction", 1);
        execl(PROBE_BIN, PROBE_BIN, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* ---- phase 2: throughput ---------------------------------------------------- */

struct producer {
    int index;
    int count;
    const char *prefix;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    struct db *db = connect_probe();
    char item[64];
    for (int i = 0; i < p->count; i++) {
        snprintf(item, sizeof(item), "%s%d_%d", p->prefix, p->index, i);
        commit_item(db, item);
    }
    db_free(db);
    return NULL;
}

static void throughput(struct db *db, const char *prefix, int n, double *events_per_s,
                       double *commits_per_s)
{
    pthread_t threads[PRODUCERS];
    struct producer ps[PRODUCERS];
    int64_t t0 = now_us();
    for (int i = 0; i < PRODUCERS; i++) {
        ps[i] = (struct producer){i, n / PRODUCERS, prefix};
        pthread_create(&threads[i], NULL, produce, &ps[i]);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(threads[i], NULL);
    int64_t committed = now_us();
    int64_t done = wait_effects(db, prefix, (long long)(n / PRODUCERS) * PRODUCERS, 300);
    *commits_per_s = (double)n / ((double)(committed - t0) / 1e6);
    *events_per_s = (double)n / ((double)(done - t0) / 1e6);
}

/* ---- phase 3: latency at a fixed rate --------------------------------------------- */

static void latency(struct db *db, const char *prefix, int rate, int seconds, double *p50,
                    double *p99, double *max)
{
    int n = rate * seconds;
    int64_t t0 = now_us(), period = 1000000 / rate;
    char item[64];
    for (int i = 0; i < n; i++) {
        sleep_us(t0 + i * period - now_us());
        snprintf(item, sizeof(item), "%s%d", prefix, i);
        commit_item(db, item);
    }
    wait_effects(db, prefix, n, 120);
    struct err err;
    char out[128], pattern[64];
    snprintf(pattern, sizeof(pattern), "%s%%", prefix);
    if (db_exec_value(
            db,
            "SELECT concat_ws(' ', percentile_cont(0.5) WITHIN GROUP (ORDER BY ms),"
            "                      percentile_cont(0.99) WITHIN GROUP (ORDER BY ms), max(ms))"
            "  FROM (SELECT extract(epoch FROM e.at - o.created_at) * 1000 AS ms"
            "          FROM effects e JOIN outbox o ON o.id = e.event_id"
            "         WHERE e.item LIKE $1) t",
            1, (const char *[]){pattern}, out, sizeof(out), &err) < 0)
        die("latency query", &err);
    if (sscanf(out, "%lf %lf %lf", p50, p99, max) != 3)
        die("latency figures", NULL);
}

/* Phases 2-4 in one OUTBOX_NOTIFY mode, with a probe service of its own. */
struct figures {
    double p50, p99, max, events_per_s, commits_per_s;
    long idle_kb, idle_anon_kb, loaded_kb, loaded_anon_kb;
    bool drained;
};

static struct figures run_mode(bool after_commit, int n, int rate, int seconds)
{
    struct figures f = {0};
    notify_after_commit = after_commit;
    const char *mode = after_commit ? "after_commit" : "in_transaction";
    char lat[16], tp[16], warm[16];
    snprintf(lat, sizeof(lat), "lat%d_", after_commit);
    snprintf(tp, sizeof(tp), "tp%d_", after_commit);
    snprintf(warm, sizeof(warm), "warm%d_", after_commit);
    struct db *db = connect_probe();
    /* Each mode starts from empty tables: the first one's rows (and their vacuum) would
     * otherwise slow the second one down, whichever it is. */
    exec_sql(db, "TRUNCATE outbox, inbox, effects");
    exec_sql(db, "VACUUM ANALYZE outbox");
    exec_sql(db, "VACUUM ANALYZE inbox");
    exec_sql(db, "VACUUM ANALYZE effects");
    pid_t probe = start_probe();
    commit_item(db, warm);
    wait_effects(db, warm, 1, 30);
    sleep_us(2000000);
    f.idle_kb = status_kb(probe, "VmRSS:");
    f.idle_anon_kb = status_kb(probe, "RssAnon:");

    /* Each phase starts from a flushed database, so one phase's checkpoint does not land in the next. */
    printf("OUTBOX_NOTIFY=%s: latency, %d events/s for %d s ...\n", mode, rate, seconds);
    fflush(stdout);
    try_checkpoint(db);
    latency(db, lat, rate, seconds, &f.p50, &f.p99, &f.max);

    printf("OUTBOX_NOTIFY=%s: throughput, %d events from %d producer connections ...\n", mode, n,
           PRODUCERS);
    fflush(stdout);
    try_checkpoint(db);
    throughput(db, tp, n, &f.events_per_s, &f.commits_per_s);
    f.loaded_kb = status_kb(probe, "VmRSS:");
    f.loaded_anon_kb = status_kb(probe, "RssAnon:");

    kill(probe, SIGTERM);
    int status = 0;
    waitpid(probe, &status, 0);
    f.drained = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    db_free(db);
    return f;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 8000;
    int rate = argc > 2 ? atoi(argv[2]) : 200;
    int seconds = argc > 3 ? atoi(argv[3]) : 10;
    database_url = getenv("DATABASE_URL");
    if (!database_url || !getenv("AMQP_URL")) {
        fprintf(stderr, "usage: DATABASE_URL=… AMQP_URL=… bench_hop [events] [rate/s] [seconds]\n");
        return 2;
    }
    struct err err;
    struct db *db = connect_probe();
    exec_sql(db, "DROP SCHEMA IF EXISTS probe CASCADE");
    if (migrate_context(db, PROBE_MIGRATIONS, "probe", NULL, &err) != 0)
        die("migrate probe", &err);
    db_free(db);

    printf("reference: pgbench, the handler's transaction shape, 4 connections, 10 s ...\n");
    fflush(stdout);
    double ref = bench_ref_pgbench(database_url, PROBE_MIGRATIONS "/probe", 4, 10);
    struct figures m[2] = {run_mode(false, n, rate, seconds), run_mode(true, n, rate, seconds)};

    printf("\n%-44s %10.0f tx/s\n", "reference (pgbench, handler tx, 4 conns)", ref);
    printf("\n%-44s %24s %24s\n", "OUTBOX_NOTIFY", "in_transaction (SPEC)", "after_commit");
    printf("%-44s %17.0f tx/s %17.0f tx/s\n", "business commits (4 producers)", m[0].commits_per_s,
           m[1].commits_per_s);
    printf("%-44s %12.0f ev/s %3.0f %% %12.0f ev/s %3.0f %%\n",
           "hop throughput, commit to handled (% of ref)", m[0].events_per_s,
           ref > 0 ? 100.0 * m[0].events_per_s / ref : 0.0, m[1].events_per_s,
           ref > 0 ? 100.0 * m[1].events_per_s / ref : 0.0);
    for (int q = 0; q < 3; q++) {
        static const char *const label[] = {"hop latency at fixed rate, p50",
                                            "hop latency at fixed rate, p99",
                                            "hop latency at fixed rate, max"};
        double a = q == 0 ? m[0].p50 : q == 1 ? m[0].p99 : m[0].max;
        double b = q == 0 ? m[1].p50 : q == 1 ? m[1].p99 : m[1].max;
        printf("%-44s %20.2f ms %20.2f ms\n", label[q], a, b);
    }
    printf("%-44s %12.1f / %.1f MB %12.1f / %.1f MB\n", "probe service RSS, idle / after load",
           m[0].idle_kb / 1024.0, m[0].loaded_kb / 1024.0, m[1].idle_kb / 1024.0,
           m[1].loaded_kb / 1024.0);
    printf("%-44s %12.1f / %.1f MB %12.1f / %.1f MB\n", "  of which private (RssAnon)",
           m[0].idle_anon_kb / 1024.0, m[0].loaded_anon_kb / 1024.0, m[1].idle_anon_kb / 1024.0,
           m[1].loaded_anon_kb / 1024.0);
    printf("%-44s %24s %24s\n", "probe service exit on SIGTERM",
           m[0].drained ? "0 (drained)" : "abnormal", m[1].drained ? "0 (drained)" : "abnormal");
    printf("(the rest of the RSS is shared library pages)\n");
    return 0;
}
