/*
 * ctl.h - what the eventctl commands share: the six contexts (their service
 * descriptors), argument parsing, the database connection and output helpers.
 *
 * eventctl is the operations tool of SPEC §7, not a context: it is the one
 * program allowed to read every context's schema. It reads the outbox and
 * inbox tables (an operations contract, SPEC §4) and changes a row's status
 * only through common/inbox.h and common/outbox.h.
 *
 * It touches a context's schema only in a session whose login owns that
 * schema and everything in it (struct ctl_dbs, ADR 0007): with isolation the
 * context's own role (<CONTEXT>_DATABASE_URL), without it the admin, who then
 * owns everything. A trigger, view or policy the context planted therefore
 * runs with the context's privileges, never with the admin's.
 *
 * Exit status of every command: 0 done, 1 failed (database unreachable,
 * nothing found), 2 bad usage (one line on stderr).
 */
#ifndef EVENTCTL_CTL_H
#define EVENTCTL_CTL_H

#include "common/err.h"
#include "common/envelope.h"
#include "common/service.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct db;
struct db_row;
struct ctl_dbs;

enum ctl_exit {
    CTL_EXIT_OK = 0,
    CTL_EXIT_FAILURE = 1,
    CTL_EXIT_USAGE = 2,
};

#ifndef CTL_CONTEXTS_MAX
#error "CTL_CONTEXTS_MAX comes from CMake: the number of CONTEXTS (entries of ctl_services)"
#endif
#define CTL_SQL_MAX (32 * 1024)

/* One command: "eventctl <name> ...". run gets argv[0] = the command name. */
struct ctl_command {
    const char *name;
    const char *summary; /* one line for "eventctl --help" */
    int (*run)(int argc, char **argv);
};

/* ---- the commands, one file each (cmd_<name>.c) ------------------------------ */

int cmd_messages_run(int argc, char **argv);
int cmd_trace_run(int argc, char **argv);
int cmd_requeue_run(int argc, char **argv);
int cmd_purge_run(int argc, char **argv);
int cmd_catalog_run(int argc, char **argv);
int cmd_config_run(int argc, char **argv);
int cmd_dashboard_run(int argc, char **argv);
int cmd_failures_run(int argc, char **argv);
int cmd_edit_run(int argc, char **argv);
int cmd_export_run(int argc, char **argv);

/*
 * What a command shares with the dashboard, which serves the same reads and
 * the same requeue over HTTP (cmd_dashboard.c). Each lives in its command's
 * file, so the CLI and the dashboard cannot drift apart.
 */

/* cmd_messages.c: one outbox or inbox row, every pointer borrowed (valid during the callback). */
struct cmd_messages_row {
    const char *time; /* created_at, UTC, "2026-01-01T10:00:00.000Z" */
    const char *context;
    const char *table;    /* "outbox" or "inbox" */
    const char *consumer; /* NULL for an outbox row */
    const char *status;
    const char *type;
    const char *id;
    const char *correlation_id;
    long long attempts;
    const char *last_error; /* NULL when there is none */
};

/* Called once per row, newest first; return 0 to go on, or a negative code after filling err. */
typedef int (*cmd_messages_fn)(void *ctx, const struct cmd_messages_row *m, struct err *err);

/* The statuses of each table, NULL-terminated. */
extern const char *const cmd_messages_outbox_statuses[];
extern const char *const cmd_messages_inbox_statuses[];

/* True for a status of either table; for a type of 1 to 128 characters. */
bool cmd_messages_status_valid(const char *status);
bool cmd_messages_type_valid(const char *type);

/*
 * Reads the outbox and inbox rows of schemas[0..n) with status and type (NULL:
 * any), newest first, at most limit of them, calling fn(ctx, row, err) for
 * each. Returns 0, fn's code, or a database error.
 */
int cmd_messages_read(struct ctl_dbs *dbs, const struct service_def *const *schemas, size_t n,
                      const char *status, const char *type, long limit, cmd_messages_fn fn,
                      void *ctx, struct err *err);

/* m as the JSON object "eventctl messages --json" prints (new reference; NULL: out of memory). */
json_t *cmd_messages_json(const struct cmd_messages_row *m);

/*
 * cmd_trace.c: reads the events and deliveries of correlation_id from
 * schemas[0..n) and writes them to out: the tree "eventctl trace" prints, or
 * with mermaid the sequence diagram. Returns 1 when written, 0 when no event
 * has that correlation id (nothing written), or a negative code.
 */
int cmd_trace_write(struct ctl_dbs *dbs, const struct service_def *const *schemas, size_t n,
                    const char *correlation_id, bool mermaid, FILE *out, struct err *err);

/*
 * The same trace as JSON (*out, a new reference): the causal tree, the counts,
 * and the diagram's participants and arrows in the order Mermaid draws them.
 * Returns 1, 0 when no event has that correlation id (*out NULL), or a
 * negative code. The shape is documented in README.md.
 */
int cmd_trace_json(struct ctl_dbs *dbs, const struct service_def *const *schemas, size_t n,
                   const char *correlation_id, json_t **out, struct err *err);

/*
 * cmd_requeue.c: requeues message id (a UUID) in context's schema, in one
 * transaction on the context's session of dbs: a dead inbox row of any
 * consumer goes back to failed, a failed outbox row to pending. Sets *inbox
 * and *outbox to the rows requeued (both 0: nothing to requeue there).
 * Returns 0 or a database error.
 */
int cmd_requeue_in(struct ctl_dbs *dbs, const char *context, const char *id, int *inbox,
                   int *outbox, struct err *err);

/*
 * cmd_failures.c: every failure of the migrated schemas, the one list the
 * failures, requeue, purge, edit and export commands and the dashboard's
 * Failures view act on. A failure is a dead inbox message (it failed every
 * retry; it can be requeued or edited) or a dead letter (poison: it never
 * entered the inbox; it can be exported or purged, never requeued).
 */
#define CMD_FAILURES_GROUP_LEN 11 /* 10 hex digits and the terminator */
#define CMD_FAILURES_ID_MAX    96

struct cmd_failure {
    char context[64];
    bool poison;                      /* a dead letter (dead_letter table) */
    char id[CMD_FAILURES_ID_MAX];     /* a dead message: its UUID; a dead letter: "<context>:<n>" */
    int64_t letter;                   /* a dead letter's row id */
    char consumer[64];                /* a dead message's consumer ("" for a dead letter) */
    char type[ENVELOPE_TYPE_MAX + 1]; /* "" when the letter had no readable type */
    char correlation_id[ENVELOPE_REF_MAX];
    char error[512]; /* last_error or reason, as recorded */
    char cause[256]; /* error class and normalised message (cmd_failures_cause) */
    char group[CMD_FAILURES_GROUP_LEN];
    char first_seen[32]; /* UTC, "2026-01-01T10:00:00.000Z" */
    char last_seen[32];
    long long attempts;   /* handler starts */
    long long deliveries; /* times the broker brought a dead letter; 1 for a dead message */
};

struct cmd_failures {
    struct cmd_failure *items; /* oldest first per context, contexts in ctl_services order */
    size_t n;
    size_t cap;
};

/*
 * The cause of an error: its class (the err_name before the first ':' once
 * "gave up after N attempts: " is dropped; "poison" for a dead letter, else
 * "error") and the message with quoted values, UUIDs, ids and numbers
 * replaced, so failures that differ only in those group together.
 */
void cmd_failures_cause(bool poison, const char *error, char *out, size_t outlen);

/* The group id of (context, kind, type, cause): 10 hex digits of a 64-bit FNV-1a hash. */
void cmd_failures_group(const struct cmd_failure *f, char out[CMD_FAILURES_GROUP_LEN]);

/* Reads every failure of schemas[0..n) into *out (release it). Returns 0 or an error. */
int cmd_failures_load(struct ctl_dbs *dbs, const struct service_def *const *schemas, size_t n,
                      struct cmd_failures *out, struct err *err);

void cmd_failures_release(struct cmd_failures *f);

/*
 * {"groups": [{"group", "context", "kind": "dead"|"poison", "type", "cause",
 *   "count", "first_seen", "last_seen", "retryable", "ids": [...]}, ...]}:
 * the groups of f in the order of their first member in f: contexts in
 * ctl_services order, oldest first within one (new reference; NULL: no memory).
 */
json_t *cmd_failures_json(const struct cmd_failures *f);

/*
 * Acts on one failure in its context's schema: requeue (a dead message back
 * to failed, due now, through inbox_requeue; a dead letter is refused with
 * ERR_INVALID saying why) or purge (deleted). Returns the rows changed or an
 * error.
 */
int cmd_failures_requeue(struct ctl_dbs *dbs, const struct cmd_failure *f, struct err *err);
int cmd_failures_purge(struct ctl_dbs *dbs, const struct cmd_failure *f, struct err *err);

/*
 * Requeues (requeue) or purges every failure of f selected by id, else group,
 * else all, skipping poison when requeueing; *done counts the rows changed.
 * Returns 0 or the first error.
 */
int cmd_failures_act(struct ctl_dbs *dbs, const struct cmd_failures *f, const char *id,
                     const char *group, bool requeue, long long *done, struct err *err);

/* How many dead messages and dead letters of f id, else group, else all selects. */
void cmd_failures_count(const struct cmd_failures *f, const char *id, const char *group,
                        size_t *dead, size_t *poison);

/*
 * Runs a command on the failures selected by id (a UUID or "<context>:<n>"),
 * else group, else all of them, after printing how many and asking (unless yes): the shared
 * body of "requeue --group/--all" and "purge <id>/--group". Returns an exit code.
 */
int cmd_failures_apply(const char *cmd, const char *url_arg, const struct service_def *only,
                       const char *id, const char *group, bool yes, bool requeue);

/*
 * Opens the sessions (ctl_open) and finds failure id (a UUID or
 * "<context>:<n>"): *dbs and *f to free (ctl_dbs_free, cmd_failures_release),
 * *it borrowed from f. Returns CTL_EXIT_OK, or an exit code after one line on
 * stderr (nothing to free then).
 */
int cmd_failures_open_one(const char *cmd, const char *url_arg, const struct service_def *only,
                          const char *id, struct ctl_dbs **dbs, struct cmd_failures *f,
                          const struct cmd_failure **it);

/*
 * The session of context def with its schema as search_path for one
 * transaction (begun here): the common/ functions name their tables
 * unqualified. End it with ctl_schema_end. Returns 0 or an error.
 */
int ctl_schema_begin(struct ctl_dbs *dbs, const struct service_def *def, struct db **db,
                     struct err *err);

/* Commits when rc >= 0, else rolls back. Returns rc, or the commit's error. */
int ctl_schema_end(struct db *db, int rc, struct err *err);

/* Asks question on stderr and reads stdin: true for "y" or "yes". */
bool ctl_confirm(const char *question);

/* dashboard_page.c, generated from dashboard.html: the page GET / serves, NUL-terminated. */
extern const char dashboard_page[];

/* ---- the contexts ---------------------------------------------------------- */

/* The six service descriptors in SPEC §1 order, NULL-terminated. */
extern const struct service_def *const ctl_services[];

/* The descriptor of context name, or NULL. */
const struct service_def *ctl_service_find(const char *name);

/* ---- arguments and messages ------------------------------------------------- */

/* True for "--help" and "-h". */
bool ctl_is_help(const char *arg);

/*
 * When argv[*i] is option name ("--limit 5" or "--limit=5"), points *value at
 * its value, moves *i to the last argument used and returns 1. Returns 0 when
 * argv[*i] is something else, and -1 (after a usage line on stderr) when the
 * value is missing.
 */
int ctl_option(const char *cmd, int argc, char **argv, int *i, const char *name,
               const char **value);

/* Prints "eventctl <cmd>: <message> (see eventctl <cmd> --help)" and returns CTL_EXIT_USAGE. */
int ctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "eventctl <cmd>: <message>" and returns CTL_EXIT_FAILURE. */
int ctl_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "eventctl <cmd>: warning: <message>" to stderr. */
void ctl_warn(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Parses a --context value into *out (NULL when value is NULL). Returns 0, or
 * CTL_EXIT_USAGE after a usage line naming the known contexts.
 */
int ctl_parse_context(const char *cmd, const char *value, const struct service_def **out);

/* ---- the database ------------------------------------------------------------ */

/*
 * The database URL: the --database-url value when given, else $DATABASE_URL,
 * else the services' own default (config_common_keys). Borrowed.
 */
const char *ctl_database_url(const char *flag_value);

/*
 * Connects to url with search_path = schema (NULL: the server's default) and
 * sets *db (free it with db_free). Returns CTL_EXIT_OK; else, after one line
 * on stderr naming the URL with its password masked, CTL_EXIT_USAGE for a URL
 * that cannot be parsed or CTL_EXIT_FAILURE when the server is unreachable or
 * refuses the login.
 */
int ctl_db_connect(const char *cmd, const char *url, const char *schema, struct db **db);

/*
 * The sessions of one command (or one dashboard thread), one per login:
 * context c is reached through the URL in $<C>_DATABASE_URL (C = the name in
 * capitals) when it is set, else through the default URL given here. Before a
 * session first serves c, the login must own schema c and every relation and
 * routine in it (the server is asked); otherwise c is refused with
 * ERR_INVALID naming the owner and the variable to set. Connections are made
 * lazily and shared by the contexts of one URL.
 */

/* A new set for default_url (copied) and application name app (borrowed, a literal); NULL: no
 * memory. */
struct ctl_dbs *ctl_dbs_new(const char *default_url, const char *app);

/* Closes every session and frees dbs. NULL is a no-op. */
void ctl_dbs_free(struct ctl_dbs *dbs);

/* The URL for context c: $<C>_DATABASE_URL when set and not empty, else fallback. Borrowed. */
const char *ctl_context_url(const struct service_def *c, const char *fallback);

/*
 * The session for context c in *db (borrowed from dbs), connected, its login
 * checked to own c's schema. Returns 0; ERR_INVALID for a bad URL or a login
 * that does not own the schema; ERR_TRANSIENT when the server is unreachable.
 */
int ctl_dbs_get(struct ctl_dbs *dbs, const struct service_def *c, struct db **db, struct err *err);

/*
 * The contexts whose schema holds an outbox and an inbox table (migrated),
 * in ctl_services order, restricted to only when it is not NULL, each asked
 * in its own session. Fills out[0..*n). Returns 0 or an error of ctl_dbs_get
 * or the database.
 */
int ctl_schemas(struct ctl_dbs *dbs, const struct service_def *only,
                const struct service_def *out[CTL_CONTEXTS_MAX], size_t *n, struct err *err);

/*
 * The start of every database command: connects to the default URL
 * (ctl_database_url of url_arg) and finds the migrated contexts
 * (ctl_schemas), restricted to only when it is not NULL. Returns CTL_EXIT_OK
 * with *dbs (free it with ctl_dbs_free) and out[0..*n) filled; else the exit
 * code of ctl_db_connect, or CTL_EXIT_FAILURE after one line on stderr when a
 * context's session is refused or no context (or not only) has been migrated.
 */
int ctl_open(const char *cmd, const char *url_arg, const struct service_def *only,
             struct ctl_dbs **dbs, const struct service_def *out[CTL_CONTEXTS_MAX], size_t *n);

/*
 * Writes tmpl once per context into out, joined by sep, with every "{c}"
 * replaced by the context's name (a schema name, [a-z][a-z0-9_]*, so it is
 * safe inside SQL). Returns 0, or ERR_INTERNAL when out is too small.
 */
int ctl_sql_each(char *out, size_t outlen, const struct service_def *const *contexts, size_t n,
                 const char *tmpl, const char *sep, struct err *err);

/* Column col of row as text, "" for SQL NULL (borrowed, valid during the callback). */
const char *ctl_text(const struct db_row *row, int col);

/* ---- output ------------------------------------------------------------------ */

/*
 * Copies s into out on one line (control characters become spaces), cut to
 * at most max characters with "..." at the end when longer.
 */
void ctl_one_line(const char *s, size_t max, char *out, size_t outlen);

/*
 * Writes s as the text of a Markdown table cell: '|' escaped, '<' and '>' as
 * entities (GitHub would take "<context>" for an HTML tag), newlines as spaces.
 */
void ctl_md_cell(FILE *out, const char *s);

/* Writes s as a code span inside a Markdown table cell: `s`, with '|' escaped. */
void ctl_md_code(FILE *out, const char *s);

#endif
