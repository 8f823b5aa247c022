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

#include "usermanagement/contract/usermanagement_contract.h"

#include <stdio.h>

int usermanagement_events_publish(const struct outbox_origin *from, const struct user_event *ev,
                                  char id_out[UUID7_STR_LEN], struct err *err)
{
    if (id_out)
        id_out[0] = '\0';
    switch (ev->kind) {
    case USER_EVENT_REGISTERED: {
        struct usermanagement_user_registered out = {0};
        snprintf(out.user_id, sizeof(out.user_id), "%s", ev->user.id);
        snprintf(out.email, sizeof(out.email), "%s", ev->user.email);
        snprintf(out.name, sizeof(out.name), "%s", ev->user.name);
        return outbox_publish(from, &USERMANAGEMENT_USER_REGISTERED, &out, sizeof(out), id_out,
                              err);
    }
    case USER_EVENT_ROLE_GRANTED: {
        struct usermanagement_user_role_granted out = {0};
        snprintf(out.user_id, sizeof(out.user_id), "%s", ev->user.id);
        /* The role crosses the boundary as its name, never as the enum's number. */
        snprintf(out.role, sizeof(out.role), "%s", user_role_name(ev->role));
        return outbox_publish(from, &USERMANAGEMENT_USER_ROLE_GRANTED, &out, sizeof(out), id_out,
                              err);
    }
    case USER_EVENT_PROVIDER_STATUS_CHANGED:
        /* Dropped on purpose: internal to usermanagement (see the file header). */
        return 0;
    }
    return err_set(err, ERR_INTERNAL, "unknown user domain event kind %d", (int)ev->kind);
}
