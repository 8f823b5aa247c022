/*
 * migrate_main.c - the `migrate` tool: applies <dir>/<context>/NNNN_name.sql
 * to each context's own schema (rules in common/migrate.h). deploy/local/up.sh
 * runs it; it is safe to run repeatedly and concurrently.
 *
 * Each context is migrated as its schema's owner (ADR 0007): through
 * $<CONTEXT>_DATABASE_URL when set (with isolation, the context's own role),
 * else through DATABASE_URL. A schema its login does not own is refused, so
 * a migration never runs code a context planted with the admin's privileges.
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
    "\n"
    "Context C is migrated through $C_DATABASE_URL (C in capitals) when it is set,\n"
    "e.g. BOOKING_DATABASE_URL: a schema is migrated only by a login that owns it.\n"
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

/* The sessions of one run, one per distinct URL (at most one per context plus the default). */
#define MIGRATE_SESSIONS_MAX 32

struct sessions {
    const char *default_url;
    struct {
        char *url;
        struct db *db;
    } items[MIGRATE_SESSIONS_MAX];
    size_t n;
};

/* migrate_session_fn: context's session, through $<CONTEXT>_DATABASE_URL or the default URL. */
static int session_for(void *ctx, const char *context, struct db **out, struct err *err)
{
    struct sessions *s = ctx;
    char key[64];
    size_t n = 0;
    for (; context[n] && n < 40; n++)
        key[n] =
            (char)(context[n] >= 'a' && context[n] <= 'z' ? context[n] - 'a' + 'A' : context[n]);
    snprintf(key + n, sizeof(key) - n, "_DATABASE_URL");
    const char *url = getenv(key);
    if (!url || !*url)
        url = s->default_url;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i].url, url) == 0) {
            *out = s->items[i].db;
            return 0;
        }
    if (s->n == MIGRATE_SESSIONS_MAX)
        return err_set(err, ERR_INVALID, "more than %d database URLs", MIGRATE_SESSIONS_MAX);
    struct db *db = db_new(url);
    char *copy = db ? strdup(url) : NULL;
    if (!copy) {
        db_free(db);
        return err_set(err, ERR_INVALID, "%s: database URL longer than %d bytes or no memory", key,
                       DB_CONNINFO_MAX);
    }
    db_set_application_name(db, "migrate");
    s->items[s->n].url = copy;
    s->items[s->n].db = db;
    s->n++;
    int rc = db_connect(db, err);
    if (rc < 0)
        return rc;
    *out = db;
    return 0;
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
    if (strlen(url) > DB_CONNINFO_MAX)
        return bad_usage("database URL longer than %d bytes", DB_CONNINFO_MAX);

    log_setup("migrate", "migrate", LOG_LEVEL_INFO);
    char masked[512];
    log_mask_url(url, masked, sizeof(masked));
    log_info("applying migrations from '%s' to '%s'", dir, masked);

    struct sessions sessions = {.default_url = url};
    struct err err = {0};
    int applied = 0, rc = 0;
    if (ncontexts == 0)
        rc = migrate_all_sessions(dir, session_for, &sessions, &applied, &err);
    for (int i = 0; rc == 0 && i < ncontexts; i++) {
        int n = 0;
        struct db *db = NULL;
        rc = session_for(&sessions, argv[i], &db, &err);
        if (rc == 0)
            rc = migrate_context(db, dir, argv[i], &n, &err);
        applied += n;
    }

    if (rc < 0)
        log_write(LOG_LEVEL_ERROR, &(struct log_fields){.error = err_name(rc)},
                  "migrations failed after %d applied: %s", applied, err.msg);
    else
        log_info("migrations done: %d applied", applied);
    for (size_t i = 0; i < sessions.n; i++) {
        db_free(sessions.items[i].db);
        free(sessions.items[i].url);
    }
    return rc < 0 ? 1 : 0;
}
