/*
 * offering.c - the offering aggregate's rules and its (one-step) life cycle.
 * Pure: no I/O, no clock, no allocation.
 *
 *               offering_publish()
 *     (none) ───────────────────────▶ published
 *              raises PUBLISHED         (final: no transition leaves it)
 *
 * Transitions and the function that performs each:
 *   (none) → published   offering_publish()   name, price_cents and capacity valid
 * Nothing changes a published offering: booking keeps its price and
 * inventory its capacity from the one event, so there is no update to refuse.
 */
#include "servicecatalog/domain/offering.h"

#include "servicecatalog/domain/field.h"

#include <string.h>

int offering_validate_name(const char *name, size_t len, struct err *err)
{
    return field_check_text("name", name, len, OFFERING_NAME_MAX, err);
}

int offering_validate_price(int64_t price_cents, struct err *err)
{
    if (price_cents < OFFERING_PRICE_MIN || price_cents > OFFERING_PRICE_MAX)
        return err_set(err, ERR_UNPROCESSABLE, "field 'price_cents' must be an integer in [%d, %d]",
                       OFFERING_PRICE_MIN, OFFERING_PRICE_MAX);
    return 0;
}

int offering_validate_capacity(int64_t capacity, struct err *err)
{
    if (capacity < OFFERING_CAPACITY_MIN || capacity > OFFERING_CAPACITY_MAX)
        return err_set(err, ERR_UNPROCESSABLE, "field 'capacity' must be an integer in [%d, %d]",
                       OFFERING_CAPACITY_MIN, OFFERING_CAPACITY_MAX);
    return 0;
}

int offering_publish(struct offering *o, const char *id, const char *provider_id, const char *name,
                     size_t name_len, int64_t price_cents, int64_t capacity,
                     struct offering_event *ev, struct err *err)
{
    int rc = offering_validate_name(name, name_len, err);
    if (rc)
        return rc;
    if ((rc = offering_validate_price(price_cents, err)) ||
        (rc = offering_validate_capacity(capacity, err)))
        return rc;
    memset(o, 0, sizeof(*o));
    if ((rc = field_copy_id(o->id, id, "offering id", err)) ||
        (rc = field_copy_id(o->provider_id, provider_id, "provider id", err)))
        return rc;
    memcpy(o->name, name, name_len);
    o->name[name_len] = '\0';
    o->price_cents = price_cents;
    o->capacity = capacity;
    o->status = OFFERING_PUBLISHED;
    ev->kind = OFFERING_EVENT_PUBLISHED;
    ev->offering = *o;
    return 0;
}

const char *offering_status_name(enum offering_status status)
{
    switch (status) {
    case OFFERING_PUBLISHED: return "published";
    }
    return "unknown";
}
