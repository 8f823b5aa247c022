/*
 * bench_ref.c - see bench_ref.h. The script is the handler transaction of
 * SPEC §4 reduced to its writes: one inbox row, one business row update
 * (64 rows, so 4 clients rarely wait on each other's locks), one outbox row.
 */
#include "bench_ref.h"

#include "common/db.h"
#include "common/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define PGBENCH "/usr/lib/postgresql/15/bin/pgbench"

static const char script_text[] =
    "\\set c random(1, 64)\n"
    "BEGIN;\n"
    "INSERT INTO bench_ref.inbox (id, consumer, type, correlation_id, causation_id, payload, "
    "status, attempts)"
    " VALUES (gen_random_uuid(), 'ref', 'probe.item.created', 'c', 'c', '{\"item\":\"x\"}', "
    "'processing', 1);\n"
    "UPDATE bench_ref.counter SET n = n + 1 WHERE id = :c;\n"
    "INSERT INTO bench_ref.outbox (id, type, correlation_id, causation_id, payload)"
    " VALUES (gen_random_uuid(), 'probe.item.handled', 'c', 'c', '{\"item\":\"x\"}');\n"
    "COMMIT;\n";

/* Runs each statement of sqls in order; 0, or -1 after a line on stderr. */
static int exec_all(struct db *db, const char *const *sqls)
{
    struct err err;
    for (; *sqls; sqls++)
        if (db_exec(db, *sqls, 0, NULL, NULL, NULL, &err) < 0) {
            fprintf(stderr, "bench_ref: %s: %s\n", *sqls, err.msg);
            return -1;
        }
    return 0;
}

static int prepare(const char *database_url, const char *probe_migrations)
{
    struct db *db = db_new(database_url);
    struct err err;
    int rc = db ? 0 : -1;
    if (!rc)
        rc = exec_all(db, (const char *const[]){"DROP SCHEMA IF EXISTS bench_ref CASCADE", NULL});
    if (!rc && migrate_dir(db, probe_migrations, "bench_ref", NULL, &err) != 0) {
        fprintf(stderr, "bench_ref: migrate: %s\n", err.msg);
        rc = -1;
    }
    if (!rc)
        rc = exec_all(db,
                      (const char *const[]){
                          "CREATE TABLE bench_ref.counter (id int PRIMARY KEY, n bigint NOT NULL)",
                          "INSERT INTO bench_ref.counter SELECT g, 0 FROM generate_series(1, 64) g",
                          NULL});
    db_free(db);
    return rc;
}

static double run_pgbench(const char *database_url, int clients, int seconds)
{
    char script[] = "/tmp/bench_ref_XXXXXX";
    int fd = mkstemp(script);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "bench_ref: cannot write the pgbench script\n");
        if (fd >= 0)
            close(fd);
        return 0;
    }
    fputs(script_text, f);
    fclose(f);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             PGBENCH " -n -c %d -j 2 -T %d -f %s '%s' 2>/dev/null"
                     " | sed -n 's/^tps = \\([0-9.]*\\).*/\\1/p'",
             clients, seconds, script, database_url);
    FILE *p = popen(cmd, "r");
    char out[64], *end = NULL;
    double tps = p && fgets(out, sizeof(out), p) ? strtod(out, &end) : 0;
    if (!end || end == out) {
        fprintf(stderr, "bench_ref: pgbench gave no figure\n");
        tps = 0;
    }
    if (p)
        pclose(p);
    unlink(script);
    return tps;
}

double bench_ref_pgbench(const char *database_url, const char *probe_migrations, int clients,
                         int seconds)
{
    if (prepare(database_url, probe_migrations) != 0)
        return 0;
    double tps = run_pgbench(database_url, clients, seconds);
    struct db *db = db_new(database_url);
    if (db)
        exec_all(db, (const char *const[]){"DROP SCHEMA bench_ref CASCADE", NULL});
    db_free(db);
    return tps;
}
