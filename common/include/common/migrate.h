/*
 * migrate.h - applies a context's SQL migrations to its own schema, once.
 *
 * Layout: <root>/<context>/NNNN_name.sql (four digits, an underscore,
 * [a-z0-9_]+, ".sql"), applied in number order. Other files (a README.md)
 * are ignored; a .sql file with any other name is an error, as are two files
 * with one number. Each schema records what it has applied in
 * <schema>.schema_migrations (version, name, checksum, applied_at).
 *
 * Invariants: (1) each file is applied in its own transaction together with
 * its schema_migrations row, so a failing file leaves nothing of itself;
 * (2) a session advisory lock per schema serialises concurrent runners, so
 * each file is applied exactly once; (3) an applied file must never change:
 * its checksum is compared on every run.
 */
#ifndef COMMON_MIGRATE_H
#define COMMON_MIGRATE_H

#include "common/db.h"
#include "common/err.h"

#include <stdbool.h>

#define MIGRATE_FILE_MAX     (1024 * 1024) /* largest migration file, in bytes */
#define MIGRATE_FILES_MAX    10000         /* NNNN allows no more distinct numbers */
#define MIGRATE_CONTEXTS_MAX 256           /* subdirectories migrate_all looks at */

/* True when name is a valid context or schema name: [a-z][a-z0-9_]{0,30}. */
bool migrate_name_valid(const char *name);

/*
 * Applies the migrations in dir that schema has not applied yet, in order,
 * under the schema's advisory lock, creating the schema and its
 * schema_migrations table when missing. Each file runs with
 * "SET LOCAL search_path TO <schema>", so unqualified names land in it,
 * inside its own transaction: a file may not contain BEGIN/COMMIT, nor a
 * statement PostgreSQL refuses in a transaction (CREATE INDEX CONCURRENTLY,
 * VACUUM). Stops at the first failure: later files are not applied.
 *
 * Refuses a schema the session's login does not own (migrate_owner_check).
 *
 * Returns 0 or a negative code: ERR_INVALID for a bad schema name, an
 * unreadable directory or file, a bad file name or a duplicate number, or a
 * schema owned by another login;
 * ERR_CONFLICT when an applied file changed, vanished or a never-applied file
 * is older than the last applied one; a file's own error (its message names
 * the file, then PostgreSQL's message and line). *applied_out (may be NULL)
 * gets the number of files applied by this call, also on failure. Must not be
 * called inside a transaction. Logs one line per applied file.
 */
int migrate_dir(struct db *db, const char *dir, const char *schema, int *applied_out,
                struct err *err);

/* migrate_dir(db, "<root>/<context>", context, ...): a context's schema has its name. */
int migrate_context(struct db *db, const char *root, const char *context, int *applied_out,
                    struct err *err);

/*
 * migrate_context for every subdirectory of root whose name is valid, in
 * name order, stopping at the first failure. *applied_out (may be NULL) gets
 * the total number of files applied.
 */
int migrate_all(struct db *db, const char *root, int *applied_out, struct err *err);

/*
 * The session a context is migrated in: sets *db (borrowed, valid until the
 * run ends) for context, or returns a negative code.
 */
typedef int (*migrate_session_fn)(void *ctx, const char *context, struct db **db, struct err *err);

/* migrate_all with each context in the session session(ctx, context) gives. */
int migrate_all_sessions(const char *root, migrate_session_fn session, void *ctx, int *applied_out,
                         struct err *err);

/*
 * Acting on a schema only as its owner (ADR 0007): 0 when schema does not
 * exist, or when the session's login owns it and every relation and routine
 * in it; else ERR_INVALID naming the first object, its owner and the variable
 * that gives the owner's URL (<SCHEMA>_DATABASE_URL). Code the owner planted
 * there (a trigger, a view over a function, a policy) would otherwise run
 * with our privileges. Reads the catalogs only.
 */
int migrate_owner_check(struct db *db, const char *schema, struct err *err);

#endif
