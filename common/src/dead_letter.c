/*
 * dead_letter.c - the dead_letter table's one owner (see dead_letter.h and
 * the diagram in migrations/<context>/0003_dead_letters_and_traces.sql):
 *
 *   (none)   → recorded        dead_letter_record (poison, before the ack: D1)
 *   recorded → recorded        dead_letter_record (the same letter again: deliveries + 1)
 *   recorded → copy leased     dead_letter_claim_copies
 *   leased   → dead_lettered   dead_letter_mark_copied (after the broker's confirm: D3)
 *   any      → deleted         dead_letter_delete (an operator's decision: eventctl purge)
 */
#include "common/dead_letter.h"

#include "common/db.h"
#include "common/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *hex_encode(const char *body, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *hex = malloc(2 * len + 1);
    if (!hex)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)body[i];
        hex[2 * i] = digits[b >> 4];
        hex[2 * i + 1] = digits[b & 0x0f];
    }
    hex[2 * len] = '\0';
    return hex;
}

int dead_letter_record(struct db *db, const struct dead_letter *dl, struct err *err)
{
    size_t kept = dl->len < DEAD_LETTER_BODY_MAX ? dl->len : DEAD_LETTER_BODY_MAX;
    char *hex = hex_encode(dl->body ? dl->body : "", dl->body ? kept : 0);
    if (!hex)
        return err_set(err, ERR_NOMEM, "out of memory recording a dead letter");
    char message_id[DEAD_LETTER_TEXT_MAX + 1], routing_key[DEAD_LETTER_TEXT_MAX + 1];
    char type[DEAD_LETTER_TEXT_MAX + 1], correlation_id[DEAD_LETTER_TEXT_MAX + 1];
    char reason[DEAD_LETTER_REASON_MAX], size[24], attempts[16];
    log_sanitize_utf8(message_id, sizeof(message_id), dl->message_id);
    log_sanitize_utf8(routing_key, sizeof(routing_key), dl->routing_key);
    log_sanitize_utf8(type, sizeof(type), dl->type);
    log_sanitize_utf8(correlation_id, sizeof(correlation_id), dl->correlation_id);
    log_sanitize_utf8(reason, sizeof(reason), dl->reason && *dl->reason ? dl->reason : "poison");
    snprintf(size, sizeof(size), "%zu", dl->len);
    snprintf(attempts, sizeof(attempts), "%d", dl->attempts);
    const char *params[] = {message_id,
                            routing_key,
                            dl->type ? type : NULL,
                            dl->correlation_id ? correlation_id : NULL,
                            dl->headers_json ? dl->headers_json : "{}",
                            hex,
                            size,
                            reason,
                            attempts};
    /*
     * The fingerprint is the message id and the whole stored body: a
     * redelivery of the same letter (the ack was lost) counts, not doubles
     * (D1). xmax = 0 tells a fresh insert from an update.
     */
    char fresh[8] = "";
    int rc =
        db_exec_value(db,
                      "INSERT INTO dead_letter AS d (fingerprint, message_id, routing_key, type,"
                      "       correlation_id, headers, body, body_size, reason, attempts)"
                      " VALUES (md5($1 || ':' || $7 || ':' || $6), $1, $2, $3, $4, $5::jsonb,"
                      "         decode($6, 'hex'), $7::bigint, $8, $9::int)"
                      " ON CONFLICT (fingerprint) DO UPDATE"
                      "   SET deliveries = d.deliveries + 1, last_seen_at = clock_timestamp()"
                      " RETURNING (xmax = 0)::text",
                      9, params, fresh, sizeof(fresh), err);
    free(hex);
    if (rc < 0)
        return rc;
    return strcmp(fresh, "true") == 0;
}

struct copies_ctx {
    struct dead_letter_copy *rows;
    size_t n;
};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes hexlen hex digits into out (hexlen / 2 + 1 bytes), NUL-terminated. Returns 0 or -1. */
static int hex_decode(const char *hex, size_t hexlen, char *out, size_t *len)
{
    *len = 0;
    for (size_t i = 0; i + 1 < hexlen; i += 2) {
        int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[(*len)++] = (char)(hi << 4 | lo);
    }
    out[*len] = '\0';
    return 0;
}

/* Columns: id, message_id, routing_key, reason, body (bytea, text form "\x…"), body_size, attempts. */
static int read_copy(void *vctx, const struct db_row *row, struct err *err)
{
    struct copies_ctx *c = vctx;
    struct dead_letter_copy *r = &c->rows[c->n];
    memset(r, 0, sizeof(*r));
    int64_t attempts;
    const char *reason = db_row_text(row, 3), *hex = db_row_text(row, 4);
    if (db_row_int64(row, 0, &r->id) || db_row_int64(row, 5, &r->body_size) ||
        db_row_int64(row, 6, &attempts) || !reason || !hex || strncmp(hex, "\\x", 2) != 0)
        return err_set(err, ERR_INTERNAL, "unexpected dead_letter row");
    db_row_copy_text(row, 1, r->message_id, sizeof(r->message_id));
    db_row_copy_text(row, 2, r->routing_key, sizeof(r->routing_key));
    r->attempts = (int)attempts;
    hex += 2;
    size_t hexlen = strlen(hex);
    r->reason = strdup(reason);
    r->body = malloc(hexlen / 2 + 1);
    c->n++; /* counted before the checks below, so dead_letter_copies_release frees it */
    if (!r->reason || !r->body)
        return err_set(err, ERR_NOMEM, "out of memory reading dead letters");
    if (hex_decode(hex, hexlen, r->body, &r->len))
        return err_set(err, ERR_INTERNAL, "unexpected bytea text in dead_letter");
    return 0;
}

int dead_letter_claim_copies(struct db *db, int max, int lease_ms, struct dead_letter_copy *rows,
                             size_t *n, struct err *err)
{
    *n = 0;
    char limit[16], lease[16];
    snprintf(limit, sizeof(limit), "%d", max > 0 ? max : 1);
    snprintf(lease, sizeof(lease), "%d", lease_ms);
    const char *params[] = {limit, lease};
    struct copies_ctx c = {rows, 0};
    int rc = db_exec(
        db,
        "UPDATE dead_letter d"
        "   SET copy_due_at = clock_timestamp() + make_interval(secs => $2::int / 1000.0)"
        " WHERE d.id = ANY (ARRAY("
        "   SELECT id FROM dead_letter"
        "    WHERE dead_lettered_at IS NULL AND copy_due_at <= clock_timestamp()"
        "    ORDER BY copy_due_at LIMIT $1::int FOR UPDATE SKIP LOCKED))"
        " RETURNING d.id, d.message_id, d.routing_key, d.reason, d.body, d.body_size, d.attempts",
        2, params, read_copy, &c, err);
    if (rc < 0) {
        dead_letter_copies_release(rows, c.n);
        return rc;
    }
    *n = c.n;
    return 0;
}

void dead_letter_copies_release(struct dead_letter_copy *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rows[i].reason);
        free(rows[i].body);
        rows[i].reason = NULL;
        rows[i].body = NULL;
    }
}

int dead_letter_mark_copied(struct db *db, int64_t id, struct err *err)
{
    char text[24];
    snprintf(text, sizeof(text), "%" PRId64, id);
    const char *params[] = {text};
    int rc = db_exec(
        db, "UPDATE dead_letter SET dead_lettered_at = clock_timestamp() WHERE id = $1::bigint", 1,
        params, NULL, NULL, err);
    return rc < 0 ? rc : 0;
}

#define DEAD_LETTER_TIME_SQL(col)                                                                  \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

struct list_ctx {
    dead_letter_row_fn fn;
    void *ctx;
};

/* Columns: id, message_id, routing_key, type, correlation_id, reason, first_seen_at,
 * last_seen_at, attempts, deliveries, body_size. */
static int list_row(void *vctx, const struct db_row *row, struct err *err)
{
    struct list_ctx *l = vctx;
    struct dead_letter_row r = {0};
    const char **text[] = {&r.message_id, &r.routing_key,   &r.type,        &r.correlation_id,
                           &r.reason,     &r.first_seen_at, &r.last_seen_at};
    for (int i = 0; i < 7; i++) {
        const char *v = db_row_text(row, i + 1);
        *text[i] = v ? v : "";
    }
    if (db_row_int64(row, 0, &r.id) || db_row_int64(row, 8, &r.attempts) ||
        db_row_int64(row, 9, &r.deliveries) || db_row_int64(row, 10, &r.body_size))
        return err_set(err, ERR_INTERNAL, "unexpected dead_letter row");
    return l->fn(l->ctx, &r, err);
}

int dead_letter_list(struct db *db, dead_letter_row_fn fn, void *ctx, struct err *err)
{
    struct list_ctx l = {fn, ctx};
    return db_exec(
        db,
        "SELECT id, message_id, routing_key, type, correlation_id, reason,"
        "       " DEAD_LETTER_TIME_SQL(
            "first_seen_at") ","
                             "       " DEAD_LETTER_TIME_SQL(
                                 "last_seen_at") ", attempts, deliveries, body_size"
                                                 "  FROM dead_letter ORDER BY first_seen_at, id",
        0, NULL, list_row, &l, err);
}

struct body_ctx {
    char *body;
    size_t len;
};

/* Column 0: the body as hex text (encode(body, 'hex')). */
static int body_row(void *vctx, const struct db_row *row, struct err *err)
{
    struct body_ctx *b = vctx;
    const char *hex = db_row_text(row, 0);
    size_t hexlen = hex ? strlen(hex) : 0;
    free(b->body);
    b->len = 0;
    b->body = malloc(hexlen / 2 + 1);
    if (!b->body)
        return err_set(err, ERR_NOMEM, "out of memory reading a dead letter");
    if (hex_decode(hex ? hex : "", hexlen, b->body, &b->len))
        return err_set(err, ERR_INTERNAL, "unexpected hex text in dead_letter");
    return 0;
}

int dead_letter_body(struct db *db, int64_t id, char **body, size_t *len, struct err *err)
{
    *body = NULL;
    *len = 0;
    char text[24];
    snprintf(text, sizeof(text), "%" PRId64, id);
    const char *params[] = {text};
    struct body_ctx b = {NULL, 0};
    int rc = db_exec(db, "SELECT encode(body, 'hex') FROM dead_letter WHERE id = $1::bigint", 1,
                     params, body_row, &b, err);
    if (rc <= 0) {
        free(b.body);
        return rc;
    }
    *body = b.body;
    *len = b.len;
    return 1;
}

int dead_letter_delete(struct db *db, int64_t id, struct err *err)
{
    char text[24];
    snprintf(text, sizeof(text), "%" PRId64, id);
    const char *params[] = {text};
    return db_exec(db, "DELETE FROM dead_letter WHERE id = $1::bigint", 1, params, NULL, NULL, err);
}
