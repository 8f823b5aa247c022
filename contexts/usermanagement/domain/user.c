/*
 * user.c - the user aggregate's rules and its one state machine, the
 * provider status. Pure: no I/O, no clock; every change to roles or
 * provider_status happens here and nowhere else.
 *
 *                user_register()
 *   (no user) ─────────────────▶ ┌────────┐
 *                                │  none  │◀─┐ user_activate_provider():
 *                                └────────┘  │ refused with ERR_TRANSIENT
 *                                    │  └────┘ (the registration has not
 *          user_grant_role(provider) │          been handled yet: retry)
 *          + ROLE_GRANTED            ▼
 *                                ┌────────┐
 *                                │pending │◀─┐ user_grant_role(provider):
 *                                └────────┘  │ held already, no change, no event
 *                                    │  └────┘
 *           user_activate_provider() │
 *                                    ▼
 *                                ┌────────┐◀─┐ user_grant_role(provider),
 *                                │ active │  │ user_activate_provider():
 *                                └────────┘──┘ no change, no event (final)
 *
 * Transitions → the function that performs them:
 *   (no user) → none     user_register()           raises REGISTERED
 *   none → pending       user_grant_role(PROVIDER) raises ROLE_GRANTED, PROVIDER_STATUS_CHANGED
 *   pending → active     user_activate_provider()  raises PROVIDER_STATUS_CHANGED
 *   pending → pending    user_grant_role(PROVIDER) nothing (the role is held: idempotent)
 *   active → active      user_grant_role(PROVIDER), user_activate_provider()  nothing
 *   none → active        refused: ERR_TRANSIENT (activation before registration)
 *
 * Why no-ops rather than refusals: one user may own several providers, so a
 * second provider.registered or provider.activated for the same owner is
 * normal, not a conflict. Invariant (I1): the role "provider" is held iff
 * provider_status is pending or active; the database checks it too.
 */
#include "usermanagement/domain/user.h"

#include <string.h>

static const char *const user_role_names[USER_ROLE_COUNT] = {
    [USER_ROLE_PROVIDER] = "provider",
};

static const char *const user_provider_status_names[] = {
    [USER_PROVIDER_NONE] = "none",
    [USER_PROVIDER_PENDING] = "pending",
    [USER_PROVIDER_ACTIVE] = "active",
};

#define USER_PROVIDER_STATUS_COUNT                                                                 \
    (sizeof(user_provider_status_names) / sizeof(user_provider_status_names[0]))

void user_events_init(struct user_events *evs)
{
    memset(evs, 0, sizeof(*evs));
}

/*
 * Appends an event with a snapshot of u. The transitions raise at most
 * USER_EVENTS_MAX events each; a list that is full already (a caller
 * gathering many transitions into one list) is a bug, reported as such.
 */
static struct user_event *user_raise(struct user_events *evs, enum user_event_kind kind,
                                     const struct user *u, struct err *err)
{
    if (evs->n >= USER_EVENTS_MAX) {
        err_set(err, ERR_INTERNAL, "domain event list of user '%s' is full", u->id);
        return NULL;
    }
    struct user_event *ev = &evs->items[evs->n++];
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    ev->user = *u;
    return ev;
}

/* ---- validation rules ------------------------------------------------------ */

static bool email_byte_is_allowed(unsigned char c)
{
    /* Same exclusions as the contract: NUL, controls, space and DEL. */
    return c > 0x20 && c != 0x7f;
}

bool user_email_is_valid(const char *email, size_t len)
{
    if (!email || len < USER_EMAIL_MIN || len > USER_EMAIL_MAX)
        return false;
    size_t at = len; /* position of the one '@' */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)email[i];
        if (!email_byte_is_allowed(c))
            return false;
        if (c == '@') {
            if (at != len)
                return false; /* a second '@' */
            at = i;
        }
    }
    if (at == len || at == 0)
        return false; /* no '@', or an empty local part */

    /* The domain: labels separated by dots, at least two, none empty. */
    size_t labels = 0, label_len = 0;
    for (size_t i = at + 1; i < len; i++) {
        if (email[i] == '.') {
            if (label_len == 0)
                return false;
            labels++;
            label_len = 0;
        } else {
            label_len++;
        }
    }
    if (label_len == 0)
        return false; /* empty domain or a trailing dot */
    return labels + 1 >= 2;
}

int user_normalize_email(const char *email, size_t len, char out[USER_EMAIL_MAX + 1],
                         struct err *err)
{
    out[0] = '\0';
    if (!email || len < USER_EMAIL_MIN || len > USER_EMAIL_MAX)
        return err_set(err, ERR_UNPROCESSABLE, "field 'email' must be %d to %d bytes long",
                       USER_EMAIL_MIN, USER_EMAIL_MAX);
    if (!user_email_is_valid(email, len))
        return err_set(err, ERR_UNPROCESSABLE,
                       "field 'email' must be an e-mail address "
                       "(local@domain.tld, no spaces)");
    /*
     * ASCII only: lowercasing other scripts depends on a locale, and the
     * database's UNIQUE index compares exactly what is stored.
     */
    for (size_t i = 0; i < len; i++) {
        char c = email[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[len] = '\0';
    return 0;
}

int user_validate_name(const char *name, size_t len, struct err *err)
{
    if (!name || len < 1 || len > USER_NAME_MAX)
        return err_set(err, ERR_UNPROCESSABLE, "field 'name' must be 1 to %d bytes long",
                       USER_NAME_MAX);
    if (memchr(name, '\0', len))
        return err_set(err, ERR_UNPROCESSABLE, "field 'name' contains a NUL character");
    return 0;
}

/* ---- transitions ------------------------------------------------------------- */

int user_register(struct user *u, const char *id, const char *email, size_t email_len,
                  const char *name, size_t name_len, struct user_events *evs, struct err *err)
{
    if (!id || strlen(id) != USER_ID_LEN - 1)
        return err_set(err, ERR_INVALID, "user id '%s' must be 36 characters", id ? id : "");
    struct user fresh;
    memset(&fresh, 0, sizeof(fresh));
    int rc = user_normalize_email(email, email_len, fresh.email, err);
    if (rc)
        return rc;
    rc = user_validate_name(name, name_len, err);
    if (rc)
        return rc;
    memcpy(fresh.id, id, USER_ID_LEN);
    memcpy(fresh.name, name, name_len);
    fresh.name[name_len] = '\0';
    fresh.roles = 0;
    fresh.provider_status = USER_PROVIDER_NONE;
    if (!user_raise(evs, USER_EVENT_REGISTERED, &fresh, err))
        return ERR_INTERNAL; /* the event list is full: err says so */
    *u = fresh;
    return 0;
}

bool user_has_role(const struct user *u, enum user_role role)
{
    if ((unsigned)role >= USER_ROLE_COUNT)
        return false;
    return (u->roles & (1u << role)) != 0;
}

int user_grant_role(struct user *u, enum user_role role, struct user_events *evs, struct err *err)
{
    if ((unsigned)role >= USER_ROLE_COUNT)
        return err_set(err, ERR_INVALID, "unknown role %d for user '%s'", (int)role, u->id);
    if (user_has_role(u, role))
        return 0; /* held already: a grant is idempotent, nothing to announce */

    /* Both events fit or neither is raised: the list must not hold half a transition. */
    size_t needed = 1;
    bool to_pending = role == USER_ROLE_PROVIDER && u->provider_status == USER_PROVIDER_NONE;
    if (to_pending)
        needed++;
    if (evs->n + needed > USER_EVENTS_MAX)
        return err_set(err, ERR_INTERNAL, "domain event list of user '%s' is full", u->id);

    struct user next = *u;
    next.roles |= 1u << role;
    /*
     * A provider's owner starts pending. An owner already active (only
     * reachable from data written before I1 held) keeps that status.
     */
    if (to_pending)
        next.provider_status = USER_PROVIDER_PENDING;

    struct user_event *ev = user_raise(evs, USER_EVENT_ROLE_GRANTED, &next, err);
    if (!ev)
        return ERR_INTERNAL; /* the event list is full: err says so */
    ev->role = role;
    if (to_pending) {
        ev = user_raise(evs, USER_EVENT_PROVIDER_STATUS_CHANGED, &next, err);
        if (!ev)
            return ERR_INTERNAL; /* the event list is full: err says so */
        ev->from = USER_PROVIDER_NONE;
        ev->to = USER_PROVIDER_PENDING;
    }
    *u = next;
    return 0;
}

int user_activate_provider(struct user *u, struct user_events *evs, struct err *err)
{
    if (u->provider_status == USER_PROVIDER_ACTIVE)
        return 0; /* several providers, or a repeated activation: nothing changes */
    if (u->provider_status == USER_PROVIDER_NONE)
        return err_set(err, ERR_TRANSIENT,
                       "user '%s' is not a provider yet: its provider registration has not "
                       "arrived",
                       u->id);
    if (u->provider_status != USER_PROVIDER_PENDING)
        return err_set(err, ERR_INVALID, "user '%s' has an unknown provider status %d", u->id,
                       (int)u->provider_status);
    struct user next = *u;
    next.provider_status = USER_PROVIDER_ACTIVE;
    struct user_event *ev = user_raise(evs, USER_EVENT_PROVIDER_STATUS_CHANGED, &next, err);
    if (!ev)
        return ERR_INTERNAL; /* the event list is full: err says so */
    ev->from = USER_PROVIDER_PENDING;
    ev->to = USER_PROVIDER_ACTIVE;
    *u = next;
    return 0;
}

/* ---- names ------------------------------------------------------------------- */

const char *user_role_name(enum user_role role)
{
    if ((unsigned)role >= USER_ROLE_COUNT)
        return "";
    return user_role_names[role];
}

int user_role_parse(const char *name, enum user_role *out, struct err *err)
{
    for (unsigned i = 0; name && i < USER_ROLE_COUNT; i++) {
        if (strcmp(name, user_role_names[i]) == 0) {
            *out = (enum user_role)i;
            return 0;
        }
    }
    return err_set(err, ERR_INVALID, "unknown role '%s'", name ? name : "");
}

const char *user_provider_status_name(enum user_provider_status status)
{
    if ((unsigned)status >= USER_PROVIDER_STATUS_COUNT)
        return "";
    return user_provider_status_names[status];
}

int user_provider_status_parse(const char *name, enum user_provider_status *out, struct err *err)
{
    for (unsigned i = 0; name && i < USER_PROVIDER_STATUS_COUNT; i++) {
        if (strcmp(name, user_provider_status_names[i]) == 0) {
            *out = (enum user_provider_status)i;
            return 0;
        }
    }
    return err_set(err, ERR_INVALID, "unknown provider status '%s'", name ? name : "");
}
