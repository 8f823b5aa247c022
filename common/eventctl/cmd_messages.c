/*
 * cmd_messages.c - "eventctl messages": the outbox and inbox rows of every
 * context (or one), newest first, one line each or one JSON object per line.
 *
 * Read-only. The rows of all schemas come from one UNION ALL statement, each
 * branch already cut to --limit rows, so a large table costs a top-N sort,
 * not a full one.
 */
#include "ctl.h"

#include "common/db.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MESSAGES_LIMIT_DEFAULT "50"
#define MESSAGES_LIMIT_MAX     100000
#define MESSAGES_ERROR_WIDTH   60

static const char usage_text[] =
    "usage: eventctl messages [--context C] [--status S] [--type T] [--limit N] [--json]\n"
    "                         [--database-url URL]\n"
    "\n"
    "Lists outbox and inbox rows of every context (or of --context C), newest first:\n"
    "time, context, table, consumer (inbox), status, type, id, correlation id,\n"
    "attempts, last error (cut to 60 characters; --json prints it whole).\n"
    "\n"
    "  --context C        servicecatalog|usermanagement|booking|inventory|payment|notification\n"
    "  --status S         outbox: pending|published|failed; inbox: "
    "processing|processed|failed|dead\n"
    "  --type T           one event type, e.g. booking.booking.created\n"
    "  --limit N          at most N rows, 1..100000 (default 50)\n"
    "  --json             one JSON object per line instead of columns\n"
    "  --database-url URL PostgreSQL URL (default: $DATABASE_URL)\n"
    "\n"
    "Contexts whose schema has no outbox and inbox yet are skipped.\n";

static const char *const statuses[] = {"pending",   "published", "failed", "processing",
                                       "processed", "dead",      NULL};

/*
 * One branch per context and table; {c} is the schema. $1 status, $2 type
 * (NULL = any), $3 the limit. The outer query orders the union and formats
 * the time in UTC.
 */
static const char branch_sql[] =
    "(SELECT created_at, '{c}' AS context, 'outbox' AS tbl, NULL::text AS consumer, status, type,"
    "        id::text AS id, correlation_id, attempts, last_error FROM {c}.outbox"
    "  WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR type = $2)"
    "  ORDER BY created_at DESC LIMIT $3::int)"
    " UNION ALL "
    "(SELECT created_at, '{c}', 'inbox', consumer, status, type, id::text, correlation_id,"
    "        attempts, last_error FROM {c}.inbox"
    "  WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR type = $2)"
    "  ORDER BY created_at DESC LIMIT $3::int)";

struct messages_out {
    bool json;
    long rows;
};

static int messages_row(void *vctx, const struct db_row *row, struct err *err)
{
    struct messages_out *out = vctx;
    const char *time = ctl_text(row, 0), *context = ctl_text(row, 1), *table = ctl_text(row, 2);
    const char *status = ctl_text(row, 4), *type = ctl_text(row, 5), *id = ctl_text(row, 6);
    const char *correlation = ctl_text(row, 7);
    const char *consumer = db_row_text(row, 3), *last_error = db_row_text(row, 9);
    int64_t attempts = 0;
    if (db_row_int64(row, 8, &attempts))
        return err_set(err, ERR_INTERNAL, "unreadable attempts of message '%s'", id);

    if (out->json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:I, s:s?}", "time", time,
                              "context", context, "table", table, "consumer", consumer, "status",
                              status, "type", type, "id", id, "correlation_id", correlation,
                              "attempts", (json_int_t)attempts, "last_error", last_error);
        char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        if (!text)
            return err_set(err, ERR_NOMEM, "out of memory formatting message '%s'", id);
        puts(text);
        free(text);
    } else {
        char error[MESSAGES_ERROR_WIDTH + 1];
        ctl_one_line(last_error ? last_error : "-", MESSAGES_ERROR_WIDTH, error, sizeof(error));
        printf("%-24s  %-14s  %-6s  %-14s  %-10s  %-34s  %-36s  %-36s  %8lld  %s\n", time, context,
               table, consumer ? consumer : "-", status, type, id, correlation, (long long)attempts,
               error);
    }
    out->rows++;
    return 0;
}

int cmd_messages_run(int argc, char **argv)
{
    const char *cmd = "messages";
    const char *context_arg = NULL, *status = NULL, *type = NULL, *limit = MESSAGES_LIMIT_DEFAULT;
    const char *url_arg = NULL;
    struct messages_out out = {false, 0};

    for (int i = 1; i < argc; i++) {
        int rc;
        if (ctl_is_help(argv[i])) {
            fputs(usage_text, stdout);
            return CTL_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            out.json = true;
        } else if ((rc = ctl_option(cmd, argc, argv, &i, "--context", &context_arg)) ||
                   (rc = ctl_option(cmd, argc, argv, &i, "--status", &status)) ||
                   (rc = ctl_option(cmd, argc, argv, &i, "--type", &type)) ||
                   (rc = ctl_option(cmd, argc, argv, &i, "--limit", &limit)) ||
                   (rc = ctl_option(cmd, argc, argv, &i, "--database-url", &url_arg))) {
            if (rc < 0)
                return CTL_EXIT_USAGE;
        } else if (argv[i][0] == '-') {
            return ctl_usage_error(cmd, "unknown option '%.64s'", argv[i]);
        } else {
            return ctl_usage_error(cmd, "unexpected argument '%.64s'", argv[i]);
        }
    }

    const struct service_def *only;
    if (ctl_parse_context(cmd, context_arg, &only))
        return CTL_EXIT_USAGE;
    if (status) {
        size_t s = 0;
        while (statuses[s] && strcmp(statuses[s], status) != 0)
            s++;
        if (!statuses[s])
            return ctl_usage_error(cmd,
                                   "unknown status '%.64s': want pending|published|failed "
                                   "(outbox) or processing|processed|failed|dead (inbox)",
                                   status);
    }
    if (type && (!*type || strlen(type) > 128))
        return ctl_usage_error(cmd, "invalid type '%.64s': want 1 to 128 characters", type);
    char *end;
    long n = strtol(limit, &end, 10);
    if (end == limit || *end || n < 1 || n > MESSAGES_LIMIT_MAX)
        return ctl_usage_error(cmd, "invalid limit '%.64s': want an integer in [1, %d]", limit,
                               MESSAGES_LIMIT_MAX);

    struct db *db;
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas;
    int exit_code = ctl_open(cmd, url_arg, only, &db, schemas, &nschemas);
    if (exit_code != CTL_EXIT_OK)
        return exit_code;
    struct err err = {0};
    char *sql = malloc(CTL_SQL_MAX);
    if (!sql) {
        exit_code = ctl_fail(cmd, "out of memory");
        goto done;
    }

    static const char head[] =
        "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
        "       context, tbl, consumer, status, type, id, correlation_id, attempts, last_error"
        " FROM (";
    static const char tail[] = ") m ORDER BY created_at DESC, id DESC LIMIT $3::int";
    size_t used = strlen(head);
    memcpy(sql, head, used);
    if (ctl_sql_each(sql + used, CTL_SQL_MAX - used - sizeof(tail), schemas, nschemas, branch_sql,
                     " UNION ALL ", &err) < 0) {
        exit_code = ctl_fail(cmd, "%s", err.msg);
        goto done;
    }
    strcat(sql, tail);

    char nbuf[24];
    snprintf(nbuf, sizeof(nbuf), "%ld", n);
    const char *params[] = {status, type, nbuf};
    if (!out.json)
        printf("%-24s  %-14s  %-6s  %-14s  %-10s  %-34s  %-36s  %-36s  %8s  %s\n", "TIME",
               "CONTEXT", "TABLE", "CONSUMER", "STATUS", "TYPE", "ID", "CORRELATION ID", "ATTEMPTS",
               "LAST ERROR");
    if (db_exec(db, sql, 3, params, messages_row, &out, &err) < 0) {
        exit_code = ctl_fail(cmd, "cannot read the messages: %s", err.msg);
        goto done;
    }
    if (out.rows == 0 && !out.json)
        fprintf(stderr, "eventctl messages: no messages match\n");

done:
    free(sql);
    db_free(db);
    return exit_code;
}
