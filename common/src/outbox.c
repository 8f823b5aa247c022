/*
 * outbox.c - the outbox table's one owner: every statement that writes it is
 * here, so every status transition of the diagram in
 * migrations/<context>/0002_outbox_inbox.sql is in this file:
 *
 *   pending → published   outbox_mark_published (after the broker's ack, O2)
 *   pending → pending     outbox_mark_retry (attempts+1, backoff)
 *   pending → failed      outbox_mark_retry (attempts reached give_up_after)
 *   failed  → pending     outbox_requeue
 *   published → deleted   outbox_purge_published
 */
#include "common/outbox.h"

#include "common/db.h"
#include "common/envelope.h"
#include "common/uuid7.h"

#include "handoff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UUID_LIST_MAX (OUTBOX_BATCH_MAX * UUID7_STR_LEN + 3)

void outbox_channel(const char *context, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s_outbox", context);
}

int outbox_enqueue(struct db *db, const struct envelope *ev, struct err *err)
{
    if (!db_in_transaction(db))
        return err_set(err, ERR_INTERNAL, "outbox write of '%s' outside a transaction", ev->type);
    char *payload = envelope_serialize(ev, err);
    if (!payload)
        return err->code;
    char channel[64];
    outbox_channel(envelope_context(ev), channel, sizeof(channel));
    const char *traceparent = ev->traceparent[0] ? ev->traceparent : NULL;
    /*
     * When this process runs the context's relay, the row is leased to it
     * here and handed to it once the transaction commits: it publishes
     * without claiming the row back (ADR 0011). The after-commit action is
     * registered before the INSERT, so an INSERT that fails leaves nothing
     * to undo but what the rollback undoes anyway.
     */
    char owner[OUTBOX_OWNER_MAX], lease[16];
    int lease_ms = 0;
    struct handoff_entry *handed =
        handoff_reserve(envelope_context(ev), ev->id, ev->type, ev->correlation_id, payload,
                        traceparent, owner, sizeof(owner), &lease_ms);
    if (handed && db_after_commit(db, handoff_settle, handed, err) != 0) {
        handoff_settle(handed, false);
        handed = NULL;
        err_clear(err);
    }
    snprintf(lease, sizeof(lease), "%d", lease_ms);
    const char *params[] = {ev->id,  ev->type,    ev->correlation_id,    ev->causation_id,
                            payload, traceparent, handed ? owner : NULL, lease};
    /*
     * The row, then the relay's wake-up: in-process when this process runs
     * the context's relay (most writes: no NOTIFY at all), else a NOTIFY in
     * the transaction or right after its commit (ADR 0006, 0007). Without a
     * hand-off owner ($7 NULL) the row is unleased, as every row was before.
     */
    int rc =
        db_exec(db,
                "INSERT INTO outbox (id, type, correlation_id, causation_id, payload,"
                "                    traceparent, locked_by, locked_until)"
                " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, CASE WHEN $7::text IS NOT NULL THEN"
                "   clock_timestamp() + make_interval(secs => $8::int / 1000.0) END)",
                8, params, NULL, NULL, err);
    if (rc >= 0)
        rc = db_notify(db, channel, err);
    free(payload);
    return rc < 0 ? rc : 0;
}

int outbox_publish(const struct outbox_origin *from, const struct contract_event *ev,
                   const void *data, size_t size, char *id_out, struct err *err)
{
    json_t *json = NULL;
    int rc = contract_encode(ev, data, size, &json, err);
    if (rc == 0)
        rc = contract_validate(ev, json, err);
    if (rc) {
        json_decref(json);
        return rc;
    }
    struct envelope env;
    envelope_init(&env);
    rc = envelope_build(&env, ev->publisher, ev->type, ev->version, json, from->correlation_id,
                        from->causation_id, err);
    if (rc == 0)
        rc = outbox_enqueue(from->db, &env, err);
    if (rc == 0 && id_out)
        memcpy(id_out, env.id, sizeof(env.id));
    envelope_release(&env);
    return rc;
}

/* Joins ids into a PostgreSQL array literal "{a,b,c}" (ids are UUIDs: nothing to escape). */
static int uuid_array(const char *const *ids, size_t n, char *out, size_t outlen, struct err *err)
{
    size_t len = 0;
    out[len++] = '{';
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(ids[i]);
        if (k != 36 || len + k + 3 > outlen)
            return err_set(err, ERR_INTERNAL, "bad id list for the outbox");
        if (i)
            out[len++] = ',';
        memcpy(out + len, ids[i], k);
        len += k;
    }
    out[len++] = '}';
    out[len] = '\0';
    return 0;
}

struct claim_ctx {
    struct outbox_row *rows;
    size_t n;
};

static int claim_row(void *vctx, const struct db_row *row, struct err *err)
{
    struct claim_ctx *c = vctx;
    struct outbox_row *r = &c->rows[c->n];
    memset(r, 0, sizeof(*r));
    int64_t attempts = 0;
    if (db_row_copy_text(row, 0, r->id, sizeof(r->id)) ||
        db_row_copy_text(row, 1, r->type, sizeof(r->type)) ||
        db_row_copy_text(row, 2, r->correlation_id, sizeof(r->correlation_id)) ||
        db_row_int64(row, 4, &attempts))
        return err_set(err, ERR_INTERNAL, "unexpected outbox row");
    db_row_copy_text(row, 6, r->traceparent, sizeof(r->traceparent)); /* "" when NULL */
    const char *payload = db_row_text(row, 3);
    r->payload = strdup(payload ? payload : "");
    if (!r->payload)
        return err_set(err, ERR_NOMEM, "out of memory reading the outbox");
    r->payload_len = strlen(r->payload);
    r->attempts = (int)attempts;
    c->n++;
    return 0;
}

int outbox_claim(struct db *db, const char *instance, int max, int lease_ms, bool take_own,
                 struct outbox_row *rows, size_t *n, struct err *err)
{
    *n = 0;
    if (max <= 0 || max > OUTBOX_BATCH_MAX)
        max = OUTBOX_BATCH_MAX;
    char limit[16], lease[16];
    snprintf(limit, sizeof(limit), "%d", max);
    snprintf(lease, sizeof(lease), "%d", lease_ms);
    const char *params[] = {instance, limit, lease, take_own ? "true" : "false"};
    struct claim_ctx c = {rows, 0};
    /*
     * One statement, so one implicit transaction: lock due rows nobody else
     * holds (SKIP LOCKED), stamp our lease on them, return them. A lease that
     * ran out is as good as none (O3), and with take_own so is our own: the
     * relay takes its own rows back on its first pass and after a failed one,
     * so this process killed mid-batch and restarted with the same
     * INSTANCE_ID takes its rows back at once instead of waiting out
     * LEASE_MS. Otherwise a row leased to us may be on its way to us from a
     * transaction of our own process (handoff.h). The rows are updated by key from the locked
     * sub-select (index look-ups in any plan, see inbox.c's claim), and the
     * sub-select reads outbox_due_idx in its own order, so it stops after n
     * live rows (migration 0006).
     */
    int rc = db_exec(
        db,
        "UPDATE outbox o SET locked_by = $1,"
        "       locked_until = clock_timestamp() + make_interval(secs => $3::int / 1000.0)"
        " WHERE o.id = ANY (ARRAY("
        "   SELECT id FROM outbox"
        "    WHERE status = 'pending' AND next_attempt_at <= clock_timestamp()"
        "      AND (locked_until IS NULL OR locked_until < clock_timestamp()"
        "           OR (locked_by = $1 AND $4::bool))"
        "    ORDER BY next_attempt_at, created_at"
        "    LIMIT $2::int FOR UPDATE SKIP LOCKED))"
        " RETURNING o.id, o.type, o.correlation_id, o.payload::text, o.attempts, o.created_at,"
        "           o.traceparent",
        4, params, claim_row, &c, err);
    *n = c.n;
    if (rc < 0) {
        outbox_rows_release(rows, c.n);
        *n = 0;
        return rc;
    }
    return 0;
}

void outbox_rows_release(struct outbox_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].payload);
        rows[i].payload = NULL;
    }
}

/*
 * The marks below find their rows by key. They say "status NOT IN
 * ('published', 'failed')" for "pending" (the CHECK allows no other) so that
 * only the primary key can serve them: with "status = 'pending'" a prepared
 * statement's generic plan scanned outbox_due_idx instead — small by its
 * statistics, full of dead entries under load — for milliseconds a call.
 */
int outbox_mark_published(struct db *db, const char *const *ids, size_t n, struct err *err)
{
    if (n == 0)
        return 0;
    char list[UUID_LIST_MAX];
    int rc = uuid_array(ids, n, list, sizeof(list), err);
    if (rc)
        return rc;
    const char *params[] = {list};
    rc = db_exec(db,
                 "UPDATE outbox SET status = 'published', published_at = clock_timestamp(),"
                 "       locked_by = NULL, locked_until = NULL, last_error = NULL"
                 " WHERE id = ANY($1::uuid[]) AND status NOT IN ('published', 'failed')",
                 1, params, NULL, NULL, err);
    return rc < 0 ? rc : 0;
}

int outbox_mark_retry(struct db *db, const char *const *ids, size_t n, const char *error,
                      int base_ms, int max_ms, int give_up_after, struct err *err)
{
    if (n == 0)
        return 0;
    char list[UUID_LIST_MAX], base[16], cap[16], give_up[16], msg[OUTBOX_ERROR_MAX];
    int rc = uuid_array(ids, n, list, sizeof(list), err);
    if (rc)
        return rc;
    snprintf(base, sizeof(base), "%d", base_ms);
    snprintf(cap, sizeof(cap), "%d", max_ms);
    snprintf(give_up, sizeof(give_up), "%d", give_up_after);
    snprintf(msg, sizeof(msg), "%s", error ? error : "publish failed");
    const char *params[] = {list, msg, base, cap, give_up};
    /* Equal jitter, as in retry.c: half the backoff fixed, half random. */
    rc = db_exec(db,
                 "UPDATE outbox SET attempts = attempts + 1, last_error = $2,"
                 "       locked_by = NULL, locked_until = NULL,"
                 "       status = CASE WHEN $5::int > 0 AND attempts + 1 >= $5::int"
                 "                     THEN 'failed' ELSE 'pending' END,"
                 "       next_attempt_at = clock_timestamp() + make_interval(secs =>"
                 "           least($4::float8, $3::float8 * power(2, least(attempts, 30)))"
                 "           * (0.5 + random() / 2) / 1000.0)"
                 " WHERE id = ANY($1::uuid[]) AND status NOT IN ('published', 'failed')",
                 5, params, NULL, NULL, err);
    return rc < 0 ? rc : 0;
}

int outbox_renew_leases(struct db *db, const char *instance, const char *const *ids, size_t n,
                        int lease_ms, struct err *err)
{
    if (n == 0)
        return 0;
    char list[UUID_LIST_MAX], lease[16];
    int rc = uuid_array(ids, n, list, sizeof(list), err);
    if (rc)
        return rc;
    snprintf(lease, sizeof(lease), "%d", lease_ms);
    const char *params[] = {list, instance, lease};
    return db_exec(
        db,
        "UPDATE outbox"
        "   SET locked_until = clock_timestamp() + make_interval(secs => $3::int / 1000.0)"
        " WHERE id = ANY($1::uuid[]) AND locked_by = $2"
        "   AND status NOT IN ('published', 'failed')",
        3, params, NULL, NULL, err);
}

int outbox_release_leases(struct db *db, const char *instance, struct err *err)
{
    const char *params[] = {instance};
    int rc = db_exec(db,
                     "UPDATE outbox SET locked_by = NULL, locked_until = NULL"
                     " WHERE locked_by = $1 AND status = 'pending'",
                     1, params, NULL, NULL, err);
    return rc < 0 ? rc : 0;
}

struct stats_ctx {
    int64_t pending;
    double oldest;
};

static int stats_row(void *vctx, const struct db_row *row, struct err *err)
{
    struct stats_ctx *s = vctx;
    const char *age = db_row_text(row, 1);
    if (db_row_int64(row, 0, &s->pending))
        return err_set(err, ERR_INTERNAL, "unexpected outbox stats row");
    s->oldest = age ? strtod(age, NULL) : 0.0;
    return 0;
}

int outbox_stats(struct db *db, int64_t *pending, double *oldest_age_s, struct err *err)
{
    struct stats_ctx s = {0, 0.0};
    int rc = db_exec(
        db,
        "SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)"
        "  FROM outbox WHERE status = 'pending'",
        0, NULL, stats_row, &s, err);
    if (rc < 0)
        return rc;
    *pending = s.pending;
    *oldest_age_s = s.oldest;
    return 0;
}

int outbox_purge_published(struct db *db, int hours, int batch, struct err *err)
{
    char h[16], b[16];
    snprintf(h, sizeof(h), "%d", hours);
    snprintf(b, sizeof(b), "%d", batch);
    const char *params[] = {h, b};
    return db_exec(db,
                   "DELETE FROM outbox WHERE id IN ("
                   "  SELECT id FROM outbox WHERE status = 'published'"
                   "     AND published_at < clock_timestamp() - make_interval(hours => $1::int)"
                   "   LIMIT $2::int FOR UPDATE SKIP LOCKED)",
                   2, params, NULL, NULL, err);
}

int outbox_requeue(struct db *db, const char *id, struct err *err)
{
    const char *params[] = {id};
    return db_exec(
        db,
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = clock_timestamp(),"
        "       locked_by = NULL, locked_until = NULL"
        " WHERE id = $1::uuid AND status = 'failed'",
        1, params, NULL, NULL, err);
}
