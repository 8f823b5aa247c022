/*
 * offering.h - the offering aggregate: something a provider sells, at a
 * price per unit, with a capacity of units that can ever be sold. Pure C (no
 * I/O, no clock, no JSON). An offering is published once and never changes
 * afterwards: other contexts copy its price (booking) and capacity
 * (inventory) from the event, so a later edit would not reach them.
 *
 *   (none) ──offering_publish()──▶ published
 *
 * The diagram and its transition list are at the top of offering.c.
 */
#ifndef SERVICECATALOG_DOMAIN_OFFERING_H
#define SERVICECATALOG_DOMAIN_OFFERING_H

#include "common/err.h"
#include "common/uuid7.h"

#include <stddef.h>
#include <stdint.h>

#define OFFERING_ID_LEN       UUID7_STR_LEN /* a UUID's 36 characters and the terminator */
#define OFFERING_NAME_MAX     200           /* bytes (UTF-8), at least 1 */
#define OFFERING_PRICE_MIN    1             /* cents per unit */
#define OFFERING_PRICE_MAX    100000000     /* cents per unit: one million in the currency */
#define OFFERING_CAPACITY_MIN 1             /* units */
#define OFFERING_CAPACITY_MAX 1000000       /* units */
#define OFFERING_TIME_LEN     40            /* an RFC 3339 UTC time and the terminator */

/* The one state an offering can be in; kept as an enum so the diagram has a name for it. */
enum offering_status {
    OFFERING_PUBLISHED, /* announced to the other contexts: final and immutable */
};

struct offering {
    char id[OFFERING_ID_LEN];
    char provider_id[OFFERING_ID_LEN];
    char name[OFFERING_NAME_MAX + 1];
    int64_t price_cents;
    int64_t capacity;
    enum offering_status status;
    char created_at[OFFERING_TIME_LEN]; /* set by the store when the row is written; the
                                           domain keeps no clock and never reads it */
};

/* ---- domain events (in-process, free to change; see events.c) ----------- */

enum offering_event_kind {
    OFFERING_EVENT_PUBLISHED, /* an offering came into being */
};

/* A domain event: the kind and a snapshot of the offering right after it. */
struct offering_event {
    enum offering_event_kind kind;
    struct offering offering;
};

/* ---- validation rules (pure; ERR_UNPROCESSABLE names the field) --------- */

/* Name of len bytes: 1..OFFERING_NAME_MAX, no NUL inside. Returns 0 or ERR_UNPROCESSABLE. */
int offering_validate_name(const char *name, size_t len, struct err *err);

/* Price per unit in cents within [OFFERING_PRICE_MIN, OFFERING_PRICE_MAX]. 0 or ERR_UNPROCESSABLE.
 */
int offering_validate_price(int64_t price_cents, struct err *err);

/* Capacity within [OFFERING_CAPACITY_MIN, OFFERING_CAPACITY_MAX]. 0 or ERR_UNPROCESSABLE. */
int offering_validate_capacity(int64_t capacity, struct err *err);

/* ---- transitions ----------------------------------------------------------- */

/*
 * (none) → published. Fills *o (id and provider_id are canonical UUIDs the
 * caller checked, the provider exists; name_len is the byte length of name)
 * and raises OFFERING_EVENT_PUBLISHED into *ev. Returns 0; ERR_UNPROCESSABLE
 * for a value breaking a rule (checked in field order: name, price_cents,
 * capacity); ERR_INVALID for an id that does not fit. On failure *o and *ev
 * are unspecified and nothing is raised.
 */
int offering_publish(struct offering *o, const char *id, const char *provider_id, const char *name,
                     size_t name_len, int64_t price_cents, int64_t capacity,
                     struct offering_event *ev, struct err *err);

/* "published" (static). */
const char *offering_status_name(enum offering_status status);

#endif
