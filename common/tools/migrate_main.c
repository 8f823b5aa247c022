/*
 * migrate_main.c - the `migrate` tool: applies <dir>/<context>/NNNN_name.sql
 * to each context's own schema (rules in common/migrate.h). deploy/local/up.sh
 * runs it; it is safe to run repeatedly and concurrently.
 *
 * Exit status: 0 done (also when nothing was new), 1 the database or a
 * migration failed, 2 bad usage (one line on stderr).
 */
#include "common/db.h"
#include "common/log.h"
#include "common/migrate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: migrate [--dir DIR] [--database-url URL] [CONTEXT...]\n"
    "\n"
    "Applies the SQL migrations DIR/CONTEXT/NNNN_name.sql not yet applied to the\n"
    "schema CONTEXT, in order, each in its own transaction. Without CONTEXT, every\n"
    "subdirectory of DIR named like a context.\n"
    "\n"
    "  --dir DIR            migrations root (default: migrations)\n"
    "  --database-url URL   PostgreSQL URL (default: $DATABASE_URL)\n"
    "  --help               this text\n"
    "\n"
    "Exit status: 0 done, 1 failed, 2 bad usage.\n";

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad_usage(const char *fmt, ...)
{
    va_list ap;
    fputs("migrate: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see migrate --help)\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    const char *dir = "migrations";
    const char *url = getenv("DATABASE_URL");
    int ncontexts = 0; /* contexts are moved to the front of argv */

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(arg, "--dir") == 0 || strcmp(arg, "--database-url") == 0) {
            if (i + 1 == argc)
                return bad_usage("option '%s' needs a value", arg);
            if (strcmp(arg, "--dir") == 0)
                dir = argv[++i];
            else
                url = argv[++i];
        } else if (arg[0] == '-') {
            return bad_usage("unknown option '%s'", arg);
        } else if (!migrate_name_valid(arg)) {
            return bad_usage("invalid context name '%s': want [a-z][a-z0-9_]{0,30}", arg);
        } else {
            argv[ncontexts++] = argv[i];
        }
    }
    if (!url || !*url)
        return bad_usage("no database: set DATABASE_URL or pass --database-url");
    struct db *db = db_new(url);
    if (!db)
        return bad_usage("database URL longer than %d bytes", DB_CONNINFO_MAX);

    log_setup("migrate", "migrate", LOG_LEVEL_INFO);
    db_set_application_name(db, "migrate");
    log_info("applying migrations from '%s' to '%s'", dir, db_conninfo_masked(db));

    struct err err = {0};
    int applied = 0;
    int rc = db_connect(db, &err);
    if (rc == 0 && ncontexts == 0)
        rc = migrate_all(db, dir, &applied, &err);
    for (int i = 0; rc == 0 && i < ncontexts; i++) {
        int n = 0;
        rc = migrate_context(db, dir, argv[i], &n, &err);
        applied += n;
    }

    if (rc < 0)
        log_write(LOG_LEVEL_ERROR, &(struct log_fields){.error = err_name(rc)},
                  "migrations failed after %d applied: %s", applied, err.msg);
    else
        log_info("migrations done: %d applied", applied);
    db_free(db);
    return rc < 0 ? 1 : 0;
}
