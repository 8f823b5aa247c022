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

#include "common/outbox.h"
#include "servicecatalog/contract/servicecatalog_contract.h"
#include "servicecatalog/service.h"

#include <stdio.h>

/* Encodes failed: jansson could not allocate (the contract structs are always encodable). */
static int encoded(json_t *data, const char *type, struct err *err)
{
    return data ? 0 : err_set(err, ERR_NOMEM, "cannot encode '%s'", type);
}

int servicecatalog_events_publish_provider(struct db *db, const struct provider_event *evs,
                                           size_t n, const char *correlation_id,
                                           const char *causation_id, struct err *err)
{
    for (size_t i = 0; i < n; i++) {
        const struct provider *p = &evs[i].provider;
        const char *type = NULL;
        int version = 0;
        json_t *data = NULL;
        switch (evs[i].kind) {
        case PROVIDER_EVENT_REGISTERED: {
            struct servicecatalog_provider_registered ev = {0};
            snprintf(ev.provider_id, sizeof(ev.provider_id), "%s", p->id);
            snprintf(ev.owner_id, sizeof(ev.owner_id), "%s", p->owner_id);
            snprintf(ev.business_name, sizeof(ev.business_name), "%s", p->business_name);
            snprintf(ev.provider_type, sizeof(ev.provider_type), "%s", p->provider_type);
            type = SERVICECATALOG_PROVIDER_REGISTERED_TYPE;
            version = SERVICECATALOG_PROVIDER_REGISTERED_VERSION;
            data = servicecatalog_provider_registered_encode(&ev);
            break;
        }
        case PROVIDER_EVENT_ACTIVATED: {
            struct servicecatalog_provider_activated ev = {0};
            snprintf(ev.provider_id, sizeof(ev.provider_id), "%s", p->id);
            snprintf(ev.owner_id, sizeof(ev.owner_id), "%s", p->owner_id);
            type = SERVICECATALOG_PROVIDER_ACTIVATED_TYPE;
            version = SERVICECATALOG_PROVIDER_ACTIVATED_VERSION;
            data = servicecatalog_provider_activated_encode(&ev);
            break;
        }
        }
        if (!type)
            return err_set(err, ERR_INTERNAL, "unknown provider domain event %d", (int)evs[i].kind);
        int rc = encoded(data, type, err);
        if (rc == 0)
            rc = outbox_publish(db, SERVICECATALOG_CONTEXT, type, version, data, correlation_id,
                                causation_id, NULL, err);
        if (rc)
            return rc;
    }
    return 0;
}

int servicecatalog_events_publish_offering(struct db *db, const struct offering_event *evs,
                                           size_t n, const char *correlation_id,
                                           const char *causation_id, struct err *err)
{
    for (size_t i = 0; i < n; i++) {
        const struct offering *o = &evs[i].offering;
        const char *type = NULL;
        int version = 0;
        json_t *data = NULL;
        switch (evs[i].kind) {
        case OFFERING_EVENT_PUBLISHED: {
            struct servicecatalog_offering_published ev = {0};
            snprintf(ev.offering_id, sizeof(ev.offering_id), "%s", o->id);
            snprintf(ev.provider_id, sizeof(ev.provider_id), "%s", o->provider_id);
            snprintf(ev.name, sizeof(ev.name), "%s", o->name);
            ev.price_cents = o->price_cents;
            ev.capacity = o->capacity;
            type = SERVICECATALOG_OFFERING_PUBLISHED_TYPE;
            version = SERVICECATALOG_OFFERING_PUBLISHED_VERSION;
            data = servicecatalog_offering_published_encode(&ev);
            break;
        }
        }
        if (!type)
            return err_set(err, ERR_INTERNAL, "unknown offering domain event %d", (int)evs[i].kind);
        int rc = encoded(data, type, err);
        if (rc == 0)
            rc = outbox_publish(db, SERVICECATALOG_CONTEXT, type, version, data, correlation_id,
                                causation_id, NULL, err);
        if (rc)
            return rc;
    }
    return 0;
}
