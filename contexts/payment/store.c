/*
 * store.c - the SQL of payment (see store.h). Statements name the table
 * unqualified: the connection's search_path is the payment schema. Status
 * and reason travel as the domain's names ("intent", "limit_exceeded"), so
 * the table is readable by people and by eventctl.
 */
#include "payment/store.h"

#include <stdio.h>
#include <string.h>

/* The columns every load reads, in the order row_to_record expects. */
#define PAYMENT_COLUMNS                                                                            \
    "id::text, booking_id::text, amount_cents, status, coalesce(reason, ''),"                      \
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"                \
    " coalesce(to_char(decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '')"

static int row_to_record(const struct db_row *row, struct payment_record *rec, struct err *err)
{
    memset(rec, 0, sizeof(*rec));
    struct payment *p = &rec->payment;
    if (db_row_copy_text(row, 0, p->id, sizeof(p->id)) ||
        db_row_copy_text(row, 1, p->booking_id, sizeof(p->booking_id)) ||
        db_row_int64(row, 2, &p->amount_cents) ||
        db_row_copy_text(row, 5, rec->created_at, sizeof(rec->created_at)) ||
        db_row_copy_text(row, 6, rec->decided_at, sizeof(rec->decided_at)))
        return err_set(err, ERR_INTERNAL, "unexpected row in 'payments'");
    int rc = payment_status_parse(db_row_text(row, 3), &p->status, err);
    if (rc == 0)
        rc = payment_reason_parse(db_row_text(row, 4), &p->reason, err);
    if (rc)
        return err_set(err, ERR_INTERNAL, "unexpected row in 'payments': %s", err->msg);
    return 0;
}

static int load_one(void *ctx, const struct db_row *row, struct err *err)
{
    struct payment_record rec;
    int rc = row_to_record(row, &rec, err);
    if (rc == 0)
        *(struct payment *)ctx = rec.payment;
    return rc;
}

int payment_store_insert_intent(struct db *db, const struct payment *p, const char *event_id,
                                struct err *err)
{
    char amount[24];
    snprintf(amount, sizeof(amount), "%lld", (long long)p->amount_cents);
    const char *params[] = {p->id, p->booking_id, amount, event_id};
    /* ON CONFLICT: a second booking.booking.created for the booking is the handler's to judge. */
    return db_exec(db,
                   "INSERT INTO payments (id, booking_id, amount_cents, status, intent_event_id)"
                   " VALUES ($1::uuid, $2::uuid, $3::bigint, 'intent', $4::uuid)"
                   " ON CONFLICT (booking_id) DO NOTHING",
                   4, params, NULL, NULL, err);
}

int payment_store_lock(struct db *db, const char *booking_id, struct payment *out, struct err *err)
{
    const char *params[] = {booking_id};
    return db_exec(
        db, "SELECT " PAYMENT_COLUMNS " FROM payments WHERE booking_id = $1::uuid FOR UPDATE", 1,
        params, load_one, out, err);
}

static int copy_event_id(void *ctx, const struct db_row *row, struct err *err)
{
    if (db_row_copy_text(row, 0, ctx, PAYMENT_ID_LEN))
        return err_set(err, ERR_INTERNAL, "unexpected row in 'charge_joins'");
    return 0;
}

int payment_store_lock_join(struct db *db, const char *booking_id,
                            char reservation_event_id[PAYMENT_ID_LEN], struct err *err)
{
    const char *params[] = {booking_id};
    reservation_event_id[0] = '\0';
    /*
     * Two statements, not an upsert that rewrites the row: a concurrent insert
     * of the same booking makes this one wait for its commit and then insert
     * nothing, and the SELECT that follows (a new snapshot) sees the row and
     * waits for its lock.
     */
    int rc = db_exec(db,
                     "INSERT INTO charge_joins (booking_id) VALUES ($1::uuid)"
                     " ON CONFLICT (booking_id) DO NOTHING",
                     1, params, NULL, NULL, err);
    if (rc < 0)
        return rc;
    rc = db_exec(db,
                 "SELECT coalesce(reservation_event_id::text, '') FROM charge_joins"
                 " WHERE booking_id = $1::uuid FOR UPDATE",
                 1, params, copy_event_id, reservation_event_id, err);
    if (rc < 0)
        return rc;
    if (rc == 0) /* join rows are never deleted */
        return err_set(err, ERR_TRANSIENT, "join row of booking '%s' vanished after its insert",
                       booking_id);
    return reservation_event_id[0] != '\0';
}

int payment_store_join_expired(struct db *db, const char *booking_id, struct err *err)
{
    const char *params[] = {booking_id};
    return db_exec(db,
                   "SELECT 1 FROM charge_joins WHERE booking_id = $1::uuid"
                   " AND expired_event_id IS NOT NULL",
                   1, params, NULL, NULL, err);
}

int payment_store_record_expiry(struct db *db, const char *booking_id, const char *event_id,
                                struct err *err)
{
    const char *params[] = {booking_id, event_id};
    return db_exec(
        db,
        "UPDATE charge_joins SET expired_event_id = $2::uuid, expired_at = clock_timestamp()"
        " WHERE booking_id = $1::uuid AND expired_event_id IS NULL",
        2, params, NULL, NULL, err);
}

int payment_store_save_expiry(struct db *db, const struct payment *p, const char *event_id,
                              struct err *err)
{
    const char *params[] = {p->id, event_id};
    int rc;
    if (p->status == PAYMENT_VOIDED)
        rc = db_exec(db,
                     "UPDATE payments SET status = 'voided', decided_at = clock_timestamp(),"
                     " decision_event_id = $2::uuid WHERE id = $1::uuid AND status = 'intent'",
                     2, params, NULL, NULL, err);
    else if (p->status == PAYMENT_REFUNDED)
        rc = db_exec(db,
                     "UPDATE payments SET status = 'refunded', refunded_at = clock_timestamp(),"
                     " refund_event_id = $2::uuid WHERE id = $1::uuid AND status = 'succeeded'",
                     2, params, NULL, NULL, err);
    else
        return err_set(err, ERR_INTERNAL, "payment '%s' is %s, not voided or refunded", p->id,
                       payment_status_name(p->status));
    return err_if_none(rc, err, ERR_CONFLICT, "payment '%s' changed before its expiry was saved",
                       p->id);
}

int payment_store_record_reservation(struct db *db, const char *booking_id, const char *event_id,
                                     struct err *err)
{
    const char *params[] = {booking_id, event_id};
    int rc = db_exec(db,
                     "UPDATE charge_joins SET reservation_event_id = $2::uuid,"
                     " reserved_at = clock_timestamp()"
                     " WHERE booking_id = $1::uuid AND reservation_event_id IS NULL",
                     2, params, NULL, NULL, err);
    return err_if_none(rc, err, ERR_CONFLICT, "stock for booking '%s' is already reserved",
                       booking_id);
}

int payment_store_save_decision(struct db *db, const struct payment *p, const char *event_id,
                                struct err *err)
{
    const char *reason = p->reason == PAYMENT_DECLINE_NONE ? NULL : payment_reason_name(p->reason);
    const char *params[] = {p->id, payment_status_name(p->status), reason, event_id};
    int rc = db_exec(db,
                     "UPDATE payments SET status = $2, reason = $3, decided_at = clock_timestamp(),"
                     " decision_event_id = $4::uuid"
                     " WHERE id = $1::uuid AND status = 'intent'",
                     4, params, NULL, NULL, err);
    return err_if_none(rc, err, ERR_CONFLICT, "payment '%s' is no longer an intent", p->id);
}

struct list_ctx {
    payment_store_visit_fn fn;
    void *ctx;
};

static int visit_row(void *ctx, const struct db_row *row, struct err *err)
{
    struct list_ctx *lc = ctx;
    struct payment_record rec;
    int rc = row_to_record(row, &rec, err);
    return rc ? rc : lc->fn(lc->ctx, &rec, err);
}

int payment_store_list_decided(struct db *db, const char *booking_id, payment_store_visit_fn fn,
                               void *ctx, struct err *err)
{
    struct list_ctx lc = {fn, ctx};
    const char *params[] = {booking_id};
    return db_exec(db,
                   "SELECT " PAYMENT_COLUMNS " FROM payments"
                   " WHERE booking_id = $1::uuid AND status <> 'intent' ORDER BY created_at, id",
                   1, params, visit_row, &lc, err);
}
