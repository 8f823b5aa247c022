/*
 * events.c - domain events in, integration events out: the single mapping
 * from what the user aggregate raised (domain/user.h, in-process structs free
 * to change) to what usermanagement publishes (contract/, versioned, strings
 * instead of enums).
 *
 *   USER_EVENT_REGISTERED              → usermanagement.user.registered {user_id, email, name}
 *   USER_EVENT_ROLE_GRANTED            → usermanagement.user.role_granted {user_id, role}
 *   USER_EVENT_PROVIDER_STATUS_CHANGED → nothing: no other context reads a user's
 *                                        provider status (servicecatalog owns the
 *                                        provider's own status); it is visible at
 *                                        GET /users/{id} only
 */
#include "usermanagement/events.h"

#include "common/outbox.h"
#include "usermanagement/contract/usermanagement_contract.h"

#include <stdio.h>

#define USERMANAGEMENT_CONTEXT "usermanagement"

static int publish_registered(struct db *db, const struct user_event *ev,
                              const char *correlation_id, const char *causation_id,
                              struct err *err)
{
    struct usermanagement_user_registered data;
    snprintf(data.user_id, sizeof(data.user_id), "%s", ev->user.id);
    snprintf(data.email, sizeof(data.email), "%s", ev->user.email);
    snprintf(data.name, sizeof(data.name), "%s", ev->user.name);
    json_t *json = usermanagement_user_registered_encode(&data);
    if (!json)
        return err_set(err, ERR_NOMEM, "cannot encode '%s'", USERMANAGEMENT_USER_REGISTERED_TYPE);
    return outbox_publish(db, USERMANAGEMENT_CONTEXT, USERMANAGEMENT_USER_REGISTERED_TYPE,
                          USERMANAGEMENT_USER_REGISTERED_VERSION, json, correlation_id,
                          causation_id, NULL, err);
}

static int publish_role_granted(struct db *db, const struct user_event *ev,
                                const char *correlation_id, const char *causation_id,
                                struct err *err)
{
    struct usermanagement_user_role_granted data;
    snprintf(data.user_id, sizeof(data.user_id), "%s", ev->user.id);
    /* The role crosses the boundary as its name, never as the enum's number. */
    snprintf(data.role, sizeof(data.role), "%s", user_role_name(ev->role));
    json_t *json = usermanagement_user_role_granted_encode(&data);
    if (!json)
        return err_set(err, ERR_NOMEM, "cannot encode '%s'",
                       USERMANAGEMENT_USER_ROLE_GRANTED_TYPE);
    return outbox_publish(db, USERMANAGEMENT_CONTEXT, USERMANAGEMENT_USER_ROLE_GRANTED_TYPE,
                          USERMANAGEMENT_USER_ROLE_GRANTED_VERSION, json, correlation_id,
                          causation_id, NULL, err);
}

int usermanagement_events_publish(struct db *db, const struct user_events *evs,
                                  const char *correlation_id, const char *causation_id,
                                  struct err *err)
{
    for (size_t i = 0; i < evs->n; i++) {
        const struct user_event *ev = &evs->items[i];
        int rc = 0;
        switch (ev->kind) {
        case USER_EVENT_REGISTERED:
            rc = publish_registered(db, ev, correlation_id, causation_id, err);
            break;
        case USER_EVENT_ROLE_GRANTED:
            rc = publish_role_granted(db, ev, correlation_id, causation_id, err);
            break;
        case USER_EVENT_PROVIDER_STATUS_CHANGED:
            /* Dropped on purpose: internal to usermanagement (see the file header). */
            break;
        }
        if (rc)
            return rc;
    }
    return 0;
}
