/*
 * store.c - the SQL of the booking context (see store.h). Every statement is
 * parameterised through db_exec; rows are copied out in callbacks, so no
 * result outlives its call. Statuses are stored as their names (the domain's
 * booking_status_name), never as enum numbers, and the schema's CHECKs repeat
 * the domain's invariants as a last line of defence.
 */
#include "booking/store.h"

#include "common/db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns every booking read selects, in the order read_booking expects. */
#define BOOKING_COLUMNS                                                                            \
    "id::text, user_id::text, offering_id::text, quantity, amount_cents, status,"                  \
    " coalesce(reason, '')"

static int read_booking(void *ctx, const struct db_row *row, struct err *err)
{
    struct booking *b = ctx;
    memset(b, 0, sizeof(*b));
    if (db_row_copy_text(row, 0, b->id, sizeof(b->id)) ||
        db_row_copy_text(row, 1, b->user_id, sizeof(b->user_id)) ||
        db_row_copy_text(row, 2, b->offering_id, sizeof(b->offering_id)) ||
        db_row_int64(row, 3, &b->quantity) || db_row_int64(row, 4, &b->amount_cents) ||
        db_row_copy_text(row, 6, b->reason, sizeof(b->reason)))
        return err_set(err, ERR_INTERNAL, "unexpected booking row");
    if (booking_status_parse(db_row_text(row, 5), &b->status, err))
        return err_set(err, ERR_INTERNAL, "booking '%s' has an unknown status '%.32s'", b->id,
                       db_row_text(row, 5));
    return 0;
}

int booking_store_put_offering(struct db *db, const char *offering_id, int64_t price_cents,
                               struct err *err)
{
    char price[24];
    snprintf(price, sizeof(price), "%" PRId64, price_cents);
    const char *params[] = {offering_id, price};
    /* Offerings never change price, so the first copy is the only one. */
    return db_exec(db,
                   "INSERT INTO offerings (offering_id, price_cents) VALUES ($1::uuid, $2::bigint)"
                   " ON CONFLICT (offering_id) DO NOTHING",
                   2, params, NULL, NULL, err);
}

static int read_int64(void *ctx, const struct db_row *row, struct err *err)
{
    if (db_row_int64(row, 0, ctx))
        return err_set(err, ERR_INTERNAL, "unexpected non-integer value");
    return 0;
}

int booking_store_offering_price(struct db *db, const char *offering_id, int64_t *price_cents,
                                 struct err *err)
{
    const char *params[] = {offering_id};
    return db_exec(db, "SELECT price_cents FROM offerings WHERE offering_id = $1::uuid", 1, params,
                   read_int64, price_cents, err);
}

int booking_store_insert(struct db *db, const struct booking *b, int timeout_ms,
                         const char *correlation_id, struct err *err)
{
    char quantity[24], amount[24], timeout[24];
    snprintf(quantity, sizeof(quantity), "%" PRId64, b->quantity);
    snprintf(amount, sizeof(amount), "%" PRId64, b->amount_cents);
    snprintf(timeout, sizeof(timeout), "%d", timeout_ms);
    const char *params[] = {b->id,    b->user_id,    b->offering_id,
                            quantity, amount,        booking_status_name(b->status),
                            timeout,  correlation_id};
    return db_write(
        db,
        "INSERT INTO bookings (id, user_id, offering_id, quantity, amount_cents, status,"
        " deadline, correlation_id)"
        " VALUES ($1::uuid, $2::uuid, $3::uuid, $4::integer, $5::bigint, $6,"
        " clock_timestamp() + $7::integer * interval '1 millisecond', $8)",
        8, params, err);
}

struct overdue_ctx {
    struct booking_store_overdue *out;
    int max, n;
};

static int read_overdue(void *ctx, const struct db_row *row, struct err *err)
{
    struct overdue_ctx *oc = ctx;
    if (oc->n >= oc->max)
        return err_set(err, ERR_INTERNAL, "more overdue bookings than the %d asked for", oc->max);
    struct booking_store_overdue *o = &oc->out[oc->n];
    int rc = read_booking(&o->booking, row, err);
    if (rc)
        return rc;
    if (db_row_copy_text(row, 7, o->correlation_id, sizeof(o->correlation_id)))
        return err_set(err, ERR_INTERNAL, "unexpected correlation id of booking '%s'",
                       o->booking.id);
    oc->n++;
    return 0;
}

int booking_store_pending_at_least(struct db *db, int n, struct err *err)
{
    char limit[16], count[16];
    snprintf(limit, sizeof(limit), "%d", n);
    const char *params[] = {limit};
    int rc = db_exec_value(db,
                           "SELECT count(*) FROM (SELECT 1 FROM bookings WHERE status = 'pending'"
                           "  LIMIT $1::integer) AS pending",
                           1, params, count, sizeof(count), err);
    if (rc < 0)
        return rc;
    return strtol(count, NULL, 10) >= n;
}

int booking_store_lock_overdue(struct db *db, struct booking_store_overdue *out, int max,
                               struct err *err)
{
    char limit[16];
    snprintf(limit, sizeof(limit), "%d", max);
    const char *params[] = {limit};
    struct overdue_ctx oc = {out, max, 0};
    /*
     * SKIP LOCKED: a booking an event handler holds right now is left for the
     * next tick (the handler may be confirming it), and two instances never
     * wait for each other's rows.
     */
    int rc = db_exec(db,
                     "SELECT " BOOKING_COLUMNS ", coalesce(correlation_id, id::text) FROM bookings"
                     " WHERE status = 'pending' AND deadline < clock_timestamp()"
                     " ORDER BY deadline LIMIT $1::integer FOR UPDATE SKIP LOCKED",
                     1, params, read_overdue, &oc, err);
    return rc < 0 ? rc : oc.n;
}

int booking_store_lock(struct db *db, const char *id, struct booking *out, struct err *err)
{
    const char *params[] = {id};
    return db_exec(db, "SELECT " BOOKING_COLUMNS " FROM bookings WHERE id = $1::uuid FOR UPDATE", 1,
                   params, read_booking, out, err);
}

int booking_store_get(struct db *db, const char *id, struct booking *out, struct err *err)
{
    const char *params[] = {id};
    return db_exec(db, "SELECT " BOOKING_COLUMNS " FROM bookings WHERE id = $1::uuid", 1, params,
                   read_booking, out, err);
}

int booking_store_update_status(struct db *db, const struct booking *b, struct err *err)
{
    const char *params[] = {b->id, booking_status_name(b->status), b->reason[0] ? b->reason : NULL};
    int rc = db_exec(db,
                     "UPDATE bookings SET status = $2, reason = $3, updated_at = clock_timestamp()"
                     " WHERE id = $1::uuid",
                     3, params, NULL, NULL, err);
    if (rc == 0)
        return err_set(err, ERR_INTERNAL, "booking '%s' vanished before its update", b->id);
    return rc < 0 ? rc : 0;
}

int booking_store_append_history(struct db *db, const struct booking_event *ev,
                                 const char *event_id, struct err *err)
{
    const char *params[] = {ev->booking.id, booking_status_name(ev->booking.status), ev->cause,
                            event_id};
    return db_write(db,
                    "INSERT INTO booking_history (booking_id, status, event, event_id)"
                    " VALUES ($1::uuid, $2, $3, $4::uuid)",
                    4, params, err);
}

struct history_ctx {
    booking_store_history_fn fn;
    void *ctx;
};

static int read_history(void *ctx, const struct db_row *row, struct err *err)
{
    const struct history_ctx *h = ctx;
    struct booking_store_history_entry entry = {
        .at = db_row_text(row, 0),
        .status = db_row_text(row, 1),
        .event = db_row_text(row, 2),
    };
    return h->fn(h->ctx, &entry, err);
}

int booking_store_list_history(struct db *db, const char *id, booking_store_history_fn fn,
                               void *ctx, struct err *err)
{
    const char *params[] = {id};
    struct history_ctx h = {fn, ctx};
    return db_exec(db,
                   "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
                   " status, event FROM booking_history WHERE booking_id = $1::uuid ORDER BY seq",
                   1, params, read_history, &h, err);
}
