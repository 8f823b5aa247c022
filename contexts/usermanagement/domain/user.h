/*
 * user.h - the user aggregate: a person with an e-mail address, a display
 * name, the roles they hold and, once they own a provider, how far that
 * provider has come. Pure C (no I/O, no clock, no JSON): routes and handlers
 * hand it values, it decides, and it raises domain events that events.c maps
 * to integration events.
 *
 *   provider_status:  none ──user_grant_role(provider)──▶ pending
 *                          ──user_activate_provider()──▶ active
 *
 * The full diagram and the refused transitions are at the top of user.c.
 * Invariant: the role "provider" is held iff provider_status is not none, and
 * both change only in user.c.
 */
#ifndef USERMANAGEMENT_DOMAIN_USER_H
#define USERMANAGEMENT_DOMAIN_USER_H

#include "common/err.h"
#include "common/uuid7.h"

#include <stdbool.h>
#include <stddef.h>

#define USER_ID_LEN        UUID7_STR_LEN /* a UUID's 36 characters and the terminator */
#define USER_EMAIL_MIN     3             /* bytes: "a@b" is the shortest address shape */
#define USER_EMAIL_MAX     254           /* bytes (RFC 5321's path limit, and the contract's) */
#define USER_NAME_MAX      200           /* bytes (UTF-8), at least 1 */
#define USER_ROLE_NAME_MAX 32            /* bytes, a lowercase name (the contract's bound) */
#define USER_TIME_LEN      40            /* an RFC 3339 UTC time and the terminator */
#define USER_EVENTS_MAX    4             /* the most domain events one transition raises */

/*
 * The roles a user may hold. Listed in the alphabetical order of their names,
 * so walking the enum gives the sorted list the HTTP API promises.
 */
enum user_role {
    USER_ROLE_PROVIDER, /* owns at least one provider in servicecatalog */
    USER_ROLE_COUNT,    /* not a role: the number of roles */
};

enum user_provider_status {
    USER_PROVIDER_NONE,    /* owns no provider (that we know of) */
    USER_PROVIDER_PENDING, /* a provider of theirs was registered, none activated yet */
    USER_PROVIDER_ACTIVE,  /* a provider of theirs was activated: final */
};

struct user {
    char id[USER_ID_LEN];
    char email[USER_EMAIL_MAX + 1]; /* normalised: ASCII letters lowercased */
    char name[USER_NAME_MAX + 1];
    unsigned roles; /* bit (1u << role) for each enum user_role held */
    enum user_provider_status provider_status;
    char created_at[USER_TIME_LEN]; /* set by the store when the row is written; the domain
                                       keeps no clock and never reads it */
};

/* ---- domain events (in-process, free to change; see events.c) ----------- */

enum user_event_kind {
    USER_EVENT_REGISTERED,              /* a user came into being */
    USER_EVENT_ROLE_GRANTED,            /* a role the user did not hold was granted */
    USER_EVENT_PROVIDER_STATUS_CHANGED, /* provider_status moved from → to */
};

/* A domain event: its kind, its details, and a snapshot of the user right after it. */
struct user_event {
    enum user_event_kind kind;
    enum user_role role;                /* USER_EVENT_ROLE_GRANTED */
    enum user_provider_status from, to; /* USER_EVENT_PROVIDER_STATUS_CHANGED */
    struct user user;
};

/* The events one transition raised, in the order they happened. */
struct user_events {
    struct user_event items[USER_EVENTS_MAX];
    size_t n;
};

/* Empties evs. Every transition appends to evs, so one list can gather several. */
void user_events_init(struct user_events *evs);

/* ---- validation rules (pure; ERR_UNPROCESSABLE names the field) --------- */

/*
 * True when email (len bytes) has the shape of an address: USER_EMAIL_MIN..
 * USER_EMAIL_MAX bytes; exactly one '@' with a non-empty local part before
 * it; after it a domain of at least two non-empty labels separated by dots
 * (so no leading, trailing or doubled dot); no NUL, space, control character
 * or DEL anywhere. Anything it accepts also passes the contract's e-mail
 * format (common/contract.h), so a registered event is never poison.
 */
bool user_email_is_valid(const char *email, size_t len);

/*
 * Checks email (len bytes) with user_email_is_valid and writes its normal
 * form into out: ASCII letters lowercased, other bytes kept (so two
 * addresses differing only in ASCII case are the same user). Returns 0, or
 * ERR_UNPROCESSABLE ("field 'email' ...") leaving out "".
 */
int user_normalize_email(const char *email, size_t len, char out[USER_EMAIL_MAX + 1],
                         struct err *err);

/*
 * Checks a display name of len bytes: 1..USER_NAME_MAX bytes and no NUL
 * inside (JSON may carry "\u0000"). Returns 0 or ERR_UNPROCESSABLE.
 */
int user_validate_name(const char *name, size_t len, struct err *err);

/* ---- transitions ----------------------------------------------------------- */

/*
 * (none) → a user with no roles and provider_status none. Fills *u from the
 * arguments (id is a canonical UUID the caller made; email_len and name_len
 * are byte lengths, so a NUL hidden inside is seen), stores the normalised
 * e-mail and appends USER_EVENT_REGISTERED to evs. Returns 0;
 * ERR_UNPROCESSABLE for an e-mail or name breaking a rule; ERR_INVALID for an
 * id that is not 36 characters. On failure nothing is raised and *u is
 * unspecified.
 */
int user_register(struct user *u, const char *id, const char *email, size_t email_len,
                  const char *name, size_t name_len, struct user_events *evs, struct err *err);

/* True when u holds role. */
bool user_has_role(const struct user *u, enum user_role role);

/*
 * Grants role. A role already held changes nothing and raises nothing (a
 * grant is idempotent). Otherwise appends USER_EVENT_ROLE_GRANTED; granting
 * "provider" also moves provider_status none → pending and appends
 * USER_EVENT_PROVIDER_STATUS_CHANGED. Returns 0, or ERR_INVALID for a value
 * outside enum user_role (u unchanged).
 */
int user_grant_role(struct user *u, enum user_role role, struct user_events *evs, struct err *err);

/*
 * pending → active, appending USER_EVENT_PROVIDER_STATUS_CHANGED; active
 * stays active and raises nothing (idempotent). Returns 0, or ERR_TRANSIENT
 * when provider_status is none: a provider can only be activated after it
 * was registered, so its registration has not been handled here yet and the
 * caller should try again later (u unchanged).
 */
int user_activate_provider(struct user *u, struct user_events *evs, struct err *err);

/* ---- names (the strings of the HTTP API, the events and the database) ----- */

/* "provider" (static); "" for a value outside the enum. */
const char *user_role_name(enum user_role role);

/* Parses a role name. Returns 0, or ERR_INVALID for any other text. */
int user_role_parse(const char *name, enum user_role *out, struct err *err);

/* "none", "pending" or "active" (static); "" for a value outside the enum. */
const char *user_provider_status_name(enum user_provider_status status);

/* Parses a provider status name. Returns 0, or ERR_INVALID for any other text. */
int user_provider_status_parse(const char *name, enum user_provider_status *out, struct err *err);

#endif
