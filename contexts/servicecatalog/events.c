/*
 * events.c - domain events → integration events, for all of servicecatalog
 * (see events.h). Each switch below lists every domain event kind with no
 * default, so the compiler (-Wswitch, an error here) makes whoever adds a
 * kind decide on purpose: map it to a contract event, or drop it here with a
 * comment saying why nobody outside cares.
 *
 *   PROVIDER_EVENT_REGISTERED  → servicecatalog.provider.registered
 *   PROVIDER_EVENT_ACTIVATED   → servicecatalog.provider.activated
 *   OFFERING_EVENT_PUBLISHED   → servicecatalog.offering.published
 *
 * Today every domain event is of interest outside (usermanagement grants
 * roles, booking and inventory copy offerings), so none is dropped.
 */
#include "servicecatalog/events.h"

#include "servicecatalog/contract/servicecatalog_contract.h"

#include <stdio.h>

int servicecatalog_events_publish_provider(const struct outbox_origin *from,
                                           const struct provider_event *ev,
                                           char id_out[UUID7_STR_LEN], struct err *err)
{
    const struct provider *p = &ev->provider;
    switch (ev->kind) {
    case PROVIDER_EVENT_REGISTERED: {
        struct servicecatalog_provider_registered out = {0};
        snprintf(out.provider_id, sizeof(out.provider_id), "%s", p->id);
        snprintf(out.owner_id, sizeof(out.owner_id), "%s", p->owner_id);
        snprintf(out.business_name, sizeof(out.business_name), "%s", p->business_name);
        snprintf(out.provider_type, sizeof(out.provider_type), "%s", p->provider_type);
        return outbox_publish(from, &SERVICECATALOG_PROVIDER_REGISTERED, &out, sizeof(out), id_out,
                              err);
    }
    case PROVIDER_EVENT_ACTIVATED: {
        struct servicecatalog_provider_activated out = {0};
        snprintf(out.provider_id, sizeof(out.provider_id), "%s", p->id);
        snprintf(out.owner_id, sizeof(out.owner_id), "%s", p->owner_id);
        return outbox_publish(from, &SERVICECATALOG_PROVIDER_ACTIVATED, &out, sizeof(out), id_out,
                              err);
    }
    }
    return err_set(err, ERR_INTERNAL, "unknown provider domain event kind %d", (int)ev->kind);
}

int servicecatalog_events_publish_offering(const struct outbox_origin *from,
                                           const struct offering_event *ev,
                                           char id_out[UUID7_STR_LEN], struct err *err)
{
    const struct offering *o = &ev->offering;
    switch (ev->kind) {
    case OFFERING_EVENT_PUBLISHED: {
        struct servicecatalog_offering_published out = {.price_cents = o->price_cents,
                                                        .capacity = o->capacity};
        snprintf(out.offering_id, sizeof(out.offering_id), "%s", o->id);
        snprintf(out.provider_id, sizeof(out.provider_id), "%s", o->provider_id);
        snprintf(out.name, sizeof(out.name), "%s", o->name);
        return outbox_publish(from, &SERVICECATALOG_OFFERING_PUBLISHED, &out, sizeof(out), id_out,
                              err);
    }
    }
    return err_set(err, ERR_INTERNAL, "unknown offering domain event kind %d", (int)ev->kind);
}
