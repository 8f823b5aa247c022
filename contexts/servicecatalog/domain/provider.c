/*
 * provider.c - the provider aggregate's rules and its one state machine. The
 * status of a provider changes here and nowhere else; the store only writes
 * what these functions decided. Pure: no I/O, no clock, no allocation.
 *
 *                 provider_register()              provider_activate()
 *     (none) ─────────────────────────▶ registered ─────────────────────▶ active
 *              raises REGISTERED                     raises ACTIVATED       │
 *                                                                           │
 *                                   provider_activate() on active: refused ◀┘
 *                                   (ERR_CONFLICT, nothing raised)
 *
 * Transitions and the function that performs each:
 *   (none)     → registered   provider_register()  owner known, name and type valid
 *   registered → active       provider_activate()
 *   active     → active       refused by provider_activate() with ERR_CONFLICT
 * There is no way back from active, and no deletion.
 */
#include "servicecatalog/domain/provider.h"

#include "servicecatalog/domain/field.h"

#include <string.h>

int provider_validate_business_name(const char *name, size_t len, struct err *err)
{
    return field_check_text("business_name", name, len, PROVIDER_BUSINESS_NAME_MAX, err);
}

int provider_validate_type(const char *type, size_t len, struct err *err)
{
    if (len < 1 || len > PROVIDER_TYPE_MAX)
        return err_set(err, ERR_UNPROCESSABLE, "field 'provider_type' must be 1 to %d bytes long",
                       PROVIDER_TYPE_MAX);
    /*
     * The same rule as the contract's name format, checked byte by byte
     * without <ctype.h>, whose classes depend on the locale: a type is a
     * machine word other contexts may compare, never free text.
     */
    for (size_t i = 0; i < len; i++) {
        char c = type[i];
        bool lower = c >= 'a' && c <= 'z';
        bool digit = c >= '0' && c <= '9';
        if (!(lower || (i > 0 && (digit || c == '_'))))
            return err_set(err, ERR_UNPROCESSABLE,
                           "field 'provider_type' must be a lowercase name [a-z][a-z0-9_]*");
    }
    return 0;
}

int provider_register(struct provider *p, const char *id, const char *owner_id, bool owner_known,
                      const char *business_name, size_t name_len, const char *provider_type,
                      size_t type_len, struct provider_event *ev, struct err *err)
{
    int rc = provider_validate_business_name(business_name, name_len, err);
    if (rc)
        return rc;
    if ((rc = provider_validate_type(provider_type, type_len, err)))
        return rc;
    memset(p, 0, sizeof(*p));
    if ((rc = field_copy_id(p->id, id, "provider id", err)) ||
        (rc = field_copy_id(p->owner_id, owner_id, "field 'owner_id'", err)))
        return rc;
    /*
     * Checked last: the values are judged on their own first, so a caller
     * learns what is wrong with its input before being told about the owner.
     */
    if (!owner_known)
        return err_set(err, ERR_UNPROCESSABLE, "unknown owner '%s'", owner_id);
    memcpy(p->business_name, business_name, name_len);
    p->business_name[name_len] = '\0';
    memcpy(p->provider_type, provider_type, type_len);
    p->provider_type[type_len] = '\0';
    p->status = PROVIDER_REGISTERED;
    ev->kind = PROVIDER_EVENT_REGISTERED;
    ev->provider = *p;
    return 0;
}

int provider_activate(struct provider *p, struct provider_event *ev, struct err *err)
{
    switch (p->status) {
    case PROVIDER_REGISTERED:
        p->status = PROVIDER_ACTIVE;
        ev->kind = PROVIDER_EVENT_ACTIVATED;
        ev->provider = *p;
        return 0;
    case PROVIDER_ACTIVE:
        return err_set(err, ERR_CONFLICT, "provider '%s' is already active", p->id);
    }
    return err_set(err, ERR_INTERNAL, "provider '%s' has an unknown status %d", p->id,
                   (int)p->status);
}

const char *provider_status_name(enum provider_status status)
{
    switch (status) {
    case PROVIDER_REGISTERED: return "registered";
    case PROVIDER_ACTIVE: return "active";
    }
    return "unknown";
}

int provider_status_parse(const char *name, enum provider_status *out, struct err *err)
{
    if (strcmp(name, "registered") == 0)
        *out = PROVIDER_REGISTERED;
    else if (strcmp(name, "active") == 0)
        *out = PROVIDER_ACTIVE;
    else
        return err_set(err, ERR_INVALID, "unknown provider status '%s'", name);
    return 0;
}
