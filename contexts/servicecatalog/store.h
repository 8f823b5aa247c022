/*
 * store.h - every SQL statement of servicecatalog, and nothing else: the
 * replica of known users, providers and offerings (migrations/servicecatalog).
 *
 * Functions take the caller's struct db: inside a route's transaction or a
 * handler's (the consumer's). None begins, commits or decides anything; the
 * domain decides, the store writes what it decided. Tables are named
 * unqualified: the connection's search_path is the servicecatalog schema.
 * Ids are passed as canonical UUID text and come back lowercased.
 * Return values follow the store convention of docs/architecture.md: writes
 * 0, look-ups 1 found / 0 not, record-once 1 new / 0 known, lists a count;
 * a negative err code with err filled.
 */
#ifndef SERVICECATALOG_STORE_H
#define SERVICECATALOG_STORE_H

#include "common/db.h"
#include "common/err.h"
#include "servicecatalog/domain/offering.h"
#include "servicecatalog/domain/provider.h"

#include <stdbool.h>

/* ---- known users (replica filled by usermanagement.user.registered) ------ */

/*
 * Records user_id as known, citing event_id (the event that told us).
 * Idempotent: a user already known is left as it is. Returns 1 when the user
 * was added, 0 when already known, or a negative database error.
 */
int known_user_store_add(struct db *db, const char *user_id, const char *event_id, struct err *err);

/* 1 when user_id is a known user, 0 when not, or a negative database error. */
int known_user_store_exists(struct db *db, const char *user_id, struct err *err);

/* ---- providers ------------------------------------------------------------- */

/*
 * Inserts p (as provider_register() left it) and sets p->created_at from the
 * database clock. Returns 0 or a negative database error (ERR_CONFLICT for a
 * duplicate id, ERR_UNPROCESSABLE when a CHECK or the owner's foreign key
 * refuses the row).
 */
int provider_store_insert(struct db *db, struct provider *p, struct err *err);

/*
 * Loads provider id into *out; with lock, the row is locked FOR UPDATE until
 * the end of the caller's transaction (read-then-write: activation). Returns
 * 1 when found, 0 when not, or a negative error.
 */
int provider_store_get(struct db *db, const char *id, bool lock, struct provider *out,
                       struct err *err);

/*
 * Writes p's status (and, on activation, the time it happened). Returns 0,
 * ERR_NOT_FOUND when the row is gone, or a negative database error.
 */
int provider_store_update_status(struct db *db, const struct provider *p, struct err *err);

/* ---- offerings ------------------------------------------------------------- */

/*
 * Inserts o (as offering_publish() left it) and sets o->created_at. Returns 0
 * or a negative database error (ERR_UNPROCESSABLE when a CHECK or the
 * provider's foreign key refuses the row).
 */
int offering_store_insert(struct db *db, struct offering *o, struct err *err);

/* Loads offering id into *out. Returns 1 when found, 0 when not, or a negative error. */
int offering_store_get(struct db *db, const char *id, struct offering *out, struct err *err);

#endif
