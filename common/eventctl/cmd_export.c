/*
 * cmd_export.c - "eventctl export <id>": writes a failure's stored bytes to
 * stdout, unchanged: a dead letter's raw body as received (poison may not be
 * text at all), or a dead message's exact text. It is how poison leaves the
 * system for inspection, since it can never be requeued.
 */
#include "ctl.h"

#include "common/db.h"
#include "common/dead_letter.h"
#include "common/inbox.h"

#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: eventctl export <id> [--context C] [--database-url URL]\n"
    "\n"
    "Writes the stored bytes of a failure to stdout, unchanged: a dead letter's raw\n"
    "body ('<context>:<n>', as 'eventctl failures --group G' lists it) or a dead\n"
    "message's exact text (its UUID). Redirect it to a file: poison need not be text.\n"
    "\n"
    "  --context C        servicecatalog|usermanagement|booking|inventory|payment|notification\n"
    "  --database-url URL PostgreSQL URL (default: $DATABASE_URL)\n";

/* Reads the bytes of it into *body and *len (new). Returns 1, 0 when gone meanwhile, or an error.
 */
static int export_read(struct ctl_dbs *dbs, const struct cmd_failure *it, char **body, size_t *len,
                       struct err *err)
{
    struct db *db;
    int rc = ctl_schema_begin(dbs, ctl_service_find(it->context), &db, err);
    if (rc < 0)
        return rc;
    if (it->poison) {
        rc = dead_letter_body(db, it->letter, body, len, err);
    } else {
        rc = inbox_dead_text(db, it->id, it->consumer, body, err);
        *len = *body ? strlen(*body) : 0;
    }
    return ctl_schema_end(db, rc, err);
}

int cmd_export_run(int argc, char **argv)
{
    const char *cmd = "export";
    const char *id = NULL, *context_arg = NULL, *url_arg = NULL;
    for (int i = 1; i < argc; i++) {
        int rc;
        if (ctl_is_help(argv[i])) {
            fputs(usage_text, stdout);
            return CTL_EXIT_OK;
        } else if ((rc = ctl_option(cmd, argc, argv, &i, "--context", &context_arg)) ||
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
    if (!id)
        return ctl_usage_error(cmd, "which failure id?");
    const struct service_def *only;
    if (ctl_parse_context(cmd, context_arg, &only))
        return CTL_EXIT_USAGE;
    struct ctl_dbs *dbs;
    struct cmd_failures f;
    const struct cmd_failure *it;
    int exit_code = cmd_failures_open_one(cmd, url_arg, only, id, &dbs, &f, &it);
    if (exit_code != CTL_EXIT_OK)
        return exit_code;
    struct err err = {0};
    char *body = NULL;
    size_t len = 0;
    int rc = export_read(dbs, it, &body, &len, &err);
    if (rc < 0)
        exit_code = ctl_fail(cmd, "cannot read '%s': %s", id, err.msg);
    else if (rc == 0)
        exit_code = ctl_fail(cmd, "'%s' is gone (requeued or purged meanwhile)", id);
    else if (fwrite(body, 1, len, stdout) != len || fflush(stdout) != 0)
        exit_code = ctl_fail(cmd, "cannot write to stdout");
    free(body);
    cmd_failures_release(&f);
    ctl_dbs_free(dbs);
    return exit_code;
}
