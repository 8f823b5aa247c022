/*
 * ops_fixtures.c - database fixtures for the operations tool's tests
 * (integration.eventctl, integration.dashboard); see ops_fixtures.h.
 *
 * Values go to db_exec as parameters; a schema name, which cannot be one, is
 * checked against [a-z][a-z0-9_]* before it is quoted into the statement, so
 * no caller-supplied text ever becomes SQL.
 */
#include "ops_fixtures.h"

#include "testlib.h"

#include "common/dead_letter.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define OPS_FIXTURES_NAME_MAX 63 /* PostgreSQL's NAMEDATALEN - 1 */
#define OPS_FIXTURES_SQL_MAX  1024

/* Fails the test unless name is a plain lower-case identifier, safe to quote into SQL. */
static void check_schema(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    bool ok = n > 0 && n <= OPS_FIXTURES_NAME_MAX && name[0] >= 'a' && name[0] <= 'z';
    for (size_t i = 1; ok && i < n; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
             name[i] == '_';
    if (!ok)
        fail_msg("invalid schema name '%s'", name ? name : "(null)");
}

void ops_fixtures_exec(struct db *db, const char *sql, int nparams, const char *const *params)
{
    struct err err = {0};
    if (db_exec(db, sql, nparams, params, NULL, NULL, &err) < 0)
        fail_msg("%s: %s", sql, err.msg);
}

void ops_fixtures_value(struct db *db, const char *sql, int nparams, const char *const *params,
                        char *out, size_t outlen)
{
    struct err err = {0};
    if (db_exec_value(db, sql, nparams, params, out, outlen, &err) < 0)
        fail_msg("%s: %s", sql, err.msg);
}

void ops_fixtures_truncate(struct db *db, const char *context)
{
    char sql[OPS_FIXTURES_SQL_MAX];
    check_schema(context); /* the name goes into the statement text: it must be an identifier */
    snprintf(sql, sizeof(sql), "TRUNCATE \"%s\".outbox, \"%s\".inbox", context, context);
    ops_fixtures_exec(db, sql, 0, NULL);
}

/*
 * INSERT INTO "context".table (columns) VALUES ($1, ..., $n), params giving
 * the n values in the order of columns.
 */
static void insert(struct db *db, const char *context, const char *table, const char *columns,
                   int n, const char *const *params)
{
    char sql[OPS_FIXTURES_SQL_MAX], values[128] = "";
    check_schema(context);
    for (int i = 1; i <= n && strlen(values) + 8 < sizeof(values); i++)
        snprintf(values + strlen(values), sizeof(values) - strlen(values), "%s$%d",
                 i > 1 ? ", " : "", i);
    int len = snprintf(sql, sizeof(sql), "INSERT INTO \"%s\".%s (%s) VALUES (%s)", context, table,
                       columns, values);
    if (len < 0 || (size_t)len >= sizeof(sql))
        fail_msg("INSERT INTO %s.%s: statement longer than %zu bytes", context, table, sizeof(sql));
    ops_fixtures_exec(db, sql, n, params);
}

void ops_fixtures_outbox(struct db *db, const char *context, const char *id,
                         const char *correlation, const char *type, const char *causation,
                         const char *at, const char *status, int attempts)
{
    char payload[OPS_FIXTURES_NAME_MAX + 32], attempts_text[16];
    check_schema(context); /* so it needs no JSON escaping in the payload either */
    snprintf(payload, sizeof(payload), "{\"source\":\"/%s\"}", context);
    snprintf(attempts_text, sizeof(attempts_text), "%d", attempts);
    const char *published_at = strcmp(status, "published") == 0 ? at : NULL;
    const char *last_error = strcmp(status, "failed") == 0 ? OPS_FIXTURES_OUTBOX_ERROR : NULL;
    const char *params[] = {id, type,   correlation,   causation,    payload,
                            at, status, attempts_text, published_at, last_error};
    insert(db, context, "outbox",
           "id, type, correlation_id, causation_id, payload, created_at, status, attempts,"
           " published_at, last_error",
           (int)(sizeof(params) / sizeof(params[0])), params);
}

void ops_fixtures_inbox(struct db *db, const char *context, const char *id, const char *correlation,
                        const char *type, const char *causation, const char *seen,
                        const char *status, int attempts, const char *processed)
{
    char attempts_text[16];
    snprintf(attempts_text, sizeof(attempts_text), "%d", attempts);
    bool failed = strcmp(status, "failed") == 0 || strcmp(status, "dead") == 0;
    const char *last_error = failed ? OPS_FIXTURES_INBOX_ERROR : NULL;
    /* The consumer is the context itself. */
    const char *params[] = {id,   context, type,          correlation, causation, "{}",
                            seen, status,  attempts_text, processed,   last_error};
    insert(db, context, "inbox",
           "id, consumer, type, correlation_id, causation_id, payload, created_at, status,"
           " attempts, processed_at, last_error",
           (int)(sizeof(params) / sizeof(params[0])), params);
}

void ops_fixtures_saga(struct db *db, const char *corr, const char *corr2)
{
    ops_fixtures_outbox(db, "booking", OPS_FIXTURES_E1, corr, "booking.booking.created",
                        "request-1", "2026-01-01 10:00:00.000+00", "published", 0);
    ops_fixtures_inbox(db, "payment", OPS_FIXTURES_E1, corr, "booking.booking.created", "request-1",
                       "2026-01-01 10:00:00.007+00", "processed", 1, "2026-01-01 10:00:00.012+00");
    ops_fixtures_inbox(db, "inventory", OPS_FIXTURES_E1, corr, "booking.booking.created",
                       "request-1", "2026-01-01 10:00:00.008+00", "processed", 1,
                       "2026-01-01 10:00:00.015+00");
    ops_fixtures_outbox(db, "inventory", OPS_FIXTURES_E2, corr, "inventory.stock.reserved",
                        OPS_FIXTURES_E1, "2026-01-01 10:00:00.014+00", "published", 0);
    ops_fixtures_inbox(db, "payment", OPS_FIXTURES_E2, corr, "inventory.stock.reserved",
                       OPS_FIXTURES_E1, "2026-01-01 10:00:00.018+00", "processed", 2,
                       "2026-01-01 10:00:00.031+00");
    ops_fixtures_outbox(db, "payment", OPS_FIXTURES_E3, corr, "payment.payment.succeeded",
                        OPS_FIXTURES_E2, "2026-01-01 10:00:00.030+00", "published", 0);
    ops_fixtures_inbox(db, "inventory", OPS_FIXTURES_E3, corr, "payment.payment.succeeded",
                       OPS_FIXTURES_E2, "2026-01-01 10:00:00.035+00", "dead", 5, NULL);
    ops_fixtures_outbox(db, "booking", OPS_FIXTURES_E4, corr2, "booking.booking.created",
                        "request-2", "2026-01-01 10:00:00.040+00", "failed", 10);
}

void ops_fixtures_dead(struct db *db, const char *context, const char *id, const char *correlation,
                       const char *type, const char *error)
{
    char sql[OPS_FIXTURES_SQL_MAX];
    check_schema(context);
    /* The CloudEvent is built by the server from the parameters: no escaping here. */
    snprintf(sql, sizeof(sql),
             "WITH ev AS (SELECT json_build_object('specversion', '1.0', 'id', $1::text,"
             "  'source', '/producer', 'type', $3::text, 'time', '2026-01-01T10:00:00Z',"
             "  'datacontenttype', 'application/json', 'correlationid', $2::text,"
             "  'causationid', 'request-1', 'data', json_build_object('amount', 41))::text AS t)"
             " INSERT INTO \"%s\".inbox (id, consumer, type, correlation_id, causation_id,"
             "   payload, body, status, attempts, last_error)"
             " SELECT $1::uuid, $5, $3, $2, 'request-1', t::jsonb, t, 'dead', 5, $4 FROM ev",
             context);
    ops_fixtures_exec(db, sql, 5, (const char *[]){id, correlation, type, error, context});
}

void ops_fixtures_poison(struct db *db, const char *context, const char *message_id,
                         const char *type, const char *body, size_t len, const char *reason)
{
    check_schema(context);
    struct err err = {0};
    struct dead_letter dl = {.message_id = message_id,
                             .routing_key = type,
                             .type = type,
                             .body = body,
                             .len = len,
                             .reason = reason};
    int rc = db_begin(db, &err);
    if (rc == 0)
        rc = db_exec(db, "SELECT set_config('search_path', quote_ident($1), true)", 1,
                     (const char *[]){context}, NULL, NULL, &err);
    if (rc >= 0)
        rc = dead_letter_record(db, &dl, &err);
    if (rc >= 0)
        rc = db_commit(db, &err);
    if (rc < 0) {
        db_rollback(db);
        fail_msg("cannot record poison in '%s': %s", context, err.msg);
    }
}
