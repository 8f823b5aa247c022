/*
 * cmd_purge.c - "eventctl purge --dead --older-than <duration>": deletes dead
 * inbox rows that have been dead longer than the duration, in every context
 * (or one), and says how many per context.
 *
 * Dead rows are never deleted by the services' retention (SPEC §4: they stay
 * until requeued or purged), so this is the one way they go. Both flags are
 * required: a purge is never the default of anything. A row's age counts from
 * the latest of created_at and dead_lettered_at, so a message that died again
 * after a requeue is as young as its last death.
 */
#include "ctl.h"

#include "common/db.h"
#include "common/inbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PURGE_SECONDS_MAX (100LL * 365 * 24 * 3600) /* a century: longer is a typo */

static const char usage_text[] =
    "usage: eventctl purge --dead --older-than <duration> [--context C] [--database-url URL]\n"
    "       eventctl purge <id> | --group G [--yes] [--context C] [--database-url URL]\n"
    "\n"
    "With an id (a dead message's UUID, or a dead letter's '<context>:<n>') or\n"
    "--group G (an id of 'eventctl failures') it deletes that failure or every\n"
    "failure of the group, dead messages and poison alike, after printing how\n"
    "many and asking (--yes does not ask).\n"
    "\n"
    "Deletes dead inbox rows older than the duration (a number and a unit: s, m, h,\n"
    "d or w, e.g. 7d, 12h, 30m) in every context's schema, or in --context C, and\n"
    "prints the count per context. A row's age counts from when it was first seen\n"
    "or, if later, when its copy reached the dead-letter queue.\n"
    "\n"
    "  --dead             required: only dead inbox rows are ever purged\n"
    "  --older-than D     required: the age, e.g. 7d\n"
    "  --context C        servicecatalog|usermanagement|booking|inventory|payment|notification\n"
    "  --database-url URL PostgreSQL URL (default: $DATABASE_URL)\n";

/* Parses "<n><unit>" into seconds. Returns 0, or -1 for anything else or out of range. */
static int parse_duration(const char *text, long long *seconds)
{
    static const struct {
        char unit;
        long long seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
    errno = 0;
    char *end;
    long long n = strtoll(text, &end, 10);
    if (errno || end == text || text[0] == '-' || text[0] == '+' || n <= 0 || end[0] == '\0' ||
        end[1] != '\0')
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (units[i].unit == end[0]) {
            if (n > PURGE_SECONDS_MAX / units[i].seconds)
                return -1;
            *seconds = n * units[i].seconds;
            return 0;
        }
    return -1;
}

int cmd_purge_run(int argc, char **argv)
{
    const char *cmd = "purge";
    const char *older_than = NULL, *context_arg = NULL, *url_arg = NULL, *id = NULL, *group = NULL;
    bool dead = false, yes = false;

    for (int i = 1; i < argc; i++) {
        int rc;
        if (ctl_is_help(argv[i])) {
            fputs(usage_text, stdout);
            return CTL_EXIT_OK;
        } else if (strcmp(argv[i], "--dead") == 0) {
            dead = true;
        } else if (strcmp(argv[i], "--yes") == 0) {
            yes = true;
        } else if ((rc = ctl_option(cmd, argc, argv, &i, "--group", &group)) ||
                   (rc = ctl_option(cmd, argc, argv, &i, "--older-than", &older_than)) ||
                   (rc = ctl_option(cmd, argc, argv, &i, "--context", &context_arg)) ||
                   (rc = ctl_option(cmd, argc, argv, &i, "--database-url", &url_arg))) {
            if (rc < 0)
                return CTL_EXIT_USAGE;
        } else if (argv[i][0] == '-') {
            return ctl_usage_error(cmd, "unknown option '%.64s'", argv[i]);
        } else if (id) {
            return ctl_usage_error(cmd, "unexpected argument '%.64s'", argv[i]);
        } else {
            id = argv[i];
        }
    }
    if ((id || group) && (dead || older_than))
        return ctl_usage_error(cmd, "an id or --group goes without --dead and --older-than");
    if (id && group)
        return ctl_usage_error(cmd, "want an id or --group, not both");
    if (id || group) {
        const struct service_def *only;
        if (ctl_parse_context(cmd, context_arg, &only))
            return CTL_EXIT_USAGE;
        return cmd_failures_apply(cmd, url_arg, only, id, group, yes, false);
    }
    if (!dead || !older_than)
        return ctl_usage_error(cmd, "refusing to purge without both --dead and --older-than");
    long long seconds;
    if (parse_duration(older_than, &seconds))
        return ctl_usage_error(
            cmd, "invalid duration '%.64s': want a number and s, m, h, d or w, e.g. 7d",
            older_than);
    const struct service_def *only;
    if (ctl_parse_context(cmd, context_arg, &only))
        return CTL_EXIT_USAGE;

    struct ctl_dbs *db;
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas;
    int exit_code = ctl_open(cmd, url_arg, only, &db, schemas, &nschemas);
    if (exit_code != CTL_EXIT_OK)
        return exit_code;

    const char *url = ctl_database_url(url_arg);
    long long total = 0;
    for (size_t i = 0; i < nschemas; i++) {
        /* One connection per schema: the inbox statements name their table unqualified. Its
         * login is the one ctl_open found owning the schema (ADR 0007). */
        struct db *sdb = NULL;
        exit_code = ctl_db_connect(cmd, ctl_context_url(schemas[i], url), schemas[i]->name, &sdb);
        if (exit_code != CTL_EXIT_OK)
            break;
        struct err err = {0};
        int rc = inbox_purge_dead(sdb, seconds, &err);
        db_free(sdb);
        if (rc < 0) {
            exit_code = ctl_fail(cmd, "cannot purge '%s': %s", schemas[i]->name, err.msg);
            break;
        }
        printf("%-14s  %d dead inbox row%s deleted\n", schemas[i]->name, rc, rc == 1 ? "" : "s");
        total += rc;
    }
    if (exit_code == CTL_EXIT_OK)
        printf("%-14s  %lld dead inbox row%s deleted (older than %s)\n", "total", total,
               total == 1 ? "" : "s", older_than);
    ctl_dbs_free(db);
    return exit_code;
}
