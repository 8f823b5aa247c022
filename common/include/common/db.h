/*
 * db.h - one PostgreSQL connection: parameterised statements, row callbacks,
 * transactions, LISTEN/NOTIFY and reconnection.
 *
 * Every statement with a value goes through db_exec, which always uses the
 * extended protocol with text parameters, so a value is never spliced into
 * SQL and a string holding two statements is refused. Results are read
 * through a row callback and never escape this module: no libpq type appears
 * here, and only db.c (and a context's store.c) includes <libpq-fe.h>.
 *
 * Invariant: a statement is sent at most once. When the connection is lost
 * during a call, the call returns ERR_TRANSIENT and the caller decides
 * whether to retry; the next call reconnects by itself (with a backoff, and
 * never inside a transaction once its BEGIN was sent: db_begin sends
 * nothing, the BEGIN goes with the first statement). Before sending, a call
 * reads what arrived on the idle connection, so one the server closed
 * meanwhile (a restart) is replaced without any error. A struct db is used
 * by one thread at a time (it wraps one libpq connection).
 */
#ifndef COMMON_DB_H
#define COMMON_DB_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct db_row; /* one row of a result, valid only during a db_row_fn call */

#define DB_CONNINFO_MAX      4096 /* longest accepted conninfo string or URL */
#define DB_CONNECT_TIMEOUT_S 5    /* connect_timeout unless the conninfo sets one */
#define DB_RECONNECT_MIN_MS  100  /* first pause after a failed reconnect */
#define DB_RECONNECT_MAX_MS  5000 /* the pause doubles up to this */
#define DB_LISTEN_MAX        16   /* channels one connection may LISTEN on */
#define DB_CHANNEL_MAX       63   /* longest channel name (PostgreSQL's NAMEDATALEN - 1) */
#define DB_PARAMS_MAX        1024 /* most parameters one statement may take */
#define DB_LOCAL_LISTENERS_MAX                                                                     \
    64                     /* channels LISTENed in one process that db_notify wakes directly */
#define DB_PREPARED_MAX 64 /* statement texts one connection keeps prepared (db_exec) */

/* ---- lifecycle ---------------------------------------------------------- */

/*
 * New handle for conninfo (a postgresql:// URL or "key=value ..." string,
 * copied). Does not connect. NULL when conninfo is NULL, longer than
 * DB_CONNINFO_MAX or memory runs out.
 */
struct db *db_new(const char *conninfo);

/*
 * Closes the connection (the server rolls back an open transaction) and
 * frees db. NULL is a no-op.
 */
void db_free(struct db *db);

/*
 * Sets the application_name shown in pg_stat_activity (copied, truncated to
 * 63 bytes). Takes effect at the next connect or reconnect.
 */
void db_set_application_name(struct db *db, const char *name);

/*
 * Makes schema (copied; [a-z_][a-z0-9_]*, at most 63 bytes) the connection's
 * search_path, set right after every connect and reconnect, so a context's
 * statements name its tables unqualified. NULL or "" leaves the server's
 * default. An invalid name makes every connect fail with ERR_INVALID.
 */
void db_set_schema(struct db *db, const char *schema);

/*
 * With async = true, commits on this connection return before their WAL
 * reaches the disk (synchronous_commit = off, restored after every
 * reconnect): a database crash may forget the last few hundred milliseconds
 * of them, the process dying may not. Only for writes whose loss costs a
 * repeat, never a loss: leases, "published" marks, start counters. Business
 * data and an inbox "processed" mark must commit synchronously.
 */
void db_set_async_commit(struct db *db, bool async);

/*
 * Where db_notify's NOTIFY goes. false (the default, SPEC §4): inside the
 * transaction, delivered at commit. PostgreSQL holds a database-wide lock
 * from a notifying transaction's pre-commit to its end, through the WAL
 * flush, so notifying commits never share a flush: they run one at a time.
 * true: sent right after COMMIT succeeds, in a transaction of its own that
 * writes no WAL; notifying commits then group like any other. The listener
 * sees the same thing (a wake-up once the row is visible); a crash between
 * the two loses the wake-up, never the row. ADR 0006; OUTBOX_NOTIFY.
 */
void db_set_notify_after_commit(struct db *db, bool after);
bool db_notifies_after_commit(const struct db *db);

/*
 * Connects now, waiting at most DB_CONNECT_TIMEOUT_S (unless the conninfo
 * sets connect_timeout). Closes any previous connection first (and with it
 * an open transaction). Returns 0; ERR_TRANSIENT with libpq's message when
 * the server cannot be reached or refuses the login; ERR_INVALID for a
 * malformed conninfo (reported masked: libpq's message could quote the
 * password) or schema name. Optional: statements connect on demand.
 */
int db_connect(struct db *db, struct err *err);

/* True when the connection is up as far as libpq knows (no round trip). */
bool db_connected(const struct db *db);

/* The conninfo with its password masked, for logs. Borrowed, valid until db_free. */
const char *db_conninfo_masked(const struct db *db);

/*
 * Copies conninfo (a DATABASE_URL in either libpq form) into out (size
 * outlen) with every secret replaced by "***": the masker for anything that
 * logs or prints one. A "key=value" string is read by libpq itself and
 * written back from what libpq read, every option libpq shows as secret
 * (password, sslpassword) masked, so quoting, escapes and spaces around '='
 * hide nothing: "host=h password='a b'" -> "password=*** host=h". A URI keeps
 * its shape through log_mask_url, whose user info rule (up to the last '@')
 * hides more than libpq's reading would ("u:p@ss@h" is password "p" on host
 * "ss@h" to libpq). Text libpq refuses is masked by log_mask_url too. Never
 * fails; truncates, and DB_MASKED_MAX(strlen(conninfo)) bytes always suffice.
 */
void db_mask_conninfo(const char *conninfo, char *out, size_t outlen);
#define DB_MASKED_MAX(len) (3 * (len) + 64)

/* ---- statements --------------------------------------------------------- */

/*
 * Called once per result row, in order. Return 0 to go on, or a negative
 * err_code after filling err to stop: db_exec then returns that code.
 */
typedef int (*db_row_fn)(void *ctx, const struct db_row *row, struct err *err);

/*
 * Runs one statement with nparams text parameters ($1..$n; a NULL element
 * is SQL NULL). Always uses PQexecParams, even without parameters, so a
 * string holding several statements is refused. For each result row calls
 * fn(ctx, row, err) when fn is not NULL.
 *
 * Returns the number of rows returned (SELECT, ... RETURNING) or affected
 * (INSERT, UPDATE, DELETE), or a negative code: see db_error_code for
 * server errors; ERR_TRANSIENT when the connection is down or was lost
 * during the call (the statement is NOT re-sent: it may or may not have run,
 * and re-running a write or a COMMIT blindly could apply it twice, so the
 * caller decides); ERR_INTERNAL for a misuse. err->sqlstate holds the
 * SQLSTATE of a server error ("" otherwise) and err->msg its primary message.
 */
int db_exec(struct db *db, const char *sql, int nparams, const char *const *params, db_row_fn fn,
            void *ctx, struct err *err);

/*
 * db_exec for a write whose row count does not matter (an INSERT, or an
 * UPDATE the caller has locked the row for): returns 0 or a negative code,
 * the store convention for writes (docs/architecture.md).
 */
int db_write(struct db *db, const char *sql, int nparams, const char *const *params,
             struct err *err);

/*
 * Runs a statement expected to return at most one row and copies the text of
 * its first column into out (outlen bytes). Returns 1 when a row came back,
 * 0 when none did (out is then ""), or a negative code; more than one row,
 * or a value longer than outlen - 1, is ERR_INTERNAL. SQL NULL reads as "":
 * use db_exec with a callback when NULL must be told apart from ''.
 */
int db_exec_value(struct db *db, const char *sql, int nparams, const char *const *params, char *out,
                  size_t outlen, struct err *err);

/*
 * Runs a multi-statement SQL text that takes NO values, with the simple query
 * protocol. It exists only for the migrations runner (a migration file is
 * several statements); everything else uses db_exec. Returns 0 or a negative
 * code; the message of a server error ends with " (line N)" when PostgreSQL
 * reports a position. A script that ends the caller's transaction (BEGIN,
 * COMMIT, ROLLBACK inside the text) is refused with ERR_INVALID.
 */
int db_exec_script(struct db *db, const char *sql, struct err *err);

/* ---- reading a row (inside a db_row_fn) ----------------------------------- */

/* Number of columns of the row. */
int db_row_ncols(const struct db_row *row);

/* True when column col is SQL NULL or does not exist. */
bool db_row_is_null(const struct db_row *row, int col);

/*
 * The text of column col; NULL for SQL NULL or no such column. Borrowed,
 * valid during the callback only.
 */
const char *db_row_text(const struct db_row *row, int col);

/*
 * Copies the text of column col into out (outlen bytes; SQL NULL gives "").
 * Returns 0, or ERR_INTERNAL when it does not fit or the column does not exist.
 */
int db_row_copy_text(const struct db_row *row, int col, char *out, size_t outlen);

/* Parses column col as a base-10 int64. Returns 0, or ERR_INTERNAL for NULL, junk or overflow. */
int db_row_int64(const struct db_row *row, int col, int64_t *out);

/* ---- transactions --------------------------------------------------------- */

enum db_isolation {
    DB_READ_COMMITTED, /* PostgreSQL's default */
    DB_REPEATABLE_READ,
    DB_SERIALIZABLE, /* conflicts fail with 40001, i.e. ERR_TRANSIENT: retry the transaction */
};

/*
 * Starts a transaction. Sends nothing: its BEGIN goes to the server with its
 * first statement, in the same round trip (whichever call sends that one:
 * db_exec, db_write, db_exec_value, db_notify, a SAVEPOINT...), so a failure
 * to reach the server shows there, as ERR_TRANSIENT. Returns 0, or
 * ERR_INTERNAL when one is already open. Once the BEGIN was sent, a lost
 * connection is NOT replaced: every call fails with ERR_TRANSIENT until
 * db_rollback, because statements on a fresh connection would silently run
 * outside the transaction the caller thinks it is in. Before it, a dead
 * connection is replaced as outside a transaction (nothing of it was lost).
 */
int db_begin(struct db *db, struct err *err);

/* Same as db_begin with an explicit isolation level. */
int db_begin_isolation(struct db *db, enum db_isolation level, struct err *err);

/*
 * Commits. The transaction is closed whatever the outcome. Returns 0, a
 * mapped server error (a serialization failure at commit is ERR_TRANSIENT),
 * ERR_TRANSIENT when the connection was lost (the outcome is then unknown),
 * or ERR_INTERNAL when the transaction had already failed and PostgreSQL
 * rolled it back instead, or none was open. A transaction that sent no
 * statement commits without a round trip (db_notify's wake-ups still go).
 */
int db_commit(struct db *db, struct err *err);

/*
 * Rolls back the open transaction, if any. Never fails: on a dead connection
 * it only forgets the transaction (the server has rolled it back already),
 * and if ROLLBACK itself fails the connection is dropped so the next call
 * starts clean. Sends nothing when the transaction sent no statement. Safe
 * to call on every cleanup path.
 */
void db_rollback(struct db *db);

/* True between db_begin and db_commit/db_rollback. */
bool db_in_transaction(const struct db *db);

/*
 * Savepoints for several units of work in one transaction (the consumer's
 * batch): db_savepoint marks the point, db_rollback_to_savepoint undoes what
 * came after it — the statements, and the db_notify and db_after_commit
 * registrations made since, so nothing is woken or handed on for work that
 * was undone. One level: a new db_savepoint replaces the mark. Return 0 or a
 * statement error (ERR_INTERNAL outside a transaction or without a mark).
 */
int db_savepoint(struct db *db, struct err *err);
int db_rollback_to_savepoint(struct db *db, struct err *err);

/*
 * Runs fn(arg, true) once the open transaction commits, before the
 * in-process wake-ups of db_notify; fn(arg, false) when it rolls back, fails
 * to commit or is undone by db_rollback_to_savepoint — exactly one of the
 * two. fn must not use db. Returns 0, or ERR_INTERNAL (fn not called) outside
 * a transaction or past DB_AFTER_COMMIT_MAX registrations in it.
 */
#define DB_AFTER_COMMIT_MAX 32
typedef void db_after_commit_fn(void *arg, bool committed);
int db_after_commit(struct db *db, db_after_commit_fn *fn, void *arg, struct err *err);

/*
 * How many times this handle sent something and waited for the answer:
 * statements, PREPAREs, COMMIT, ROLLBACK, scripts and the session settings
 * after a connect (not the connection handshake). A transaction of n
 * prepared statements costs n + 1 (its BEGIN goes with the first). For
 * tests and profiling.
 */
uint64_t db_round_trips(const struct db *db);

/* ---- LISTEN/NOTIFY -------------------------------------------------------- */

/*
 * LISTENs on channel ([a-z_][a-z0-9_.]*, at most DB_CHANNEL_MAX bytes) and
 * remembers it, so it is LISTENed again after every reconnect. Not allowed
 * inside a transaction (LISTEN would only take effect at commit). The
 * channel is also registered as listened in this process (up to
 * DB_LOCAL_LISTENERS_MAX), so db_notify from any connection of this process
 * wakes this one directly (see db_notify). Returns 0, ERR_INVALID for a bad
 * name, ERR_INTERNAL past DB_LISTEN_MAX channels or inside a transaction, or
 * a statement error.
 */
int db_listen(struct db *db, const char *channel, struct err *err);

/*
 * Waits up to timeout_ms (0 = just check) for notifications on the LISTENed
 * channels and consumes all that arrived. Returns 1 when at least one did,
 * 0 on timeout (or early, when a signal interrupts the wait, so a stop flag
 * is seen promptly), or ERR_TRANSIENT when the connection is lost.
 *
 * After a reconnect it returns 1 once with nothing received, because any
 * sent while disconnected are gone: the caller should look for work anyway.
 * While the server is unreachable it sleeps until the next reconnect attempt
 * (never past timeout_ms) before returning ERR_TRANSIENT, so a loop around
 * it does not spin.
 */
int db_wait_notify(struct db *db, int timeout_ms, struct err *err);

/*
 * Whether the last db_wait_notify that returned 1 was woken by PostgreSQL (a
 * NOTIFY from another process, or a reconnect) rather than only in-process
 * (db_notify from a connection of this process): a relay whose own process
 * hands it its rows needs to read the table only in the first case.
 */
bool db_woken_remotely(const struct db *db);

/*
 * Wakes the listeners of channel (at most DB_CHANNEL_MAX bytes) once the open
 * transaction commits; none after a rollback or a failed commit. When a
 * connection of this process LISTENs on channel, that one is woken directly
 * after the commit (an eventfd its db_wait_notify polls) and no NOTIFY is
 * sent at all: it takes none of PostgreSQL's database-wide notify lock, so
 * the commits of event-writing transactions group again (ADR 0008). Else a
 * NOTIFY, in the transaction or right after its commit
 * (db_set_notify_after_commit). Returns 0, ERR_INTERNAL outside a transaction
 * or past DB_LISTEN_MAX channels, ERR_INVALID for a long name, or a statement
 * error.
 */
int db_notify(struct db *db, const char *channel, struct err *err);

/* ---- errors ----------------------------------------------------------------- */

/*
 * The err_code for a SQLSTATE (the single mapping, table-driven in db.c):
 *   ERR_TRANSIENT      08xxx connection exception, 53xxx insufficient resources,
 *                      57P01-57P03 shutdown / cannot connect now, 57014 query
 *                      canceled (statement_timeout), 40001 serialization failure,
 *                      40P01 deadlock, 55P03 lock not available,
 *                      25P03 idle-in-transaction session timeout
 *   ERR_CONFLICT       23505 unique violation, 23P01 exclusion violation
 *   ERR_UNPROCESSABLE  other 23xxx integrity constraint violations (check,
 *                      not null, foreign key)
 *   ERR_INVALID        22xxx data exception (bad number, value too long, ...)
 *   ERR_INTERNAL       anything else, including NULL or a malformed state
 */
int db_error_code(const char *sqlstate);

/*
 * True when err describes the database being out of reach (no connection,
 * a connection lost mid-call, SQLSTATE classes 08 and 53, 57P01-57P03), as
 * opposed to a statement the server refused. Only an outage may change a
 * link's state or /health; a refusal is about what was sent (a message's
 * content is poison, SPEC §4) or about this one statement (a deadlock).
 */
bool db_error_is_outage(const struct err *err);

#endif
