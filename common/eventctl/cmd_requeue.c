/*
 * cmd_requeue.c - "eventctl requeue <message-id>": a dead inbox message goes
 * back for one more round (dead → failed, due now: the consumer's retry sweep
 * runs it from the stored payload), a failed outbox row goes back to pending
 * (the relay publishes it again).
 *
 * The status changes only through inbox_requeue and outbox_requeue (the one
 * path to each table's state change), in a transaction whose search_path is
 * the context's schema, as the context's own code runs them, in a session of
 * the schema's owner (ADR 0007: a trigger the context planted on its inbox
 * runs with the context's privileges, never with the admin's). The dashboard's
 * POST /api/requeue/{id} runs the same cmd_requeue_in.
 */
#include "ctl.h"

#include "common/db.h"
#include "common/inbox.h"
#include "common/outbox.h"
#include "common/uuid7.h"

#include <string.h>

static const char usage_text[] =
    "usage: eventctl requeue <message-id> [--context C] [--database-url URL]\n"
    "       eventctl requeue --group G | --all [--yes] [--context C] [--database-url URL]\n"
    "\n"
    "Sends a message back for another try: a dead inbox row becomes failed with its\n"
    "attempts reset and is retried at once by its consumer; a failed outbox row\n"
    "becomes pending and is published again by the relay. Looks in every context's\n"
    "schema unless --context C is given.\n"
    "\n"
    "With --group G (an id of 'eventctl failures') or --all it requeues every dead\n"
    "message of the group or of every group, after printing how many and asking.\n"
    "Poison (a dead letter, id '<context>:<n>') is never requeued: it never\n"
    "entered the inbox, and the same bytes would be refused again; export it,\n"
    "fix its producer and purge it.\n"
    "\n"
    "  --group G          the dead messages of failure group G\n"
    "  --all              the dead messages of every failure group\n"
    "  --yes              do not ask for confirmation\n"
    "  --context C        servicecatalog|usermanagement|booking|inventory|payment|notification\n"
    "  --database-url URL PostgreSQL URL (default: $DATABASE_URL)\n"
    "\n"
    "Exit status 1 when no dead or failed message has that id, 2 when the id is not a UUID.\n";

int cmd_requeue_in(struct ctl_dbs *dbs, const char *context, const char *id, int *inbox,
                   int *outbox, struct err *err)
{
    *inbox = *outbox = 0;
    const struct service_def *def = ctl_service_find(context);
    if (!def)
        return err_set(err, ERR_INVALID, "unknown context '%.64s'", context);
    struct db *db;
    int rc = ctl_dbs_get(dbs, def, &db, err);
    if (rc == 0)
        rc = db_begin(db, err);
    if (rc < 0)
        return rc;
    /* set_config(..., true) is SET LOCAL: the schema lasts until this transaction ends. */
    const char *params[] = {context};
    int in = 0, out = 0;
    rc = db_exec(db, "SELECT set_config('search_path', quote_ident($1), true)", 1, params, NULL,
                 NULL, err);
    if (rc >= 0)
        rc = in = inbox_requeue(db, id, NULL, err);
    if (rc >= 0)
        rc = out = outbox_requeue(db, id, err);
    if (rc >= 0)
        rc = db_commit(db, err);
    if (rc < 0) {
        db_rollback(db);
        return rc;
    }
    *inbox = in;
    *outbox = out;
    return 0;
}

/*
 * Requeues id in one context's schema and says what it did. Returns the rows
 * requeued (inbox + outbox), or a negative exit code (the line is printed).
 */
static int requeue_in(const char *cmd, struct ctl_dbs *db, const char *context, const char *id)
{
    struct err err = {0};
    int inbox, outbox;
    if (cmd_requeue_in(db, context, id, &inbox, &outbox, &err) < 0)
        return -ctl_fail(cmd, "cannot requeue '%s' in '%s': %s", id, context, err.msg);
    if (inbox > 0)
        printf("%s: inbox message '%s' requeued (dead -> failed, due now; %d consumer row%s)\n",
               context, id, inbox, inbox == 1 ? "" : "s");
    if (outbox > 0)
        printf("%s: outbox message '%s' requeued (failed -> pending)\n", context, id);
    return inbox + outbox;
}

int cmd_requeue_run(int argc, char **argv)
{
    const char *cmd = "requeue";
    const char *id = NULL, *context_arg = NULL, *url_arg = NULL, *group = NULL;
    bool all = false, yes = false;

    for (int i = 1; i < argc; i++) {
        int rc;
        if (ctl_is_help(argv[i])) {
            fputs(usage_text, stdout);
            return CTL_EXIT_OK;
        } else if (strcmp(argv[i], "--all") == 0) {
            all = true;
        } else if (strcmp(argv[i], "--yes") == 0) {
            yes = true;
        } else if ((rc = ctl_option(cmd, argc, argv, &i, "--group", &group)) ||
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
    if ((id != NULL) + (group != NULL) + all != 1)
        return ctl_usage_error(cmd, "want one of <message-id>, --group G or --all");
    const struct service_def *only;
    if (ctl_parse_context(cmd, context_arg, &only))
        return CTL_EXIT_USAGE;
    /* A dead letter ("<context>:<n>") goes through the failures list, which refuses it. */
    if (group || all || (id && strchr(id, ':')))
        return cmd_failures_apply(cmd, url_arg, only, id, group, yes, true);
    if (!uuid7_is_valid(id))
        return ctl_usage_error(cmd, "invalid message id '%.64s': want a UUID", id);

    struct ctl_dbs *db;
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas;
    int exit_code = ctl_open(cmd, url_arg, only, &db, schemas, &nschemas);
    if (exit_code != CTL_EXIT_OK)
        return exit_code;
    int total = 0;
    for (size_t i = 0; i < nschemas; i++) {
        int n = requeue_in(cmd, db, schemas[i]->name, id);
        if (n < 0) {
            ctl_dbs_free(db);
            return -n;
        }
        total += n;
    }
    ctl_dbs_free(db);
    if (total == 0)
        return ctl_fail(cmd, "no dead or failed message '%s'", id);
    return CTL_EXIT_OK;
}
