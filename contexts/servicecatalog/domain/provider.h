/*
 * provider.h - the provider aggregate: a business a known user registers and
 * later activates. Pure C (no I/O, no clock, no JSON): the routes hand it
 * values, it decides, and it raises domain events that events.c maps to
 * integration events.
 *
 *   (none) ──provider_register()──▶ registered ──provider_activate()──▶ active
 *
 * The full diagram and the refused transitions are at the top of provider.c.
 * Invariant: a provider's status changes only in provider.c.
 */
#ifndef SERVICECATALOG_DOMAIN_PROVIDER_H
#define SERVICECATALOG_DOMAIN_PROVIDER_H

#include "common/err.h"
#include "common/uuid7.h"

#include <stdbool.h>
#include <stddef.h>

#define PROVIDER_ID_LEN            UUID7_STR_LEN /* a UUID's 36 characters and the terminator */
#define PROVIDER_BUSINESS_NAME_MAX 200           /* bytes (UTF-8), at least 1 */
#define PROVIDER_TYPE_MAX          64            /* bytes, a lowercase name [a-z][a-z0-9_]* */
#define PROVIDER_TIME_LEN          40            /* an RFC 3339 UTC time and the terminator */

enum provider_status {
    PROVIDER_REGISTERED, /* stored and announced; not yet active */
    PROVIDER_ACTIVE,     /* activated: final */
};

struct provider {
    char id[PROVIDER_ID_LEN];
    char owner_id[PROVIDER_ID_LEN]; /* a user known from usermanagement.user.registered */
    char business_name[PROVIDER_BUSINESS_NAME_MAX + 1];
    char provider_type[PROVIDER_TYPE_MAX + 1];
    enum provider_status status;
    char created_at[PROVIDER_TIME_LEN]; /* set by the store when the row is written; the
                                           domain keeps no clock and never reads it */
};

/* ---- domain events (in-process, free to change; see events.c) ----------- */

enum provider_event_kind {
    PROVIDER_EVENT_REGISTERED, /* a provider came into being */
    PROVIDER_EVENT_ACTIVATED,  /* registered → active */
};

/* A domain event: the kind and a snapshot of the provider right after it. */
struct provider_event {
    enum provider_event_kind kind;
    struct provider provider;
};

/* ---- validation rules (pure; ERR_UNPROCESSABLE names the field) --------- */

/*
 * Checks a business name of len bytes: 1..PROVIDER_BUSINESS_NAME_MAX, no NUL
 * inside (JSON may carry "\u0000"). Returns 0 or ERR_UNPROCESSABLE.
 */
int provider_validate_business_name(const char *name, size_t len, struct err *err);

/*
 * Checks a provider type of len bytes: 1..PROVIDER_TYPE_MAX and a lowercase
 * name [a-z][a-z0-9_]* (the contract's name format). Returns 0 or
 * ERR_UNPROCESSABLE.
 */
int provider_validate_type(const char *type, size_t len, struct err *err);

/* ---- transitions ----------------------------------------------------------- */

/*
 * (none) → registered. Fills *p from the arguments (id and owner_id are
 * canonical UUIDs the caller checked; name_len and type_len are the byte
 * lengths of the strings, which may hold a NUL that would otherwise hide)
 * and raises PROVIDER_EVENT_REGISTERED into *ev. owner_known says whether
 * the owner is in the replica of users: only a known user may own a
 * provider. Returns 0; ERR_UNPROCESSABLE for a value breaking a rule or an
 * unknown owner ("unknown owner '<id>'"); ERR_INVALID for an id that does
 * not fit. On failure *p and *ev are unspecified and nothing is raised.
 */
int provider_register(struct provider *p, const char *id, const char *owner_id, bool owner_known,
                      const char *business_name, size_t name_len, const char *provider_type,
                      size_t type_len, struct provider_event *ev, struct err *err);

/*
 * registered → active. Raises PROVIDER_EVENT_ACTIVATED into *ev. Returns 0,
 * or ERR_CONFLICT when p is already active (activation happens once: a
 * second one is refused, never repeated silently), leaving p unchanged.
 */
int provider_activate(struct provider *p, struct provider_event *ev, struct err *err);

/* ---- status names (the strings of the HTTP API and the database) ---------- */

/* "registered" or "active" (static). */
const char *provider_status_name(enum provider_status status);

/* Parses a status name. Returns 0, or ERR_INVALID for any other text. */
int provider_status_parse(const char *name, enum provider_status *out, struct err *err);

#endif
