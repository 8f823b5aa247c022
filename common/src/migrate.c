/*
 * migrate.c - the migrations runner (see migrate.h for the rules and the
 * three invariants it keeps).
 *
 * One run over a directory:
 *   list and sort the files -> take the schema's advisory lock -> create the
 *   schema and schema_migrations if missing -> load what was applied and check
 *   it against the files -> apply each new file in its own transaction ->
 *   unlock (on every path).
 *
 * Everything that reaches SQL as a value is a parameter; the schema name,
 * an identifier, is checked against [a-z][a-z0-9_]{0,30} and then quoted.
 * Only the files' own text goes through db_exec_script.
 */
#include "common/migrate.h"

#include "migrate_internal.h"
#include "steady.h"

#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIGRATE_SCHEMA_MAX 31 /* [a-z][a-z0-9_]{0,30} */

/* ---- pure helpers (migrate_internal.h) ------------------------------------------- */

bool migrate_name_valid(const char *name)
{
    if (!name || !(*name >= 'a' && *name <= 'z'))
        return false;
    size_t n = 0;
    for (; name[n]; n++) {
        char c = name[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return n <= MIGRATE_SCHEMA_MAX;
}

int migrate_parse_name(const char *fname, int *version, struct err *err)
{
    size_t len = strlen(fname);
    if (len < 4 || strcasecmp(fname + len - 4, ".sql") != 0)
        return 0;
    /* NNNN _ [a-z0-9_]+ .sql : at least 4 + 1 + 1 + 4 bytes */
    bool ok = len >= 10 && len < MIGRATE_NAME_MAX && fname[4] == '_' &&
              strcmp(fname + len - 4, ".sql") == 0;
    for (size_t i = 0; ok && i < 4; i++)
        ok = fname[i] >= '0' && fname[i] <= '9';
    for (size_t i = 5; ok && i < len - 4; i++) {
        char c = fname[i];
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    }
    if (!ok)
        return err_set(err, ERR_INVALID, "bad migration file name '%.*s': want NNNN_name.sql",
                       MIGRATE_NAME_MAX, fname);
    *version =
        (fname[0] - '0') * 1000 + (fname[1] - '0') * 100 + (fname[2] - '0') * 10 + (fname[3] - '0');
    return 1;
}

static int migrate_cmp_version(const void *a, const void *b)
{
    const struct migrate_file *x = a, *y = b;
    if (x->version != y->version)
        return x->version < y->version ? -1 : 1;
    return strcmp(x->name, y->name); /* a stable order, so the duplicate error is stable */
}

int migrate_sort(struct migrate_file *files, size_t n, struct err *err)
{
    if (n > 1)
        qsort(files, n, sizeof(files[0]), migrate_cmp_version);
    for (size_t i = 1; i < n; i++)
        if (files[i].version == files[i - 1].version)
            return err_set(err, ERR_INVALID, "migrations '%s' and '%s' share the number %04d",
                           files[i - 1].name, files[i].name, files[i].version);
    return 0;
}

void migrate_checksum(const char *text, size_t len, char *out)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a 64 offset basis */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)text[i];
        h *= UINT64_C(0x100000001b3); /* FNV-1a 64 prime */
    }
    snprintf(out, MIGRATE_CHECKSUM_LEN + 1, "%016" PRIx64, h);
}

/* ---- files ---------------------------------------------------------------------- */

/* Joins dir and name into out; ERR_INVALID when it does not fit. */
static int migrate_path(char *out, size_t outlen, const char *dir, const char *name,
                        struct err *err)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= outlen)
        return err_set(err, ERR_INVALID, "path too long: '%.64s/%.64s'", dir, name);
    return 0;
}

/* Reads the migration files of dir into a new sorted array (*files, free it). */
static int migrate_list(const char *dir, struct migrate_file **files, size_t *n, struct err *err)
{
    *files = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return err_set(err, ERR_INVALID, "cannot open migrations directory '%s': %s", dir,
                       strerror(errno));
    int rc = 0;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int version = 0;
        rc = migrate_parse_name(e->d_name, &version, err);
        if (rc < 0)
            goto done;
        if (rc == 0)
            continue;
        if (*n == MIGRATE_FILES_MAX) {
            rc = err_set(err, ERR_INVALID, "more than %d migration files in '%s'",
                         MIGRATE_FILES_MAX, dir);
            goto done;
        }
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct migrate_file *grown = realloc(*files, ncap * sizeof(**files));
            if (!grown) {
                rc = err_set(err, ERR_NOMEM, "out of memory listing '%s'", dir);
                goto done;
            }
            *files = grown;
            cap = ncap;
        }
        struct migrate_file *f = &(*files)[(*n)++];
        memset(f, 0, sizeof(*f));
        f->version = version;
        memcpy(f->name, e->d_name, strlen(e->d_name) + 1); /* fits: checked by the parser */
    }
    rc = migrate_sort(*files, *n, err);
done:
    closedir(d);
    if (rc < 0) {
        free(*files);
        *files = NULL;
        *n = 0;
    }
    return rc;
}

/* Reads a whole migration file (at most MIGRATE_FILE_MAX bytes, no NUL inside) into a new string.
 */
static int migrate_read(const char *path, char **text, struct err *err)
{
    *text = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, ERR_INVALID, "cannot open '%s': %s", path, strerror(errno));
    int rc = 0;
    char *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = err_set(err, ERR_INVALID, "'%s' is not a regular file", path);
        goto done;
    }
    if (st.st_size > MIGRATE_FILE_MAX) {
        rc = err_set(err, ERR_INVALID, "'%s' is larger than %d bytes", path, MIGRATE_FILE_MAX);
        goto done;
    }
    size_t size = (size_t)st.st_size, got = 0;
    buf = malloc(size + 1);
    if (!buf) {
        rc = err_set(err, ERR_NOMEM, "out of memory reading '%s'", path);
        goto done;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = err_set(err, ERR_INTERNAL, "cannot read '%s': %s", path,
                         r < 0 ? strerror(errno) : "file shrank while reading");
            goto done;
        }
        got += (size_t)r;
    }
    buf[size] = '\0';
    if (strlen(buf) != size) {
        rc = err_set(err, ERR_INVALID, "'%s' contains a NUL byte", path);
        goto done;
    }
    *text = buf;
    buf = NULL;
done:
    free(buf);
    close(fd);
    return rc;
}

/* ---- the schema's bookkeeping ------------------------------------------------------- */

/* Creates the schema (only when missing, so a role without CREATE on the database works) and its
 * table. */
static int migrate_prepare(struct db *db, const char *schema, struct err *err)
{
    const char *params[] = {schema};
    int rc =
        db_exec(db, "SELECT 1 FROM pg_namespace WHERE nspname = $1", 1, params, NULL, NULL, err);
    if (rc < 0)
        return rc;
    char sql[512];
    if (rc == 0) {
        snprintf(sql, sizeof(sql), "CREATE SCHEMA \"%s\"", schema);
        rc = db_exec(db, sql, 0, NULL, NULL, NULL, err);
        if (rc < 0)
            return rc;
    }
    snprintf(sql, sizeof(sql),
             "CREATE TABLE IF NOT EXISTS \"%s\".schema_migrations ("
             " version int PRIMARY KEY,"
             " name text NOT NULL,"
             " checksum text NOT NULL,"
             " applied_at timestamptz NOT NULL DEFAULT now())",
             schema);
    rc = db_exec(db, sql, 0, NULL, NULL, NULL, err);
    return rc < 0 ? rc : 0;
}

struct migrate_rows {
    struct migrate_file *rows;
    size_t n, cap;
};

static int migrate_applied_row(void *ctx, const struct db_row *row, struct err *err)
{
    struct migrate_rows *a = ctx;
    if (a->n == a->cap) {
        if (a->cap == MIGRATE_FILES_MAX)
            return err_set(err, ERR_INTERNAL, "more than %d rows in schema_migrations",
                           MIGRATE_FILES_MAX);
        size_t ncap = a->cap ? a->cap * 2 : 16;
        if (ncap > MIGRATE_FILES_MAX)
            ncap = MIGRATE_FILES_MAX;
        struct migrate_file *grown = realloc(a->rows, ncap * sizeof(*grown));
        if (!grown)
            return err_set(err, ERR_NOMEM, "out of memory reading schema_migrations");
        a->rows = grown;
        a->cap = ncap;
    }
    struct migrate_file *f = &a->rows[a->n];
    memset(f, 0, sizeof(*f));
    int64_t version;
    if (db_row_int64(row, 0, &version) < 0 || version < 0 || version > 9999 ||
        db_row_copy_text(row, 1, f->name, sizeof(f->name)) < 0 ||
        db_row_copy_text(row, 2, f->checksum, sizeof(f->checksum)) < 0)
        return err_set(err, ERR_INTERNAL, "malformed row in schema_migrations");
    f->version = (int)version;
    a->n++;
    return 0;
}

/* What the schema has applied, in version order (a->rows, free it). */
static int migrate_load(struct db *db, const char *schema, struct migrate_rows *a, struct err *err)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT version, name, checksum FROM \"%s\".schema_migrations ORDER BY version",
             schema);
    int rc = db_exec(db, sql, 0, NULL, migrate_applied_row, a, err);
    return rc < 0 ? rc : 0;
}

/*
 * Checks what was applied against the files (invariant 3) and finds the first
 * file to apply: *first is the index in files of the first one not applied.
 */
static int migrate_verify(const char *dir, const struct migrate_file *files, size_t nfiles,
                          const struct migrate_rows *applied, size_t *first, struct err *err)
{
    size_t i = 0;
    for (size_t k = 0; k < applied->n; k++, i++) {
        const struct migrate_file *a = &applied->rows[k];
        if (i == nfiles || files[i].version > a->version)
            return err_set(err, ERR_CONFLICT, "migration '%s' was applied but is missing from '%s'",
                           a->name, dir);
        if (files[i].version < a->version)
            return err_set(err, ERR_CONFLICT,
                           "migration '%s' was never applied but is older than the applied '%s'",
                           files[i].name, a->name);
        if (strcmp(files[i].name, a->name) != 0)
            return err_set(err, ERR_CONFLICT, "migration %04d was applied as '%s' but is now '%s'",
                           a->version, a->name, files[i].name);

        char path[PATH_MAX], sum[MIGRATE_CHECKSUM_LEN + 1], *text = NULL;
        int rc = migrate_path(path, sizeof(path), dir, files[i].name, err);
        if (rc == 0)
            rc = migrate_read(path, &text, err);
        if (rc < 0 || !text)
            return rc < 0 ? rc : ERR_INTERNAL;
        migrate_checksum(text, strlen(text), sum);
        free(text);
        if (strcmp(sum, a->checksum) != 0)
            return err_set(err, ERR_CONFLICT, "migration '%s' changed after it was applied", path);
    }
    *first = i;
    return 0;
}

/* Applies one file and records it, in one transaction (invariant 1). */
static int migrate_apply(struct db *db, const char *dir, const char *schema,
                         const struct migrate_file *f, struct err *err)
{
    char path[PATH_MAX], sum[MIGRATE_CHECKSUM_LEN + 1], version[8], sql[256];
    char *text = NULL;
    int rc = migrate_path(path, sizeof(path), dir, f->name, err);
    if (rc == 0)
        rc = migrate_read(path, &text, err);
    if (rc < 0 || !text)
        return rc < 0 ? rc : ERR_INTERNAL;
    migrate_checksum(text, strlen(text), sum); /* of the very text applied */
    snprintf(version, sizeof(version), "%d", f->version);

    rc = db_begin(db, err);
    if (rc < 0)
        goto done;
    snprintf(sql, sizeof(sql), "SET LOCAL search_path TO \"%s\"", schema);
    rc = db_exec(db, sql, 0, NULL, NULL, NULL, err);
    if (rc >= 0)
        rc = db_exec_script(db, text, err);
    if (rc >= 0) {
        const char *params[] = {version, f->name, sum};
        snprintf(
            sql, sizeof(sql),
            "INSERT INTO \"%s\".schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            schema);
        rc = db_exec(db, sql, 3, params, NULL, NULL, err);
    }
    if (rc >= 0)
        rc = db_commit(db, err);
done:
    db_rollback(db); /* a no-op after a commit */
    free(text);
    if (rc < 0 && err)
        err_wrap(err, "migration '%s' failed", path);
    return rc < 0 ? rc : 0;
}

/* ---- owner only --------------------------------------------------------------------------- */

/*
 * The first object of schema $1 (the schema itself, a relation, a routine)
 * that the session's login does not own, its owner and the login. Catalog
 * reads and built-in functions only, all named in pg_catalog.
 */
static const char migrate_owner_sql[] =
    "SELECT o.what, pg_catalog.pg_get_userbyid(o.owner), session_user FROM ("
    "  SELECT 'schema ' || pg_catalog.quote_ident(n.nspname) AS what, n.nspowner AS owner"
    "    FROM pg_catalog.pg_namespace n WHERE n.nspname = $1"
    "  UNION ALL"
    "  SELECT 'relation ' || c.oid::pg_catalog.regclass::text, c.relowner"
    "    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    "   WHERE n.nspname = $1"
    "  UNION ALL"
    "  SELECT 'routine ' || p.oid::pg_catalog.regprocedure::text, p.proowner"
    "    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
    "   WHERE n.nspname = $1"
    ") o WHERE o.owner <> (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = session_user)"
    " LIMIT 1";

struct migrate_owner {
    char what[160], owner[64], login[64];
};

static int migrate_owner_row(void *ctx, const struct db_row *row, struct err *err)
{
    struct migrate_owner *o = ctx;
    if (db_row_copy_text(row, 0, o->what, sizeof(o->what)) < 0 ||
        db_row_copy_text(row, 1, o->owner, sizeof(o->owner)) < 0 ||
        db_row_copy_text(row, 2, o->login, sizeof(o->login)) < 0)
        return err_set(err, ERR_INTERNAL, "unreadable owner row");
    return 0;
}

int migrate_owner_check(struct db *db, const char *schema, struct err *err)
{
    if (!migrate_name_valid(schema))
        return err_set(err, ERR_INVALID, "invalid schema name '%.64s': want [a-z][a-z0-9_]{0,30}",
                       schema ? schema : "");
    const char *params[] = {schema};
    struct migrate_owner o;
    memset(&o, 0, sizeof(o));
    int rc = db_exec(db, migrate_owner_sql, 1, params, migrate_owner_row, &o, err);
    if (rc <= 0)
        return rc;
    char var[MIGRATE_SCHEMA_MAX + 1];
    size_t n = 0;
    for (; schema[n]; n++)
        var[n] = (char)(schema[n] >= 'a' && schema[n] <= 'z' ? schema[n] - 'a' + 'A' : schema[n]);
    var[n] = '\0';
    return err_set(err, ERR_INVALID,
                   "schema '%s': %s belongs to '%s', not to the login '%s': a schema is acted on "
                   "only as its owner (give %s_DATABASE_URL, the owner's URL)",
                   schema, o.what, o.owner, o.login, var);
}

/* ---- public --------------------------------------------------------------------------- */

int migrate_dir(struct db *db, const char *dir, const char *schema, int *applied_out,
                struct err *err)
{
    struct migrate_file *files = NULL;
    size_t nfiles = 0;
    struct migrate_rows applied = {0};
    size_t first = 0; /* index of the first file to apply */
    bool locked = false;
    int count = 0, rc;
    char key[64];
    const char *lock_params[] = {key};

    if (!migrate_name_valid(schema)) {
        rc = err_set(err, ERR_INVALID, "invalid schema name '%.64s': want [a-z][a-z0-9_]{0,30}",
                     schema ? schema : "");
        goto done;
    }
    if (db_in_transaction(db)) {
        rc = err_set(err, ERR_INTERNAL, "cannot migrate '%s' inside a transaction", schema);
        goto done;
    }
    rc = migrate_list(dir, &files, &nfiles, err);
    if (rc < 0)
        goto done;

    /*
     * A session lock, not a transaction one: it must span several
     * transactions. If the connection dies the server releases it, and every
     * failure below stops the run, so nothing runs on a fresh, unlocked one.
     */
    snprintf(key, sizeof(key), "migrate:%s", schema);
    rc = db_exec(db, "SELECT pg_advisory_lock(hashtext($1))", 1, lock_params, NULL, NULL, err);
    if (rc < 0) {
        if (err)
            err_wrap(err, "cannot take the migration lock of schema '%s'", schema);
        goto done;
    }
    locked = true;

    rc = migrate_owner_check(db, schema, err);
    if (rc < 0)
        goto done;
    rc = migrate_prepare(db, schema, err);
    if (rc == 0)
        rc = migrate_load(db, schema, &applied, err);
    if (rc < 0) {
        if (err)
            err_wrap(err, "cannot read the migrations applied to schema '%s'", schema);
        goto done;
    }
    rc = migrate_verify(dir, files, nfiles, &applied, &first, err);
    for (size_t i = first; rc == 0 && i < nfiles; i++) {
        int64_t start = steady_now_ms();
        rc = migrate_apply(db, dir, schema, &files[i], err);
        if (rc == 0) {
            count++;
            log_info("migration '%s' applied to schema '%s' in %lld ms", files[i].name, schema,
                     (long long)(steady_now_ms() - start));
        }
    }

done:
    if (locked) {
        struct err unlock_err; /* the run's own error, if any, is the one to report */
        (void)db_exec(db, "SELECT pg_advisory_unlock(hashtext($1))", 1, lock_params, NULL, NULL,
                      &unlock_err);
    }
    free(applied.rows);
    free(files);
    if (applied_out)
        *applied_out = count;
    return rc;
}

int migrate_context(struct db *db, const char *root, const char *context, int *applied_out,
                    struct err *err)
{
    if (applied_out)
        *applied_out = 0;
    if (!migrate_name_valid(context))
        return err_set(err, ERR_INVALID, "invalid context name '%.64s': want [a-z][a-z0-9_]{0,30}",
                       context ? context : "");
    char dir[PATH_MAX];
    int rc = migrate_path(dir, sizeof(dir), root, context, err);
    if (rc < 0)
        return rc;
    return migrate_dir(db, dir, context, applied_out, err);
}

static int migrate_cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int migrate_one_session(void *ctx, const char *context, struct db **db, struct err *err)
{
    (void)context;
    (void)err;
    *db = ctx;
    return 0;
}

int migrate_all(struct db *db, const char *root, int *applied_out, struct err *err)
{
    return migrate_all_sessions(root, migrate_one_session, db, applied_out, err);
}

int migrate_all_sessions(const char *root, migrate_session_fn session, void *ctx, int *applied_out,
                         struct err *err)
{
    if (applied_out)
        *applied_out = 0;
    DIR *d = opendir(root);
    if (!d)
        return err_set(err, ERR_INVALID, "cannot open migrations directory '%s': %s", root,
                       strerror(errno));
    char names[MIGRATE_CONTEXTS_MAX][MIGRATE_SCHEMA_MAX + 1]; /* 8 KiB */
    size_t n = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct stat st;
        if (!migrate_name_valid(e->d_name) ||
            migrate_path(path, sizeof(path), root, e->d_name, NULL) < 0 || stat(path, &st) != 0 ||
            !S_ISDIR(st.st_mode))
            continue;
        if (n == MIGRATE_CONTEXTS_MAX) {
            rc = err_set(err, ERR_INVALID, "more than %d contexts in '%s'", MIGRATE_CONTEXTS_MAX,
                         root);
            break;
        }
        memcpy(names[n++], e->d_name, strlen(e->d_name) + 1); /* fits: a valid name */
    }
    closedir(d);
    if (rc < 0)
        return rc;
    qsort(names, n, sizeof(names[0]), migrate_cmp_name);

    int total = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int applied = 0;
        struct db *db = NULL;
        rc = session(ctx, names[i], &db, err);
        if (rc == 0)
            rc = migrate_context(db, root, names[i], &applied, err);
        total += applied;
    }
    if (applied_out)
        *applied_out = total;
    return rc;
}
