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
#include "common/migrate.h"

#include <ctype.h>
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

/* ---- one session per login ---------------------------------------------------- */

#define CTL_URL_ENV_MAX 64

struct ctl_dbs {
    char *default_url;
    const char *app;
    struct {
        char *url;
        struct db *db;
    } conns[CTL_CONTEXTS_MAX + 1]; /* at most one per context, plus the default */
    size_t nconns;
    bool owner_checked[CTL_CONTEXTS_MAX]; /* by index in ctl_services */
};

struct ctl_dbs *ctl_dbs_new(const char *default_url, const char *app)
{
    struct ctl_dbs *dbs = calloc(1, sizeof(*dbs));
    if (!dbs)
        return NULL;
    dbs->default_url = strdup(default_url ? default_url : "");
    dbs->app = app;
    if (!dbs->default_url) {
        free(dbs);
        return NULL;
    }
    return dbs;
}

void ctl_dbs_free(struct ctl_dbs *dbs)
{
    if (!dbs)
        return;
    for (size_t i = 0; i < dbs->nconns; i++) {
        db_free(dbs->conns[i].db);
        free(dbs->conns[i].url);
    }
    free(dbs->default_url);
    free(dbs);
}

const char *ctl_context_url(const struct service_def *c, const char *fallback)
{
    char key[CTL_URL_ENV_MAX];
    size_t n = 0;
    for (const char *s = c->name; *s && n + sizeof("_DATABASE_URL") < sizeof(key); s++)
        key[n++] = (char)toupper((unsigned char)*s);
    snprintf(key + n, sizeof(key) - n, "_DATABASE_URL");
    const char *url = getenv(key);
    return url && *url ? url : fallback;
}

/* The session of url, made (not yet connected) when there is none. */
static int ctl_dbs_session(struct ctl_dbs *dbs, const char *url, struct db **out, struct err *err)
{
    *out = NULL;
    for (size_t i = 0; i < dbs->nconns; i++)
        if (strcmp(dbs->conns[i].url, url) == 0) {
            *out = dbs->conns[i].db;
            return 0;
        }
    if (dbs->nconns == sizeof(dbs->conns) / sizeof(dbs->conns[0]))
        return err_set(err, ERR_INTERNAL, "more database URLs than contexts");
    char masked[512];
    log_mask_url(url, masked, sizeof(masked));
    if (!*url || strlen(url) > DB_CONNINFO_MAX)
        return err_set(err, ERR_INVALID, "invalid database URL '%.128s': want 1 to %d bytes",
                       masked, DB_CONNINFO_MAX);
    char *copy = strdup(url);
    struct db *db = copy ? db_new(url) : NULL;
    if (!db) {
        free(copy);
        return err_set(err, ERR_NOMEM, "out of memory");
    }
    db_set_application_name(db, dbs->app);
    dbs->conns[dbs->nconns].url = copy;
    dbs->conns[dbs->nconns].db = db;
    dbs->nconns++;
    *out = db;
    return 0;
}

static size_t ctl_service_index(const struct service_def *c)
{
    size_t i = 0;
    while (ctl_services[i] && ctl_services[i] != c)
        i++;
    return i;
}

int ctl_dbs_get(struct ctl_dbs *dbs, const struct service_def *c, struct db **out, struct err *err)
{
    *out = NULL;
    size_t k = ctl_service_index(c);
    if (k >= CTL_CONTEXTS_MAX)
        return err_set(err, ERR_INTERNAL, "unknown context '%s'", c->name);
    struct db *db = NULL;
    int rc = ctl_dbs_session(dbs, ctl_context_url(c, dbs->default_url), &db, err);
    if (rc == 0 && !db)
        rc = err_set(err, ERR_INTERNAL, "no session for context '%s'", c->name);
    if (rc == 0 && !db_connected(db))
        rc = db_connect(db, err);
    if (rc == 0 && !dbs->owner_checked[k]) {
        /* What runs when we read or write there (triggers, views, policies, casts) was put
         * there by the schema's owner: it must run with the owner's privileges, not ours. */
        rc = migrate_owner_check(db, c->name, err);
        dbs->owner_checked[k] = rc == 0;
    }
    if (rc < 0)
        return rc;
    *out = db;
    return 0;
}

int ctl_schemas(struct ctl_dbs *dbs, const struct service_def *only,
                const struct service_def *out[CTL_CONTEXTS_MAX], size_t *n, struct err *err)
{
    *n = 0;
    for (size_t i = 0; ctl_services[i] && *n < CTL_CONTEXTS_MAX; i++) {
        if (only && only != ctl_services[i])
            continue;
        struct db *db;
        int rc = ctl_dbs_get(dbs, ctl_services[i], &db, err);
        const char *params[] = {ctl_services[i]->name};
        if (rc == 0)
            rc = db_exec(db,
                         "SELECT 1 WHERE to_regclass(quote_ident($1) || '.outbox') IS NOT NULL"
                         "   AND to_regclass(quote_ident($1) || '.inbox') IS NOT NULL",
                         1, params, NULL, NULL, err);
        if (rc < 0)
            return rc;
        if (rc > 0)
            out[(*n)++] = ctl_services[i];
    }
    return 0;
}

int ctl_open(const char *cmd, const char *url_arg, const struct service_def *only,
             struct ctl_dbs **dbs, const struct service_def *out[CTL_CONTEXTS_MAX], size_t *n)
{
    *n = 0;
    *dbs = NULL;
    /* The default URL must answer, whoever uses it: one clear line when it does not. */
    const char *url = ctl_database_url(url_arg);
    struct db *probe;
    int exit_code = ctl_db_connect(cmd, url, NULL, &probe);
    if (exit_code != CTL_EXIT_OK)
        return exit_code;
    *dbs = ctl_dbs_new(url, "eventctl");
    char *copy = *dbs ? strdup(url) : NULL;
    if (!copy) {
        db_free(probe);
        ctl_dbs_free(*dbs);
        *dbs = NULL;
        return ctl_fail(cmd, "out of memory");
    }
    (*dbs)->conns[0].url = copy; /* the probe serves the contexts of the default URL */
    (*dbs)->conns[0].db = probe;
    (*dbs)->nconns = 1;
    struct err err = {0};
    if (ctl_schemas(*dbs, only, out, n, &err) < 0)
        exit_code = ctl_fail(cmd, "cannot list the context schemas: %s", err.msg);
    else if (*n == 0 && only)
        exit_code =
            ctl_fail(cmd, "context '%s' has no outbox and inbox (not migrated?)", only->name);
    else if (*n == 0)
        exit_code = ctl_fail(cmd, "no context has an outbox and inbox in '%s' (not migrated?)",
                             db_conninfo_masked(probe));
    if (exit_code != CTL_EXIT_OK) {
        ctl_dbs_free(*dbs);
        *dbs = NULL;
    }
    return exit_code;
}

int ctl_schema_begin(struct ctl_dbs *dbs, const struct service_def *def, struct db **db,
                     struct err *err)
{
    int rc = ctl_dbs_get(dbs, def, db, err);
    if (rc == 0)
        rc = db_begin(*db, err);
    if (rc < 0)
        return rc;
    /* set_config(..., true) is SET LOCAL: the schema lasts until this transaction ends. */
    const char *params[] = {def->name};
    rc = db_exec(*db, "SELECT set_config('search_path', quote_ident($1), true)", 1, params, NULL,
                 NULL, err);
    if (rc < 0) {
        db_rollback(*db);
        return rc;
    }
    return 0;
}

int ctl_schema_end(struct db *db, int rc, struct err *err)
{
    if (rc >= 0) {
        int crc = db_commit(db, err);
        if (crc < 0) {
            db_rollback(db);
            return crc;
        }
        return rc;
    }
    db_rollback(db);
    return rc;
}

bool ctl_confirm(const char *question)
{
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    char line[16];
    if (!fgets(line, sizeof(line), stdin)) {
        fputc('\n', stderr);
        return false;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return strcmp(line, "y") == 0 || strcmp(line, "yes") == 0;
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
