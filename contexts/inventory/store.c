/*
 * store.c - every SQL statement of inventory (see store.h). Parameters are
 * always bound ($1…, text), never spliced; rows are copied out in callbacks.
 * The only file of the context that talks SQL.
 */
#include "inventory/store.h"

#include "common/db.h"
#include "common/uuid7.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A movement's time as we hand it out: RFC 3339, UTC, microseconds. */
#define AT_RFC3339 "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* ---- stock ---------------------------------------------------------------------- */

int stock_store_insert(struct db *db, const struct stock *s, const char *event_id, struct err *err)
{
    char capacity[24], available[24];
    snprintf(capacity, sizeof(capacity), "%" PRId64, s->capacity);
    snprintf(available, sizeof(available), "%" PRId64, s->available);
    const char *params[] = {s->offering_id, capacity, available, event_id};
    return db_exec(db,
                   "INSERT INTO stock (offering_id, capacity, available, reserved, sold, event_id)"
                   " VALUES ($1::uuid, $2::bigint, $3::bigint, 0, 0, $4::uuid)"
                   " ON CONFLICT (offering_id) DO NOTHING",
                   4, params, NULL, NULL, err);
}

static int stock_row(void *ctx, const struct db_row *row, struct err *err)
{
    struct stock *s = ctx;
    memset(s, 0, sizeof(*s));
    if (db_row_copy_text(row, 0, s->offering_id, sizeof(s->offering_id)) ||
        db_row_int64(row, 1, &s->capacity) || db_row_int64(row, 2, &s->available) ||
        db_row_int64(row, 3, &s->reserved) || db_row_int64(row, 4, &s->sold))
        return err_set(err, ERR_INTERNAL, "unreadable stock row");
    return 0;
}

#define STOCK_SELECT                                                                               \
    "SELECT offering_id, capacity, available, reserved, sold FROM stock WHERE offering_id = "      \
    "$1::uuid"

int stock_store_find(struct db *db, const char *offering_id, struct stock *out, struct err *err)
{
    const char *params[] = {offering_id};
    return db_exec(db, STOCK_SELECT, 1, params, stock_row, out, err);
}

int stock_store_lock(struct db *db, const char *offering_id, struct stock *out, struct err *err)
{
    const char *params[] = {offering_id};
    return db_exec(db, STOCK_SELECT " FOR UPDATE", 1, params, stock_row, out, err);
}

static int seq_row(void *ctx, const struct db_row *row, struct err *err)
{
    if (db_row_int64(row, 0, ctx))
        return err_set(err, ERR_INTERNAL, "unreadable stock version");
    return 0;
}

int stock_store_update(struct db *db, const struct stock *s, int64_t *seq_out, struct err *err)
{
    char available[24], reserved[24], sold[24];
    snprintf(available, sizeof(available), "%" PRId64, s->available);
    snprintf(reserved, sizeof(reserved), "%" PRId64, s->reserved);
    snprintf(sold, sizeof(sold), "%" PRId64, s->sold);
    const char *params[] = {s->offering_id, available, reserved, sold};
    int rc = db_exec(db,
                     "UPDATE stock SET available = $2::bigint, reserved = $3::bigint,"
                     " sold = $4::bigint, version = version + 1, updated_at = clock_timestamp()"
                     " WHERE offering_id = $1::uuid RETURNING version",
                     4, params, seq_row, seq_out, err);
    return err_if_none(rc, err, ERR_NOT_FOUND, "no stock for offering '%s'", s->offering_id);
}

/* ---- movements -------------------------------------------------------------------- */

int stock_store_insert_movement(struct db *db, const char *offering_id, int64_t seq,
                                const struct stock_movement *m, const char *event_id,
                                struct err *err)
{
    char id[UUID7_STR_LEN];
    if (uuid7_generate(id) != 0)
        return err_set(err, ERR_INTERNAL, "no randomness for a movement id");
    char n[8][24];
    const int64_t values[] = {seq,
                              m->quantity,
                              m->before.available,
                              m->before.reserved,
                              m->before.sold,
                              m->after.available,
                              m->after.reserved,
                              m->after.sold};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        snprintf(n[i], sizeof(n[i]), "%" PRId64, values[i]);
    const char *kind = stock_movement_kind_name(m->kind);
    const char *params[] = {id,   offering_id, n[0], kind, n[1], m->booking_id, event_id,
                            n[2], n[3],        n[4], n[5], n[6], n[7]}; /* levels: before, after */
    return db_write(db,
                    "INSERT INTO movements (id, offering_id, seq, kind, quantity, booking_id,"
                    " event_id, available_before, reserved_before, sold_before,"
                    " available_after, reserved_after, sold_after)"
                    " VALUES ($1::uuid, $2::uuid, $3::bigint, $4, $5::bigint, $6::uuid, $7::uuid,"
                    " $8::bigint, $9::bigint, $10::bigint, $11::bigint, $12::bigint, $13::bigint)",
                    13, params, err);
}

static int parse_kind(const char *text, enum stock_movement_kind *out)
{
    static const enum stock_movement_kind all[] = {STOCK_MOVEMENT_RESERVE, STOCK_MOVEMENT_RELEASE,
                                                   STOCK_MOVEMENT_SALE, STOCK_MOVEMENT_RETURN};
    for (size_t i = 0; text && i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(text, stock_movement_kind_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -1;
}

struct movement_list {
    stock_store_movement_fn fn;
    void *ctx;
};

static int movement_row(void *ctx, const struct db_row *row, struct err *err)
{
    const struct movement_list *list = ctx;
    struct stock_movement_record rec;
    memset(&rec, 0, sizeof(rec));
    struct stock_movement *m = &rec.movement;
    if (db_row_copy_text(row, 0, rec.id, sizeof(rec.id)) || db_row_int64(row, 1, &rec.seq) ||
        parse_kind(db_row_text(row, 2), &m->kind) != 0 || db_row_int64(row, 3, &m->quantity) ||
        db_row_copy_text(row, 4, m->booking_id, sizeof(m->booking_id)) ||
        db_row_copy_text(row, 5, rec.event_id, sizeof(rec.event_id)) ||
        db_row_int64(row, 6, &m->before.available) || db_row_int64(row, 7, &m->before.reserved) ||
        db_row_int64(row, 8, &m->before.sold) || db_row_int64(row, 9, &m->after.available) ||
        db_row_int64(row, 10, &m->after.reserved) || db_row_int64(row, 11, &m->after.sold) ||
        db_row_copy_text(row, 12, rec.at, sizeof(rec.at)))
        return err_set(err, ERR_INTERNAL, "unreadable movement row");
    return list->fn(list->ctx, &rec, err);
}

int stock_store_list_movements(struct db *db, const char *offering_id, int64_t after_seq,
                               int64_t limit, stock_store_movement_fn fn, void *ctx,
                               struct err *err)
{
    struct movement_list list = {fn, ctx};
    char after[24], max[24];
    snprintf(after, sizeof(after), "%lld", (long long)after_seq);
    snprintf(max, sizeof(max), "%lld", (long long)limit);
    const char *params[] = {offering_id, after, max};
    return db_exec(db,
                   "SELECT id, seq, kind, quantity, booking_id, event_id,"
                   " available_before, reserved_before, sold_before,"
                   " available_after, reserved_after, sold_after, " AT_RFC3339
                   " FROM movements WHERE offering_id = $1::uuid AND seq > $2::bigint"
                   " ORDER BY seq LIMIT $3::bigint",
                   3, params, movement_row, &list, err);
}

/* ---- refusals ----------------------------------------------------------------------- */

int stock_store_insert_refusal(struct db *db, const struct stock_event *ev, const char *reason,
                               const char *event_id, struct err *err)
{
    char quantity[24], available[24];
    snprintf(quantity, sizeof(quantity), "%" PRId64, ev->quantity);
    snprintf(available, sizeof(available), "%" PRId64, ev->available);
    const char *params[] = {ev->booking_id, ev->offering_id, quantity, reason, available, event_id};
    return db_write(db,
                    "INSERT INTO refusals (booking_id, offering_id, quantity, reason, available,"
                    " event_id) VALUES ($1::uuid, $2::uuid, $3::bigint, $4, $5::bigint, $6::uuid)",
                    6, params, err);
}

int stock_store_booking_answered(struct db *db, const char *booking_id, struct err *err)
{
    const char *params[] = {booking_id};
    return db_exec(db,
                   "SELECT 1 WHERE EXISTS (SELECT 1 FROM reservations WHERE booking_id = $1::uuid)"
                   "  OR EXISTS (SELECT 1 FROM refusals WHERE booking_id = $1::uuid)"
                   "  OR EXISTS (SELECT 1 FROM expirations WHERE booking_id = $1::uuid)",
                   1, params, NULL, NULL, err);
}

/* ---- expirations ------------------------------------------------------------------- */

int expiration_store_insert(struct db *db, const char *booking_id, const char *offering_id,
                            const char *event_id, struct err *err)
{
    const char *params[] = {booking_id, offering_id, event_id};
    return db_exec(db,
                   "INSERT INTO expirations (booking_id, offering_id, event_id)"
                   " VALUES ($1::uuid, $2::uuid, $3::uuid) ON CONFLICT (booking_id) DO NOTHING",
                   3, params, NULL, NULL, err);
}

int expiration_store_exists(struct db *db, const char *booking_id, struct err *err)
{
    const char *params[] = {booking_id};
    return db_exec(db, "SELECT 1 FROM expirations WHERE booking_id = $1::uuid", 1, params, NULL,
                   NULL, err);
}

/* ---- reservations ------------------------------------------------------------------- */

static int reservation_row(void *ctx, const struct db_row *row, struct err *err)
{
    struct reservation *r = ctx;
    memset(r, 0, sizeof(*r));
    if (db_row_copy_text(row, 0, r->booking_id, sizeof(r->booking_id)) ||
        db_row_copy_text(row, 1, r->offering_id, sizeof(r->offering_id)) ||
        db_row_int64(row, 2, &r->quantity))
        return err_set(err, ERR_INTERNAL, "unreadable reservation row");
    if (reservation_status_parse(db_row_text(row, 3), &r->status, err) != 0)
        return err_set(err, ERR_INTERNAL, "reservation of booking '%s': %s", r->booking_id,
                       err->msg);
    return 0;
}

int reservation_store_find(struct db *db, const char *booking_id, bool lock,
                           struct reservation *out, struct err *err)
{
    const char *params[] = {booking_id};
    return db_exec(db,
                   lock ? "SELECT booking_id, offering_id, quantity, status"
                          " FROM reservations WHERE booking_id = $1::uuid FOR UPDATE"
                        : "SELECT booking_id, offering_id, quantity, status"
                          " FROM reservations WHERE booking_id = $1::uuid",
                   1, params, reservation_row, out, err);
}

int reservation_store_insert(struct db *db, const struct reservation *r, const char *event_id,
                             struct err *err)
{
    char quantity[24];
    snprintf(quantity, sizeof(quantity), "%" PRId64, r->quantity);
    const char *params[] = {r->booking_id, r->offering_id, quantity,
                            reservation_status_name(r->status), event_id};
    return db_write(db,
                    "INSERT INTO reservations (booking_id, offering_id, quantity, status,"
                    " event_id) VALUES ($1::uuid, $2::uuid, $3::bigint, $4, $5::uuid)",
                    5, params, err);
}

int reservation_store_update(struct db *db, const struct reservation *r, const char *event_id,
                             struct err *err)
{
    const char *params[] = {r->booking_id, reservation_status_name(r->status), event_id};
    int rc = db_exec(db,
                     "UPDATE reservations SET status = $2, settled_by = $3::uuid,"
                     " updated_at = clock_timestamp() WHERE booking_id = $1::uuid",
                     3, params, NULL, NULL, err);
    return err_if_none(rc, err, ERR_NOT_FOUND, "no reservation for booking '%s'", r->booking_id);
}
