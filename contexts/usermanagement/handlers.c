/*
 * handlers.c - the events usermanagement consumes, one static handler each.
 *
 *   servicecatalog.provider.registered → on_servicecatalog_provider_registered()
 *       grants the role "provider" (none → pending)
 *       may publish: usermanagement.user.role_granted (only when newly granted)
 *   servicecatalog.provider.activated  → on_servicecatalog_provider_activated()
 *       pending → active
 *       publishes nothing
 *
 * Every handler runs inside the consumer's transaction (never BEGIN, COMMIT
 * or ack here): decode → lock the user (FOR UPDATE) → domain transition →
 * store → events.c. The inbox already makes a redelivered event a no-op; the
 * handlers are also idempotent on their own, because the domain turns a
 * repeated grant or activation into "no change, no event", which matters when
 * one owner registers several providers.
 */
#include "usermanagement/handlers.h"

#include "common/envelope.h"
#include "servicecatalog/contract/servicecatalog_contract.h"
#include "usermanagement/domain/user.h"
#include "usermanagement/events.h"
#include "usermanagement/store.h"

static handler_fn on_servicecatalog_provider_registered, on_servicecatalog_provider_activated;

const struct subscription usermanagement_subscriptions[] = {
    {&SERVICECATALOG_PROVIDER_REGISTERED, on_servicecatalog_provider_registered},
    {&SERVICECATALOG_PROVIDER_ACTIVATED, on_servicecatalog_provider_activated},
};

/* What a provider's event does to its owner (user_activate_provider, grant_provider). */
typedef int change_fn(struct user *u, struct user_events *evs, struct err *err);

static int grant_provider(struct user *u, struct user_events *evs, struct err *err)
{
    return user_grant_role(u, USER_ROLE_PROVIDER, evs, err);
}

/*
 * The path of both handlers: lock the provider's owner, let the domain change
 * it, and write the result and its integration events if anything changed.
 * servicecatalog accepts a provider only for an owner it learned from
 * usermanagement.user.registered, which we published in the same transaction
 * that stored the user: an owner missing here is a permanent inconsistency,
 * not a race, so the event goes to the dead letters (ERR_UNPROCESSABLE).
 */
static int change_owner(struct handler_ctx *hc, const char *owner_id, change_fn *fn,
                        struct err *err)
{
    struct user u;
    struct user_events evs;
    user_events_init(&evs);
    int rc = user_store_lock(hc->db, owner_id, &u, err);
    rc = err_if_none(rc, err, ERR_UNPROCESSABLE, "unknown user '%s'", owner_id);
    if (!rc)
        rc = fn(&u, &evs, err);
    if (rc || evs.n == 0)
        return rc; /* nothing changed: nothing to write, nothing to publish */
    rc = user_store_update(hc->db, &u, err);
    for (size_t i = 0; rc == 0 && i < evs.n; i++)
        rc = usermanagement_events_publish(handler_origin(hc), &evs.items[i], NULL, err);
    return rc;
}

/*
 * Consumes servicecatalog.provider.registered: the owner becomes a provider.
 * Publishes usermanagement.user.role_granted {user_id, role: "provider"} when
 * the role is new; provider_status none → pending (pending and active stay).
 * Idempotent: a second registration (a redelivery, or another provider of
 * the same owner) finds the role held and changes and publishes nothing.
 * Returns 0; ERR_UNPROCESSABLE "unknown user '<id>'" (dead letter now);
 * ERR_TRANSIENT for a database failure (retried).
 */
static int on_servicecatalog_provider_registered(struct handler_ctx *hc, struct err *err)
{
    struct servicecatalog_provider_registered ev;
    int rc = handler_decode(hc, &ev, sizeof(ev), err);
    return rc ? rc : change_owner(hc, ev.owner_id, grant_provider, err);
}

/*
 * Consumes servicecatalog.provider.activated: the owner's provider status
 * pending → active. Publishes nothing (no other context reads it).
 * Idempotent: an owner already active stays so, with nothing written.
 * Returns 0; ERR_UNPROCESSABLE "unknown user '<id>'" (dead letter now);
 * ERR_TRANSIENT when the owner's provider.registered has not been handled yet
 * (events may arrive in any order: retried with backoff) or the database
 * failed.
 */
static int on_servicecatalog_provider_activated(struct handler_ctx *hc, struct err *err)
{
    struct servicecatalog_provider_activated ev;
    int rc = handler_decode(hc, &ev, sizeof(ev), err);
    return rc ? rc : change_owner(hc, ev.owner_id, user_activate_provider, err);
}
