/*
 * ctl.c - the pieces every eventctl command uses: lookups in the table of
 * the contexts (services.c, generated), option parsing, the one-line messages, the database connection
 * and a few output helpers. Nothing here decides anything about messages;
 * the commands do.
 */
#include "ctl.h"

#include "common/config.h"
#include "common/db.h"
#include "common/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const struct service_def *ctl_service_find(const char *name)
{
    for (size_t i = 0; name && ctl_services[i]; i++)
        if (strcmp(ctl_services[i]->name, name) == 0)
            return ctl_services[i];
    return NULL;
}

/* ---- arguments and messages ----------------------------------------------- */

bool ctl_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int ctl_option(const char *cmd, int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        ctl_usage_error(cmd, "option '%s' needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

static void ctl_vprint(const char *cmd, const char *kind, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void ctl_vprint(const char *cmd, const char *kind, const char *fmt, va_list ap)
{
    fprintf(stderr, "eventctl%s%s: %s", cmd ? " " : "", cmd ? cmd : "", kind);
    vfprintf(stderr, fmt, ap);
}

int ctl_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ctl_vprint(cmd, "", fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see eventctl%s%s --help)\n", cmd ? " " : "", cmd ? cmd : "");
    return CTL_EXIT_USAGE;
}

int ctl_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ctl_vprint(cmd, "", fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CTL_EXIT_FAILURE;
}

void ctl_warn(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ctl_vprint(cmd, "warning: ", fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int ctl_parse_context(const char *cmd, const char *value, const struct service_def **out)
{
    *out = NULL;
    if (!value)
        return 0;
    *out = ctl_service_find(value);
    if (*out)
        return 0;
    char names[256] = "";
    for (size_t i = 0; ctl_services[i]; i++) {
        size_t len = strlen(names);
        snprintf(names + len, sizeof(names) - len, "%s%s", i ? "|" : "", ctl_services[i]->name);
    }
    return ctl_usage_error(cmd, "unknown context '%.64s': want one of %s", value, names);
}

/* ---- the database ------------------------------------------------------------ */

const char *ctl_database_url(const char *flag_value)
{
    if (flag_value)
        return flag_value;
    const char *env = getenv("DATABASE_URL");
    if (env && *env)
        return env;
    for (size_t k = 0; k < config_common_nkeys; k++)
        if (strcmp(config_common_keys[k].name, "DATABASE_URL") == 0)
            return config_common_keys[k].def;
    return "";
}

int ctl_db_connect(const char *cmd, const char *url, const char *schema, struct db **out)
{
    *out = NULL;
    char masked[512];
    log_mask_url(url, masked, sizeof(masked));
    if (!*url || strlen(url) > DB_CONNINFO_MAX)
        return ctl_usage_error(cmd, "invalid database URL '%.128s': want 1 to %d bytes", masked,
                               DB_CONNINFO_MAX);
    struct db *db = db_new(url);
    if (!db)
        return ctl_fail(cmd, "out of memory");
    db_set_application_name(db, "eventctl");
    db_set_schema(db, schema);
    struct err err = {0};
    int rc = db_connect(db, &err);
    if (rc == ERR_INVALID) {
        /* A URL libpq cannot parse: db.c names it masked. */
        db_free(db);
        return ctl_usage_error(cmd, "%s", err.msg);
    }
    if (rc < 0) {
        /* db.c reports the URL masked and libpq's first line only: one line, no password. */
        static const char prefix[] = "cannot connect to the database: ";
        const char *why = err.msg;
        if (strncmp(why, prefix, sizeof(prefix) - 1) == 0)
            why += sizeof(prefix) - 1;
        ctl_fail(cmd, "cannot connect to database '%s': %s", db_conninfo_masked(db), why);
        db_free(db);
        return CTL_EXIT_FAILURE;
    }
    *out = db;
    return CTL_EXIT_OK;
}

struct schemas_ctx {
    const struct service_def **out;
    size_t n;
};

static int schemas_row(void *vctx, const struct db_row *row, struct err *err)
{
    struct schemas_ctx *s = vctx;
    const struct service_def *def = ctl_service_find(db_row_text(row, 0));
    if (!def)
        return err_set(err, ERR_INTERNAL, "unexpected schema '%s'", ctl_text(row, 0));
    if (s->n < CTL_CONTEXTS_MAX)
        s->out[s->n++] = def;
    return 0;
}

int ctl_schemas(struct db *db, const struct service_def *only,
                const struct service_def *out[CTL_CONTEXTS_MAX], size_t *n, struct err *err)
{
    /* The names as an array literal of the query's one parameter: '{a,b,...}'. */
    char names[256] = "{";
    for (size_t i = 0; ctl_services[i]; i++) {
        if (only && only != ctl_services[i])
            continue;
        size_t len = strlen(names);
        snprintf(names + len, sizeof(names) - len, "%s%s", len > 1 ? "," : "",
                 ctl_services[i]->name);
    }
    strncat(names, "}", sizeof(names) - strlen(names) - 1);
    const char *params[] = {names};
    struct schemas_ctx s = {out, 0};
    int rc = db_exec(db,
                     "SELECT c.name FROM unnest($1::text[]) WITH ORDINALITY AS c(name, pos)"
                     " WHERE to_regclass(quote_ident(c.name) || '.outbox') IS NOT NULL"
                     "   AND to_regclass(quote_ident(c.name) || '.inbox') IS NOT NULL"
                     " ORDER BY c.pos",
                     1, params, schemas_row, &s, err);
    *n = s.n;
    return rc < 0 ? rc : 0;
}

int ctl_open(const char *cmd, const char *url_arg, const struct service_def *only, struct db **db,
             const struct service_def *out[CTL_CONTEXTS_MAX], size_t *n)
{
    *n = 0;
    int exit_code = ctl_db_connect(cmd, ctl_database_url(url_arg), NULL, db);
    if (exit_code != CTL_EXIT_OK)
        return exit_code;
    struct err err = {0};
    if (ctl_schemas(*db, only, out, n, &err) < 0)
        exit_code = ctl_fail(cmd, "cannot list the context schemas in '%s': %s",
                             db_conninfo_masked(*db), err.msg);
    else if (*n == 0 && only)
        exit_code = ctl_fail(cmd, "context '%s' has no outbox and inbox in '%s' (not migrated?)",
                             only->name, db_conninfo_masked(*db));
    else if (*n == 0)
        exit_code = ctl_fail(cmd, "no context has an outbox and inbox in '%s' (not migrated?)",
                             db_conninfo_masked(*db));
    if (exit_code != CTL_EXIT_OK) {
        db_free(*db);
        *db = NULL;
    }
    return exit_code;
}

static int sql_append(char *out, size_t outlen, size_t *used, const char *text, size_t len,
                      struct err *err)
{
    if (*used + len >= outlen)
        return err_set(err, ERR_INTERNAL, "statement longer than %zu bytes", outlen);
    memcpy(out + *used, text, len);
    *used += len;
    out[*used] = '\0';
    return 0;
}

int ctl_sql_each(char *out, size_t outlen, const struct service_def *const *contexts, size_t n,
                 const char *tmpl, const char *sep, struct err *err)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i && sql_append(out, outlen, &used, sep, strlen(sep), err))
            return err->code;
        for (const char *p = tmpl; *p;) {
            const char *mark = strstr(p, "{c}");
            size_t len = mark ? (size_t)(mark - p) : strlen(p);
            if (sql_append(out, outlen, &used, p, len, err))
                return err->code;
            if (!mark)
                break;
            const char *name = contexts[i]->name;
            if (sql_append(out, outlen, &used, name, strlen(name), err))
                return err->code;
            p = mark + 3;
        }
    }
    return 0;
}

const char *ctl_text(const struct db_row *row, int col)
{
    const char *s = db_row_text(row, col);
    return s ? s : "";
}

/* ---- output ------------------------------------------------------------------ */

void ctl_one_line(const char *s, size_t max, char *out, size_t outlen)
{
    if (!outlen)
        return;
    if (!s)
        s = "";
    size_t len = strlen(s);
    size_t keep = len;
    bool cut = false;
    if (keep > max || keep >= outlen) {
        keep = max < outlen ? max : outlen - 1;
        keep = keep > 3 ? keep - 3 : 0;
        /* Never cut a UTF-8 sequence in half. */
        while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
            keep--;
        cut = true;
    }
    for (size_t i = 0; i < keep; i++)
        out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? ' ' : s[i];
    out[keep] = '\0';
    if (cut)
        snprintf(out + keep, outlen - keep, "...");
}

void ctl_md_cell(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '<')
            fputs("&lt;", out);
        else if (*s == '>')
            fputs("&gt;", out);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

void ctl_md_code(FILE *out, const char *s)
{
    fputc('`', out);
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n' || *s == '\r' || *s == '`')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
    fputc('`', out);
}
