/*
 * inbox.c - the inbox table's one owner. The transitions of the diagram in
 * migrations/<context>/0002_outbox_inbox.sql and the function performing each:
 *
 *   (none)     → processed    inbox_claim_first (a first delivery, in its handler
 *                             transaction: the row exists only if the handler commits)
 *   (none)     → processing   inbox_record_start (a redelivery: the first start counted too)
 *   processing → processing   inbox_record_start (another redelivery: attempts + 1)
 *   processing → processed    inbox_mark_processed (in the handler transaction)
 *   (none)/processing → failed  inbox_mark_failed
 *   failed     → failed       inbox_claim_due (a retry starts: attempts + 1, lease)
 *   failed     → processed    inbox_mark_processed
 *   (none)/processing/failed → dead  inbox_mark_dead
 *   dead       → dead         inbox_mark_dead_lettered (its copy reached the queue)
 *   dead       → failed       inbox_requeue
 *   processed  → deleted      inbox_purge_processed
 *   dead       → deleted      inbox_purge_dead (an operator's decision: eventctl purge)
 *   dead       → deleted      inbox_delete_dead (eventctl purge <id> / --group)
 *   dead       → (deleted; a new failed row) inbox_replace_dead (eventctl edit)
 */
#include "common/inbox.h"

#include "common/db.h"
#include "common/envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct start_ctx {
    int64_t attempts;
    int found;
};

static int start_row(void *vctx, const struct db_row *row, struct err *err)
{
    struct start_ctx *s = vctx;
    if (db_row_int64(row, 0, &s->attempts))
        return err_set(err, ERR_INTERNAL, "unexpected inbox row");
    s->found = 1;
    return 0;
}

int inbox_record_start(struct db *db, const struct envelope *ev, const char *payload,
                       const char *consumer, int max_attempts, int *attempts, struct err *err)
{
    struct start_ctx s = {0, 0};
    const char *params[] = {ev->id,           consumer, ev->type, ev->correlation_id,
                            ev->causation_id, payload};
    /*
     * Only redeliveries come here (inbox_claim_first takes first deliveries),
     * so a new row counts the first delivery's unrecorded start as well.
     */
    /*
     * A new row starts at 1. An existing row still 'processing' is a
     * redelivery after a crash or a lost ack: count the start. Any other
     * status returns no row: processed, or owned by the database (I4).
     * One statement, so one implicit transaction.
     */
    int rc =
        db_exec(db,
                "INSERT INTO inbox AS i (id, consumer, type, correlation_id, causation_id, payload,"
                "                        body, status, attempts)"
                " VALUES ($1::uuid, $2, $3, $4, $5, $6::text::jsonb, $6::text, 'processing', 1)"
                " ON CONFLICT (id, consumer) DO UPDATE SET attempts = i.attempts + 1"
                "   WHERE i.status = 'processing'"
                " RETURNING i.attempts",
                6, params, start_row, &s, err);
    if (rc < 0)
        return rc;
    *attempts = (int)s.attempts;
    if (!s.found)
        return INBOX_DUPLICATE;
    return s.attempts > max_attempts ? INBOX_EXHAUSTED : INBOX_RUN;
}

int inbox_claim_first(struct db *db, const struct envelope *ev, const char *payload,
                      const char *consumer, struct err *err)
{
    const char *params[] = {ev->id,           consumer, ev->type, ev->correlation_id,
                            ev->causation_id, payload};
    /*
     * Inserted already 'processed': the handler's writes commit with it or
     * the rollback takes it away (I2). A concurrent copy of the same event
     * waits here for our outcome, then inserts nothing: a duplicate (I1).
     */
    int rc =
        db_exec(db,
                "INSERT INTO inbox (id, consumer, type, correlation_id, causation_id, payload,"
                "                   status, attempts, processed_at)"
                " VALUES ($1::uuid, $2, $3, $4, $5, $6::jsonb, 'processed', 1, clock_timestamp())"
                " ON CONFLICT (id, consumer) DO NOTHING",
                6, params, NULL, NULL, err);
    return rc < 0 ? rc : rc == 1;
}

int inbox_lock(struct db *db, const char *id, const char *consumer, const char *expected,
               struct err *err)
{
    const char *params[] = {id, consumer, expected};
    int rc = db_exec(db,
                     "SELECT 1 FROM inbox WHERE id = $1::uuid AND consumer = $2 AND status = $3"
                     " FOR UPDATE",
                     3, params, NULL, NULL, err);
    return rc < 0 ? rc : rc > 0;
}

int inbox_mark_processed(struct db *db, const char *id, const char *consumer, struct err *err)
{
    const char *params[] = {id, consumer};
    int rc =
        db_exec(db,
                "UPDATE inbox SET status = 'processed', processed_at = clock_timestamp(),"
                "       next_attempt_at = NULL"
                " WHERE id = $1::uuid AND consumer = $2 AND status IN ('processing', 'failed')",
                2, params, NULL, NULL, err);
    if (rc < 0)
        return rc;
    return rc == 1 ? 0 : err_set(err, ERR_INTERNAL, "inbox row '%s' vanished while handled", id);
}

/*
 * inbox.errors after one more failure: the entry {attempt, at, error} added,
 * the oldest dropped past INBOX_ERRORS_KEPT (one at a time, as they come).
 * ERRORS_PUSH(old, entry) is SQL text: old and entry are SQL expressions.
 */
#define INBOX_STR_(x) #x
#define INBOX_STR(x)  INBOX_STR_(x)
#define ERRORS_ENTRY(attempt, error)                                                               \
    "jsonb_build_array(jsonb_build_object('attempt', " attempt ", 'at', clock_timestamp(),"        \
    " 'error', " error "))"
#define ERRORS_PUSH(old, entry)                                                                    \
    "(CASE WHEN jsonb_array_length(" old ") >= " INBOX_STR(INBOX_ERRORS_KEPT) " THEN " old " - 0"  \
                                                                              " ELSE " old         \
                                                                              " END) || " entry

static void clip_error(const char *error, char out[INBOX_ERROR_MAX])
{
    snprintf(out, INBOX_ERROR_MAX, "%s", error && *error ? error : "unknown error");
}

int inbox_mark_failed(struct db *db, const struct envelope *ev, const char *payload,
                      const char *consumer, int attempts, const char *error, int64_t delay_ms,
                      struct err *err)
{
    char msg[INBOX_ERROR_MAX], delay[24], tries[16];
    clip_error(error, msg);
    snprintf(delay, sizeof(delay), "%lld", (long long)delay_ms);
    snprintf(tries, sizeof(tries), "%d", attempts);
    const char *params[] = {
        ev->id, consumer, ev->type, ev->correlation_id, ev->causation_id, payload,
        tries,  msg,      delay};
    /* The row may not exist: a first delivery's row went with its rollback. */
    int rc = db_exec(
        db,
        "INSERT INTO inbox AS i (id, consumer, type, correlation_id, causation_id, payload,"
        "                        body, status, attempts, last_error, next_attempt_at, errors)"
        " VALUES ($1::uuid, $2, $3, $4, $5, $6::text::jsonb, $6::text, 'failed', $7::int, $8,"
        "         clock_timestamp() + make_interval(secs => $9::bigint / 1000.0),"
        "         " ERRORS_ENTRY(
            "$7::int",
            "$8::text") ")"
                        " ON CONFLICT (id, consumer) DO UPDATE"
                        "   SET status = 'failed', last_error = excluded.last_error,"
                        "       next_attempt_at = excluded.next_attempt_at,"
                        "       body = coalesce(i.body, excluded.body),"
                        "       errors = " ERRORS_PUSH(
                            "i.errors",
                            "excluded.errors") "   WHERE i.status IN ('processing', 'failed')",
        9, params, NULL, NULL, err);
    return rc < 0 ? rc : 0;
}

int inbox_mark_dead(struct db *db, const struct envelope *ev, const char *payload,
                    const char *consumer, int attempts, const char *error, struct err *err)
{
    char msg[INBOX_ERROR_MAX], tries[16];
    clip_error(error, msg);
    snprintf(tries, sizeof(tries), "%d", attempts);
    const char *params[] = {ev->id,           consumer, ev->type, ev->correlation_id,
                            ev->causation_id, payload,  tries,    msg};
    int rc = db_exec(
        db,
        "INSERT INTO inbox AS i (id, consumer, type, correlation_id, causation_id, payload,"
        "                        body, status, attempts, last_error, errors)"
        " VALUES ($1::uuid, $2, $3, $4, $5, $6::text::jsonb, $6::text, 'dead', $7::int, $8,"
        "         " ERRORS_ENTRY(
            "$7::int",
            "$8::text") ")"
                        " ON CONFLICT (id, consumer) DO UPDATE"
                        "   SET status = 'dead', last_error = excluded.last_error, next_attempt_at "
                        "= NULL,"
                        "       dead_lettered_at = NULL, body = coalesce(i.body, excluded.body),"
                        "       errors = " ERRORS_PUSH(
                            "i.errors",
                            "excluded.errors") "   WHERE i.status IN ('processing', 'failed')",
        8, params, NULL, NULL, err);
    return rc < 0 ? rc : 0;
}

int inbox_mark_unhandled_dead(struct db *db, const char *id, const char *consumer,
                              const char *error, struct err *err)
{
    char msg[INBOX_ERROR_MAX];
    clip_error(error, msg);
    const char *params[] = {id, consumer, msg};
    int rc =
        db_exec(db,
                "UPDATE inbox SET status = 'dead', last_error = $3, next_attempt_at = NULL,"
                "       dead_lettered_at = NULL,"
                "       errors = " ERRORS_PUSH(
                    "errors",
                    ERRORS_ENTRY("attempts", "$3::text")) " WHERE id = $1::uuid AND consumer = $2 "
                                                          "AND status IN ('processing', 'failed')",
                3, params, NULL, NULL, err);
    return rc < 0 ? rc : 0;
}

struct rows_ctx {
    struct inbox_row *rows;
    size_t n;
};

/* Columns: id, type, payload, attempts, last_error. */
static int read_row(void *vctx, const struct db_row *row, struct err *err)
{
    struct rows_ctx *c = vctx;
    struct inbox_row *r = &c->rows[c->n];
    memset(r, 0, sizeof(*r));
    int64_t attempts;
    if (db_row_copy_text(row, 0, r->id, sizeof(r->id)) ||
        db_row_copy_text(row, 1, r->type, sizeof(r->type)) || db_row_int64(row, 3, &attempts))
        return err_set(err, ERR_INTERNAL, "unexpected inbox row");
    const char *payload = db_row_text(row, 2);
    const char *last_error = db_row_text(row, 4);
    r->payload = strdup(payload ? payload : "");
    r->last_error = last_error ? strdup(last_error) : NULL;
    r->attempts = (int)attempts;
    c->n++; /* counted before the checks below, so inbox_rows_release frees it */
    if (!r->payload || (last_error && !r->last_error))
        return err_set(err, ERR_NOMEM, "out of memory reading the inbox");
    return 0;
}

/*
 * The claims lock their rows in a sub-select and update them by key through
 * "id = ANY (ARRAY(...))": a plan of index look-ups whatever the planner
 * guesses for a prepared statement's generic plan. Written as a join
 * (UPDATE ... FROM due), the generic plan could hash-join and read the whole
 * inbox on every sweep (milliseconds each, growing with retention) to find
 * nothing.
 */
static int claim(struct db *db, const char *sql, const char *consumer, int max, int lease_ms,
                 struct inbox_row *rows, size_t *n, struct err *err)
{
    *n = 0;
    if (max <= 0 || max > INBOX_BATCH_MAX)
        max = INBOX_BATCH_MAX;
    char limit[16], lease[16];
    snprintf(limit, sizeof(limit), "%d", max);
    snprintf(lease, sizeof(lease), "%d", lease_ms);
    const char *params[] = {consumer, limit, lease};
    struct rows_ctx c = {rows, 0};
    int rc = db_exec(db, sql, 3, params, read_row, &c, err);
    if (rc < 0) {
        inbox_rows_release(rows, c.n);
        return rc;
    }
    *n = c.n;
    return 0;
}

int inbox_claim_due(struct db *db, const char *consumer, int max, int lease_ms,
                    struct inbox_row *rows, size_t *n, struct err *err)
{
    return claim(
        db,
        "UPDATE inbox i SET attempts = i.attempts + 1,"
        "       next_attempt_at = clock_timestamp() + make_interval(secs => $3::int / 1000.0)"
        " WHERE i.consumer = $1 AND i.id = ANY (ARRAY("
        "   SELECT id FROM inbox"
        "    WHERE consumer = $1 AND status = 'failed' AND next_attempt_at <= clock_timestamp()"
        "    ORDER BY next_attempt_at LIMIT $2::int FOR UPDATE SKIP LOCKED))"
        " RETURNING i.id, i.type, coalesce(i.body, i.payload::text), i.attempts, i.last_error",
        consumer, max, lease_ms, rows, n, err);
}

int inbox_claim_dead_letters(struct db *db, const char *consumer, int max, int lease_ms,
                             struct inbox_row *rows, size_t *n, struct err *err)
{
    return claim(
        db,
        "UPDATE inbox i"
        "   SET next_attempt_at = clock_timestamp() + make_interval(secs => $3::int / 1000.0)"
        " WHERE i.consumer = $1 AND i.id = ANY (ARRAY("
        "   SELECT id FROM inbox"
        "    WHERE consumer = $1 AND status = 'dead' AND dead_lettered_at IS NULL"
        "      AND (next_attempt_at IS NULL OR next_attempt_at <= clock_timestamp())"
        "    ORDER BY created_at LIMIT $2::int FOR UPDATE SKIP LOCKED))"
        " RETURNING i.id, i.type, coalesce(i.body, i.payload::text), i.attempts, i.last_error",
        consumer, max, lease_ms, rows, n, err);
}

int inbox_mark_dead_lettered(struct db *db, const char *id, const char *consumer, struct err *err)
{
    const char *params[] = {id, consumer};
    int rc = db_exec(db,
                     "UPDATE inbox SET dead_lettered_at = clock_timestamp(), next_attempt_at = NULL"
                     " WHERE id = $1::uuid AND consumer = $2 AND status = 'dead'",
                     2, params, NULL, NULL, err);
    return rc < 0 ? rc : 0;
}

void inbox_rows_release(struct inbox_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].payload);
        free(rows[i].last_error);
        rows[i].payload = NULL;
        rows[i].last_error = NULL;
    }
}

int inbox_requeue(struct db *db, const char *id, const char *consumer, struct err *err)
{
    const char *params[] = {id, consumer};
    return db_exec(
        db,
        "UPDATE inbox SET status = 'failed', attempts = 0, requeued = requeued + 1,"
        "       next_attempt_at = clock_timestamp(), dead_lettered_at = NULL"
        " WHERE id = $1::uuid AND ($2::text IS NULL OR consumer = $2) AND status = 'dead'",
        2, params, NULL, NULL, err);
}

int inbox_purge_processed(struct db *db, int hours, int batch, struct err *err)
{
    char h[16], b[16];
    snprintf(h, sizeof(h), "%d", hours);
    snprintf(b, sizeof(b), "%d", batch);
    const char *params[] = {h, b};
    return db_exec(db,
                   "DELETE FROM inbox WHERE (id, consumer) IN ("
                   "  SELECT id, consumer FROM inbox WHERE status = 'processed'"
                   "     AND processed_at < clock_timestamp() - make_interval(hours => $1::int)"
                   "   LIMIT $2::int FOR UPDATE SKIP LOCKED)",
                   2, params, NULL, NULL, err);
}

int inbox_purge_dead(struct db *db, long long older_than_s, struct err *err)
{
    char secs[24];
    snprintf(secs, sizeof(secs), "%lld", older_than_s);
    const char *params[] = {secs};
    /* Age from the later of arrival and death: a message requeued and dead again is young. */
    return db_exec(db,
                   "DELETE FROM inbox WHERE status = 'dead'"
                   "   AND greatest(created_at, dead_lettered_at)"
                   "       < clock_timestamp() - make_interval(secs => $1::double precision)",
                   1, params, NULL, NULL, err);
}

#define INBOX_TIME_SQL(col)                                                                        \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

struct dead_ctx {
    inbox_dead_fn fn;
    void *ctx;
};

/* Columns: id, consumer, type, correlation_id, last_error, created_at, dead_at, attempts. */
static int dead_row(void *vctx, const struct db_row *row, struct err *err)
{
    struct dead_ctx *d = vctx;
    struct inbox_dead r = {0};
    const char **text[] = {&r.id,         &r.consumer,   &r.type,   &r.correlation_id,
                           &r.last_error, &r.created_at, &r.dead_at};
    for (int i = 0; i < 7; i++) {
        const char *v = db_row_text(row, i);
        *text[i] = v ? v : "";
    }
    if (db_row_int64(row, 7, &r.attempts))
        return err_set(err, ERR_INTERNAL, "unexpected inbox row");
    return d->fn(d->ctx, &r, err);
}

int inbox_list_dead(struct db *db, inbox_dead_fn fn, void *ctx, struct err *err)
{
    struct dead_ctx d = {fn, ctx};
    return db_exec(
        db,
        "SELECT id, consumer, type, correlation_id, coalesce(last_error, ''),"
        "       " INBOX_TIME_SQL(
            "created_at") ","
                          "       " INBOX_TIME_SQL(
                              "greatest(created_at, dead_lettered_at)") ", attempts"
                                                                        "  FROM inbox WHERE status "
                                                                        "= 'dead' ORDER BY "
                                                                        "created_at, id",
        0, NULL, dead_row, &d, err);
}

static int text_row(void *vctx, const struct db_row *row, struct err *err)
{
    char **text = vctx;
    const char *v = db_row_text(row, 0);
    free(*text);
    *text = strdup(v ? v : "");
    return *text ? 0 : err_set(err, ERR_NOMEM, "out of memory reading an inbox row");
}

int inbox_dead_text(struct db *db, const char *id, const char *consumer, char **text,
                    struct err *err)
{
    *text = NULL;
    const char *params[] = {id, consumer};
    int rc = db_exec(db,
                     "SELECT coalesce(body, payload::text) FROM inbox"
                     " WHERE id = $1::uuid AND consumer = $2 AND status = 'dead'",
                     2, params, text_row, text, err);
    if (rc < 0) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

int inbox_delete_dead(struct db *db, const char *id, const char *consumer, struct err *err)
{
    const char *params[] = {id, consumer};
    return db_exec(db,
                   "DELETE FROM inbox WHERE id = $1::uuid AND consumer = $2 AND status = 'dead'", 2,
                   params, NULL, NULL, err);
}

int inbox_replace_dead(struct db *db, const char *id, const char *consumer, const char *new_id,
                       const char *payload, struct err *err)
{
    const char *params[] = {id, consumer, new_id, payload};
    /* One statement: the dead row goes exactly when its replacement comes. */
    return db_exec(db,
                   "WITH old AS (DELETE FROM inbox"
                   "              WHERE id = $1::uuid AND consumer = $2 AND status = 'dead'"
                   "          RETURNING consumer, type, correlation_id)"
                   " INSERT INTO inbox (id, consumer, type, correlation_id, causation_id, payload,"
                   "                    body, status, attempts, next_attempt_at)"
                   " SELECT $3::uuid, consumer, type, correlation_id, $1, $4::text::jsonb, $4,"
                   "        'failed', 0, clock_timestamp() FROM old",
                   4, params, NULL, NULL, err);
}
