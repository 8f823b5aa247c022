/*
 * store.c - the SQL of servicecatalog (see store.h). Every statement is
 * parameterised through db_exec; results are copied out in row callbacks.
 * Times leave the database as RFC 3339 UTC text, so the API never formats a
 * clock of its own.
 */
#include "servicecatalog/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A timestamptz column as RFC 3339 UTC with microseconds, e.g. 2026-11-23T18:40:01.123456Z. */
#define STORE_RFC3339(col)                                                                         \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* ---- known users ------------------------------------------------------------ */

int known_user_store_add(struct db *db, const char *user_id, const char *event_id, struct err *err)
{
    const char *params[] = {user_id, event_id};
    return db_exec(db,
                   "INSERT INTO known_users (user_id, event_id) VALUES ($1::uuid, $2::uuid)"
                   " ON CONFLICT (user_id) DO NOTHING",
                   2, params, NULL, NULL, err);
}

int known_user_store_exists(struct db *db, const char *user_id, struct err *err)
{
    const char *params[] = {user_id};
    return db_exec(db, "SELECT 1 FROM known_users WHERE user_id = $1::uuid", 1, params, NULL, NULL,
                   err);
}

/* ---- providers ------------------------------------------------------------- */

#define PROVIDER_COLUMNS                                                                           \
    "id, owner_id, business_name, provider_type, status, " STORE_RFC3339("created_at")

static int provider_row(void *ctx, const struct db_row *row, struct err *err)
{
    struct provider *p = ctx;
    const char *status = db_row_text(row, 4);
    int rc;
    if ((rc = db_row_copy_text(row, 0, p->id, sizeof(p->id))) ||
        (rc = db_row_copy_text(row, 1, p->owner_id, sizeof(p->owner_id))) ||
        (rc = db_row_copy_text(row, 2, p->business_name, sizeof(p->business_name))) ||
        (rc = db_row_copy_text(row, 3, p->provider_type, sizeof(p->provider_type))) ||
        (rc = db_row_copy_text(row, 5, p->created_at, sizeof(p->created_at))))
        return err_set(err, rc, "provider row does not fit its struct");
    if (!status)
        return err_set(err, ERR_INTERNAL, "provider '%s' has no status", p->id);
    if (provider_status_parse(status, &p->status, err) != 0)
        return err_set(err, ERR_INTERNAL, "provider '%s' has status '%s'", p->id, status);
    return 0;
}

/* Reads the one text column a RETURNING clause gives back (the created_at). */
_Static_assert(PROVIDER_TIME_LEN == OFFERING_TIME_LEN, "one reader serves both aggregates");
static int created_at_row(void *ctx, const struct db_row *row, struct err *err)
{
    char *out = ctx;
    if (db_row_copy_text(row, 0, out, PROVIDER_TIME_LEN))
        return err_set(err, ERR_INTERNAL, "created_at does not fit");
    return 0;
}

int provider_store_insert(struct db *db, struct provider *p, struct err *err)
{
    const char *params[] = {p->id, p->owner_id, p->business_name, p->provider_type,
                            provider_status_name(p->status)};
    int rc = db_exec(db,
                     "INSERT INTO providers (id, owner_id, business_name, provider_type, status)"
                     " VALUES ($1::uuid, $2::uuid, $3, $4, $5)"
                     " RETURNING " STORE_RFC3339("created_at"),
                     5, params, created_at_row, p->created_at, err);
    return rc < 0 ? rc : 0;
}

int provider_store_get(struct db *db, const char *id, bool lock, struct provider *out,
                       struct err *err)
{
    const char *params[] = {id};
    memset(out, 0, sizeof(*out));
    return db_exec(db,
                   lock ? "SELECT " PROVIDER_COLUMNS
                          " FROM providers WHERE id = $1::uuid FOR UPDATE"
                        : "SELECT " PROVIDER_COLUMNS " FROM providers WHERE id = $1::uuid",
                   1, params, provider_row, out, err);
}

int provider_store_update_status(struct db *db, const struct provider *p, struct err *err)
{
    const char *params[] = {p->id, provider_status_name(p->status)};
    /* activated_at is set once, by the statement that makes the provider active. */
    int rc = db_exec(db,
                     "UPDATE providers SET status = $2,"
                     " activated_at = CASE WHEN $2 = 'active'"
                     "   THEN coalesce(activated_at, clock_timestamp()) END"
                     " WHERE id = $1::uuid",
                     2, params, NULL, NULL, err);
    return err_if_none(rc, err, ERR_NOT_FOUND, "provider '%s' not found", p->id);
}

/* ---- offerings ------------------------------------------------------------- */

#define OFFERING_COLUMNS                                                                           \
    "id, provider_id, name, price_cents, capacity, " STORE_RFC3339("created_at")

static int offering_row(void *ctx, const struct db_row *row, struct err *err)
{
    struct offering *o = ctx;
    int rc;
    if ((rc = db_row_copy_text(row, 0, o->id, sizeof(o->id))) ||
        (rc = db_row_copy_text(row, 1, o->provider_id, sizeof(o->provider_id))) ||
        (rc = db_row_copy_text(row, 2, o->name, sizeof(o->name))) ||
        (rc = db_row_int64(row, 3, &o->price_cents)) || (rc = db_row_int64(row, 4, &o->capacity)) ||
        (rc = db_row_copy_text(row, 5, o->created_at, sizeof(o->created_at))))
        return err_set(err, rc, "offering row does not fit its struct");
    o->status = OFFERING_PUBLISHED;
    return 0;
}

int offering_store_insert(struct db *db, struct offering *o, struct err *err)
{
    char price[24], capacity[24];
    snprintf(price, sizeof(price), "%" PRId64, o->price_cents);
    snprintf(capacity, sizeof(capacity), "%" PRId64, o->capacity);
    const char *params[] = {o->id, o->provider_id, o->name, price, capacity};
    int rc = db_exec(db,
                     "INSERT INTO offerings (id, provider_id, name, price_cents, capacity)"
                     " VALUES ($1::uuid, $2::uuid, $3, $4::bigint, $5::bigint)"
                     " RETURNING " STORE_RFC3339("created_at"),
                     5, params, created_at_row, o->created_at, err);
    return rc < 0 ? rc : 0;
}

int offering_store_get(struct db *db, const char *id, struct offering *out, struct err *err)
{
    const char *params[] = {id};
    memset(out, 0, sizeof(*out));
    return db_exec(db, "SELECT " OFFERING_COLUMNS " FROM offerings WHERE id = $1::uuid", 1, params,
                   offering_row, out, err);
}
