/*
 * store.h - every SQL statement of usermanagement, nothing else: users rows in
 * and out of struct user. No rule is decided here (that is domain/user.c);
 * the store only reads, locks and writes what the domain decided.
 *
 * All statements run on the caller's connection and inside the caller's
 * transaction when one is open; names are unqualified (search_path is the
 * schema "usermanagement").
 * Return values follow the store convention of docs/architecture.md: writes
 * 0, look-ups 1 found / 0 not, record-once 1 new / 0 known, lists a count;
 * a negative err code with err filled.
 */
#ifndef USERMANAGEMENT_STORE_H
#define USERMANAGEMENT_STORE_H

#include "common/err.h"
#include "usermanagement/domain/user.h"

struct db;

/*
 * Inserts a new user (from user_register) and sets u->created_at from the
 * database clock. Returns 0; ERR_CONFLICT ("e-mail '<email>' is already
 * registered") when the normalised e-mail is taken; or a database error.
 */
int user_store_insert(struct db *db, struct user *u, struct err *err);

/*
 * Reads user id (a canonical UUID) into *u. Returns 1 when found, 0 when not,
 * or a negative code (ERR_INTERNAL when a stored value does not parse).
 */
int user_store_get(struct db *db, const char *id, struct user *u, struct err *err);

/*
 * Same as user_store_get, and locks the row (SELECT … FOR UPDATE) until the
 * caller's transaction ends, so read-decide-write cannot interleave with
 * another handler or instance working on the same user.
 */
int user_store_lock(struct db *db, const char *id, struct user *u, struct err *err);

/*
 * Writes what a transition may change: roles and provider_status. Returns 0;
 * ERR_NOT_FOUND when the row is gone; ERR_UNPROCESSABLE when the database's
 * CHECKs refuse it (a broken invariant); or a database error.
 */
int user_store_update(struct db *db, const struct user *u, struct err *err);

#endif
