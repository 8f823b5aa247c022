/*
 * store.c - every SQL statement of usermanagement (via common/db.h), nothing
 * else. One table, users (migrations/usermanagement/0001_schema.sql): roles
 * live in the user's row as a sorted text[] so that the database can check
 * invariant I1 of domain/user.c (role "provider" held iff provider_status is
 * not 'none') with a plain CHECK.
 */
#include "usermanagement/store.h"

#include "common/db.h"

#include <stdio.h>
#include <string.h>

/* The columns every read returns, in the order user_row() expects. */
#define USER_COLUMNS                                                                               \
    "id::text, email, name, array_to_string(roles, ','), provider_status,"                         \
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* The longest roles text: every role name and a separator each. */
#define USER_ROLES_TEXT_MAX (USER_ROLE_COUNT * (USER_ROLE_NAME_MAX + 1) + 3)

/* Parses "provider,..." (array_to_string output) into a role bit set. */
static int roles_parse(const char *text, unsigned *roles, struct err *err)
{
    *roles = 0;
    while (text && *text) {
        const char *comma = strchr(text, ',');
        size_t len = comma ? (size_t)(comma - text) : strlen(text);
        char name[USER_ROLE_NAME_MAX + 1];
        if (len == 0 || len > USER_ROLE_NAME_MAX)
            return err_set(err, ERR_INTERNAL, "stored roles '%s' do not parse", text);
        memcpy(name, text, len);
        name[len] = '\0';
        enum user_role role;
        if (user_role_parse(name, &role, err) < 0)
            return err_set(err, ERR_INTERNAL, "stored role '%s' is unknown", name);
        *roles |= 1u << role;
        text = comma ? comma + 1 : text + len;
    }
    return 0;
}

/* The role bit set as a PostgreSQL array literal "{a,b}", in enum (= sorted) order. */
static void roles_literal(unsigned roles, char *out, size_t outlen)
{
    size_t len = 0;
    len += (size_t)snprintf(out + len, outlen - len, "{");
    for (unsigned i = 0; i < USER_ROLE_COUNT; i++) {
        if (!(roles & (1u << i)))
            continue;
        /* Role names are [a-z_]+: nothing in them needs quoting in an array literal. */
        len += (size_t)snprintf(out + len, outlen - len, "%s%s", len > 1 ? "," : "",
                                user_role_name((enum user_role)i));
    }
    snprintf(out + len, outlen - len, "}");
}

static int user_row(void *ctx, const struct db_row *row, struct err *err)
{
    struct user *u = ctx;
    memset(u, 0, sizeof(*u));
    if (db_row_copy_text(row, 0, u->id, sizeof(u->id)) < 0 ||
        db_row_copy_text(row, 1, u->email, sizeof(u->email)) < 0 ||
        db_row_copy_text(row, 2, u->name, sizeof(u->name)) < 0 ||
        db_row_copy_text(row, 5, u->created_at, sizeof(u->created_at)) < 0)
        return err_set(err, ERR_INTERNAL, "stored user does not fit its struct");
    if (roles_parse(db_row_text(row, 3), &u->roles, err) < 0)
        return err->code;
    if (user_provider_status_parse(db_row_text(row, 4), &u->provider_status, err) < 0)
        return err_set(err, ERR_INTERNAL, "stored provider status of user '%s' is unknown", u->id);
    return 0;
}

static int created_at_row(void *ctx, const struct db_row *row, struct err *err)
{
    struct user *u = ctx;
    if (db_row_copy_text(row, 0, u->created_at, sizeof(u->created_at)) < 0)
        return err_set(err, ERR_INTERNAL, "created_at of user '%s' does not fit", u->id);
    return 0;
}

int user_store_insert(struct db *db, struct user *u, struct err *err)
{
    char roles[USER_ROLES_TEXT_MAX];
    roles_literal(u->roles, roles, sizeof(roles));
    const char *params[] = {u->id, u->email, u->name, roles,
                            user_provider_status_name(u->provider_status)};
    int rc = db_exec(db,
                     "INSERT INTO users (id, email, name, roles, provider_status)"
                     " VALUES ($1::uuid, $2, $3, $4::text[], $5)"
                     " RETURNING to_char(created_at AT TIME ZONE 'UTC',"
                     " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
                     5, params, created_at_row, u, err);
    /* The id is a fresh uuid7, so the only unique key that can clash is the e-mail. */
    if (rc == ERR_CONFLICT)
        return err_set(err, ERR_CONFLICT, "e-mail '%s' is already registered", u->email);
    if (rc < 0)
        return rc;
    if (rc != 1)
        return err_set(err, ERR_INTERNAL, "insert of user '%s' returned %d rows", u->id, rc);
    return 0;
}

static int user_store_select(struct db *db, const char *sql, const char *id, struct user *u,
                             struct err *err)
{
    const char *params[] = {id};
    int rc = db_exec(db, sql, 1, params, user_row, u, err);
    if (rc < 0)
        return rc;
    return rc > 0 ? 1 : 0;
}

int user_store_get(struct db *db, const char *id, struct user *u, struct err *err)
{
    return user_store_select(db, "SELECT " USER_COLUMNS " FROM users WHERE id = $1::uuid", id, u,
                             err);
}

int user_store_lock(struct db *db, const char *id, struct user *u, struct err *err)
{
    return user_store_select(
        db, "SELECT " USER_COLUMNS " FROM users WHERE id = $1::uuid FOR UPDATE", id, u, err);
}

int user_store_update(struct db *db, const struct user *u, struct err *err)
{
    char roles[USER_ROLES_TEXT_MAX];
    roles_literal(u->roles, roles, sizeof(roles));
    const char *params[] = {u->id, roles, user_provider_status_name(u->provider_status)};
    int rc = db_exec(db,
                     "UPDATE users SET roles = $2::text[], provider_status = $3,"
                     " updated_at = clock_timestamp() WHERE id = $1::uuid",
                     3, params, NULL, NULL, err);
    return err_if_none(rc, err, ERR_NOT_FOUND, "unknown user '%s'", u->id);
}
