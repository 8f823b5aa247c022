/*
 * handlers.c - the integration events servicecatalog consumes.
 *
 *   consumes                          handler                              may publish
 *   usermanagement.user.registered    on_usermanagement_user_registered()  nothing
 *
 * The consumer (common/consumer.c) owns the transaction, the inbox and the
 * ack: a handler only reads and writes through the store on hc->db. The
 * event's data has already passed usermanagement's contract.
 */
#include "servicecatalog/handlers.h"

#include "common/envelope.h"
#include "servicecatalog/store.h"
#include "usermanagement/contract/usermanagement_contract.h"

static handler_fn on_usermanagement_user_registered;

const struct subscription servicecatalog_subscriptions[] = {
    {&USERMANAGEMENT_USER_REGISTERED, on_usermanagement_user_registered},
};

/*
 * usermanagement.user.registered: records the user id in known_users, the
 * replica POST /providers consults (only a known user may own a provider).
 * Publishes nothing. No domain function: a replica row is a fact copied from
 * another context, with no rule of ours to apply to it.
 *
 * Idempotent twice over: the inbox drops a redelivery of the same event, and
 * the insert does nothing for a user already known (a replayed or duplicated
 * registration under another event id), so the first event that told us is
 * the one cited. Order does not matter: nothing here depends on another event.
 *
 * Returns 0, or a database error from the store: ERR_TRANSIENT (connection
 * lost, serialization) is retried; anything else is a bug and retried, then
 * dead-lettered.
 */
static int on_usermanagement_user_registered(struct handler_ctx *hc, struct err *err)
{
    struct usermanagement_user_registered ev;
    int rc = handler_decode(hc, &ev, sizeof(ev), err);
    if (rc)
        return rc;
    rc = known_user_store_add(hc->db, ev.user_id, hc->ev->id, err);
    return rc < 0 ? rc : 0;
}
