/*
 * cmd_edit.c - "eventctl edit <id>": a dead message whose data was wrong is
 * sent back, corrected, as a new message to the consumer that failed it.
 *
 * Where the fixed event goes, and why there:
 *   - not onto the bus: the event belongs to its producer (a context
 *     publishes only its own events; consumers refuse a source that is not
 *     the type's publisher), and every other subscriber already handled the
 *     original: a re-published copy would reach them as a second event;
 *   - into the consumer's own inbox, as a failed row due now: the consumer's
 *     retry sweep runs it through the same handler, transaction and inbox
 *     guarantees as any retry (I1, I2), and only that consumer sees it.
 * It is a new message: a new id (uuid7), causation id = the dead message's
 * id, the same correlation id, so "eventctl trace" shows the fix as caused by
 * the failure. The dead row is deleted in the same statement
 * (inbox_replace_dead): it is replaced, and the new row's causation id keeps
 * the link. Poison cannot be edited: it never had a consumer's inbox row.
 */
#include "ctl.h"

#include "common/db.h"
#include "common/inbox.h"
#include "common/uuid7.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: eventctl edit <message-id> [--data FILE] [--context C] [--database-url URL]\n"
    "\n"
    "Sends a dead message back to its consumer with corrected data, as a new\n"
    "message: a new id, caused by the dead one, the same correlation id. The\n"
    "consumer retries it at once; the dead row is replaced. The data is read from\n"
    "FILE (JSON), or edited in $EDITOR (default vi) starting from the dead data.\n"
    "Only dead messages can be edited, not poison (export or purge it).\n"
    "\n"
    "  --data FILE        the new data (the CloudEvent's \"data\" member), as JSON\n"
    "  --context C        servicecatalog|usermanagement|booking|inventory|payment|notification\n"
    "  --database-url URL PostgreSQL URL (default: $DATABASE_URL)\n";

/* Opens $EDITOR on a copy of data; *out is the edited JSON (new). Returns an exit code. */
static int edit_in_editor(const char *cmd, const json_t *data, json_t **out)
{
    *out = NULL;
    char path[] = "/tmp/eventctl_edit_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return ctl_fail(cmd, "cannot create a temporary file");
    FILE *f = fdopen(fd, "w");
    if (!f)
        close(fd);
    /* An event without data is edited from null. */
    bool written = f && json_dumpf(data ? data : json_null(), f,
                                   JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) == 0;
    if (f && fclose(f) != 0)
        written = false;
    if (!written) {
        unlink(path);
        return ctl_fail(cmd, "cannot write '%s'", path);
    }
    const char *editor = getenv("EDITOR");
    if (!editor || !*editor)
        setenv("EDITOR", "vi", 1);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* The shell splits "$EDITOR" as people write it ("code -w"); the path is "$1". */
        execl("/bin/sh", "sh", "-c", "exec $EDITOR \"$1\"", "sh", path, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    bool ok = pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    json_error_t jerr;
    *out = ok ? json_load_file(path, JSON_DECODE_ANY, &jerr) : NULL;
    unlink(path);
    if (!ok)
        return ctl_fail(cmd, "the editor failed: nothing sent");
    if (!*out)
        return ctl_fail(cmd, "the edited data is not JSON (line %d: %s): nothing sent", jerr.line,
                        jerr.text);
    return CTL_EXIT_OK;
}

/* The new event: event with id new_id, causation id = its old id, data = data. */
static char *edit_event(json_t *event, const char *new_id, json_t *data)
{
    const char *old_id = json_string_value(json_object_get(event, "id"));
    if (!old_id || json_object_set_new(event, "causationid", json_string(old_id)) != 0 ||
        json_object_set_new(event, "id", json_string(new_id)) != 0 ||
        json_object_set(event, "data", data) != 0)
        return NULL;
    return json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

/* Reads, edits and replaces it. Returns an exit code. */
static int edit_one(const char *cmd, struct ctl_dbs *dbs, const struct cmd_failure *it,
                    const char *data_path)
{
    if (it->poison)
        return ctl_fail(cmd,
                        "'%s' is poison and cannot be edited: it never entered an inbox; "
                        "export it (eventctl export %s) and purge it",
                        it->id, it->id);
    const struct service_def *def = ctl_service_find(it->context);
    struct err err = {0};
    struct db *db;
    char *text = NULL;
    int rc = ctl_schema_begin(dbs, def, &db, &err);
    if (rc == 0)
        rc = ctl_schema_end(db, inbox_dead_text(db, it->id, it->consumer, &text, &err), &err);
    if (rc < 0)
        return ctl_fail(cmd, "cannot read '%s': %s", it->id, err.msg);
    json_error_t jerr;
    json_t *event = text ? json_loads(text, 0, &jerr) : NULL;
    free(text);
    if (!json_is_object(event)) {
        json_decref(event);
        return ctl_fail(cmd, "the stored text of '%s' is not a JSON object", it->id);
    }
    json_t *data = NULL;
    int exit_code = CTL_EXIT_OK;
    if (data_path) {
        data = json_load_file(data_path, JSON_DECODE_ANY, &jerr);
        if (!data)
            exit_code = ctl_fail(cmd, "cannot read '%s' as JSON: %s", data_path, jerr.text);
    } else {
        exit_code = edit_in_editor(cmd, json_object_get(event, "data"), &data);
        if (exit_code == CTL_EXIT_OK && json_equal(data, json_object_get(event, "data")))
            exit_code = ctl_fail(cmd, "data unchanged: nothing sent");
    }
    char new_id[UUID7_STR_LEN];
    char *payload = NULL;
    if (exit_code == CTL_EXIT_OK && uuid7_generate(new_id) != 0)
        exit_code = ctl_fail(cmd, "cannot make a new message id");
    if (exit_code == CTL_EXIT_OK && !(payload = edit_event(event, new_id, data)))
        exit_code = ctl_fail(cmd, "out of memory");
    if (exit_code == CTL_EXIT_OK) {
        rc = ctl_schema_begin(dbs, def, &db, &err);
        if (rc == 0)
            rc = ctl_schema_end(
                db, inbox_replace_dead(db, it->id, it->consumer, new_id, payload, &err), &err);
        if (rc < 0)
            exit_code = ctl_fail(cmd, "cannot send the edited message: %s", err.msg);
        else if (rc == 0)
            exit_code =
                ctl_fail(cmd, "'%s' is no longer dead (requeued or purged meanwhile)", it->id);
        else
            printf("%s: dead message '%s' replaced by '%s' (caused by it, correlation '%s'); "
                   "%s retries it now\n",
                   it->context, it->id, new_id, it->correlation_id, it->consumer);
    }
    free(payload);
    json_decref(data);
    json_decref(event);
    return exit_code;
}

int cmd_edit_run(int argc, char **argv)
{
    const char *cmd = "edit";
    const char *id = NULL, *context_arg = NULL, *url_arg = NULL, *data_path = NULL;
    for (int i = 1; i < argc; i++) {
        int rc;
        if (ctl_is_help(argv[i])) {
            fputs(usage_text, stdout);
            return CTL_EXIT_OK;
        } else if ((rc = ctl_option(cmd, argc, argv, &i, "--data", &data_path)) ||
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
    if (!id)
        return ctl_usage_error(cmd, "which message id?");
    const struct service_def *only;
    if (ctl_parse_context(cmd, context_arg, &only))
        return CTL_EXIT_USAGE;
    struct ctl_dbs *dbs;
    struct cmd_failures f;
    const struct cmd_failure *it;
    int exit_code = cmd_failures_open_one(cmd, url_arg, only, id, &dbs, &f, &it);
    if (exit_code != CTL_EXIT_OK)
        return exit_code;
    exit_code = edit_one(cmd, dbs, it, data_path);
    cmd_failures_release(&f);
    ctl_dbs_free(dbs);
    return exit_code;
}
