/*
 * cmd_messages.c - "eventctl messages": the outbox and inbox rows of every
 * context (or one), newest first, one line each or one JSON object per line.
 *
 * Read-only. Each context's rows come from its own session (its owner's,
 * ADR 0007), already cut to --limit rows, so a large table costs a top-N
 * sort, not a full one; the contexts' rows are then merged here, newest
 * first. cmd_messages_read and cmd_messages_json are also what the
 * dashboard's /api/messages serves, so both show the same rows.
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
#define MESSAGES_TYPE_MAX      128

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

const char *const cmd_messages_outbox_statuses[] = {"pending", "published", "failed", NULL};
const char *const cmd_messages_inbox_statuses[] = {"processing", "processed", "failed", "dead",
                                                   NULL};

static bool listed(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

bool cmd_messages_status_valid(const char *status)
{
    return listed(cmd_messages_outbox_statuses, status) ||
           listed(cmd_messages_inbox_statuses, status);
}

bool cmd_messages_type_valid(const char *type)
{
    return *type && strlen(type) <= MESSAGES_TYPE_MAX;
}

/*
 * One context's rows; {c} is the schema. $1 status, $2 type (NULL = any), $3
 * the limit. Column 10 is the sort key of the merge: created_at in UTC to the
 * microsecond, which sorts as text.
 */
static const char context_sql[] =
    "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    "       context, tbl, consumer, status, type, id, correlation_id, attempts, last_error,"
    "       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
    " FROM ("
    "(SELECT created_at, '{c}' AS context, 'outbox' AS tbl, NULL::text AS consumer, status, type,"
    "        id::text AS id, correlation_id, attempts, last_error FROM {c}.outbox"
    "  WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR type = $2)"
    "  ORDER BY created_at DESC LIMIT $3::int)"
    " UNION ALL "
    "(SELECT created_at, '{c}', 'inbox', consumer, status, type, id::text, correlation_id,"
    "        attempts, last_error FROM {c}.inbox"
    "  WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR type = $2)"
    "  ORDER BY created_at DESC LIMIT $3::int)"
    ") m ORDER BY created_at DESC, id DESC LIMIT $3::int";

/* One row of a context, kept as the JSON object it prints as, plus the sort key "sort". */
struct read_item {
    json_t *o;
};

/* The rows of every context. */
struct read_ctx {
    struct read_item *rows;
    size_t n, cap;
};

static int read_row(void *vctx, const struct db_row *row, struct err *err)
{
    struct read_ctx *r = vctx;
    struct cmd_messages_row m = {
        .time = ctl_text(row, 0),
        .context = ctl_text(row, 1),
        .table = ctl_text(row, 2),
        .consumer = db_row_text(row, 3),
        .status = ctl_text(row, 4),
        .type = ctl_text(row, 5),
        .id = ctl_text(row, 6),
        .correlation_id = ctl_text(row, 7),
        .last_error = db_row_text(row, 9),
    };
    int64_t attempts = 0;
    if (db_row_int64(row, 8, &attempts))
        return err_set(err, ERR_INTERNAL, "unreadable attempts of message '%s'", m.id);
    m.attempts = (long long)attempts;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct read_item *grown = realloc(r->rows, cap * sizeof(*grown));
        if (!grown)
            return err_set(err, ERR_NOMEM, "out of memory reading the messages");
        r->rows = grown;
        r->cap = cap;
    }
    json_t *o = cmd_messages_json(&m);
    if (!o || json_object_set_new(o, "sort", json_string(ctl_text(row, 10))) != 0) {
        json_decref(o);
        return err_set(err, ERR_NOMEM, "out of memory reading the messages");
    }
    r->rows[r->n++].o = o;
    return 0;
}

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Newest first, then by id descending, as one statement over every schema would order them. */
static int cmp_rows(const void *a, const void *b)
{
    const json_t *x = ((const struct read_item *)a)->o, *y = ((const struct read_item *)b)->o;
    int c = strcmp(str_of(y, "sort"), str_of(x, "sort"));
    return c ? c : strcmp(str_of(y, "id"), str_of(x, "id"));
}

int cmd_messages_read(struct ctl_dbs *dbs, const struct service_def *const *schemas, size_t n,
                      const char *status, const char *type, long limit, cmd_messages_fn fn,
                      void *ctx, struct err *err)
{
    char sql[sizeof(context_sql) + 256];
    char nbuf[24];
    snprintf(nbuf, sizeof(nbuf), "%ld", limit);
    const char *params[] = {status, type, nbuf};
    struct read_ctx r = {NULL, 0, 0};
    int rc = 0;
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        struct db *db;
        rc = ctl_dbs_get(dbs, schemas[i], &db, err);
        if (rc == 0)
            rc = ctl_sql_each(sql, sizeof(sql), &schemas[i], 1, context_sql, "", err);
        if (rc == 0)
            rc = db_exec(db, sql, 3, params, read_row, &r, err);
    }
    if (rc >= 0 && r.n > 1)
        qsort(r.rows, r.n, sizeof(*r.rows), cmp_rows);
    for (size_t i = 0; rc >= 0 && i < r.n && (long)i < limit; i++) {
        const json_t *o = r.rows[i].o;
        struct cmd_messages_row m = {
            .time = str_of(o, "time"),
            .context = str_of(o, "context"),
            .table = str_of(o, "table"),
            .consumer = str_of(o, "consumer"),
            .status = str_of(o, "status"),
            .type = str_of(o, "type"),
            .id = str_of(o, "id"),
            .correlation_id = str_of(o, "correlation_id"),
            .attempts = (long long)json_integer_value(json_object_get(o, "attempts")),
            .last_error = str_of(o, "last_error"),
        };
        rc = fn(ctx, &m, err);
    }
    for (size_t i = 0; i < r.n; i++)
        json_decref(r.rows[i].o);
    free(r.rows);
    return rc < 0 ? rc : 0;
}

json_t *cmd_messages_json(const struct cmd_messages_row *m)
{
    return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:I, s:s?}", "time", m->time,
                     "context", m->context, "table", m->table, "consumer", m->consumer, "status",
                     m->status, "type", m->type, "id", m->id, "correlation_id", m->correlation_id,
                     "attempts", (json_int_t)m->attempts, "last_error", m->last_error);
}

/* ---- the command ---------------------------------------------------------------- */

struct messages_out {
    bool json;
    long rows;
};

static int messages_print(void *vctx, const struct cmd_messages_row *m, struct err *err)
{
    struct messages_out *out = vctx;
    if (out->json) {
        json_t *o = cmd_messages_json(m);
        char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        if (!text)
            return err_set(err, ERR_NOMEM, "out of memory formatting message '%s'", m->id);
        puts(text);
        free(text);
    } else {
        char error[MESSAGES_ERROR_WIDTH + 1];
        ctl_one_line(m->last_error ? m->last_error : "-", MESSAGES_ERROR_WIDTH, error,
                     sizeof(error));
        printf("%-24s  %-14s  %-6s  %-14s  %-10s  %-34s  %-36s  %-36s  %8lld  %s\n", m->time,
               m->context, m->table, m->consumer ? m->consumer : "-", m->status, m->type, m->id,
               m->correlation_id, m->attempts, error);
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
    if (status && !cmd_messages_status_valid(status))
        return ctl_usage_error(cmd,
                               "unknown status '%.64s': want pending|published|failed "
                               "(outbox) or processing|processed|failed|dead (inbox)",
                               status);
    if (type && !cmd_messages_type_valid(type))
        return ctl_usage_error(cmd, "invalid type '%.64s': want 1 to %d characters", type,
                               MESSAGES_TYPE_MAX);
    char *end;
    long n = strtol(limit, &end, 10);
    if (end == limit || *end || n < 1 || n > MESSAGES_LIMIT_MAX)
        return ctl_usage_error(cmd, "invalid limit '%.64s': want an integer in [1, %d]", limit,
                               MESSAGES_LIMIT_MAX);

    struct ctl_dbs *db;
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas;
    int exit_code = ctl_open(cmd, url_arg, only, &db, schemas, &nschemas);
    if (exit_code != CTL_EXIT_OK)
        return exit_code;
    if (!out.json)
        printf("%-24s  %-14s  %-6s  %-14s  %-10s  %-34s  %-36s  %-36s  %8s  %s\n", "TIME",
               "CONTEXT", "TABLE", "CONSUMER", "STATUS", "TYPE", "ID", "CORRELATION ID", "ATTEMPTS",
               "LAST ERROR");
    struct err err = {0};
    if (cmd_messages_read(db, schemas, nschemas, status, type, n, messages_print, &out, &err) < 0)
        exit_code = ctl_fail(cmd, "cannot read the messages: %s", err.msg);
    else if (out.rows == 0 && !out.json)
        fprintf(stderr, "eventctl messages: no messages match\n");
    ctl_dbs_free(db);
    return exit_code;
}
